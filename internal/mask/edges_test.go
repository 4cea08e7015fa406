package mask

import (
	"bytes"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestRegionEdgesMasked runs the graph itself through ffmpeg on a white
// picture, without an encoder (raw frames out), and checks every pixel
// that a region touches is black in every frame: a fixed region whose
// corner falls on an odd pixel, one on even pixels, and a moving region
// at whatever pixels its path crosses. crop and overlay place a 4:2:0
// picture at even coordinates; a box at an odd corner used to leave the
// region's last column and row unmasked.
func TestRegionEdgesMasked(t *testing.T) {
	needFFmpeg(t)
	const W, H, fps, secs = 320, 240, 25, 2
	spec := &Spec{Style: Fill, Regions: []Region{
		{Name: "odd", From: 0, To: secs, Rect: Rect{X: 7.0 / W, Y: 5.0 / H, W: 16.0 / W, H: 13.0 / H}},
		{Name: "even", From: 0, To: secs, Rect: Rect{X: 100.0 / W, Y: 40.0 / H, W: 20.0 / W, H: 20.0 / H}},
		{Name: "moving", From: 0, To: secs, Keyframes: []Keyframe{
			{T: 0, Rect: Rect{X: 0.1, Y: 0.5, W: 0.1, H: 0.15}},
			{T: secs, Rect: Rect{X: 0.63, Y: 0.31, W: 0.1, H: 0.15}}}},
	}}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	g, err := (&Renderer{}).graph(spec, W, H, dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "graph.txt")
	if err := os.WriteFile(script, []byte(g.filter), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin",
		"-f", "lavfi", "-i", "color=white:s=320x240:r=25:d=2,format=yuv420p",
		"-filter_complex_script", script, "-map", "[out]", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, stderr.String())
	}
	frames := out.Len() / (W * H)
	if frames != fps*secs {
		t.Fatalf("%d frames, want %d", frames, fps*secs)
	}
	// The pixels a rectangle (relative) touches; an edge within a
	// millionth of a pixel of a whole one is that one (0.575-0.075 is not
	// 0.5 in floating point).
	const eps = 1e-6
	check := func(n int, name string, r Rect) {
		x0, y0 := int(math.Floor(r.X*W+eps)), int(math.Floor(r.Y*H+eps))
		x1, y1 := int(math.Ceil((r.X+r.W)*W-eps)), int(math.Ceil((r.Y+r.H)*H-eps))
		px := out.Bytes()[n*W*H : (n+1)*W*H]
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				if px[y*W+x] > 64 {
					t.Fatalf("frame %d: region %s's pixel (%d,%d) shows (%d): not masked (region %d–%d × %d–%d)",
						n, name, x, y, px[y*W+x], x0, x1-1, y0, y1-1)
				}
			}
		}
	}
	for n := range frames {
		tm := float64(n) / fps
		for i := range spec.Regions {
			check(n, spec.Regions[i].Name, spec.Regions[i].At(tm))
		}
	}
}
