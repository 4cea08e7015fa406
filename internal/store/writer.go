package store

import (
	"context"
	"crypto/sha256"
	"hash"
	"slices"
	"sync"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// maxChunkBytes cuts a chunk early when frames are large.
const maxChunkBytes = 8 << 20

// chunkReserve is the room kept before a chunk's frame bytes for its
// length prefix and header, so the header can be put in front of the
// frames without moving them. At a few bytes per frame it holds the
// header of a chunk of some hundred frames; a larger header moves the
// frames once.
const chunkReserve = 2048

// keepBufBytes bounds the chunk buffer a writer keeps between chunks; a
// larger one (a chunk of very large frames) is released after it is
// written, so one burst does not pin memory for every camera.
const keepBufBytes = 4 << 20

// liveSeg is a segment being written or waiting for the syncer to close it.
// The writer appends; readers snapshot; the syncer fsyncs and closes.
type liveSeg struct {
	row    Row
	params *media.Params
	dk     *seal.DataKey
	sealer *seal.ChunkSealer
	file   AppendFile
	hash   hash.Hash

	mu     sync.Mutex
	frames []FrameInfo // of written chunks
	chunks []chunkInfo
	size   int64 // bytes written
	dirty  bool  // written but not fsynced
	ending bool  // no more chunks; the syncer closes it
	failed error // a write failed: the file is cut back to size
	done   chan struct{}
	err    error // result of closing, valid after done
}

// snapshot returns copies of the frames and chunks written so far.
func (l *liveSeg) snapshot() ([]FrameInfo, []chunkInfo, int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	end := l.row.Start
	if n := len(l.frames); n > 0 {
		end = l.frames[n-1].Wall + l.frames[n-1].Duration
	}
	return append([]FrameInfo(nil), l.frames...), append([]chunkInfo(nil), l.chunks...), end
}

// Writer writes one camera's frames. It is the ingest sink: one goroutine
// calls WriteFrame, Break and Close.
type Writer struct {
	s      *Store
	camera string

	// mu makes Store.Close safe beside an ingest goroutine still writing.
	mu sync.Mutex

	seg    *liveSeg
	target int64 // length of the current segment before it is cut, 90 kHz
	first  bool  // the next segment is the camera's first since Open

	pend     media.Frame // held back until the next frame gives its duration; Data is nil (its bytes are in buf)
	pendSize int
	havePend bool
	// lastDur is the step between the last two frames received since the
	// last Break (written or not; 0 after one frame): the last frame's
	// duration when a Break ends its segment (media.LastFrameDuration,
	// the rule ingest anchors its next run by).
	lastDur  int64
	prevWall int64
	havePrev bool
	disc     bool // the next segment follows a discontinuity

	// chunk holds the frames of the chunk being assembled. buf is the
	// chunk's only buffer: chunkReserve bytes of room for the length prefix
	// and the chunk header, then the bytes of every frame in chunk, then
	// those of the pending frame. The chunk is sealed in place, so each
	// frame's bytes are copied once, from the caller into buf.
	chunk []FrameInfo
	buf   []byte
	hdr   []byte

	dropped int64
	closed  bool
	pending []*liveSeg // segments handed to the syncer, not yet closed
}

// Writer returns the writer of camera. A camera has at most one writer at
// a time; Close it to release the camera.
func (s *Store) Writer(camera string) (*Writer, error) {
	const op = "store.Writer"
	if err := ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errs.Errorf(op, errs.Unavailable, "store is closed")
	}
	if _, ok := s.writers[camera]; ok {
		return nil, errs.Errorf(op, errs.Exist, "camera %s already has a writer", camera)
	}
	w := &Writer{s: s, camera: camera, first: true, disc: true}
	s.writers[camera] = w
	return w, nil
}

// CopiesFrames reports that WriteFrame keeps nothing of the frame it is
// given, so the caller may reuse the frame's memory once it returns
// (ingest.FrameCopier).
func (w *Writer) CopiesFrames() bool { return true }

// Dropped returns how many frames were dropped waiting for a key frame.
func (w *Writer) Dropped() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// WriteFrame stores f. Frames come in decode order with strictly
// increasing Wall; a segment starts only at a key frame. f is not retained
// after WriteFrame returns.
func (w *Writer) WriteFrame(f *media.Frame) error {
	const op = "store.WriteFrame"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errs.Errorf(op, errs.Invalid, "camera %s: writer is closed", w.camera)
	}
	switch {
	case f == nil || len(f.Data) == 0:
		return errs.Errorf(op, errs.Invalid, "camera %s: empty frame", w.camera)
	case len(f.Data) > maxFrameSize:
		return errs.Errorf(op, errs.TooLarge, "camera %s: frame of %d bytes exceeds %d", w.camera, len(f.Data), maxFrameSize)
	case !f.Params.Complete():
		return errs.Errorf(op, errs.Invalid, "camera %s: frame at %d has incomplete codec parameters", w.camera, f.Wall)
	}
	if w.havePend && f.Wall <= w.pend.Wall {
		err := errs.Errorf(op, errs.Invalid, "camera %s: frame wall clock %d is not after the previous frame's %d; segment ended",
			w.camera, f.Wall, w.pend.Wall)
		w.breakLocked("non-monotonic wall clock")
		return err
	}
	if w.havePrev {
		w.lastDur = f.Wall - w.prevWall
	}
	w.havePrev, w.prevWall = true, f.Wall
	if !w.havePend {
		if !f.Key {
			w.dropped++
			return nil
		}
		if err := w.startSegment(f); err != nil {
			return errs.E(op, err)
		}
		w.hold(f)
		return nil
	}
	dur := f.Wall - w.pend.Wall
	if err := w.appendPending(dur); err != nil {
		w.endSegment()
		w.havePend, w.disc = false, true
		return errs.E(op, err)
	}
	switch {
	case f.Key && (!f.Params.Equal(w.seg.params) || f.Wall-w.seg.row.Start >= w.target):
		w.endSegment()
		if err := w.startSegment(f); err != nil {
			return errs.E(op, err)
		}
	case !f.Key && !f.Params.Equal(w.seg.params):
		// New parameters without a key frame: nothing can decode this
		// frame with the segment's parameters.
		w.endSegment()
		w.havePend, w.disc = false, true
		w.dropped++
		return nil
	}
	w.hold(f)
	return nil
}

// WouldWait reports whether WriteFrame(f) would start a segment, the one
// step of writing a frame that waits for the index (a commit) and the disk
// (ingest.Waiter).
func (w *Writer) WouldWait(f *media.Frame) bool {
	if f == nil || !f.Key {
		return false // only a key frame starts a segment: no lock for the others
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	return !w.havePend || w.seg == nil || !f.Params.Equal(w.seg.params) || f.Wall-w.seg.row.Start >= w.target
}

// hold keeps f as the pending frame: its bytes go into buf after the
// chunk's, where they stay when the next frame gives its duration.
func (w *Writer) hold(f *media.Frame) {
	if len(w.chunk) == 0 || len(w.buf) < chunkReserve {
		w.buf = w.buf[:0]
		if cap(w.buf) < chunkReserve {
			w.buf = make([]byte, 0, chunkReserve+len(f.Data)+16)
		}
		w.buf = w.buf[:chunkReserve]
	}
	w.buf = append(w.buf, f.Data...)
	w.pend = *f
	w.pend.Data = nil
	w.pendSize = len(f.Data)
	w.havePend = true
}

// Break marks a discontinuity: the current segment ends at its last
// complete frame and the next segment starts at the next key frame.
func (w *Writer) Break(reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.breakLocked(reason)
}

func (w *Writer) breakLocked(reason string) {
	defer func() { w.havePrev, w.lastDur = false, 0 }()
	if w.closed || !w.havePend {
		w.disc = true
		return
	}
	err := w.appendPending(media.LastFrameDuration(w.lastDur))
	w.endSegment()
	w.havePend, w.disc = false, true
	w.s.log.Info("recording discontinuity", "camera", w.camera, "reason", reason)
	if err != nil {
		w.s.log.Error("ending segment", "camera", w.camera, "err", err)
	}
}

// Close ends the current segment and waits until every segment of this
// writer is durable and closed in the index.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	w.breakLocked("writer closed")
	w.closed = true
	var first error
	for _, l := range w.pending {
		<-l.done
		if l.err != nil && first == nil {
			first = l.err
		}
	}
	w.pending = nil
	w.s.mu.Lock()
	delete(w.s.writers, w.camera)
	w.s.mu.Unlock()
	return first
}

// startSegment creates the row and the file of a segment starting at key
// frame f.
func (w *Writer) startSegment(f *media.Frame) error {
	s := w.s
	dk := seal.NewDataKey()
	params := &media.Params{Codec: f.Params.Codec, VPS: append([]byte(nil), f.Params.VPS...),
		SPS: append([]byte(nil), f.Params.SPS...), PPS: append([]byte(nil), f.Params.PPS...)}
	r := Row{Camera: w.camera, Start: f.Wall, Discontinuity: w.disc, Codec: f.Params.Codec}
	err := s.idx.Create(context.Background(), &r, func(id int64) error {
		var err error
		r.WrappedKey, r.KeyID, err = s.cfg.Keys.Wrap(dk, id)
		r.ParamsSealed = dk.SealBlob(id, "params", encodeParams(params))
		return err
	})
	if err != nil {
		w.havePend, w.disc = false, true
		return err
	}
	file, err := s.files.Create(w.camera, r.ID)
	if err != nil {
		s.idx.Delete(context.Background(), r.ID)
		w.havePend, w.disc = false, true
		return err
	}
	l := &liveSeg{row: r, params: params, dk: dk, sealer: seal.NewChunkSealer(dk, r.ID), file: file,
		hash: sha256.New(), done: make(chan struct{})}
	hdr := l.sealer.Header()
	if _, err := file.Write(hdr); err != nil {
		file.Close()
		s.files.Remove(w.camera, r.ID)
		s.idx.Delete(context.Background(), r.ID)
		w.havePend, w.disc = false, true
		return errs.E("store.startSegment", errs.IO, err)
	}
	l.hash.Write(hdr)
	l.size = int64(len(hdr))
	l.dirty = true
	w.target = s.segment90k()
	if w.first {
		w.target -= s.stagger(w.camera)
		w.first = false
	}
	w.disc = false
	w.seg = l
	s.mu.Lock()
	s.live[r.ID] = l
	s.mu.Unlock()
	return nil
}

// appendPending adds the held-back frame, now of known duration, to the
// current chunk, and writes the chunk when it is full.
func (w *Writer) appendPending(dur int64) error {
	// The frame's bytes are already at the end of buf.
	w.chunk = append(w.chunk, FrameInfo{Wall: w.pend.Wall, Duration: dur, PTSOffset: w.pend.PTSOffset,
		Key: w.pend.Key, Size: uint32(w.pendSize)})
	w.havePend = false
	first := w.chunk[0].Wall
	if w.pend.Wall+dur-first >= w.s.chunk90k() || len(w.buf)-chunkReserve >= maxChunkBytes {
		return w.flushChunk()
	}
	return nil
}

// flushChunk seals the current chunk in place and hands it to the kernel.
func (w *Writer) flushChunk() error {
	if len(w.chunk) == 0 {
		return nil
	}
	const op = "store.flushChunk"
	l := w.seg
	frames := w.chunk
	w.chunk = w.chunk[:0]
	sealed, err := w.sealChunk(l, frames)
	if err != nil {
		w.resetBuf()
		return errs.E(op, errs.Internal, err)
	}
	_, err = l.file.Write(sealed)
	if err == nil {
		l.hash.Write(sealed)
	}
	size := int64(len(sealed))
	w.resetBuf() // sealed is part of buf: not before it is written and hashed
	if err != nil {
		l.mu.Lock()
		l.failed = err
		l.mu.Unlock()
		return errs.E(op, errs.IO, err)
	}
	l.mu.Lock()
	l.chunks = append(l.chunks, chunkInfo{First: len(l.frames), Frames: len(frames), Offset: l.size, Size: size})
	l.frames = append(l.frames, frames...)
	l.size += size
	l.dirty = true
	l.mu.Unlock()
	return nil
}

// sealChunk puts the length prefix and the header of frames in front of
// their bytes in buf and seals the chunk there, returning the sealed chunk
// (a slice of buf, valid until buf is next written).
func (w *Writer) sealChunk(l *liveSeg, frames []FrameInfo) ([]byte, error) {
	w.hdr = appendChunkHeader(w.hdr[:0], frames)
	start := chunkReserve - len(w.hdr) - 4
	if start < 0 {
		// A header larger than the reserve: move the frames once.
		w.buf = slices.Insert(w.buf, chunkReserve, make([]byte, -start)...)
		start = 0
	}
	// GCM appends its tag after the plaintext: room for it keeps the
	// ciphertext in buf.
	if n := len(w.buf); cap(w.buf)-n < 16 {
		w.buf = slices.Grow(w.buf, 16)
	}
	copy(w.buf[start+4:], w.hdr)
	// The sealer writes the length prefix at buf[start:start+4] and the
	// ciphertext over the plaintext it starts exactly at, which AES-GCM
	// allows (cipher.AEAD: plaintext[:0] as the destination).
	return l.sealer.Seal(w.buf[start:start], w.buf[start+4:])
}

// resetBuf empties buf for the next chunk, releasing it if a burst of
// large frames grew it beyond what a writer keeps.
func (w *Writer) resetBuf() {
	if cap(w.buf) > keepBufBytes {
		w.buf = nil
		return
	}
	w.buf = w.buf[:0]
}

// endSegment writes the last chunk and hands the segment to the syncer,
// which makes it durable and closes its row.
func (w *Writer) endSegment() {
	l := w.seg
	if l == nil {
		return
	}
	if err := w.flushChunk(); err != nil {
		w.s.log.Error("writing last chunk", "camera", w.camera, "segment", l.row.ID, "err", err)
	}
	w.chunk = w.chunk[:0]
	w.resetBuf()
	l.mu.Lock()
	l.ending = true
	l.mu.Unlock()
	w.seg = nil
	w.pending = append(w.pending[:0:0], keepPending(w.pending)...)
	w.pending = append(w.pending, l)
	w.s.kickSyncer()
}

// keepPending drops segments the syncer has closed.
func keepPending(ls []*liveSeg) []*liveSeg {
	var out []*liveSeg
	for _, l := range ls {
		select {
		case <-l.done:
		default:
			out = append(out, l)
		}
	}
	return out
}
