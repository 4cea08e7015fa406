package web

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// frameCount is the number of video frames ffprobe decodes in an MP4.
func frameCount(t *testing.T, body []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v.mp4")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", p).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// A converted H.265 playback has every frame of the recorded one: ffmpeg
// reading the MP4 from its pipe without buffering (-fflags +nobuffer, as
// live view does) lost the last second of a two-second view.
func TestConvertedPlaybackKeepsEveryFrame(t *testing.T) {
	ff := needFFmpeg(t)
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("no ffprobe")
	}
	c, err := clip.Load(media.CodecH265)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]string{}
	for _, transcode := range []string{"", ff} {
		h := newHarnessWith(t, 1, func(o *Options) {
			src := &source{ev: &events{}, params: c.Params}
			for i, au := range c.AUs {
				b, _ := media.ToAVCC(au.NALUs)
				src.frames = append(src.frames, store.FrameInfo{Wall: media.Time90k(h0) + int64(i)*clip.FrameDuration,
					Duration: clip.FrameDuration, Key: au.Key, Size: uint32(len(b))})
				src.data = append(src.data, b)
			}
			src.t0 = media.Time90k(h0)
			o.Footage, o.Transcode = h265Source{src}, transcode
		})
		resp, body := h.playback("viewer")
		if resp.StatusCode != 200 {
			t.Fatalf("transcode %q: %d", transcode, resp.StatusCode)
		}
		counts[transcode] = frameCount(t, body)
	}
	if counts[""] == "" || counts[""] == "0" || counts[""] != counts[ff] {
		t.Errorf("recorded %s frames, converted %s", counts[""], counts[ff])
	}
}
