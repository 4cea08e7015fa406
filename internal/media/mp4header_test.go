package media_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/gwanje/gwanje/internal/media"
)

var errStop = errors.New("stop")

// mediacommonHeader is what pmp4 writes before the first sample of the same
// file, every sample table through its own marshaller: the reference the
// header gwanje writes itself must equal byte for byte.
func mediacommonHeader(t *testing.T, f *frames, file *media.File) []byte {
	t.Helper()
	var codec codecs.Codec
	switch f.params.Codec {
	case media.CodecH264:
		codec = &codecs.H264{SPS: f.params.SPS, PPS: f.params.PPS}
	case media.CodecH265:
		codec = &codecs.H265{VPS: f.params.VPS, SPS: f.params.SPS, PPS: f.params.PPS}
	}
	ps := make([]*pmp4.Sample, len(f.samples))
	for i, s := range f.samples {
		pre, size := file.Layout(i)
		ps[i] = &pmp4.Sample{
			Duration:        s.Duration,
			PTSOffset:       s.PTSOffset,
			IsNonSyncSample: !s.Key,
			PayloadSize:     uint32(len(pre)) + size,
		}
	}
	ps[0].GetPayload = func() ([]byte, error) { return nil, errStop }
	pres := pmp4.Presentation{Tracks: []*pmp4.Track{{
		ID: 1, TimeScale: media.Hz, TimeOffset: -f.samples[0].PTSOffset, Codec: codec, Samples: ps,
	}}}
	var b bytes.Buffer
	if err := pres.Marshal(&b); !errors.Is(err, errStop) {
		t.Fatalf("pmp4: %v", err)
	}
	return b.Bytes()
}

// TestHeaderIsMediacommons checks that the header NewFile writes — the sample
// tables written directly, the rest from a one-sample pmp4 template — is the
// header pmp4 writes for all the samples, in every shape a view takes:
// both codecs, a gap stretched into one sample, composition offsets (the
// first one negative or positive), every sample a key frame, one sample,
// and in-band parameter sets after a change.
func TestHeaderIsMediacommons(t *testing.T) {
	h264 := loadClip(t, media.CodecH264)
	h265 := loadClip(t, media.CodecH265)
	changed := *h264.Params
	changed.PPS = append(append([]byte(nil), h264.Params.PPS...), 0x80)
	cases := []struct {
		name   string
		frames func() *frames
	}{
		{"h264 ten seconds", func() *frames { return clipFrames(t, h264, 0, 250) }},
		{"h265 with a gap", func() *frames {
			f := clipFrames(t, h265, 25, 60)
			f.samples[29].Duration = 45 * media.Hz
			return f
		}},
		{"composition offsets", func() *frames {
			f := clipFrames(t, h264, 0, 100)
			for i := range f.samples {
				f.samples[i].PTSOffset = int32(i%3) * 3600
			}
			f.samples[0].PTSOffset = 7200
			return f
		}},
		{"negative first offset", func() *frames {
			f := clipFrames(t, h264, 0, 30)
			f.samples[0].PTSOffset = -1800
			return f
		}},
		{"all key frames", func() *frames {
			f := clipFrames(t, h264, 0, 40)
			for i := range f.samples {
				f.samples[i].Key = true
			}
			return f
		}},
		{"one sample", func() *frames { return clipFrames(t, h265, 0, 1) }},
		{"parameter change", func() *frames {
			f := clipFrames(t, h264, 0, 100)
			f.samples[25].Params = &changed
			f.samples[50].Params = &changed
			return f
		}},
		{"ten minutes", func() *frames { return clipFrames(t, h264, 0, 10*60*25) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.frames()
			file := f.newFile(t)
			want := mediacommonHeader(t, f, file)
			if got := file.Header(); !bytes.Equal(got, want) {
				i := 0
				for i < len(got) && i < len(want) && got[i] == want[i] {
					i++
				}
				t.Fatalf("header differs from pmp4's at byte %d (lengths %d and %d)", i, len(got), len(want))
			}
		})
	}
}
