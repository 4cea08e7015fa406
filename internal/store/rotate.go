package store

import (
	"context"

	"github.com/gwanje/gwanje/internal/errs"
)

// RotateBatch is how many rows Rotate rewraps per transaction.
const RotateBatch = 500

// Rotate rewraps the data key of every segment not under the active master
// key, RotateBatch rows per transaction, and returns how many it rewrapped.
// It can be interrupted and run again. Once it returns without error, no
// segment needs an older key.
func (s *Store) Rotate(ctx context.Context) (int, error) {
	const op = "store.Rotate"
	active := s.cfg.Keys.Active()
	total := 0
	for {
		rows, err := s.idx.NotUnder(ctx, active, RotateBatch)
		if err != nil {
			return total, errs.E(op, err)
		}
		if len(rows) == 0 {
			return total, nil
		}
		us := make([]KeyUpdate, 0, len(rows))
		for _, r := range rows {
			w, id, err := s.cfg.Keys.Rewrap(r.WrappedKey, r.ID, r.KeyID)
			if err != nil {
				return total, errs.E(op, errs.Corrupt, err)
			}
			us = append(us, KeyUpdate{ID: r.ID, OldKeyID: r.KeyID, KeyID: id, WrappedKey: w})
		}
		if err := s.idx.Rewrap(ctx, us); err != nil {
			return total, errs.E(op, err)
		}
		total += len(us)
	}
}
