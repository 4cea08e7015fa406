package store

import (
	"context"
	"crypto/sha256"
	"hash"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// DestroyRange destroys camera's footage in [start, end) (90 kHz wall
// clock). Segments inside the range are destroyed whole. A segment the
// range covers in part is cut at chunk boundaries: its chunks outside the
// range (the part after the range from its first key frame) are rewritten
// under a new key into replacement segments, which replace the original in
// the transaction that destroys it. The cut is rounded outwards, so at
// least [start, end) is destroyed. DestroyedSegment.Replacements names the
// new segments.
func (s *Store) DestroyRange(ctx context.Context, camera string, start, end int64) (*DestroyResult, error) {
	const op = "store.DestroyRange"
	if err := ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	if end <= start {
		return nil, errs.Errorf(op, errs.Invalid, "range end %d is not after start %d", end, start)
	}
	rows, err := s.idx.List(ctx, camera, start, end)
	if err != nil {
		return nil, errs.E(op, err)
	}
	var whole []int64
	res := &DestroyResult{At: s.now90k()}
	var garbage []GarbageRow
	for i := range rows {
		r := &rows[i]
		if r.State != StateClosed {
			return nil, errs.Errorf(op, errs.Conflict, "segment %d overlapping the range is being written", r.ID)
		}
		if r.Start >= start && r.End <= end {
			whole = append(whole, r.ID)
			continue
		}
		g, news, err := s.cut(ctx, r, start, end, res.At)
		if err != nil {
			return res, errs.E(op, err)
		}
		garbage = append(garbage, g)
		d := DestroyedSegment{ID: g.SegmentID, Camera: g.Camera, Start: g.Start, End: g.End, Bytes: g.FileBytes,
			SHA256: g.SHA256, KeyID: g.KeyID}
		for _, n := range news {
			d.Replacements = append(d.Replacements, n.ID)
		}
		res.Segments = append(res.Segments, d)
	}
	if len(whole) > 0 {
		g, err := s.idx.Trash(ctx, whole, res.At)
		if err != nil {
			return res, errs.E(op, err)
		}
		for _, r := range g {
			res.Segments = append(res.Segments, DestroyedSegment{ID: r.SegmentID, Camera: r.Camera, Start: r.Start,
				End: r.End, Bytes: r.FileBytes, SHA256: r.SHA256, KeyID: r.KeyID})
		}
		garbage = append(garbage, g...)
	}
	if len(garbage) == 0 {
		return res, nil
	}
	if err := s.removeFiles(ctx, garbage); err != nil {
		return res, errs.E(op, err)
	}
	return res, nil
}

// cut rewrites the parts of segment r outside [start, end) into
// replacement segments and swaps them for r.
func (s *Store) cut(ctx context.Context, r *Row, start, end, now int64) (GarbageRow, []*Row, error) {
	sr, err := s.OpenSegment(ctx, r.ID)
	if err != nil {
		return GarbageRow{}, nil, err
	}
	defer sr.Close()
	frames := sr.Frames()
	// Head: whole chunks ending at or before start. Tail: whole chunks
	// starting at or after end, from their first key frame.
	head, tail := 0, len(frames)
	for _, c := range sr.chunks {
		last := frames[c.First+c.Frames-1]
		if last.Wall+last.Duration <= start {
			head = c.First + c.Frames
		}
	}
	for i := len(sr.chunks) - 1; i >= 0; i-- {
		if c := sr.chunks[i]; frames[c.First].Wall >= end {
			tail = c.First
		}
	}
	for tail < len(frames) && !frames[tail].Key {
		tail++
	}
	var news []*Row
	var built []*segBuilder
	defer func() {
		for _, b := range built {
			b.file.Close()
		}
	}()
	for _, part := range [][2]int{{0, head}, {tail, len(frames)}} {
		if part[0] >= part[1] {
			continue
		}
		disc := r.Discontinuity || part[0] > 0
		b, err := s.newBuilder(ctx, r.Camera, sr.Params(), disc, frames[part[0]].Wall)
		if err != nil {
			return GarbageRow{}, nil, err
		}
		built = append(built, b)
		for i := part[0]; i < part[1]; i++ {
			data, err := sr.ReadFrame(i)
			if err != nil {
				return GarbageRow{}, nil, err
			}
			if err := b.add(frames[i], data); err != nil {
				return GarbageRow{}, nil, err
			}
		}
		nr, err := b.finish()
		if err != nil {
			return GarbageRow{}, nil, err
		}
		news = append(news, nr)
	}
	if err := s.step("destroyrange.written"); err != nil {
		return GarbageRow{}, nil, err
	}
	g, err := s.idx.Replace(ctx, r.ID, news, now)
	return g, news, err
}

// segBuilder writes a whole segment at once (DestroyRange's
// replacements), chunking like a Writer.
type segBuilder struct {
	s          *Store
	row        Row
	sealer     *seal.ChunkSealer
	file       AppendFile
	hash       hash.Hash
	size       int64
	frames     []FrameInfo
	chunks     []chunkInfo
	chunk      []FrameInfo
	data       []byte
	plain, buf []byte
}

func (s *Store) newBuilder(ctx context.Context, camera string, params *media.Params, disc bool, start int64) (*segBuilder, error) {
	dk := seal.NewDataKey()
	r := Row{Camera: camera, Start: start, Discontinuity: disc, Codec: params.Codec, State: StateReplacing}
	err := s.idx.Create(ctx, &r, func(id int64) error {
		var err error
		r.WrappedKey, r.KeyID, err = s.cfg.Keys.Wrap(dk, id)
		r.ParamsSealed = dk.SealBlob(id, "params", encodeParams(params))
		return err
	})
	if err != nil {
		return nil, err
	}
	f, err := s.files.Create(camera, r.ID)
	if err != nil {
		return nil, err
	}
	b := &segBuilder{s: s, row: r, sealer: seal.NewChunkSealer(dk, r.ID), file: f, hash: sha256.New()}
	if _, err := f.Write(b.sealer.Header()); err != nil {
		return nil, errs.E("store.newBuilder", errs.IO, err)
	}
	b.hash.Write(b.sealer.Header())
	b.size = seal.HeaderSize
	return b, nil
}

func (b *segBuilder) add(fi FrameInfo, data []byte) error {
	b.chunk = append(b.chunk, fi)
	b.data = append(b.data, data...)
	if fi.Wall+fi.Duration-b.chunk[0].Wall >= b.s.chunk90k() || len(b.data) >= maxChunkBytes {
		return b.flush()
	}
	return nil
}

func (b *segBuilder) flush() error {
	if len(b.chunk) == 0 {
		return nil
	}
	b.plain = append(appendChunkHeader(b.plain[:0], b.chunk), b.data...)
	var err error
	if b.buf, err = b.sealer.Seal(b.buf[:0], b.plain); err != nil {
		return errs.E("store.segBuilder", errs.Internal, err)
	}
	if _, err := b.file.Write(b.buf); err != nil {
		return errs.E("store.segBuilder", errs.IO, err)
	}
	b.hash.Write(b.buf)
	b.chunks = append(b.chunks, chunkInfo{First: len(b.frames), Frames: len(b.chunk), Offset: b.size, Size: int64(len(b.buf))})
	b.frames = append(b.frames, b.chunk...)
	b.size += int64(len(b.buf))
	b.chunk, b.data = b.chunk[:0], b.data[:0]
	return nil
}

// finish writes the last chunk and makes the file durable; the row stays
// replacing until Index.Replace.
func (b *segBuilder) finish() (*Row, error) {
	if err := b.flush(); err != nil {
		return nil, err
	}
	if err := b.file.Sync(); err != nil {
		return nil, errs.E("store.segBuilder", errs.IO, err)
	}
	r := b.row
	fillCounts(&r, b.frames, b.chunks)
	r.FileBytes, r.SHA256 = b.size, b.hash.Sum(nil)
	return &r, nil
}
