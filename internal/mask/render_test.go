package mask

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

const (
	tW, tH = 320, 240
	tFPS   = 10
)

func needFFmpeg(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI (scripts/test installs it)")
		}
		t.Skip("ffmpeg not installed (Debian package ffmpeg)")
	}
}

// synthetic writes a 4-second 320×240 10 fps H.264 clip of mid-grey
// noise: every area has a high variance, which masking must remove.
func synthetic(t testing.TB, dir string) string {
	t.Helper()
	needFFmpeg(t)
	out := filepath.Join(dir, "src.mp4")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi",
		"-i", "color=c=0x808080:s=320x240:r=10:d=4,noise=alls=40:allf=t+u,format=yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", "-crf", "12", "-g", "20", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the clip: %v: %s", err, b)
	}
	return out
}

// frames decodes a clip to 8-bit luma frames.
func frames(t testing.TB, path string) [][]byte {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", path,
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	b := out.Bytes()
	var fs [][]byte
	for len(b) >= tW*tH {
		fs = append(fs, b[:tW*tH])
		b = b[tW*tH:]
	}
	return fs
}

// stats returns the mean and variance of the luma in pixel box b.
func stats(f []byte, b box) (mean, variance float64) {
	var s, s2, n float64
	for y := b.y; y < b.y+b.h; y++ {
		for x := b.x; x < b.x+b.w; x++ {
			v := float64(f[y*tW+x])
			s += v
			s2 += v * v
			n++
		}
	}
	mean = s / n
	return mean, s2/n - mean*mean
}

// diff is the mean absolute difference of two frames inside b.
func diff(a, c []byte, b box) float64 {
	var s, n float64
	for y := b.y; y < b.y+b.h; y++ {
		for x := b.x; x < b.x+b.w; x++ {
			s += math.Abs(float64(a[y*tW+x]) - float64(c[y*tW+x]))
			n++
		}
	}
	return s / n
}

// pix is r in pixels, shrunk by inset on every side.
func pix(r Rect, inset int) box {
	return box{x: int(r.X*tW) + inset, y: int(r.Y*tH) + inset, w: int(r.W*tW) - 2*inset, h: int(r.H*tH) - 2*inset}
}

func render(t *testing.T, spec *Spec, src string, progress func(Progress)) string {
	t.Helper()
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(filepath.Dir(src), "masked.mp4")
	os.Remove(out)
	var r Renderer
	if err := r.Render(context.Background(), spec, Job{Input: src, Progress: progress}, out); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return out
}

// The acceptance test of issue 14: a known region is masked in every frame
// of its time range and untouched elsewhere and at other times.
func TestRegionMaskedInEveryFrameOfItsRange(t *testing.T) {
	dir := t.TempDir()
	src := synthetic(t, dir)
	reg := Rect{X: 0.25, Y: 0.25, W: 0.25, H: 0.25}
	spec := &Spec{Style: Blur, Regions: []Region{{Name: "face", From: 1.0, To: 2.5, Rect: reg}}}
	var last Progress
	out := render(t, spec, src, func(p Progress) { last = p })
	if !last.End || last.Percent() != 100 || last.Total < 3900*time.Millisecond {
		t.Errorf("last progress %+v, want the end at 100%% of 4 s", last)
	}
	sf, mf := frames(t, src), frames(t, out)
	if len(sf) != 4*tFPS || len(mf) != len(sf) {
		t.Fatalf("%d source and %d masked frames, want %d", len(sf), len(mf), 4*tFPS)
	}
	in := pix(reg, 2)
	outside := []box{{0, 0, tW, 56}, {0, 124, tW, tH - 124}, {0, 56, 76, 68}, {164, 56, tW - 164, 68}}
	for i := range sf {
		ts := float64(i) / tFPS
		_, sv := stats(sf[i], in)
		_, mv := stats(mf[i], in)
		if ts >= 1.0 && ts <= 2.5 {
			if mv > sv/10 {
				t.Errorf("frame %d (t=%.1f s) inside its range: region variance %.0f, source %.0f: not masked", i, ts, mv, sv)
			}
		} else if d := diff(sf[i], mf[i], in); d > 6 || mv < sv/2 {
			t.Errorf("frame %d (t=%.1f s) outside its range: region differs by %.1f (variance %.0f of %.0f): masked when it should not be", i, ts, d, mv, sv)
		}
		for _, b := range outside {
			if d := diff(sf[i], mf[i], b); d > 6 {
				t.Errorf("frame %d: area %+v outside the region differs by %.1f", i, b, d)
			}
		}
	}
}

// A region with keyframes follows the interpolated path: in every frame
// the rectangle at Region.At(t) is filled, and the path's start, where the
// region no longer is, shows the picture again.
func TestMovingRegionFollowsItsPath(t *testing.T) {
	dir := t.TempDir()
	src := synthetic(t, dir)
	rg := Region{Name: "walker", From: 0, To: 4, Keyframes: []Keyframe{
		{T: 0, Rect: Rect{X: 0.05, Y: 0.1, W: 0.2, H: 0.2}},
		{T: 2, Rect: Rect{X: 0.4, Y: 0.1, W: 0.2, H: 0.2}},
		{T: 3.5, Rect: Rect{X: 0.7, Y: 0.7, W: 0.2, H: 0.2}},
	}}
	spec := &Spec{Style: Fill, Regions: []Region{rg}}
	out := render(t, spec, src, nil)
	sf, mf := frames(t, src), frames(t, out)
	if len(mf) != len(sf) {
		t.Fatalf("%d frames, want %d", len(mf), len(sf))
	}
	start := pix(rg.Keyframes[0].Rect, 2)
	for i := range mf {
		ts := float64(i) / tFPS
		at := rg.At(ts)
		m, _ := stats(mf[i], pix(at, 2))
		if m > 24 {
			t.Errorf("frame %d (t=%.1f s): mean %.0f at %+v, want the black fill there", i, ts, m, at)
		}
		// A band of 6 pixels just outside each side, beyond the
		// even-pixel rounding, is not filled.
		p := pix(at, 0)
		for _, b := range []box{{p.x - 8, p.y, 6, p.h}, {p.x + p.w + 2, p.y, 6, p.h}, {p.x, p.y - 8, p.w, 6}, {p.x, p.y + p.h + 2, p.w, 6}} {
			if b.x < 0 || b.y < 0 || b.x+b.w > tW || b.y+b.h > tH {
				continue
			}
			if m, _ := stats(mf[i], b); m < 100 {
				t.Errorf("frame %d (t=%.1f s): band %+v beside the region has mean %.0f: the fill is not where the path says", i, ts, b, m)
			}
		}
		if ts >= 1.5 {
			if d := diff(sf[i], mf[i], start); d > 6 {
				t.Errorf("frame %d (t=%.1f s): the path's start still differs by %.1f", i, ts, d)
			}
		}
	}
}

// A polygonal privacy zone is hidden in every frame inside the polygon and
// only there.
func TestZoneMaskedInsideThePolygon(t *testing.T) {
	dir := t.TempDir()
	src := synthetic(t, dir)
	// A triangle with its right angle at the top left.
	spec := &Spec{Style: Pixelate, Zones: []Zone{{Name: "neighbour's door", Points: []Point{{0.5, 0.1}, {0.9, 0.1}, {0.5, 0.7}}}}}
	out := render(t, spec, src, nil)
	sf, mf := frames(t, src), frames(t, out)
	inside := box{x: 168, y: 32, w: 40, h: 40}  // near the right angle, well inside
	beyond := box{x: 260, y: 120, w: 40, h: 40} // beyond the hypotenuse, inside the bounding box
	left := box{x: 40, y: 40, w: 100, h: 150}
	for i := range mf {
		_, sv := stats(sf[i], inside)
		_, mv := stats(mf[i], inside)
		if mv > sv/3 {
			t.Errorf("frame %d: variance %.0f inside the zone (source %.0f): not pixelated", i, mv, sv)
		}
		for _, b := range []box{beyond, left} {
			if d := diff(sf[i], mf[i], b); d > 6 {
				t.Errorf("frame %d: %+v outside the zone differs by %.1f", i, b, d)
			}
		}
	}
}

// The watermark is burned in at the bottom right, and a missing font names
// the Debian package.
func TestWatermark(t *testing.T) {
	dir := t.TempDir()
	src := synthetic(t, dir)
	spec := &Spec{Watermark: &Watermark{Recipient: "홍길동", Date: "2026-12-03", Receipt: "접수 2026-0042"}}
	out := render(t, spec, src, nil)
	sf, mf := frames(t, src), frames(t, out)
	corner := box{x: 120, y: 200, w: 190, h: 30}
	if d := diff(sf[0], mf[0], corner); d < 10 {
		t.Errorf("bottom right differs by %.1f: no watermark", d)
	}
	if d := diff(sf[0], mf[0], box{0, 0, tW, 150}); d > 6 {
		t.Errorf("the rest differs by %.1f", d)
	}
	// The text is printed as given: drawtext's %{…} expansion is off,
	// so a name cannot run an expression. On a flat picture, a text of
	// "%{n}" (the frame number when expanded) stays the same in every
	// frame.
	flat := filepath.Join(dir, "flat.mp4")
	if b, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-f", "lavfi", "-i",
		"color=c=0x808080:s=320x240:r=10:d=2", "-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", flat).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	odd := render(t, &Spec{Watermark: &Watermark{Recipient: "%{n} 100% \\ ' : b", Date: "%{n}"}}, flat, nil)
	of := frames(t, odd)
	ff := frames(t, flat)
	if d := diff(ff[1], of[1], corner); d < 10 {
		t.Errorf("a watermark with %% in it differs from the picture by %.1f: not drawn", d)
	}
	if d := diff(of[1], of[len(of)-1], corner); d > 2 {
		t.Errorf("the watermark changes between frames by %.1f: its text was expanded", d)
	}
	r := Renderer{Font: filepath.Join(dir, "no-such-font.ttf")}
	err := r.Render(context.Background(), spec, Job{Input: src}, filepath.Join(dir, "x.mp4"))
	if errs.CodeOf(err) != "mask.font" || !strings.Contains(err.Error(), "fonts-nanum") {
		t.Errorf("missing font: %v (code %q), want mask.font naming fonts-nanum", err, errs.CodeOf(err))
	}
}

func TestMissingFFmpegNamesThePackage(t *testing.T) {
	dir := t.TempDir()
	r := Renderer{FFmpeg: filepath.Join(dir, "ffmpeg")}
	err := r.Render(context.Background(), &Spec{Style: Blur}, Job{Input: "x.mp4", Width: 2, Height: 2, Duration: time.Second}, filepath.Join(dir, "out.mp4"))
	if errs.CodeOf(err) != "mask.ffmpeg" || !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "Debian package ffmpeg") {
		t.Fatalf("got %v (code %q), want mask.ffmpeg naming the Debian package", err, errs.CodeOf(err))
	}
}

// Cancelling a render kills ffmpeg and leaves nothing behind: a stand-in
// ffmpeg writes part of its output, reports progress, and waits.
func TestCancelKillsFFmpegAndRemovesThePartialFile(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "ffmpeg")
	script := "#!/bin/sh\nfor a; do last=$a; done\necho partial > \"$last\"\necho out_time_us=500000\necho progress=continue\nexec sleep 60\n"
	if err := os.WriteFile(fake, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o700)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []Progress
	r := Renderer{FFmpeg: fake}
	done := make(chan error, 1)
	go func() {
		done <- r.Render(ctx, &Spec{Style: Blur, Regions: []Region{{From: 0, To: 1, Rect: Rect{0, 0, .5, .5}}}},
			Job{Input: "in.mp4", Width: 64, Height: 64, Duration: 2 * time.Second, Progress: func(p Progress) {
				got = append(got, p)
				cancel()
			}}, filepath.Join(outDir, "masked.mp4"))
	}()
	select {
	case err := <-done:
		if !errs.Is(err, errs.Canceled) {
			t.Fatalf("got %v, want Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Render did not return after cancellation")
	}
	if len(got) != 1 || got[0].Percent() != 25 {
		t.Errorf("progress %+v, want one report at 25%%", got)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// A source ffmpeg cannot read fails the render with ffmpeg's reason and
// leaves nothing beside the output.
func TestUnreadableSourceLeavesNothing(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "in", "broken.mp4")
	os.Mkdir(filepath.Dir(src), 0o700)
	if err := os.WriteFile(src, []byte("not a video"), 0o600); err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(dir, "out")
	os.Mkdir(outDir, 0o700)
	var r Renderer
	spec := &Spec{Style: Blur, Regions: []Region{{From: 0, To: 1, Rect: Rect{W: .5, H: .5}}}}
	if err := r.Render(context.Background(), spec, Job{Input: src}, filepath.Join(outDir, "m.mp4")); !errs.Is(err, errs.Invalid) {
		t.Errorf("probing a broken file: %v, want Invalid", err)
	}
	err := r.Render(context.Background(), spec, Job{Input: src, Width: 64, Height: 64, Duration: time.Second}, filepath.Join(outDir, "m.mp4"))
	if err == nil || !strings.Contains(err.Error(), "ffmpeg") {
		t.Errorf("rendering a broken file: %v", err)
	}
	if ents, _ := os.ReadDir(outDir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}
