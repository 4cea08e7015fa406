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
	if r.seg != s.seg {
		if err := s.closeSeg(); err != nil {
			return err
		}
		d, err := s.c.src.Open(s.ctx, s.c.Segments[r.seg])
		if err != nil {
			return fmt.Errorf("sample %d: %w", s.i, err)
		}
		s.data, s.seg = d, r.seg
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
