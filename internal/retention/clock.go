package retention

import (
	"context"
	"log/slog"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// AcceptClock records t as the time of the last retention run in data
// directory dir's retention.db, so that a run refused because the clock
// moved more than max_clock_step ahead proceeds. It works while the
// recorder runs.
func AcceptClock(ctx context.Context, dir string, t time.Time, actor string, log *slog.Logger) error {
	d, err := openDB(ctx, dir)
	if err != nil {
		return errs.E("retention.AcceptClock", err)
	}
	defer d.close()
	if err := d.setLastRun(ctx, media.Time90k(t)); err != nil {
		return errs.E("retention.AcceptClock", err)
	}
	if log != nil {
		log.Warn("retention clock accepted", "at", t, "actor", actor)
	}
	return nil
}
