package mask

import (
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
)

// graph is an ffmpeg filter graph and the extra inputs (mask images) it
// reads, after the clip as input 0.
type graph struct {
	filter string
	inputs []string
}

// box is a rectangle in pixels.
type box struct{ x, y, w, h int }

// trimMargin is how long after its end, in seconds, a region's branch
// of the graph still runs.
const trimMargin = 1.0

// minBox is the smallest side of a masked area in pixels, so that the blur
// and pixelation have room to work.
const minBox = 8

func even(v int) int { return v &^ 1 }

// pixelSize turns a relative size into an even pixel size, at least minBox
// (or the picture) and at most the picture.
func pixelSize(rel float64, full int) int {
	v := int(math.Ceil(rel * float64(full)))
	v += v & 1
	return max(min(v, even(full)), min(minBox, even(full)))
}

// zoneBox is the even-aligned pixel bounding box of a polygon.
func zoneBox(pts []Point, W, H int) box {
	x0, y0, x1, y1 := 1.0, 1.0, 0.0, 0.0
	for _, p := range pts {
		x0, y0, x1, y1 = min(x0, p.X), min(y0, p.Y), max(x1, p.X), max(y1, p.Y)
	}
	bx0 := even(max(0, int(math.Floor(x0*float64(W)))-1))
	by0 := even(max(0, int(math.Floor(y0*float64(H)))-1))
	bx1 := min(even(W), int(math.Ceil(x1*float64(W)))+2)
	by1 := min(even(H), int(math.Ceil(y1*float64(H)))+2)
	b := box{x: bx0, y: by0, w: even(bx1 - bx0), h: even(by1 - by0)}
	b.w, b.h = max(b.w, min(minBox, even(W)-b.x)), max(b.h, min(minBox, even(H)-b.y))
	return b
}

// zoneMask draws the polygon into a grey image of b's size (255 inside),
// grown by one pixel so that no edge pixel of a zone shows.
func zoneMask(pts []Point, W, H int, b box) *image.Gray {
	m := image.NewGray(image.Rect(0, 0, b.w, b.h))
	var xs []float64
	for py := 0; py < b.h; py++ {
		cy := float64(b.y+py) + 0.5
		xs = xs[:0]
		for i := range pts {
			a, c := pts[i], pts[(i+1)%len(pts)]
			ay, cyy := a.Y*float64(H), c.Y*float64(H)
			if (ay <= cy) == (cyy <= cy) {
				continue
			}
			ax, cx := a.X*float64(W), c.X*float64(W)
			xs = append(xs, ax+(cy-ay)/(cyy-ay)*(cx-ax))
		}
		sort.Float64s(xs)
		for i := 0; i+1 < len(xs); i += 2 {
			from := max(0, int(math.Floor(xs[i]-0.5))-b.x)
			to := min(b.w-1, int(math.Ceil(xs[i+1]-0.5))-b.x)
			for px := from; px <= to; px++ {
				m.Pix[py*m.Stride+px] = 255
			}
		}
	}
	// grow by one pixel (8-neighbourhood)
	g := image.NewGray(m.Rect)
	for y := 0; y < b.h; y++ {
		for x := 0; x < b.w; x++ {
			on := false
			for dy := -1; dy <= 1 && !on; dy++ {
				for dx := -1; dx <= 1; dx++ {
					xx, yy := x+dx, y+dy
					if xx >= 0 && yy >= 0 && xx < b.w && yy < b.h && m.Pix[yy*m.Stride+xx] != 0 {
						on = true
						break
					}
				}
			}
			if on {
				g.Pix[y*g.Stride+x] = 255
			}
		}
	}
	return g
}

// num formats a number for an ffmpeg expression.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// track is the expression of a moving region's top-left coordinate in
// pixels at time t (a region of size pixels, in a box of box pixels kept
// inside the picture): the first keyframe's value plus, per pair of
// keyframes, its change times the clamped fraction of the way between
// them — piecewise linear, held before the first and after the last, and
// flat (no nesting) however many keyframes there are.
func track(r *Region, full, size, box int, coord func(Keyframe) float64) string {
	ks := r.Keyframes
	pos := func(k Keyframe) float64 { return coord(k)*float64(full) - float64(size)/2 }
	var b strings.Builder
	b.WriteString(num(pos(ks[0])))
	for i := 1; i < len(ks); i++ {
		d := pos(ks[i]) - pos(ks[i-1])
		if d == 0 {
			continue
		}
		fmt.Fprintf(&b, "+(%s)*clip((t-%s)/%s,0,1)", num(d), num(ks[i-1].T), num(ks[i].T-ks[i-1].T))
	}
	return fmt.Sprintf("clip(%s,0,%d)", b.String(), full-box)
}

// style is the filter chain hiding a w×h picture.
func style(s Style, w, h int) string {
	switch s {
	case Pixelate:
		blk := max(4, min(w, h)/8)
		return fmt.Sprintf("scale=%d:%d:flags=area,scale=%d:%d:flags=neighbor", max(1, w/blk), max(1, h/blk), w, h)
	case Fill:
		return "drawbox=x=0:y=0:w=iw:h=ih:color=black:t=fill"
	}
	// A sixteenth of the size, averaged, then smoothly back up: a blur as
	// strong as a box blur of an eighth of the size, at a fraction of its
	// cost (docs/benchmarks.md).
	return fmt.Sprintf("scale=%d:%d:flags=area,scale=%d:%d:flags=bicubic", max(1, w/16), max(1, h/16), w, h)
}

// quote protects a value in a filter graph. Paths are gwanje's own
// temporary files; one with a quote is refused rather than escaped.
func quote(s string) (string, error) {
	if strings.ContainsAny(s, "'\\\n") {
		return "", errs.Errorf("mask.graph", errs.Internal, "path %q cannot be quoted in a filter graph", s)
	}
	return "'" + s + "'", nil
}

// mb is the side of the encoder's macroblock, the unit of its regions of
// interest.
const mb = 16

// roiOffset is the quantiser offset (-1 best to +1 worst) the encoder is
// told for masked areas: what is there is a blur, a pixelation or a fill,
// with nothing to keep.
const roiOffset = 0.8

// roiBoxes adds to out the macroblocks that lie wholly inside the masked
// pixels of m (a mask image placed at b's corner), one box per run of
// them along a row of macroblocks.
func roiBoxes(out []box, m *image.Gray, b box, W, H int) []box {
	inside := func(x0, y0 int) bool {
		for y := y0; y < y0+mb; y++ {
			for x := x0; x < x0+mb; x++ {
				mx, my := x-b.x, y-b.y
				if mx < 0 || my < 0 || mx >= b.w || my >= b.h || m.Pix[my*m.Stride+mx] == 0 {
					return false
				}
			}
		}
		return true
	}
	for y := b.y / mb * mb; y+mb <= min(b.y+b.h, H); y += mb {
		run := -1
		for x := b.x / mb * mb; ; x += mb {
			in := x+mb <= min(b.x+b.w, W) && inside(x, y)
			if in && run < 0 {
				run = x
			}
			if !in && run >= 0 {
				out = append(out, box{x: run, y: y, w: x - run, h: mb})
				run = -1
			}
			if !in && x+mb > b.x+b.w {
				break
			}
		}
	}
	return out
}

// graph builds the filter graph for spec on a W×H picture, writing the
// zones' mask images and the watermark's text into dir. Every masked area
// is cut from a copy of the frame (split shares the picture, it does not
// copy it), hidden, and laid back over the frame at its place: regions
// only between their from and to, moving regions at a position computed
// per frame. dur > 0 is the length in seconds of an export's clip: the
// encoder is then told the areas masked in every frame (zones, and fixed
// regions lasting the whole clip) as regions of interest of lower quality
// (addroi), whole macroblocks inside them only.
func (r *Renderer) graph(spec *Spec, W, H int, dir string, dur float64) (*graph, error) {
	const op = "mask.graph"
	if W < 2 || H < 2 {
		return nil, errs.Errorf(op, errs.Invalid, "picture size %dx%d", W, H)
	}
	g := &graph{}
	var f strings.Builder
	n := len(spec.Zones) + len(spec.Regions)
	f.WriteString("[0:v]setpts=PTS-STARTPTS")
	if n > 0 {
		fmt.Fprintf(&f, ",split=%d[base]", n+1)
		for i := 0; i < n; i++ {
			fmt.Fprintf(&f, "[s%d]", i)
		}
	} else {
		f.WriteString("[base]")
	}
	f.WriteString(";\n")
	prev, k := "base", 0
	var rois []box
	for zi := range spec.Zones {
		z := &spec.Zones[zi]
		b := zoneBox(z.Points, W, H)
		path := filepath.Join(dir, fmt.Sprintf("zone%d.png", zi))
		zm := zoneMask(z.Points, W, H, b)
		if err := writePNG(path, zm); err != nil {
			return nil, errs.E(op, err)
		}
		if dur > 0 {
			rois = roiBoxes(rois, zm, b, W, H)
		}
		g.inputs = append(g.inputs, path)
		in := len(g.inputs) // input index of the mask
		fmt.Fprintf(&f, "[%d:v]format=gray[a%d];\n", in, k)
		fmt.Fprintf(&f, "[s%d]crop=%d:%d:%d:%d,%s,format=yuva420p[c%d];\n", k, b.w, b.h, b.x, b.y, style(spec.Style, b.w, b.h), k)
		fmt.Fprintf(&f, "[c%d][a%d]alphamerge[m%d];\n", k, k, k)
		fmt.Fprintf(&f, "[%s][m%d]overlay=x=%d:y=%d[o%d];\n", prev, k, b.x, b.y, k)
		prev = fmt.Sprintf("o%d", k)
		k++
	}
	for ri := range spec.Regions {
		rg := &spec.Regions[ri]
		rw, rh := rg.Size()
		w, h := pixelSize(rw, W), pixelSize(rh, H)
		// crop and overlay place a 4:2:0 picture at even coordinates,
		// moving an odd corner to the pixel before it: a box so moved
		// grows by two, so that it still covers the region's last column
		// and row (TestRegionEdgesMasked).
		var x, y string
		if len(rg.Keyframes) == 0 {
			px, py := min(int(math.Floor(rg.X*float64(W))), W-w), min(int(math.Floor(rg.Y*float64(H))), H-h)
			if dur > 0 && rg.From <= 0 && rg.To >= dur {
				// The whole macroblocks inside the region.
				x0, y0 := (px+mb-1)/mb*mb, (py+mb-1)/mb*mb
				x1, y1 := (px+w)/mb*mb, (py+h)/mb*mb
				if x1 > x0 && y1 > y0 {
					rois = append(rois, box{x: x0, y: y0, w: x1 - x0, h: y1 - y0})
				}
			}
			if px%2 == 1 {
				px, w = px-1, w+2
			}
			if py%2 == 1 {
				py, h = py-1, h+2
			}
			x, y = strconv.Itoa(px), strconv.Itoa(py)
		} else {
			// A moving box stands at a fractional position, which crop and
			// overlay truncate and then round down to even: up to two
			// pixels left or up of the region. The box is placed where the
			// region is and made two pixels wider and taller.
			x = "'" + track(rg, W, w, min(w+2, even(W)), func(k Keyframe) float64 { return k.X + k.W/2 }) + "'"
			y = "'" + track(rg, H, h, min(h+2, even(H)), func(k Keyframe) float64 { return k.Y + k.H/2 }) + "'"
			w, h = min(w+2, even(W)), min(h+2, even(H))
		}
		eval := ""
		if len(rg.Keyframes) > 1 {
			eval = ":eval=frame"
		}
		// The branch ends (trim) a margin after the region's end, so that
		// no later frame is cropped and hidden for it, and its overlay
		// then passes the frame through (eof_action=pass) instead of
		// copying it to draw nothing. The margin keeps the range's last
		// frame inside the branch whatever the rounding of timestamps;
		// enable decides what is masked.
		fmt.Fprintf(&f, "[s%d]trim=end=%s,crop=w=%d:h=%d:x=%s:y=%s,%s[m%d];\n", k, num(rg.To+trimMargin), w, h, x, y, style(spec.Style, w, h), k)
		fmt.Fprintf(&f, "[%s][m%d]overlay=x=%s:y=%s%s:eof_action=pass:enable='between(t,%s,%s)'[o%d];\n", prev, k, x, y, eval, num(rg.From), num(rg.To), k)
		prev = fmt.Sprintf("o%d", k)
		k++
	}
	if w := spec.Watermark; w != nil {
		font := r.Font
		if font == "" {
			font = DefaultFont
		}
		if _, err := os.Stat(font); err != nil {
			return nil, errs.E(op, errs.Unavailable, errs.Code("mask.font"), errs.Params{"path": font},
				fmt.Errorf("the watermark font is missing: install the Debian package fonts-nanum: %w", err))
		}
		text := filepath.Join(dir, "watermark.txt")
		if err := os.WriteFile(text, []byte(w.Text()), 0o600); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		qf, err := quote(font)
		if err != nil {
			return nil, err
		}
		qt, err := quote(text)
		if err != nil {
			return nil, err
		}
		size := max(14, H/28)
		// The watermark's band keeps its full quality: no region of
		// interest reaches into the lowest 4×size pixels.
		band := (H - 4*size) / mb * mb
		kept := rois[:0]
		for _, b := range rois {
			if b.y+b.h > band {
				b.h = band - b.y
			}
			if b.h > 0 {
				kept = append(kept, b)
			}
		}
		rois = kept
		fmt.Fprintf(&f, "[%s]drawtext=fontfile=%s:textfile=%s:expansion=none:fontsize=%d:fontcolor=white@0.85:box=1:boxcolor=black@0.45:boxborderw=%d:x=w-tw-%d:y=h-th-%d[wm];\n",
			prev, qf, qt, size, size/3, size, size)
		prev = "wm"
	}
	fmt.Fprintf(&f, "[%s]", prev)
	for _, b := range rois {
		fmt.Fprintf(&f, "addroi=x=%d:y=%d:w=%d:h=%d:qoffset=%s,", b.x, b.y, b.w, b.h, num(roiOffset))
	}
	f.WriteString("format=yuv420p[out]\n")
	g.filter = f.String()
	return g, nil
}

func writePNG(path string, m image.Image) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return errs.E("mask.writePNG", errs.IO, err)
	}
	if err := png.Encode(fh, m); err != nil {
		fh.Close()
		return errs.E("mask.writePNG", errs.IO, err)
	}
	return fh.Close()
}
