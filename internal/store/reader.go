package store

import (
	"context"
	"fmt"
	"runtime/debug"

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
			r = s.measureOpen(ctx, r)
			if r.End <= start || r.End == r.Start {
				continue
			}
		}
		out = append(out, segmentOf(r))
	}
	return out, nil
}

// measureOpen returns an open row as a listing shows it: its end, frames
// and size up to the last chunk written, or the closed row if it was
// closed meanwhile.
func (s *Store) measureOpen(ctx context.Context, r *Row) *Row {
	if l := s.liveSeg(r.ID); l != nil {
		frames, _, e := l.snapshot()
		r.End, r.Frames = e, len(frames)
		l.mu.Lock()
		r.FileBytes = l.size
		l.mu.Unlock()
	} else if r2, err := s.idx.Get(ctx, r.ID); err == nil && r2.State == StateClosed {
		return r2
	}
	return r
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

	// mapped is the whole file mapped into memory (closed segments on
	// disk, where the platform maps files): chunks are decrypted from it,
	// with no copy of the ciphertext out of the page cache. nil: chunks
	// are read into body.
	mapped   []byte
	unmap    func() error
	mappable bool // not mapped yet, but may be

	cached  int    // chunk index in body, -1 if none
	body    []byte // the chunk as read, then its plaintext in place
	cfr     []FrameInfo
	lead    []byte // what ReadChunkInto keeps of the caller's buffer
	offsets []int  // start of each cached frame in data
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
	// A closed segment's file no longer changes (an open one may still be
	// cut back after a failed write): it can be read through a mapping,
	// made when a chunk is first read (Build opens segments only for
	// their index).
	sr.mappable = r.State == StateClosed
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
	n := int(ch.Size - seal.ChunkOverhead)
	if cap(r.body) < int(ch.Size) {
		r.body = make([]byte, ch.Size)
	}
	var plain []byte
	var err error
	if r.mapping() {
		plain, err = r.open(c, r.body[:0:n])
	} else {
		r.body = r.body[:ch.Size]
		if _, err := r.file.ReadAt(r.body, ch.Offset); err != nil {
			return corrupt("reading %d bytes at %d: %v", ch.Size, ch.Offset, err)
		}
		// Decrypted in place: the plaintext overwrites the ciphertext it
		// came from (one buffer, no second pass over memory).
		plain, err = r.openBody(c, r.body[4:4], r.body)
	}
	if err != nil {
		return err
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

// mapping maps the file if it may be and is not yet, and reports whether
// it is mapped.
func (r *SegmentReader) mapping() bool {
	if r.mappable {
		r.mappable = false
		r.mapped, r.unmap = mapFile(r.file)
	}
	return r.mapped != nil
}

// open authenticates and decrypts chunk c from the mapping, appending its
// plaintext to dst, which must not overlap the mapping. A fault reading
// the mapping (an I/O error under it) is returned as an error of this
// read instead of ending the process.
func (r *SegmentReader) open(c int, dst []byte) (plain []byte, err error) {
	ch := r.chunks[c]
	if ch.Offset < 0 || ch.Offset+ch.Size > int64(len(r.mapped)) {
		return nil, errs.Errorf("store.readChunk", errs.Corrupt, "segment %d chunk %d: %d bytes at %d, the file has %d",
			r.row.ID, c, ch.Size, ch.Offset, len(r.mapped))
	}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if e := recover(); e != nil {
			if _, ok := e.(interface{ Addr() uintptr }); !ok {
				panic(e)
			}
			plain, err = nil, errs.Errorf("store.readChunk", errs.IO, "segment %d chunk %d: reading the file: %v", r.row.ID, c, e)
		}
	}()
	return r.openBody(c, dst, r.mapped[ch.Offset:ch.Offset+ch.Size])
}

// openBody checks the length prefix of chunk c as read (body) and
// authenticates and decrypts it, appending the plaintext to dst.
func (r *SegmentReader) openBody(c int, dst, body []byte) ([]byte, error) {
	ch := r.chunks[c]
	if n := int64(uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3])); n != ch.Size-4 {
		return nil, errs.Errorf("store.readChunk", errs.Corrupt, "segment %d chunk %d: length prefix %d, index says %d", r.row.ID, c, n, ch.Size-4)
	}
	plain, err := r.dk.OpenChunk(dst, r.header, uint64(c), body[4:])
	if err != nil {
		return nil, errs.Errorf("store.readChunk", errs.Corrupt, "segment %d chunk %d: %v", r.row.ID, c, err)
	}
	return plain, nil
}

// ChunkOf returns the frames [first, end) of the chunk holding frame i,
// and lead: how many bytes of its plaintext precede the frames' bytes (the
// chunk's own frame table), which ReadChunkInto needs in front of where
// it puts them. lead is -1 if the index is inconsistent (the chunk is then
// read as usual, and fails there).
func (r *SegmentReader) ChunkOf(i int) (first, end, lead int) {
	ch := r.chunks[r.chunkOf(i)]
	data := int64(0)
	for _, f := range r.frames[ch.First : ch.First+ch.Frames] {
		data += int64(f.Size)
	}
	lead = int(ch.Size - seal.ChunkOverhead - data)
	if lead < 0 || ch.Size > seal.MaxChunkSize+seal.ChunkOverhead {
		lead = -1
	}
	return ch.First, ch.First + ch.Frames, lead
}

// ReadChunkInto authenticates and decrypts the chunk holding frame i
// straight into buf, so that the bytes of its frames (see ChunkOf) are
// buf[at:at+n], in order, and returns n. It needs lead bytes before at,
// which it uses and then restores, and n bytes after. Nothing of a chunk
// that fails authentication or whose frame table differs from the index
// is left in buf: those bytes are zero.
func (r *SegmentReader) ReadChunkInto(i int, buf []byte, at int) (int, error) {
	const op = "store.ReadChunkInto"
	c := r.chunkOf(i)
	first, end, lead := r.ChunkOf(i)
	if lead < 0 || lead > at || at > len(buf) {
		return 0, errs.Errorf(op, errs.Invalid, "segment %d chunk %d: %d bytes before %d", r.row.ID, c, lead, at)
	}
	n := int(r.chunks[c].Size-seal.ChunkOverhead) - lead
	if len(buf)-at < n {
		return 0, errs.Errorf(op, errs.Invalid, "segment %d chunk %d: %d bytes after %d, want %d", r.row.ID, c, len(buf)-at, at, n)
	}
	r.lead = append(r.lead[:0], buf[at-lead:at]...)
	defer func() { copy(buf[at-lead:at], r.lead) }()
	dst := buf[at-lead : at-lead : at+n]
	var plain []byte
	var err error
	if r.mapping() {
		plain, err = r.open(c, dst)
	} else {
		ch := r.chunks[c]
		if cap(r.body) < int(ch.Size) {
			r.body = make([]byte, ch.Size)
		}
		r.cached = -1 // body is overwritten
		r.body = r.body[:ch.Size]
		if _, err := r.file.ReadAt(r.body, ch.Offset); err != nil {
			return 0, errs.Errorf(op, errs.Corrupt, "segment %d chunk %d: reading %d bytes at %d: %v", r.row.ID, c, ch.Size, ch.Offset, err)
		}
		plain, err = r.openBody(c, dst, r.body)
	}
	if err != nil {
		clear(buf[at : at+n])
		return 0, errs.E(op, err)
	}
	r.cfr, _, err = decodeChunk(plain, r.cfr)
	if err == nil && len(r.cfr) != end-first {
		err = fmt.Errorf("holds %d frames, index says %d", len(r.cfr), end-first)
	}
	for k := 0; err == nil && k < len(r.cfr); k++ {
		if r.cfr[k] != r.frames[first+k] {
			err = fmt.Errorf("frame %d differs from the index", first+k)
		}
	}
	if err != nil {
		clear(buf[at : at+n])
		return 0, errs.Errorf(op, errs.Corrupt, "segment %d chunk %d: %v", r.row.ID, c, err)
	}
	return n, nil
}

// Close releases the segment's file.
func (r *SegmentReader) Close() error {
	if r.unmap != nil {
		r.unmap()
		r.mapped, r.unmap = nil, nil
	}
	return r.file.Close()
}
