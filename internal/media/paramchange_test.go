package media_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// variant re-encodes the first two seconds of the sample clip at 640x360
// with ffmpeg, as a camera would send after a resolution change, and
// returns its parameter sets and frames. The parameter sets are only in
// the sample entry, not in-band, so only gwanje's in-band copy can tell a
// decoder about the change.
func variant(t *testing.T, c media.Codec) (*media.Params, []clip.AU) {
	t.Helper()
	raw, err := clip.Raw(c)
	if err != nil {
		t.Fatal(err)
	}
	in := writeTemp(t, "in.es", raw)
	out := filepath.Join(filepath.Dir(in), "variant.mp4")
	format, enc, extra := "h264", "libx264", []string{"-x264-params", "keyint=25:min-keyint=25:bframes=0:log-level=error"}
	if c == media.CodecH265 {
		format, enc, extra = "hevc", "libx265", []string{"-x265-params", "keyint=25:min-keyint=25:bframes=0:log-level=error", "-tag:v", "hvc1"}
	}
	args := []string{"-nostdin", "-v", "error", "-f", format, "-r", "25", "-i", in, "-frames:v", "50",
		"-vf", "scale=640:360", "-c:v", enc, "-preset", "ultrafast"}
	args = append(args, extra...)
	run(t, "ffmpeg", append(args, "-y", out)...)
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var pres pmp4.Presentation
	if err := pres.Unmarshal(bytes.NewReader(b)); err != nil {
		t.Fatalf("reading ffmpeg's variant: %v", err)
	}
	tr := pres.Tracks[0]
	p := &media.Params{Codec: c}
	switch cc := tr.Codec.(type) {
	case *codecs.H264:
		p.SPS, p.PPS = cc.SPS, cc.PPS
	case *codecs.H265:
		p.VPS, p.SPS, p.PPS = cc.VPS, cc.SPS, cc.PPS
	default:
		t.Fatalf("variant codec %T", tr.Codec)
	}
	if w, h, err := p.Size(); err != nil || w != 640 || h != 360 {
		t.Fatalf("variant is %dx%d (%v), want 640x360", w, h, err)
	}
	var aus []clip.AU
	for i, s := range tr.Samples {
		data, err := s.GetPayload()
		if err != nil {
			t.Fatal(err)
		}
		nalus, err := media.SplitAVCC(data)
		if err != nil {
			t.Fatalf("variant sample %d: %v", i, err)
		}
		if _, found := media.ExtractParams(c, nalus); found {
			t.Fatalf("variant sample %d carries in-band parameter sets; the test needs them out of band", i)
		}
		aus = append(aus, clip.AU{NALUs: nalus, Key: !s.IsNonSyncSample})
	}
	return p, aus
}

// stripParams removes in-band parameter sets from an access unit.
func stripParams(c media.Codec, nalus [][]byte) [][]byte {
	var out [][]byte
	for _, u := range nalus {
		if _, isParam := media.ExtractParams(c, [][]byte{u}); !isParam {
			out = append(out, u)
		}
	}
	return out
}

// TestFileParamChange builds a clip that spans a resolution change and back
// (original 2 s, 640x360 variant 2 s, original 2 s), with no parameter sets
// in the stored frames, and checks that ffmpeg decodes it without a message.
func TestFileParamChange(t *testing.T) {
	needTool(t, "ffmpeg")
	needTool(t, "ffprobe")
	for _, c := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(c.String(), func(t *testing.T) {
			cl := loadClip(t, c)
			vp, vaus := variant(t, c)
			if vp.Equal(cl.Params) {
				t.Fatal("variant has the clip's parameter sets")
			}
			fr := &frames{params: cl.Params}
			addAU := func(p *media.Params, au clip.AU) {
				data, err := media.ToAVCC(stripParams(c, au.NALUs))
				if err != nil {
					t.Fatal(err)
				}
				fr.add(p, data, au.Key, clip.FrameDuration)
			}
			for _, au := range cl.AUs[:50] {
				addAU(cl.Params, au)
			}
			for _, au := range vaus {
				addAU(vp, au)
			}
			for _, au := range cl.AUs[50:100] {
				addAU(nil, au) // nil: the file's parameters
			}
			file := fr.newFile(t)
			whole := readAll(t, file)

			// Key frames 50, 75 (variant) and 100 (back) carry in-band
			// parameter sets; the rest do not.
			vIn := media.AppendAVCC(nil, vp.ParamNALUs())
			oIn := media.AppendAVCC(nil, cl.Params.ParamNALUs())
			var pres pmp4.Presentation
			if err := pres.Unmarshal(bytes.NewReader(whole)); err != nil {
				t.Fatal(err)
			}
			var withParams []string
			for i, s := range pres.Tracks[0].Samples {
				b, err := s.GetPayload()
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case bytes.HasPrefix(b, vIn) && bytes.Equal(b[len(vIn):], fr.data[i]):
					withParams = append(withParams, fmt.Sprintf("%d:variant", i))
				case bytes.HasPrefix(b, oIn) && bytes.Equal(b[len(oIn):], fr.data[i]):
					withParams = append(withParams, fmt.Sprintf("%d:original", i))
				case !bytes.Equal(b, fr.data[i]):
					t.Fatalf("sample %d is neither the frame nor parameter sets and the frame", i)
				}
			}
			if got := strings.Join(withParams, " "); got != "50:variant 75:variant 100:original" {
				t.Errorf("in-band parameter sets on %q, want on 50:variant 75:variant 100:original", got)
			}

			path := writeTemp(t, "change.mp4", whole)
			if got := probePackets(t, path); got != 150 {
				t.Errorf("ffprobe counts %d samples, want 150", got)
			}
			decodeClean(t, path)
			// Seeking straight into the variant must decode too.
			decodeClean(t, path, "-ss", "2.5")
		})
	}
}
