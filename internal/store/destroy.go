package store

import (
	"context"

	"github.com/gwanje/gwanje/internal/errs"
)

// DestroyedSegment is one destroyed segment, as a destruction receipt
// (파기 기록) needs it.
type DestroyedSegment struct {
	ID         int64
	Camera     string
	Start, End int64  // period of footage, 90 kHz wall clock
	Bytes      int64  // ciphertext size
	SHA256     []byte // ciphertext hash; nil if the segment never closed
	KeyID      string // master key the destroyed data key was wrapped under
	// Replacements are the segments DestroyRange wrote to keep the parts
	// of this segment outside the range (re-encrypted under new keys).
	Replacements []int64
}

// DestroyResult reports a destruction.
type DestroyResult struct {
	At       int64 // when the keys were destroyed, 90 kHz wall clock
	Segments []DestroyedSegment
}

// Destroy makes segments unrecoverable (crypto-shredding): in one
// transaction it deletes their rows, and with them the wrapped data keys,
// keeping a garbage entry for each; then it unlinks the files, fsyncs the
// directories and forgets the garbage entries. Once it returns without
// error, or once the first step committed and a later step failed, the
// footage is gone; a later Open finishes an interrupted destruction.
// A segment still being written (its row not yet closed) cannot be
// destroyed (errs.Conflict).
func (s *Store) Destroy(ctx context.Context, ids []int64) (*DestroyResult, error) {
	const op = "store.Destroy"
	if len(ids) == 0 {
		return &DestroyResult{At: s.now90k()}, nil
	}
	// Trash refuses rows that are not closed: a segment being written
	// cannot be destroyed. One whose row the syncer has just closed can.
	now := s.now90k()
	g, err := s.idx.Trash(ctx, ids, now)
	if err != nil {
		return nil, errs.E(op, err)
	}
	res := &DestroyResult{At: now}
	for _, r := range g {
		res.Segments = append(res.Segments, DestroyedSegment{ID: r.SegmentID, Camera: r.Camera, Start: r.Start,
			End: r.End, Bytes: r.FileBytes, SHA256: r.SHA256, KeyID: r.KeyID})
	}
	if err := s.step("destroy.trashed"); err != nil {
		return res, errs.E(op, err)
	}
	if c, ok := s.idx.(interface{ Checkpoint(context.Context) error }); ok {
		if err := c.Checkpoint(ctx); err != nil {
			s.log.Warn("checkpointing the index after destruction", "err", err)
		}
	}
	if err := s.removeFiles(ctx, g); err != nil {
		return res, errs.E(op, err)
	}
	return res, nil
}
