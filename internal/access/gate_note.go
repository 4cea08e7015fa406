package access

import (
	"context"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Note appends a second row about the access to the ledger: the access's
// own row again (kind, actor, cameras, range, purpose, the columns of a
// provision, its reference) with detail saying what became of it, e.g.
// "cancelled; export=12" for an export cancelled before its package was
// made. The first row stays as it was (the ledger is append-only); this
// one completes it. It is written whether or not the access has ended.
func (h *Handle) Note(ctx context.Context, detail string) (uint64, error) {
	const op = "access.Handle.Note"
	e := h.Entry
	e.Seq, e.Prev, e.Hash = 0, [32]byte{}, [32]byte{}
	e.Time = time.Time{} // the ledger stamps it
	e.Cameras = append([]string(nil), e.Cameras...)
	e.Detail = detail
	row, err := h.g.s.cfg.Ledger.Append(ctx, e)
	if err != nil {
		h.g.s.cfg.Logger.Error("an access's outcome could not be ledgered", "seq", h.Entry.Seq, "err", err)
		return 0, errs.E(op, errs.Unavailable, err)
	}
	return row.Seq, nil
}
