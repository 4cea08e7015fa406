package mask

import (
	"math"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

func TestParseNamesTheRegionAndField(t *testing.T) {
	for _, c := range []struct {
		name, json, code string
		params           errs.Params
	}{
		{"style", `{"style":"smudge"}`, "mask.style", errs.Params{"style": "smudge"}},
		{"unknown field", `{"style":"blur","regons":[]}`, "mask.json", nil},
		{"syntax", "{\"style\":\n\"blur\",}", "mask.json", nil},
		{"zone points", `{"zones":[{"name":"door","points":[[0,0],[1,0]]}]}`, "mask.zone", errs.Params{"name": "door", "field": "points"}},
		{"zone outside", `{"zones":[{"points":[[0,0],[1.5,0],[0,1]]}]}`, "mask.zone", errs.Params{"name": "#1", "field": "points[1]"}},
		{"zone flat", `{"zones":[{"points":[[0,0],[0.5,0.5],[1,1]]}]}`, "mask.zone", errs.Params{"name": "#1", "field": "points"}},
		{"region to", `{"regions":[{"name":"a","from":3,"to":2,"x":0,"y":0,"w":0.1,"h":0.1}]}`, "mask.region", errs.Params{"name": "a", "field": "to"}},
		{"region size", `{"regions":[{"name":"a","from":0,"to":2,"x":0.95,"y":0,"w":0.1,"h":0.1}]}`, "mask.region", errs.Params{"name": "a", "field": "rect"}},
		{"no size", `{"regions":[{"name":"a","from":0,"to":2}]}`, "mask.region", errs.Params{"name": "a", "field": "rect"}},
		{"keyframe order", `{"regions":[{"name":"b","from":0,"to":5,"keyframes":[{"t":2,"x":0,"y":0,"w":0.1,"h":0.1},{"t":1,"x":0,"y":0,"w":0.1,"h":0.1}]}]}`,
			"mask.region", errs.Params{"name": "b", "field": "keyframes[1]"}},
		{"keyframe size", `{"regions":[{"name":"b","from":0,"to":5,"keyframes":[{"t":1,"x":0,"y":0,"w":0.1,"h":0.1},{"t":6,"x":0,"y":0,"w":0,"h":0.1}]}]}`,
			"mask.region", errs.Params{"name": "b", "field": "keyframes[1]"}},
		{"both", `{"regions":[{"name":"b","from":0,"to":5,"x":0.1,"y":0,"w":0.1,"h":0.1,"keyframes":[{"t":1,"x":0,"y":0,"w":0.1,"h":0.1}]}]}`,
			"mask.region", errs.Params{"name": "b", "field": "keyframes"}},
		{"watermark recipient", `{"watermark":{"date":"2026-12-03"}}`, "mask.watermark", errs.Params{"field": "recipient"}},
		{"watermark control", `{"watermark":{"recipient":"a\nb"}}`, "mask.watermark", errs.Params{"field": "recipient"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.json))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := errs.CodeOf(err); string(got) != c.code {
				t.Fatalf("code %q (%v), want %q", got, err, c.code)
			}
			p := errs.ParamsOf(err)
			for k, v := range c.params {
				if p[k] != v {
					t.Errorf("param %s = %q, want %q (%v)", k, p[k], v, err)
				}
			}
			if c.code == "mask.json" && !strings.Contains(p["err"], "line") && c.name == "syntax" {
				t.Errorf("syntax error without its line: %q", p["err"])
			}
		})
	}
}

func TestParseGood(t *testing.T) {
	s, err := Parse([]byte(`{"style":"pixelate",
		"zones":[{"name":"창문","points":[[0.1,0.1],[0.3,0.1],[0.3,0.4]]}],
		"regions":[{"name":"p","from":0,"to":10,"x":0.2,"y":0.2,"w":0.1,"h":0.2},
		           {"name":"q","from":1,"to":9,"keyframes":[{"t":1,"x":0,"y":0,"w":0.1,"h":0.1},{"t":9,"x":0.8,"y":0.6,"w":0.2,"h":0.3}]}],
		"watermark":{"recipient":"홍길동","date":"2026-12-03","receipt":"2026-0042"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Style != Pixelate || len(s.Zones) != 1 || len(s.Regions) != 2 || s.Watermark.Text() != "홍길동 · 2026-12-03 · 2026-0042" {
		t.Fatalf("parsed %+v", s)
	}
	if s, _ := Parse([]byte(`{}`)); s.Style != Blur {
		t.Errorf("default style %q, want blur", s.Style)
	}
}

// A moving region's rectangle is its largest keyframe size around the
// linearly interpolated centre, held before the first and after the last
// keyframe, and kept inside the picture.
func TestRegionAt(t *testing.T) {
	r := Region{From: 0, To: 10, Keyframes: []Keyframe{
		{T: 2, Rect: Rect{X: 0.1, Y: 0.1, W: 0.1, H: 0.1}},
		{T: 6, Rect: Rect{X: 0.5, Y: 0.3, W: 0.2, H: 0.1}},
		{T: 8, Rect: Rect{X: 0.85, Y: 0.3, W: 0.1, H: 0.1}},
	}}
	near := func(a, b Rect) bool {
		return math.Abs(a.X-b.X) < 1e-9 && math.Abs(a.Y-b.Y) < 1e-9 && math.Abs(a.W-b.W) < 1e-9 && math.Abs(a.H-b.H) < 1e-9
	}
	for _, c := range []struct {
		t    float64
		want Rect
	}{
		{0, Rect{X: 0.05, Y: 0.1, W: 0.2, H: 0.1}},  // held: centre (0.15, 0.15)
		{2, Rect{X: 0.05, Y: 0.1, W: 0.2, H: 0.1}},  // first keyframe
		{4, Rect{X: 0.275, Y: 0.2, W: 0.2, H: 0.1}}, // half way: centre (0.375, 0.25)
		{6, Rect{X: 0.5, Y: 0.3, W: 0.2, H: 0.1}},   // second keyframe
		{10, Rect{X: 0.8, Y: 0.3, W: 0.2, H: 0.1}},  // held, centre 0.9 would leave the picture: moved in
	} {
		if got := r.At(c.t); !near(got, c.want) {
			t.Errorf("At(%v) = %+v, want %+v", c.t, got, c.want)
		}
	}
}

func TestTrackIsFlat(t *testing.T) {
	r := Region{From: 0, To: 1000}
	for i := 0; i < MaxKeyframes; i++ {
		r.Keyframes = append(r.Keyframes, Keyframe{T: float64(i), Rect: Rect{X: float64(i%2) * 0.5, Y: 0, W: 0.1, H: 0.1}})
	}
	if err := r.validate(0); err != nil {
		t.Fatal(err)
	}
	e := track(&r, 1920, 192, 194, func(k Keyframe) float64 { return k.X + k.W/2 })
	if strings.Count(e, "(") > 4*MaxKeyframes || strings.Contains(e, "((((") {
		t.Errorf("nested expression: %.100s…", e)
	}
}
