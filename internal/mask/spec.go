// Package mask hides people in a copy of a clip: static privacy zones
// (polygons), per-export regions (rectangles with a time range, moved
// between keyframes by linear interpolation), blurred, pixelated or filled,
// and an optional burned-in watermark. The clip is re-encoded (H.264) by
// ffmpeg run as a child process; Faces proposes regions with pigo as a
// reviewer's starting point. Coordinates are relative to the picture
// (0..1 of its width and height) so that a spec does not depend on the
// stream's resolution; times are seconds from the clip's first frame.
//
// The package imports nothing of gwanje's but errs, so it can be tested
// alone. docs/design/masking.md describes the rendering.
package mask

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
)

// Style is how a masked area is hidden.
type Style string

const (
	Blur     Style = "blur"     // a strong box blur
	Pixelate Style = "pixelate" // blocks of one colour
	Fill     Style = "fill"     // solid black
)

// Limits of a spec.
const (
	MaxZones     = 64
	MaxRegions   = 256
	MaxKeyframes = 1000
	MaxPoints    = 64
	MaxText      = 100 // characters per watermark field
	maxName      = 100
	maxSpecBytes = 4 << 20
	// minSize is the smallest width or height of a region, relative: a
	// region thinner than this hides nothing worth hiding and is most
	// likely a slip of the mouse.
	minSize = 0.005
)

// Point is a position relative to the picture: X from the left, Y from
// the top, both in [0, 1].
type Point struct{ X, Y float64 }

// MarshalJSON writes a point as [x, y].
func (p Point) MarshalJSON() ([]byte, error) { return json.Marshal([2]float64{p.X, p.Y}) }

// UnmarshalJSON reads a point as [x, y].
func (p *Point) UnmarshalJSON(b []byte) error {
	var a []float64
	if err := json.Unmarshal(b, &a); err != nil {
		return fmt.Errorf("a point is [x, y]")
	}
	if len(a) != 2 {
		return fmt.Errorf("a point is [x, y], not %d numbers", len(a))
	}
	p.X, p.Y = a[0], a[1]
	return nil
}

// Zone is a static privacy zone: a polygon masked for the whole clip.
type Zone struct {
	Name   string  `json:"name"`
	Points []Point `json:"points"`
}

// NewZone makes a zone from [x, y] pairs, as the registry keeps a
// camera's privacy zones (registry.PrivacyZone); Validate checks it.
func NewZone(name string, points [][]float64) Zone {
	z := Zone{Name: name}
	for _, p := range points {
		var q Point
		if len(p) == 2 {
			q = Point{p[0], p[1]}
		} else {
			q = Point{math.NaN(), math.NaN()} // refused by Validate
		}
		z.Points = append(z.Points, q)
	}
	return z
}

// Rect is a rectangle relative to the picture.
type Rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Keyframe places a region's rectangle at time T (seconds from the clip's
// first frame). A keyframe may lie outside its region's From–To: it still
// steers the path within it.
type Keyframe struct {
	T float64 `json:"t"`
	Rect
}

// Region is a rectangle masked from From to To (seconds from the clip's
// first frame, both inclusive). Without keyframes it stays at Rect; with
// keyframes it moves linearly from one to the next, holding the first
// before it and the last after it. A region whose size changes between
// keyframes is drawn at the largest width and height of its keyframes,
// centred on the interpolated centre: it may hide more than drawn, never
// less.
type Region struct {
	Name      string     `json:"name"`
	From      float64    `json:"from"`
	To        float64    `json:"to"`
	Rect                 // used when Keyframes is empty
	Keyframes []Keyframe `json:"keyframes,omitempty"`
}

// Watermark is text burned into every frame of the copy: who it is for,
// when it was made and the request's receipt number, so that a leaked copy
// names its origin.
type Watermark struct {
	Recipient string `json:"recipient"`
	Date      string `json:"date"`
	Receipt   string `json:"receipt,omitempty"`
}

// Text is the watermark's line.
func (w *Watermark) Text() string {
	parts := []string{w.Recipient, w.Date}
	if w.Receipt != "" {
		parts = append(parts, w.Receipt)
	}
	return strings.Join(parts, " · ")
}

// Spec is everything to mask in one clip.
type Spec struct {
	Style     Style      `json:"style"`
	Zones     []Zone     `json:"zones,omitempty"`
	Regions   []Region   `json:"regions,omitempty"`
	Watermark *Watermark `json:"watermark,omitempty"`
}

// Empty reports whether the spec hides nothing and marks nothing.
func (s *Spec) Empty() bool { return len(s.Zones) == 0 && len(s.Regions) == 0 && s.Watermark == nil }

// Parse reads and validates a spec from JSON. Unknown fields are refused,
// so that a misspelt "keyframes" does not silently leave a person visible.
func Parse(b []byte) (*Spec, error) {
	const op = "mask.Parse"
	if len(b) > maxSpecBytes {
		return nil, errs.E(op, errs.TooLarge, errs.Code("mask.size"), errs.Params{"max": strconv.Itoa(maxSpecBytes >> 20)},
			"the masking spec is too large")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	var s Spec
	if err := d.Decode(&s); err != nil {
		return nil, errs.E(op, errs.Invalid, errs.Code("mask.json"), errs.Params{"err": jsonWhere(b, err)}, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, errs.E(op, errs.Invalid, errs.Code("mask.json"), errs.Params{"err": "trailing data after the spec"},
			"trailing data after the spec")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseFile reads a spec from a JSON file.
func ParseFile(path string) (*Spec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E("mask.ParseFile", errs.IO, err)
	}
	return Parse(b)
}

// jsonWhere names the line and column of a JSON syntax or type error.
func jsonWhere(b []byte, err error) string {
	var off int64 = -1
	switch e := err.(type) {
	case *json.SyntaxError:
		off = e.Offset
	case *json.UnmarshalTypeError:
		off = e.Offset
	}
	if off < 0 || off > int64(len(b)) {
		return err.Error()
	}
	line := 1 + bytes.Count(b[:off], []byte("\n"))
	col := off - int64(bytes.LastIndexByte(b[:off], '\n'))
	return fmt.Sprintf("line %d, column %d: %v", line, col, err)
}

// Validate checks the spec; the error names the zone or region and the
// field (codes mask.style, mask.zone, mask.region, mask.watermark).
func (s *Spec) Validate() error {
	const op = "mask.Validate"
	switch s.Style {
	case Blur, Pixelate, Fill:
	case "":
		s.Style = Blur
	default:
		return errs.E(op, errs.Invalid, errs.Code("mask.style"), errs.Params{"style": clip(string(s.Style))},
			fmt.Sprintf("style %q is not blur, pixelate or fill", s.Style))
	}
	if len(s.Zones) > MaxZones {
		return tooMany(op, "zones", MaxZones)
	}
	if len(s.Regions) > MaxRegions {
		return tooMany(op, "regions", MaxRegions)
	}
	for i := range s.Zones {
		if err := s.Zones[i].validate(i); err != nil {
			return errs.E(op, err)
		}
	}
	for i := range s.Regions {
		if err := s.Regions[i].validate(i); err != nil {
			return errs.E(op, err)
		}
	}
	if w := s.Watermark; w != nil {
		if strings.TrimSpace(w.Recipient) == "" {
			return errs.E(op, errs.Invalid, errs.Code("mask.watermark"), errs.Params{"field": "recipient"}, "the watermark needs a recipient")
		}
		for f, v := range map[string]string{"recipient": w.Recipient, "date": w.Date, "receipt": w.Receipt} {
			if len([]rune(v)) > MaxText || strings.ContainsFunc(v, isControl) {
				return errs.E(op, errs.Invalid, errs.Code("mask.watermark"), errs.Params{"field": f},
					fmt.Sprintf("watermark %s is longer than %d characters or has control characters", f, MaxText))
			}
		}
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func tooMany(op, what string, max int) error {
	return errs.E(op, errs.TooLarge, errs.Code("mask.count"), errs.Params{"what": what, "max": strconv.Itoa(max)},
		fmt.Sprintf("more than %d %s", max, what))
}

// clip shortens a user's value quoted in an error.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// label names the i-th zone or region in an error: its name, or its
// position counted from 1.
func label(name string, i int) string {
	if name = strings.TrimSpace(name); name != "" {
		return clip(name)
	}
	return "#" + strconv.Itoa(i+1)
}

func badField(code, what, field, msg string) error {
	return errs.E("mask.Validate", errs.Invalid, errs.Code(code), errs.Params{"name": what, "field": field}, msg)
}

func finite(v ...float64) bool {
	for _, f := range v {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return false
		}
	}
	return true
}

func (z *Zone) validate(i int) error {
	name := label(z.Name, i)
	if len([]rune(z.Name)) > maxName || strings.ContainsFunc(z.Name, isControl) {
		return badField("mask.zone", name, "name", "zone name too long or with control characters")
	}
	if len(z.Points) < 3 || len(z.Points) > MaxPoints {
		return badField("mask.zone", name, "points", fmt.Sprintf("zone %s needs 3 to %d points", name, MaxPoints))
	}
	for j, p := range z.Points {
		if !finite(p.X, p.Y) || p.X < 0 || p.X > 1 || p.Y < 0 || p.Y > 1 {
			return badField("mask.zone", name, fmt.Sprintf("points[%d]", j), fmt.Sprintf("zone %s point %d is outside the picture", name, j+1))
		}
	}
	if area(z.Points) < minSize*minSize {
		return badField("mask.zone", name, "points", fmt.Sprintf("zone %s encloses no area", name))
	}
	return nil
}

// area is the polygon's area (shoelace), relative to the picture's.
func area(p []Point) float64 {
	var a float64
	for i := range p {
		j := (i + 1) % len(p)
		a += p[i].X*p[j].Y - p[j].X*p[i].Y
	}
	return math.Abs(a) / 2
}

func (r Rect) check(name, field string) error {
	if !finite(r.X, r.Y, r.W, r.H) || r.X < 0 || r.Y < 0 || r.X > 1 || r.Y > 1 {
		return badField("mask.region", name, field, fmt.Sprintf("region %s: %s is outside the picture", name, field))
	}
	if r.W < minSize || r.H < minSize || r.X+r.W > 1+1e-9 || r.Y+r.H > 1+1e-9 {
		return badField("mask.region", name, field, fmt.Sprintf("region %s: %s has no size or leaves the picture", name, field))
	}
	return nil
}

func (r *Region) validate(i int) error {
	name := label(r.Name, i)
	if len([]rune(r.Name)) > maxName || strings.ContainsFunc(r.Name, isControl) {
		return badField("mask.region", name, "name", "region name too long or with control characters")
	}
	if !finite(r.From, r.To) || r.From < 0 {
		return badField("mask.region", name, "from", fmt.Sprintf("region %s: from must be a time ≥ 0", name))
	}
	if !(r.To > r.From) {
		return badField("mask.region", name, "to", fmt.Sprintf("region %s: to must be after from", name))
	}
	if len(r.Keyframes) == 0 {
		return r.Rect.check(name, "rect")
	}
	if r.Rect != (Rect{}) {
		return badField("mask.region", name, "keyframes", fmt.Sprintf("region %s has both a rectangle and keyframes", name))
	}
	if len(r.Keyframes) > MaxKeyframes {
		return badField("mask.region", name, "keyframes", fmt.Sprintf("region %s has more than %d keyframes", name, MaxKeyframes))
	}
	for j, k := range r.Keyframes {
		f := fmt.Sprintf("keyframes[%d]", j)
		if !finite(k.T) {
			return badField("mask.region", name, f, fmt.Sprintf("region %s: keyframe %d has no time", name, j+1))
		}
		if j > 0 && k.T <= r.Keyframes[j-1].T {
			return badField("mask.region", name, f, fmt.Sprintf("region %s: keyframe %d is not after the one before", name, j+1))
		}
		if err := k.Rect.check(name, f); err != nil {
			return err
		}
	}
	return nil
}

// Size is the rectangle size the region is drawn at: the largest width
// and height among its keyframes.
func (r *Region) Size() (w, h float64) {
	if len(r.Keyframes) == 0 {
		return r.W, r.H
	}
	for _, k := range r.Keyframes {
		w, h = max(w, k.W), max(h, k.H)
	}
	return w, h
}

// At returns the rectangle drawn at time t (not clamped to From–To): of
// size Size, centred on the linear interpolation of the keyframes'
// centres, moved inside the picture.
func (r *Region) At(t float64) Rect {
	if len(r.Keyframes) == 0 {
		return r.Rect
	}
	w, h := r.Size()
	cx, cy := r.centre(t)
	return Rect{X: clamp(cx-w/2, 0, 1-w), Y: clamp(cy-h/2, 0, 1-h), W: w, H: h}
}

func (r *Region) centre(t float64) (float64, float64) {
	ks := r.Keyframes
	c := func(k Keyframe) (float64, float64) { return k.X + k.W/2, k.Y + k.H/2 }
	if t <= ks[0].T {
		return c(ks[0])
	}
	for i := 1; i < len(ks); i++ {
		if t <= ks[i].T {
			a, b := ks[i-1], ks[i]
			f := (t - a.T) / (b.T - a.T)
			ax, ay := c(a)
			bx, by := c(b)
			return ax + f*(bx-ax), ay + f*(by-ay)
		}
	}
	return c(ks[len(ks)-1])
}

func clamp(v, lo, hi float64) float64 { return max(lo, min(v, hi)) }
