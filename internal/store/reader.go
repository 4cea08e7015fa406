package store

import (
	"context"
	"fmt"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// Segment is a stored segment as listed for playback and retention.
type Segment struct {
	ID            int64
	Camera        string
	Start, End    int64 // 90 kHz wall clock; for an open segment, End is the end of its last written chunk
	Open          bool  // still being written
	Discontinuity bool  // does not continue the camera's previous segment
	Codec         media.Codec
	Frames        int
	Bytes         int64 // file size
	KeyID         string
}

func segmentOf(r *Row) Segment {
	return Segment{ID: r.ID, Camera: r.Camera, Start: r.Start, End: r.End, Open: r.State == StateOpen,
		Discontinuity: r.Discontinuity, Codec: r.Codec, Frames: r.Frames, Bytes: r.FileBytes, KeyID: r.KeyID}
}

func (s *Store) liveSeg(id int64) *liveSeg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// spanLister is an Index that lists a camera's rows without the columns
// a Segment does not carry (SQLiteIndex.ListSpans).
type spanLister interface {
	ListSpans(ctx context.Context, camera string, start, end int64) ([]Row, error)
}

// Segments lists camera's segments overlapping [start, end) (90 kHz),
// ordered by start, including the open segment's written chunks.
func (s *Store) Segments(ctx context.Context, camera string, start, end int64) ([]Segment, error) {
	const op = "store.Segments"
	if err := ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	var rows []Row
	var err error
	if sl, ok := s.idx.(spanLister); ok {
		rows, err = sl.ListSpans(ctx, camera, start, end)
	} else {
		rows, err = s.idx.List(ctx, camera, start, end)
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	out := make([]Segment, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.State == StateOpen {
			if l := s.liveSeg(r.ID); l != nil {
				frames, _, e := l.snapshot()
				r.End, r.Frames = e, len(frames)
				l.mu.Lock()
				r.FileBytes = l.size
				l.mu.Unlock()
			} else if r2, err := s.idx.Get(ctx, r.ID); err == nil && r2.State == StateClosed {
				r = r2 // closed meanwhile
			}
			if r.End <= start || r.End == r.Start {
				continue
			}
		}
		out = append(out, segmentOf(r))
	}
	return out, nil
}

// Cameras summarises every camera's footage, oldest start and newest end,
// counting open segments up to their last written chunk.
func (s *Store) Cameras(ctx context.Context) ([]CameraSummary, error) {
	cs, err := s.idx.Cameras(ctx)
	if err != nil {
		return nil, errs.E("store.Cameras", err)
	}
	s.mu.Lock()
	live := make([]*liveSeg, 0, len(s.live))
	for _, l := range s.live {
		live = append(live, l)
	}
	s.mu.Unlock()
	for _, l := range live {
		_, _, end := l.snapshot()
		l.mu.Lock()
		size := l.size
		l.mu.Unlock()
		for i := range cs {
			if cs[i].Camera == l.row.Camera {
				cs[i].Newest = max(cs[i].Newest, end)
				cs[i].Bytes += size
			}
		}
	}
	return cs, nil
}

// Briefs lists up to limit (all if limit <= 0) closed segments of camera
// (every camera if "") ending at or before endBefore (90 kHz), oldest
// first. Segments being written are never listed.
func (s *Store) Briefs(ctx context.Context, camera string, endBefore int64, limit int) ([]Brief, error) {
	bs, err := s.idx.Briefs(ctx, camera, endBefore, limit)
	if err != nil {
		return nil, errs.E("store.Briefs", err)
	}
	return bs, nil
}

// SegmentReader reads one segment's frames. It caches one decrypted chunk;
// it is not safe for concurrent use.
type SegmentReader struct {
	s      *Store
	row    Row
	params *media.Params
	dk     *seal.DataKey
	file   ReadFile
	header []byte
	frames []FrameInfo
	chunks []chunkInfo

	cached  int    // chunk index in body, -1 if none
	body    []byte // the chunk as read, then its plaintext in place
	cfr     []FrameInfo
	offsets []int // start of each cached frame in data
	data    []byte
}

// OpenSegment opens segment id for reading: its parameters, its frame
// entries and its frames. An open segment is read up to its last written
// chunk at the time of the call.
func (s *Store) OpenSegment(ctx context.Context, id int64) (*SegmentReader, error) {
	const op = "store.OpenSegment"
	r, err := s.idx.Get(ctx, id)
	if err != nil {
		return nil, errs.E(op, err)
	}
	dk, err := s.unwrap(r)
	if err != nil {
		return nil, errs.E(op, err)
	}
	params, err := openParams(dk, r)
	if err != nil {
		return nil, errs.E(op, err)
	}
	sr := &SegmentReader{s: s, params: params, dk: dk, cached: -1}
	if r.State == StateOpen {
		l := s.liveSeg(id)
		if l == nil {
			if r, err = s.idx.Get(ctx, id); err != nil {
				return nil, errs.E(op, err)
			}
			if r.State == StateOpen {
				return nil, errs.Errorf(op, errs.Unavailable, "segment %d is open but not being written", id)
			}
		} else {
			sr.frames, sr.chunks, r.End = l.snapshot()
		}
	}
	if r.State == StateClosed {
		sr.frames, sr.chunks, err = decodeIndex(r.FrameIndex, r.Start, seal.HeaderSize)
		if err != nil {
			return nil, errs.E(op, errs.Corrupt, fmt.Errorf("segment %d: %v", id, err))
		}
	}
	sr.row = *r
	if sr.file, err = s.files.Open(r.Camera, id); err != nil {
		return nil, errs.E(op, err)
	}
	sr.header = make([]byte, seal.HeaderSize)
	if _, err := sr.file.ReadAt(sr.header, 0); err != nil {
		sr.file.Close()
		return nil, errs.E(op, errs.Corrupt, fmt.Errorf("segment %d: reading header: %v", id, err))
	}
	if h, err := seal.ParseHeader(sr.header); err != nil || h.SegmentID != id {
		sr.file.Close()
		return nil, errs.Errorf(op, errs.Corrupt, "segment %d: bad file header (%v, id %d)", id, err, h.SegmentID)
	}
	return sr, nil
}

// Segment returns what the index says about the segment.
func (r *SegmentReader) Segment() Segment { return segmentOf(&r.row) }

// Params returns the segment's codec parameters.
func (r *SegmentReader) Params() *media.Params { return r.params }

// Frames returns the segment's frame entries, in order. Callers must not
// modify them.
func (r *SegmentReader) Frames() []FrameInfo { return r.frames }

// ReadFrame returns frame i's bytes (MP4 sample form). The slice is valid
// until the next read from r.
func (r *SegmentReader) ReadFrame(i int) ([]byte, error) {
	const op = "store.ReadFrame"
	if i < 0 || i >= len(r.frames) {
		return nil, errs.Errorf(op, errs.Invalid, "segment %d: frame %d of %d", r.row.ID, i, len(r.frames))
	}
	c := r.chunkOf(i)
	if err := r.load(c); err != nil {
		return nil, errs.E(op, err)
	}
	j := i - r.chunks[c].First
	return r.data[r.offsets[j]:r.offsets[j+1]], nil
}

// ReadFrames calls fn with frames [i, j) in order, decrypting each chunk
// once. The slice passed to fn is valid only during the call.
func (r *SegmentReader) ReadFrames(i, j int, fn func(i int, data []byte) error) error {
	for k := i; k < j; k++ {
		b, err := r.ReadFrame(k)
		if err != nil {
			return err
		}
		if err := fn(k, b); err != nil {
			return err
		}
	}
	return nil
}

func (r *SegmentReader) chunkOf(i int) int {
	lo, hi := 0, len(r.chunks)-1
	for lo < hi {
		m := (lo + hi + 1) / 2
		if r.chunks[m].First <= i {
			lo = m
		} else {
			hi = m - 1
		}
	}
	return lo
}

// load decrypts chunk c into the cache and checks its own frame index
// against the segment's.
func (r *SegmentReader) load(c int) error {
	if r.cached == c {
		return nil
	}
	r.cached = -1
	ch := r.chunks[c]
	corrupt := func(format string, a ...any) error {
		return errs.Errorf("store.readChunk", errs.Corrupt, "segment %d chunk %d: %s", r.row.ID, c, fmt.Sprintf(format, a...))
	}
	if ch.Size < seal.ChunkOverhead || ch.Size > seal.MaxChunkSize+seal.ChunkOverhead {
		return corrupt("size %d out of range", ch.Size)
	}
	if int64(cap(r.body)) < ch.Size {
		r.body = make([]byte, ch.Size)
	}
	r.body = r.body[:ch.Size]
	if _, err := r.file.ReadAt(r.body, ch.Offset); err != nil {
		return corrupt("reading %d bytes at %d: %v", ch.Size, ch.Offset, err)
	}
	if n := int64(uint32(r.body[0])<<24 | uint32(r.body[1])<<16 | uint32(r.body[2])<<8 | uint32(r.body[3])); n != ch.Size-4 {
		return corrupt("length prefix %d, index says %d", n, ch.Size-4)
	}
	// Decrypted in place: the plaintext overwrites the ciphertext it
	// came from (one buffer, no second pass over memory).
	plain, err := r.dk.OpenChunk(r.body[4:4], r.header, uint64(c), r.body[4:])
	if err != nil {
		return corrupt("%v", err)
	}
	var data []byte
	r.cfr, data, err = decodeChunk(plain, r.cfr)
	if err != nil {
		return corrupt("%v", err)
	}
	if len(r.cfr) != ch.Frames {
		return corrupt("holds %d frames, index says %d", len(r.cfr), ch.Frames)
	}
	r.offsets = r.offsets[:0]
	off := 0
	for k, f := range r.cfr {
		if f != r.frames[ch.First+k] {
			return corrupt("frame %d differs from the index", ch.First+k)
		}
		r.offsets = append(r.offsets, off)
		off += int(f.Size)
	}
	r.offsets = append(r.offsets, off)
	r.data = data
	r.cached = c
	return nil
}

// Close releases the segment's file.
func (r *SegmentReader) Close() error { return r.file.Close() }
