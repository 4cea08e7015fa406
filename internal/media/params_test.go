package media_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

func TestParamsBinaryRoundTrip(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		p := loadClip(t, c).Params
		b, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != 1 || media.Codec(b[1]) != c {
			t.Errorf("%v: header %x, want version 1 and the codec", c, b[:2])
		}
		var q media.Params
		if err := q.UnmarshalBinary(b); err != nil {
			t.Fatal(err)
		}
		if !q.Equal(p) {
			t.Errorf("%v: round trip differs", c)
		}
		// The decoded params must not alias the input.
		b[len(b)-1] ^= 0xff
		if !q.Equal(p) {
			t.Errorf("%v: decoded params alias the encoded bytes", c)
		}
	}
}

func TestParamsMarshalRejects(t *testing.T) {
	for name, p := range map[string]*media.Params{
		"incomplete":     {Codec: media.CodecH264, SPS: []byte{0x67}},
		"H.264 with VPS": {Codec: media.CodecH264, VPS: []byte{1}, SPS: []byte{0x67}, PPS: []byte{0x68}},
		"huge SPS":       {Codec: media.CodecH264, SPS: make([]byte, 70000), PPS: []byte{0x68}},
		"unknown codec":  {Codec: 9, SPS: []byte{1}, PPS: []byte{1}},
	} {
		if _, err := p.MarshalBinary(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParamsUnmarshalRejects(t *testing.T) {
	good, err := loadClip(t, media.CodecH264).Params.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"empty":       {nil, "need at least 2"},
		"version 2":   {append([]byte{2}, good[1:]...), "unsupported version 2"},
		"codec 7":     {append([]byte{1, 7}, good[2:]...), "unknown codec 7"},
		"truncated":   {good[:len(good)-1], "PPS at offset"},
		"no lengths":  {good[:2], "VPS length truncated at offset 2"},
		"trailing":    {append(append([]byte{}, good...), 0), "1 trailing bytes"},
		"no SPS":      {[]byte{1, 1, 0, 0, 0, 0, 0, 1, 0x68}, "incomplete"},
		"H.264 + VPS": {[]byte{1, 1, 0, 1, 0x40, 0, 1, 0x67, 0, 1, 0x68}, "with a VPS"},
	}
	for name, tc := range cases {
		var p media.Params
		err := p.UnmarshalBinary(tc.in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if !errs.Is(err, errs.Corrupt) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %q, want Corrupt containing %q", name, err, tc.want)
		}
	}
}

// FuzzParamsUnmarshal checks that UnmarshalBinary never panics and that
// whatever it accepts encodes back to exactly the input.
func FuzzParamsUnmarshal(f *testing.F) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		b, err := loadClip(f, c).Params.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{1, 1, 0, 0, 0, 1, 0x67, 0, 1, 0x68})
	f.Add([]byte{1, 2, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		var p media.Params
		if err := p.UnmarshalBinary(b); err != nil {
			return
		}
		back, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded but cannot encode: %v", err)
		}
		if !bytes.Equal(back, b) {
			t.Fatal("round trip differs")
		}
	})
}

func TestParamsSize(t *testing.T) {
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		w, h, err := loadClip(t, c).Params.Size()
		if err != nil || w != 1280 || h != 720 {
			t.Errorf("%v: Size = %d x %d, %v; want 1280 x 720", c, w, h, err)
		}
	}
	bad := &media.Params{Codec: media.CodecH264, SPS: []byte{0x67}, PPS: []byte{0x68}}
	if _, _, err := bad.Size(); !errs.Is(err, errs.Invalid) {
		t.Errorf("truncated SPS: %v", err)
	}
}

func TestCodecString(t *testing.T) {
	// Hand-made parameter sets with known fields: H.264 Main (0x4D),
	// constraint_set1 (0x40), level 3.1 (0x1F); H.265 Main profile (1),
	// compatibility flags 1 and 2, Main tier, level 3.1 (93),
	// progressive+frame-only constraint byte 0xB0.
	h264 := &media.Params{Codec: media.CodecH264, SPS: []byte{0x67, 0x4d, 0x40, 0x1f, 0xe8}, PPS: []byte{0x68}}
	h265 := &media.Params{Codec: media.CodecH265, VPS: []byte{0x40, 1}, PPS: []byte{0x44, 1},
		SPS: []byte{0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0xb0, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d, 0xa0}}
	h265High := &media.Params{Codec: media.CodecH265, VPS: []byte{0x40, 1}, PPS: []byte{0x44, 1},
		SPS: []byte{0x42, 0x01, 0x01, 0x22, 0x20, 0x00, 0x00, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x96, 0xa0}}
	for _, tc := range []struct {
		p    *media.Params
		want string
	}{
		{h264, "avc1.4D401F"},
		{h265, "hvc1.1.6.L93.B0"},
		{h265High, "hvc1.2.4.H150.90"},
	} {
		got, err := tc.p.CodecString()
		if err != nil || got != tc.want {
			t.Errorf("CodecString = %q, %v; want %q", got, err, tc.want)
		}
	}
	// The sample clips: ffprobe reports Main level 31 for H.264 and Main
	// level 93 for H.265 (progressive, not frame-only: constraint 0x90).
	for c, want := range map[media.Codec]string{media.CodecH264: "avc1.4D401F", media.CodecH265: "hvc1.1.6.L93.90"} {
		got, err := loadClip(t, c).Params.CodecString()
		if err != nil || got != want {
			t.Errorf("%v clip: CodecString = %q, %v; want %q", c, got, err, want)
		}
	}
	for _, p := range []*media.Params{
		{Codec: media.CodecH264, SPS: []byte{0x67, 0x4d}},
		{Codec: media.CodecH264, SPS: []byte{0x68, 0x4d, 0x40, 0x1f}},
		{Codec: media.CodecH265, SPS: []byte{0x42, 0x01, 0x01}},
		{Codec: media.CodecUnknown},
	} {
		if _, err := p.CodecString(); !errs.Is(err, errs.Invalid) {
			t.Errorf("CodecString(%x) = %v, want Invalid", p.SPS, err)
		}
	}
}
