package mask

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The zone filter of a converted stream masks the zone in every frame and
// leaves the rest of the picture alone, as a masked export does.
func TestZoneFilterMasksTheZoneOfAStream(t *testing.T) {
	dir := t.TempDir()
	src := synthetic(t, dir)
	zones := []Zone{{Name: "옆집 창문", Points: []Point{{0.5, 0.1}, {0.9, 0.1}, {0.9, 0.5}, {0.5, 0.5}}}}
	work := t.TempDir()
	f, err := NewZoneFilter(zones, Fill, tW, tH, work)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.mp4")
	args := append([]string{"-hide_banner", "-loglevel", "error", "-nostdin", "-i", src}, f.Args()...)
	args = append(args, "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, b)
	}
	sf, mf := frames(t, src), frames(t, out)
	if len(mf) != len(sf) || len(mf) == 0 {
		t.Fatalf("%d frames, source %d", len(mf), len(sf))
	}
	inside := box{x: 176, y: 36, w: 100, h: 72}
	for i := range mf {
		if m, v := stats(mf[i], inside); m > 40 || v > 20 {
			t.Errorf("frame %d: mean %.0f, variance %.0f inside the zone: not filled", i, m, v)
		}
		if d := diff(sf[i], mf[i], box{x: 20, y: 140, w: 120, h: 80}); d > 6 {
			t.Errorf("frame %d: outside the zone differs by %.1f", i, d)
		}
	}
	if _, err := NewZoneFilter(nil, Fill, tW, tH, work); err == nil {
		t.Error("a filter without zones was made")
	}
	bad := []Zone{{Name: "x", Points: []Point{{0.1, 0.1}, {2, 0.1}, {0.5, 0.5}}}}
	if _, err := NewZoneFilter(bad, Fill, tW, tH, t.TempDir()); err == nil || !strings.Contains(err.Error(), "x") {
		t.Errorf("a zone outside the picture: %v", err)
	}
}
