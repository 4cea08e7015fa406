package mask

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pigoDir is the pigo module's directory in the module cache, or "".
func pigoDir(t *testing.T) string {
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		return ""
	}
	d := filepath.Join(strings.TrimSpace(string(out)), "github.com", "esimov", "pigo@v1.4.6")
	if _, err := os.Stat(d); err != nil {
		return ""
	}
	return d
}

// The embedded cascade is pigo v1.4.6's, byte for byte.
func TestCascadeIsPigos(t *testing.T) {
	const want = "d8014993e7298c7b1865d1f8b855d6dbf4ec5c808bf879e2091ab6837abf90cd"
	sum := sha256.Sum256(facefinder)
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("cascade SHA-256 %s, want %s", got, want)
	}
	if d := pigoDir(t); d != "" {
		b, err := os.ReadFile(filepath.Join(d, "cascade", "facefinder"))
		if err != nil || string(b) != string(facefinder) {
			t.Fatalf("the module's cascade differs from the embedded one (%v)", err)
		}
	}
	if _, err := faceCascade(); err != nil {
		t.Fatal(err)
	}
}

// Faces proposes the face of pigo's own sample picture, made into a short
// clip, at each sampled time, and nothing in a picture of noise.
func TestFacesProposesFaces(t *testing.T) {
	needFFmpeg(t)
	d := pigoDir(t)
	if d == "" {
		t.Skip("pigo's sample picture is not in the module cache")
	}
	dir := t.TempDir()
	clip := filepath.Join(dir, "faces.mp4")
	if b, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-loop", "1", "-i",
		filepath.Join(d, "testdata", "sample.jpg"), "-t", "2", "-r", "10", "-vf", "scale=480:-2,format=yuv420p",
		"-c:v", "libx264", "-preset", "ultrafast", clip).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	var r Renderer
	props, err := r.Faces(context.Background(), clip, FaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	times := map[float64]int{}
	for _, p := range props {
		times[p.T]++
		// The sample is one face in the middle of the picture.
		cx, cy := p.Rect.X+p.Rect.W/2, p.Rect.Y+p.Rect.H/2
		if p.Rect.check("p", "rect") != nil || p.Score < 5 || cx < 0.4 || cx > 0.6 || cy < 0.3 || cy > 0.7 || p.Rect.W < 0.3 {
			t.Errorf("proposal %+v", p)
		}
		reg := p.Region("face", 2)
		if err := reg.validate(0); err != nil || reg.W <= p.Rect.W || reg.From > p.T || reg.To < p.T {
			t.Errorf("region %+v of %+v: %v", reg, p, err)
		}
	}
	if len(times) != 4 || times[0] != 1 || times[1.5] != 1 {
		t.Fatalf("proposals at %v (%d in all), want faces at 0, 0.5, 1 and 1.5 s", times, len(props))
	}
	noise, err := r.Faces(context.Background(), synthetic(t, dir), FaceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(noise) != 0 {
		t.Errorf("%d faces proposed in noise", len(noise))
	}
}
