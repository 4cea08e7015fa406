// Package playback turns the stored segments of one camera into a playback
// MP4 for a time range: it lists the segments, starts at the key frame at or
// before the requested start, holds the last frame over recording gaps so
// the file's timeline is wall-clock time, and hands media.File a fetch
// function that decrypts only the chunks a read touches.
//
// It never writes a ledger entry itself: the caller must hold the gate's
// handle (access.Gate: the viewing is recorded) before it calls Build,
// because Build already reads footage (parameter sets) from the store, and
// reads under the handle's context so a revoked access stops reading.
// Segment files are open only while a response reads them.
package playback

import (
	"context"
	"fmt"
	"io"
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

// Coverage summarises camera's segments over [start, end) with the gaps
// of at least minGap between them (store.Store.Coverage).
func (s StoreSource) Coverage(ctx context.Context, camera string, start, end, minGap int64) (store.Coverage, error) {
	return s.Store.Coverage(ctx, camera, start, end, minGap)
}

// openers is how many segments StoreSource.OpenMany opens at once.
const openers = 4

// OpenMany opens the segments ids, up to four at a time: each is an index
// row, a key to unwrap, sealed parameters and a frame index to decode and
// a file header to read, independent of the others, and one at a time
// they were most of the time a seek's new view took to build. On error it
// closes what it opened and returns the first failure in ids' order.
func (s StoreSource) OpenMany(ctx context.Context, ids []int64) ([]SegmentData, error) {
	out := make([]SegmentData, len(ids))
	fail := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, openers)
	for i, id := range ids {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r, err := s.Store.OpenSegment(ctx, id)
			if err != nil {
				fail[i] = fmt.Errorf("segment %d: %w", id, err)
				return
			}
			out[i] = r
		}()
	}
	wg.Wait()
	for _, err := range fail {
		if err != nil {
			closeAll(out)
			return nil, err
		}
	}
	return out, nil
}

// manyOpener is a Source that opens several segments at once, safely from
// several goroutines (StoreSource). Build opens segments one at a time
// through any other Source.
type manyOpener interface {
	OpenMany(ctx context.Context, ids []int64) ([]SegmentData, error)
}

// openWindow is how many segments Build has open at once.
const openWindow = 16

// openSegments opens segs through src, all at once if it can.
func openSegments(ctx context.Context, src Source, segs []store.Segment) ([]SegmentData, error) {
	if m, ok := src.(manyOpener); ok {
		ids := make([]int64, len(segs))
		for i, sg := range segs {
			ids[i] = sg.ID
		}
		return m.OpenMany(ctx, ids)
	}
	out := make([]SegmentData, len(segs))
	for i, sg := range segs {
		d, err := src.Open(ctx, sg.ID)
		if err != nil {
			closeAll(out)
			return nil, fmt.Errorf("segment %d: %w", sg.ID, err)
		}
		out[i] = d
	}
	return out, nil
}

func closeAll(ds []SegmentData) {
	for _, d := range ds {
		if d != nil {
			d.Close()
		}
	}
}

// Gap is a span without footage inside a clip.
type Gap struct{ Start, End int64 }

// Clip is one playback MP4 of a camera. Its layout (which frames, from
// which segments) is fixed when it is built; segment files are opened only
// while a reader needs them: NewReader opens them as reads reach them, and
// the last reader to close closes them, so a view kept for an hour holds
// no file between requests.
type Clip struct {
	Camera string
	// Start and End are the wall-clock span the file covers: Start is the
	// key frame at or before the requested start.
	Start, End int64
	Gaps       []Gap
	Segments   []int64 // ids of the segments the clip reads
	Frames     int
	File       *media.File

	src   Source
	refs  []ref
	locks []sync.Mutex // one per segment: reads of one segment are serialised

	mu      sync.Mutex
	readers int
	open    map[int]SegmentData // segment index → opened while readers > 0
}

type ref struct{ seg, frame int }

// Close closes the segment files the clip has open. A reader still in use
// reopens what it needs.
func (c *Clip) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeLocked()
}

func (c *Clip) closeLocked() error {
	var first error
	for i, s := range c.open {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
		delete(c.open, i)
	}
	return first
}

// OpenFiles is the number of segments the clip has open now.
func (c *Clip) OpenFiles() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.open)
}

// segment returns segment i of the clip, opening it if needed.
func (c *Clip) segment(i int) (SegmentData, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d, ok := c.open[i]; ok {
		return d, nil
	}
	d, err := c.src.Open(context.Background(), c.Segments[i])
	if err != nil {
		return nil, err
	}
	c.open[i] = d
	return d, nil
}

// fetch reads sample i's bytes.
func (c *Clip) fetch(i int) ([]byte, error) {
	r := c.refs[i]
	c.locks[r.seg].Lock()
	defer c.locks[r.seg].Unlock()
	d, err := c.segment(r.seg)
	if err != nil {
		return nil, err
	}
	b, err := d.ReadFrame(r.frame)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// Reader reads the clip's MP4 for one response. Reads fail once its
// context ends (the access was revoked). Close it when the response ends.
type Reader struct {
	*io.SectionReader
	ctx  context.Context
	c    *Clip
	once sync.Once
}

// NewReader returns a reader over the whole file, for http.ServeContent.
func (c *Clip) NewReader(ctx context.Context) *Reader {
	c.mu.Lock()
	c.readers++
	c.mu.Unlock()
	return &Reader{SectionReader: c.File.NewReader(), ctx: ctx, c: c}
}

// Read reads from the file unless the reader's context ended.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, errs.E("playback.Read", errs.Canceled, context.Cause(r.ctx))
	}
	return r.SectionReader.Read(p)
}

// Close ends the reader; the last one closes the clip's segment files.
func (r *Reader) Close() error {
	var err error
	r.once.Do(func() {
		c := r.c
		c.mu.Lock()
		defer c.mu.Unlock()
		c.readers--
		if c.readers == 0 {
			err = c.closeLocked()
		}
	})
	return err
}

// Build lays out the clip of camera for [start, end) (90 kHz wall clock).
// It opens each segment to read its frame index and closes it again. It
// fails with errs.NotExist when no footage overlaps the range.
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
	c := &Clip{Camera: camera, src: src, open: map[int]SegmentData{}}
	var (
		samples []media.Sample
		params  *media.Params
		lastEnd int64 // wall clock end of the last frame taken
	)
	frames := 0 // an upper bound of the samples, to allocate once
	for _, sg := range segs {
		frames += sg.Frames
	}
	samples = make([]media.Sample, 0, frames)
	c.refs = make([]ref, 0, frames)
	// Segments are opened a window at a time (all of a ten-minute view's
	// eleven at once), read for their frame index and closed again.
	for w := 0; w < len(segs); w += openWindow {
		if err := ctx.Err(); err != nil {
			return nil, errs.E(op, errs.Canceled, err)
		}
		win := segs[w:min(w+openWindow, len(segs))]
		datas, err := openSegments(ctx, src, win)
		if err != nil {
			return nil, errs.E(op, err)
		}
		for k, data := range datas {
			c.take(data, win[k].ID, start, end, &samples, &params, &lastEnd)
			data.Close()
		}
	}
	if len(samples) == 0 {
		return nil, errs.E(op, errs.NotExist, errs.Code("footage.none"), fmt.Sprintf("no footage of camera %q in the range", camera))
	}
	c.End = lastEnd
	c.Frames = len(samples)
	c.locks = make([]sync.Mutex, len(c.Segments))
	f, err := media.NewFile(params, samples, c.fetch)
	if err != nil {
		return nil, errs.E(op, err)
	}
	c.File = f
	return c, nil
}

// take appends the frames of one opened segment that fall in [start, end)
// to samples, beginning at the last key frame at or before start when
// samples is still empty, holding the previous frame over a gap.
func (c *Clip) take(data SegmentData, id, start, end int64, samples *[]media.Sample, params **media.Params, lastEnd *int64) {
	frames := data.Frames()
	p := data.Params()
	first := 0
	if len(*samples) == 0 {
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
			return
		}
	}
	taken := 0
	for i := first; i < len(frames); i++ {
		f := frames[i]
		if f.Wall >= end {
			break
		}
		if len(*samples) == 0 {
			*params = p
			c.Start = f.Wall
		} else if gap := f.Wall - *lastEnd; gap > 0 {
			// Hold the previous frame over the gap.
			(*samples)[len(*samples)-1].Duration += uint32(min(gap, media.MaxDuration))
			c.Gaps = append(c.Gaps, Gap{*lastEnd, f.Wall})
		}
		var sp *media.Params
		if f.Key && p != *params {
			sp = p
		}
		*samples = append(*samples, media.Sample{
			Duration:  uint32(f.Duration),
			PTSOffset: f.PTSOffset,
			Key:       f.Key,
			Size:      f.Size,
			Params:    sp,
		})
		c.refs = append(c.refs, ref{len(c.Segments), i})
		*lastEnd = f.Wall + f.Duration
		taken++
	}
	if taken > 0 {
		c.Segments = append(c.Segments, id)
	}
}
