package media_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

func TestAVCCRoundTripClips(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		cl := loadClip(t, c)
		for i, au := range cl.AUs {
			b, err := media.ToAVCC(au.NALUs)
			if err != nil {
				t.Fatalf("%v AU %d: %v", c, i, err)
			}
			if len(b) != media.AVCCSize(au.NALUs) {
				t.Fatalf("%v AU %d: size %d, AVCCSize %d", c, i, len(b), media.AVCCSize(au.NALUs))
			}
			got, err := media.SplitAVCC(b)
			if err != nil {
				t.Fatalf("%v AU %d: %v", c, i, err)
			}
			if len(got) != len(au.NALUs) {
				t.Fatalf("%v AU %d: %d NAL units back, want %d", c, i, len(got), len(au.NALUs))
			}
			for j := range got {
				if !bytes.Equal(got[j], au.NALUs[j]) {
					t.Fatalf("%v AU %d NAL unit %d differs", c, i, j)
				}
			}
		}
	}
}

func TestSplitAVCCRejects(t *testing.T) {
	be := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	cases := []struct {
		name string
		in   []byte
		kind errs.Kind
		want string
	}{
		{"empty", nil, errs.Invalid, "empty frame"},
		{"short prefix", []byte{0, 0, 1}, errs.Invalid, "offset 0"},
		{"zero length", append(be(0), 1), errs.Invalid, "zero-length NAL unit at offset 0"},
		{"overrun", append(be(5), 1, 2, 3), errs.Invalid, "claims 5 bytes, 3 left"},
		{"huge length", append(be(0xffffffff), 1), errs.Invalid, "offset 0"},
		{"trailing bytes", append(append(be(1), 0x65), 0, 0), errs.Invalid, "offset 5"},
		{"second overrun", append(append(be(1), 0x65), append(be(9), 1)...), errs.Invalid, "NAL unit at offset 5"},
		{"too many", bytes.Repeat(append(be(1), 1), media.MaxNALUsPerFrame+1), errs.TooLarge, "more than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := media.SplitAVCC(tc.in)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errs.Is(err, tc.kind) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("error %q (kind %v), want kind %v containing %q", err, errs.KindOf(err), tc.kind, tc.want)
			}
		})
	}
}

func TestToAVCCRejects(t *testing.T) {
	if _, err := media.ToAVCC(nil); !errs.Is(err, errs.Invalid) {
		t.Errorf("no NAL units: %v", err)
	}
	if _, err := media.ToAVCC([][]byte{{0x65}, {}}); !errs.Is(err, errs.Invalid) {
		t.Errorf("empty NAL unit: %v", err)
	}
}

// FuzzSplitAVCC checks that SplitAVCC never panics, and that whatever it
// accepts converts back to exactly the input.
func FuzzSplitAVCC(f *testing.F) {
	cl := loadClip(f, media.CodecH264)
	for _, au := range cl.AUs[:3] {
		b, _ := media.ToAVCC(au.NALUs)
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 1, 0x65})
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		nalus, err := media.SplitAVCC(b)
		if err != nil {
			return
		}
		back, err := media.ToAVCC(nalus)
		if err != nil {
			t.Fatalf("split %d units but ToAVCC fails: %v", len(nalus), err)
		}
		if !bytes.Equal(back, b) {
			t.Fatal("round trip differs")
		}
	})
}

func TestIsKeyMatchesClips(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		cl := loadClip(t, c)
		keys := 0
		for i, au := range cl.AUs {
			if got := media.IsKey(c, au.NALUs); got != au.Key {
				t.Fatalf("%v AU %d: IsKey %v, clip says %v", c, i, got, au.Key)
			}
			if au.Key {
				keys++
			}
		}
		if keys != 10 {
			t.Errorf("%v: %d key frames in 10 s, want 10", c, keys)
		}
	}
	// H.265 IRAP range edges: 16..23 are key, 15 and 24 are not.
	for typ, want := range map[byte]bool{15: false, 16: true, 19: true, 21: true, 23: true, 24: false} {
		if got := media.IsKey(media.CodecH265, [][]byte{{typ << 1, 1}}); got != want {
			t.Errorf("H.265 type %d: IsKey %v, want %v", typ, got, want)
		}
	}
	if media.IsKey(media.CodecH264, [][]byte{{0x41}, {}}) {
		t.Error("H.264 non-IDR slice reported as key")
	}
}

func TestExtractParams(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		cl := loadClip(t, c)
		p, found := media.ExtractParams(c, cl.AUs[0].NALUs)
		if !found || !p.Complete() || !p.Equal(cl.Params) {
			t.Errorf("%v: ExtractParams from the first AU = %+v found=%v, want the clip's", c, p, found)
		}
		if _, found := media.ExtractParams(c, cl.AUs[1].NALUs); found {
			t.Errorf("%v: parameter sets found in a non-key AU", c)
		}
	}
}
