package playback

import (
	"context"
	"fmt"
	"io"

	"github.com/gwanje/gwanje/internal/errs"
)

// Stream reads a clip's MP4 once, front to back, for an export. It gives
// the same bytes as NewReader, but where a reader serves random access (it
// fetches, copies and caches sample by sample), a stream walks the samples
// in order: it opens one segment at a time (its own, never the clip's
// shared ones), decrypts each chunk once and copies each frame once,
// straight into the caller's buffer. Reads fail once its context ends (the
// access was revoked). It is not safe for concurrent use; Close it when
// done.
type Stream struct {
	ctx  context.Context
	c    *Clip
	hdr  []byte // the file header, until it is read
	i    int    // the sample whose bytes come next
	pre  bool   // sample i's in-band prefix has been given
	pend []byte // what is left of the current piece (header, prefix or frame)
	seg  int    // index in c.Segments of the open segment, -1 if none
	data SegmentData
}

// NewStream returns a stream of the whole file. Call it after anything
// that changes the file's header (media.File.SetRecorded).
func (c *Clip) NewStream(ctx context.Context) *Stream {
	return &Stream{ctx: ctx, c: c, hdr: c.File.Header(), seg: -1}
}

// Read fills p with the file's next bytes; it returns io.EOF at the end.
func (s *Stream) Read(p []byte) (int, error) {
	const op = "playback.Stream.Read"
	if err := s.ctx.Err(); err != nil {
		return 0, errs.E(op, errs.Canceled, context.Cause(s.ctx))
	}
	n := 0
	for n < len(p) {
		if len(s.pend) == 0 {
			k, err := s.chunkInto(p, n)
			if err != nil {
				return n, errs.E(op, err)
			}
			if k > 0 {
				n += k
				continue
			}
			if err := s.next(); err != nil {
				if err != io.EOF {
					err = errs.E(op, err)
				}
				return n, err
			}
			continue
		}
		k := copy(p[n:], s.pend)
		s.pend = s.pend[k:]
		n += k
	}
	return n, nil
}

// next makes the following piece of the file pending: the header, then
// for each sample its in-band prefix (if any) and its stored bytes.
func (s *Stream) next() error {
	if s.hdr != nil {
		s.pend, s.hdr = s.hdr, nil
		return nil
	}
	if s.i >= len(s.c.refs) {
		return io.EOF
	}
	pre, size := s.c.File.Layout(s.i)
	if !s.pre {
		s.pre = true
		if len(pre) > 0 {
			s.pend = pre
			return nil
		}
	}
	r := s.c.refs[s.i]
	if err := s.open(r.seg); err != nil {
		return err
	}
	b, err := s.data.ReadFrame(r.frame)
	if err != nil {
		return fmt.Errorf("sample %d: %w", s.i, err)
	}
	if len(b) != int(size) {
		return errs.Errorf("playback.Stream", errs.Corrupt, "sample %d: read %d bytes, index says %d", s.i, len(b), size)
	}
	s.pend = b
	s.i++
	s.pre = false
	return nil
}

// open makes segment seg (an index in c.Segments) the open one.
func (s *Stream) open(seg int) error {
	if seg == s.seg {
		return nil
	}
	if err := s.closeSeg(); err != nil {
		return err
	}
	d, err := s.c.src.Open(s.ctx, s.c.Segments[seg])
	if err != nil {
		return fmt.Errorf("sample %d: %w", s.i, err)
	}
	s.data, s.seg = d, seg
	return nil
}

// chunkReader is a SegmentData that decrypts a whole chunk of frames
// straight into the caller's buffer (*store.SegmentReader).
type chunkReader interface {
	ChunkOf(i int) (first, end, lead int)
	ReadChunkInto(i int, buf []byte, at int) (int, error)
}

// chunkInto puts the next samples into p[n:] by decrypting a whole chunk
// straight there, when it can: the next sample is the first of its chunk
// (its in-band prefix, if any, already given), the chunk's frames are the
// clip's next samples with no in-band prefix between them, and p has room
// for them and for the chunk's own frame table in front (which
// ReadChunkInto overwrites, then restores). That saves copying every frame
// once. It returns the bytes it put, 0 if it did not.
func (s *Stream) chunkInto(p []byte, n int) (int, error) {
	if s.hdr != nil || s.i >= len(s.c.refs) {
		return 0, nil
	}
	if pre, _ := s.c.File.Layout(s.i); !s.pre && len(pre) > 0 {
		return 0, nil
	}
	r := s.c.refs[s.i]
	if err := s.open(r.seg); err != nil {
		return 0, err
	}
	cr, ok := s.data.(chunkReader)
	if !ok {
		return 0, nil
	}
	first, end, lead := cr.ChunkOf(r.frame)
	if first != r.frame || lead < 0 || lead > n || s.i+end-first > len(s.c.refs) {
		return 0, nil
	}
	size := 0
	for k := range end - first {
		if k > 0 {
			if rk := s.c.refs[s.i+k]; rk.seg != r.seg || rk.frame != first+k {
				return 0, nil
			}
		}
		pre, sz := s.c.File.Layout(s.i + k)
		if k > 0 && len(pre) > 0 {
			return 0, nil
		}
		size += int(sz)
	}
	if len(p)-n < size {
		return 0, nil
	}
	k, err := cr.ReadChunkInto(r.frame, p, n)
	if err != nil {
		return 0, fmt.Errorf("sample %d: %w", s.i, err)
	}
	if k != size {
		return 0, errs.Errorf("playback.Stream", errs.Corrupt, "samples %d–%d: read %d bytes, index says %d", s.i, s.i+end-first-1, k, size)
	}
	s.i += end - first
	s.pre = false
	return k, nil
}

func (s *Stream) closeSeg() error {
	if s.data == nil {
		return nil
	}
	err := s.data.Close()
	s.data, s.seg = nil, -1
	return err
}

// Close closes the segment the stream has open.
func (s *Stream) Close() error {
	s.pend = nil
	return s.closeSeg()
}
