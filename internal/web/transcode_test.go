package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// h265Source is the test source with the H.265 clip.
type h265Source struct{ *source }

func (s h265Source) Segments(ctx context.Context, camera string, start, end int64) ([]store.Segment, error) {
	segs, err := s.source.Segments(ctx, camera, start, end)
	for i := range segs {
		segs[i].Codec = media.CodecH265
	}
	return segs, err
}

// An H.265 view, with ffmpeg at hand, is served as H.264 and its ledger
// row says it was converted; without ffmpeg it is served as recorded.
func TestH265ViewTranscodedToH264(t *testing.T) {
	ffmpeg, err1 := exec.LookPath("ffmpeg")
	ffprobe, err2 := exec.LookPath("ffprobe")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg and ffprobe are required in CI")
		}
		t.Skip("no ffmpeg")
	}
	c, err := clip.Load(media.CodecH265)
	if err != nil {
		t.Fatal(err)
	}
	for _, transcode := range []string{ffmpeg, ""} {
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
		resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", h.viewBody())
		var v viewResponse
		decodeJSON(t, resp, &v)
		rows := h.ledger(ledger.Playback)
		if len(rows) != 1 {
			t.Fatalf("transcode %q: %d rows", transcode, len(rows))
		}
		converted := strings.Contains(rows[0].Form, "H.264") && strings.Contains(rows[0].Object, "H.264")
		if converted != (transcode != "") {
			t.Errorf("transcode %q: ledger form %q, object %q", transcode, rows[0].Form, rows[0].Object)
		}
		resp = h.do("GET", v.URL, "viewer", nil)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) < 1000 {
			t.Fatalf("transcode %q: %d, %d bytes", transcode, resp.StatusCode, len(body))
		}
		p := filepath.Join(t.TempDir(), "v.mp4")
		os.WriteFile(p, body, 0o600)
		out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", p).CombinedOutput()
		want := "hevc"
		if transcode != "" {
			want = "h264"
		}
		if got := strings.TrimSpace(string(out)); err != nil || got != want {
			t.Errorf("transcode %q: ffprobe says %q (%v), want %s", transcode, got, err, want)
		}
	}
}

// h0 is the harness's t0.
var h0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func decodeJSON(t *testing.T, resp *http.Response, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
