package mask

import (
	"bufio"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strconv"
	"sync"

	pigo "github.com/esimov/pigo/core"

	"github.com/gwanje/gwanje/internal/errs"
)

// facefinder is pigo's face cascade (cascade/README.md says why it is a
// copy).
//
//go:embed cascade/facefinder
var facefinder []byte

var (
	cascadeOnce sync.Once
	cascade     *pigo.Pigo
	cascadeErr  error
)

func faceCascade() (*pigo.Pigo, error) {
	cascadeOnce.Do(func() {
		cascade, cascadeErr = pigo.NewPigo().Unpack(facefinder)
	})
	return cascade, cascadeErr
}

// Proposal is a face pigo found: a rectangle at time T (seconds from the
// clip's first frame) with pigo's score. It is a reviewer's starting
// point, never the only check: pigo misses faces in profile, small, dark
// or partly hidden, and a person is recognisable by more than a face.
type Proposal struct {
	T     float64 `json:"t"`
	Rect  Rect    `json:"rect"`
	Score float32 `json:"score"`
}

// FaceOptions tune Faces. Zero values take the defaults.
type FaceOptions struct {
	Rate     float64 // frames examined per second; default 2
	MaxWidth int     // frames are scaled down to this width; default 640
	MinScore float32 // pigo's quality threshold; default 5
	MinSize  int     // smallest face side in pixels of the scaled frame; default 20
}

// Faces decodes the clip at path to grey frames at a low rate with ffmpeg
// and returns the faces pigo finds in them, in time order. ctx ends the
// decoding.
func (r *Renderer) Faces(ctx context.Context, path string, opt FaceOptions) ([]Proposal, error) {
	const op = "mask.Faces"
	if opt.Rate <= 0 {
		opt.Rate = 2
	}
	if opt.MaxWidth <= 0 {
		opt.MaxWidth = 640
	}
	if opt.MinScore <= 0 {
		opt.MinScore = 5
	}
	if opt.MinSize <= 0 {
		opt.MinSize = 20
	}
	cl, err := faceCascade()
	if err != nil {
		return nil, errs.E(op, errs.Internal, fmt.Errorf("pigo cascade: %w", err))
	}
	ff, err := r.ffmpeg()
	if err != nil {
		return nil, errs.E(op, err)
	}
	W, H, _, err := r.Probe(ctx, path)
	if err != nil {
		return nil, errs.E(op, err)
	}
	w, h := W, H
	if w > opt.MaxWidth {
		w, h = opt.MaxWidth, max(2, even(H*opt.MaxWidth/W))
	}
	cmd := exec.CommandContext(ctx, ff, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", path,
		"-vf", fmt.Sprintf("setpts=PTS-STARTPTS,fps=%s,scale=%d:%d", strconv.FormatFloat(opt.Rate, 'f', -1, 64), w, h),
		"-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	var stderr limited
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, errs.E(op, errs.Unavailable, errs.Code("mask.ffmpeg"), errs.Params{"path": ff}, err)
	}
	var props []Proposal
	frame := make([]byte, w*h)
	rd := bufio.NewReaderSize(out, 1<<20)
	for i := 0; ; i++ {
		if _, err := io.ReadFull(rd, frame); err != nil {
			break
		}
		dets := cl.RunCascade(pigo.CascadeParams{MinSize: opt.MinSize, MaxSize: min(w, h), ShiftFactor: 0.1, ScaleFactor: 1.1,
			ImageParams: pigo.ImageParams{Pixels: frame, Rows: h, Cols: w, Dim: w}}, 0)
		dets = cl.ClusterDetections(dets, 0.2)
		// Best first; a detection centred inside a better one is the
		// same face seen at another scale.
		sort.Slice(dets, func(a, b int) bool { return dets[a].Q > dets[b].Q })
		var kept []pigo.Detection
	next:
		for _, d := range dets {
			if d.Q < opt.MinScore {
				continue
			}
			for _, k := range kept {
				if abs(d.Col-k.Col) <= k.Scale/2 && abs(d.Row-k.Row) <= k.Scale/2 {
					continue next
				}
			}
			kept = append(kept, d)
			// pigo gives the centre (row, col) and the side (scale).
			s := float64(d.Scale)
			x0, y0 := max(0, float64(d.Col)-s/2), max(0, float64(d.Row)-s/2)
			x1, y1 := min(float64(w), float64(d.Col)+s/2), min(float64(h), float64(d.Row)+s/2)
			props = append(props, Proposal{T: float64(i) / opt.Rate, Score: d.Q,
				Rect: Rect{X: x0 / float64(w), Y: y0 / float64(h), W: (x1 - x0) / float64(w), H: (y1 - y0) / float64(h)}})
		}
	}
	io.Copy(io.Discard, rd)
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return nil, errs.E(op, errs.Canceled, context.Cause(ctx))
	}
	if werr != nil {
		return nil, errs.E(op, errs.Invalid, fmt.Errorf("ffmpeg: %v: %s", werr, tail(stderr.Bytes())))
	}
	sort.SliceStable(props, func(i, j int) bool { return props[i].T < props[j].T })
	return props, nil
}

// Region turns a proposal into a region lasting one sampling interval
// (1/rate seconds) around its time, grown by a fifth on every side (pigo's
// square is tight on the face; hair and ears identify too), for the
// reviewer to extend, move or delete.
func (p Proposal) Region(name string, rate float64) Region {
	if rate <= 0 {
		rate = 2
	}
	r := p.Rect
	gx, gy := r.W/5, r.H/5
	x0, y0 := clamp(r.X-gx, 0, 1), clamp(r.Y-gy, 0, 1)
	x1, y1 := clamp(r.X+r.W+gx, 0, 1), clamp(r.Y+r.H+gy, 0, 1)
	half := 0.5 / rate
	return Region{Name: name, From: max(0, p.T-half), To: p.T + half, Rect: Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
