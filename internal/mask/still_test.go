package mask

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// noiseJPEG is a 320×180 picture of grey noise.
func noiseJPEG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 320, 180))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(64 + rng.IntN(160))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func imgStats(img image.Image, x0, y0, x1, y1 int) (mean, variance float64) {
	var s, ss float64
	n := 0
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			v := float64(color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y)
			s += v
			ss += v * v
			n++
		}
	}
	mean = s / float64(n)
	return mean, ss/float64(n) - mean*mean
}

// A still's zone is black inside the polygon (a triangle: the corner
// outside it keeps its picture) and the rest of the picture is the
// source's.
func TestFillJPEGHidesTheZoneOnly(t *testing.T) {
	src := noiseJPEG(t)
	zone := Zone{Name: "옆집 창문", Points: []Point{{X: 0.5, Y: 0.1}, {X: 0.9, Y: 0.1}, {X: 0.9, Y: 0.5}}}
	out, err := FillJPEG(src, []Zone{zone})
	if err != nil {
		t.Fatal(err)
	}
	got, err := jpeg.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	orig, _ := jpeg.Decode(bytes.NewReader(src))
	if got.Bounds() != orig.Bounds() {
		t.Fatalf("size %v, source %v", got.Bounds(), orig.Bounds())
	}
	// Inside the triangle, near its right angle (x 256–284, y 22–40).
	if m, v := imgStats(got, 256, 22, 284, 40); m > 8 || v > 20 {
		t.Errorf("inside the zone: mean %.1f, variance %.1f: not hidden", m, v)
	}
	if _, v := imgStats(orig, 256, 22, 284, 40); v < 500 {
		t.Fatalf("the source's zone has variance %.0f: the test cannot tell", v)
	}
	// Outside: the lower left, and the triangle's other half (below the
	// diagonal from (160,18) to (288,90)).
	for _, b := range [][4]int{{10, 100, 150, 170}, {170, 60, 200, 85}} {
		m0, _ := imgStats(orig, b[0], b[1], b[2], b[3])
		m1, v1 := imgStats(got, b[0], b[1], b[2], b[3])
		if d := m1 - m0; d > 3 || d < -3 || v1 < 500 {
			t.Errorf("outside the zone %v: mean %.1f (source %.1f), variance %.1f", b, m1, m0, v1)
		}
	}
	if _, err := FillJPEG([]byte("not a jpeg"), []Zone{zone}); err == nil {
		t.Error("a broken picture was accepted")
	}
	if _, err := FillJPEG(src, []Zone{{Name: "x", Points: []Point{{X: 0.1, Y: 0.1}}}}); err == nil {
		t.Error("a zone of one point was accepted")
	}
}
