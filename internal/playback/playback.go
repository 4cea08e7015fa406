// Package playback turns the stored segments of one camera into a playback
// MP4 for a time range: it lists the segments, starts at the key frame at or
// before the requested start, holds the last frame over recording gaps so
// the file's timeline is wall-clock time, and hands media.File a fetch
// function that decrypts only the chunks a read touches.
//
// It never writes a ledger entry itself: the caller (web) must have
// recorded the viewing before it calls Build, because Build already reads
// footage (parameter sets) from the store.
package playback

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// SegmentData is an opened segment (*store.SegmentReader).
type SegmentData interface {
	Params() *media.Params
	Frames() []store.FrameInfo
	// ReadFrame returns frame i's stored bytes. The slice may be reused by
	// the next call.
	ReadFrame(i int) ([]byte, error)
	Close() error
}

// Source is what playback needs from the segment store.
type Source interface {
	// Segments lists the camera's segments overlapping [start, end),
	// ordered by start, including a segment still being recorded.
	Segments(ctx context.Context, camera string, start, end int64) ([]store.Segment, error)
	Open(ctx context.Context, id int64) (SegmentData, error)
}

// StoreSource is a Source reading a *store.Store.
type StoreSource struct{ Store *store.Store }

func (s StoreSource) Segments(ctx context.Context, camera string, start, end int64) ([]store.Segment, error) {
	return s.Store.Segments(ctx, camera, start, end)
}

func (s StoreSource) Open(ctx context.Context, id int64) (SegmentData, error) {
	r, err := s.Store.OpenSegment(ctx, id)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Gap is a span without footage inside a clip.
type Gap struct{ Start, End int64 }

// Clip is one playback MP4 of a camera.
type Clip struct {
	Camera string
	// Start and End are the wall-clock span the file covers: Start is the
	// key frame at or before the requested start.
	Start, End int64
	Gaps       []Gap
	Segments   []int64 // ids of the segments the clip reads
	Frames     int
	File       *media.File

	mu   sync.Mutex
	open []SegmentData
}

// Close releases the opened segments.
func (c *Clip) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, s := range c.open {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.open = nil
	return first
}

// Build assembles the clip of camera for [start, end) (90 kHz wall clock).
// It fails with errs.NotExist when no footage overlaps the range.
func Build(ctx context.Context, src Source, camera string, start, end int64) (*Clip, error) {
	const op = "playback.Build"
	if end <= start {
		return nil, errs.Errorf(op, errs.Invalid, "end must be after start")
	}
	segs, err := src.Segments(ctx, camera, start, end)
	if err != nil {
		return nil, errs.E(op, err)
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Start < segs[j].Start })
	c := &Clip{Camera: camera}
	type ref struct{ seg, frame int }
	var (
		samples []media.Sample
		refs    []ref
		params  *media.Params
		lastEnd int64 // wall clock end of the last frame taken
	)
	for _, sg := range segs {
		data, err := src.Open(ctx, sg.ID)
		if err != nil {
			c.Close()
			return nil, errs.E(op, fmt.Errorf("segment %d: %w", sg.ID, err))
		}
		frames := data.Frames()
		p := data.Params()
		first := 0
		if len(samples) == 0 {
			// Begin at the last key frame at or before start.
			first = -1
			for i, f := range frames {
				if f.Wall > start && first >= 0 {
					break
				}
				if f.Key {
					first = i
				}
			}
			if first < 0 {
				data.Close()
				continue
			}
		}
		taken := 0
		for i := first; i < len(frames); i++ {
			f := frames[i]
			if f.Wall >= end {
				break
			}
			if len(samples) == 0 {
				params = p
				c.Start = f.Wall
			} else if gap := f.Wall - lastEnd; gap > 0 {
				// Hold the previous frame over the gap.
				samples[len(samples)-1].Duration += uint32(min(gap, media.MaxDuration))
				c.Gaps = append(c.Gaps, Gap{lastEnd, f.Wall})
			}
			var sp *media.Params
			if f.Key && p != params {
				sp = p
			}
			samples = append(samples, media.Sample{
				Duration:  uint32(f.Duration),
				PTSOffset: f.PTSOffset,
				Key:       f.Key,
				Size:      f.Size,
				Params:    sp,
			})
			refs = append(refs, ref{len(c.open), i})
			lastEnd = f.Wall + f.Duration
			taken++
		}
		if taken == 0 {
			data.Close()
			continue
		}
		c.open = append(c.open, data)
		c.Segments = append(c.Segments, sg.ID)
	}
	if len(samples) == 0 {
		return nil, errs.Errorf(op, errs.NotExist, "no footage of camera %q in the range", camera)
	}
	c.End = lastEnd
	c.Frames = len(samples)
	// Each opened segment caches one decrypted chunk; reads of one clip are
	// serialised per segment.
	locks := make([]sync.Mutex, len(c.open))
	fetch := func(i int) ([]byte, error) {
		r := refs[i]
		locks[r.seg].Lock()
		defer locks[r.seg].Unlock()
		b, err := c.open[r.seg].ReadFrame(r.frame)
		if err != nil {
			return nil, err
		}
		return append([]byte(nil), b...), nil
	}
	f, err := media.NewFile(params, samples, fetch)
	if err != nil {
		c.Close()
		return nil, errs.E(op, err)
	}
	c.File = f
	return c, nil
}
