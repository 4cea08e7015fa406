package camsim

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
)

// TestFFprobe checks that a third-party client reads both codecs, in real
// time over TCP interleaved.
func TestFFprobe(t *testing.T) {
	bin, err := exec.LookPath("ffprobe")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffprobe is required on CI: ", err)
		}
		t.Skip("ffprobe not installed; install ffmpeg to run this test")
	}
	s, err := Start(Config{
		Addr:    "127.0.0.1:0",
		Cameras: 2,
		Codecs:  []media.Codec{media.CodecH264, media.CodecH265},
		User:    "viewer",
		Pass:    "pw-for-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for n, want := range map[int]string{1: "h264", 2: "hevc"} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		url := "rtsp://viewer:pw-for-test@" + s.Addr() + "/cam/" + strconv.Itoa(n)
		out, err := exec.CommandContext(ctx, bin, "-v", "error", "-rtsp_transport", "tcp",
			"-show_entries", "stream=codec_name,width,height", "-of", "json", url).Output()
		cancel()
		if err != nil {
			t.Fatalf("camera %d: ffprobe: %v", n, err)
		}
		var res struct {
			Streams []struct {
				CodecName string `json:"codec_name"`
				Width     int    `json:"width"`
				Height    int    `json:"height"`
			} `json:"streams"`
		}
		if err := json.Unmarshal(out, &res); err != nil {
			t.Fatalf("camera %d: %v in %s", n, err, out)
		}
		if len(res.Streams) != 1 {
			t.Fatalf("camera %d: %d streams, want 1 (video only): %s", n, len(res.Streams), out)
		}
		st := res.Streams[0]
		if st.CodecName != want || st.Width != 1280 || st.Height != 720 {
			t.Errorf("camera %d: %s %dx%d, want %s 1280x720", n, st.CodecName, st.Width, st.Height, want)
		}
	}
}
