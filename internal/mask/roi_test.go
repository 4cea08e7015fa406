package mask

import (
	"regexp"
	"strconv"
	"testing"
)

var addroiRe = regexp.MustCompile(`addroi=x=(\d+):y=(\d+):w=(\d+):h=(\d+):qoffset=`)

// The encoder is told to spend less on masked areas only where every
// pixel is masked in every frame: whole macroblocks inside a zone's
// (slanted) polygon or a fixed region lasting the whole clip; never a
// timed or moving region, never the watermark's band, and nothing at all
// for a live or playback stream (dur 0).
func TestRegionsOfInterestOnlyInsideMasks(t *testing.T) {
	const W, H, dur = 1280, 720, 30.0
	spec := &Spec{
		Style: Blur,
		Zones: []Zone{{Name: "slanted", Points: []Point{{X: 0.55, Y: 0.05}, {X: 0.95, Y: 0.1}, {X: 0.9, Y: 0.6}, {X: 0.6, Y: 0.45}}}},
		Regions: []Region{
			{Name: "whole", From: 0, To: dur, Rect: Rect{X: 0.1, Y: 0.3, W: 0.13, H: 0.2}},
			{Name: "timed", From: 5, To: 20, Rect: Rect{X: 0.3, Y: 0.1, W: 0.1, H: 0.25}},
			{Name: "moving", From: 0, To: dur, Keyframes: []Keyframe{
				{T: 0, Rect: Rect{X: 0.05, Y: 0.7, W: 0.1, H: 0.2}}, {T: dur, Rect: Rect{X: 0.4, Y: 0.7, W: 0.1, H: 0.2}}}},
		},
		Watermark: &Watermark{Recipient: "홍길동", Date: "2026-12-03", Receipt: "열람-2026-0042"},
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &Renderer{}
	g, err := r.graph(spec, W, H, t.TempDir(), dur)
	if err != nil {
		t.Fatal(err)
	}
	// What is masked in every frame: the zone's grown mask and the whole
	// region's pixels.
	zb := zoneBox(spec.Zones[0].Points, W, H)
	zm := zoneMask(spec.Zones[0].Points, W, H, zb)
	rw, rh := spec.Regions[0].Size()
	w, h := pixelSize(rw, W), pixelSize(rh, H)
	rx, ry := int(spec.Regions[0].X*W), int(spec.Regions[0].Y*H)
	always := func(x, y int) bool {
		if mx, my := x-zb.x, y-zb.y; mx >= 0 && my >= 0 && mx < zb.w && my < zb.h && zm.Pix[my*zm.Stride+mx] != 0 {
			return true
		}
		return x >= rx && x < rx+w && y >= ry && y < ry+h
	}
	band := H - 4*max(14, H/28)
	m := addroiRe.FindAllStringSubmatch(g.filter, -1)
	inZone, inRegion := 0, 0
	for _, s := range m {
		x, _ := strconv.Atoi(s[1])
		y, _ := strconv.Atoi(s[2])
		bw, _ := strconv.Atoi(s[3])
		bh, _ := strconv.Atoi(s[4])
		if x%mb != 0 || y%mb != 0 || bw%mb != 0 || bh%mb != 0 || bw <= 0 || bh <= 0 {
			t.Errorf("region of interest %v is not whole macroblocks", s[1:])
		}
		if y+bh > band {
			t.Errorf("region of interest %v reaches into the watermark's band (from y=%d)", s[1:], band)
		}
		for py := y; py < y+bh; py++ {
			for px := x; px < x+bw; px++ {
				if !always(px, py) {
					t.Fatalf("region of interest %v covers pixel (%d,%d), which is not masked in every frame", s[1:], px, py)
				}
			}
		}
		if x >= zb.x && x < zb.x+zb.w {
			inZone++
		} else {
			inRegion++
		}
	}
	if inZone == 0 || inRegion == 0 {
		t.Errorf("regions of interest: %d in the zone, %d in the whole region; want some of each:\n%s", inZone, inRegion, g.filter)
	}
	// A stream (live view, playback) gets none.
	g, err = r.graph(spec, W, H, t.TempDir(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if addroiRe.MatchString(g.filter) {
		t.Errorf("a stream's graph has regions of interest:\n%s", g.filter)
	}
}
