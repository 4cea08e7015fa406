package retention

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/stills"
)

// Stills is what retention needs of the still store (stills.Store): the
// still frames of the device checks are footage of people, kept no longer
// than the recording they were taken from.
type Stills interface {
	List(ctx context.Context, camera string, from, to time.Time) ([]stills.Still, error)
	Delete(ctx context.Context, id int64) (stills.Still, error)
}

// RunStills runs ExpireStills at once and then every Config.Interval until
// ctx ends, logging failures; it returns ctx's error.
func (e *Engine) RunStills(ctx context.Context, st Stills, cameras []string) error {
	for {
		if err := e.ExpireStills(ctx, st, cameras); err != nil && ctx.Err() == nil {
			e.log.Error("destroying due still frames", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.clk.After(e.cfg.Interval.D()):
		}
	}
}

// ExpireStills is one run of still retention: for each camera, the stills
// recorded before the camera's keep-since time (the same cut-off as its
// footage) are destroyed, except those an active hold covers, with one
// 파기 row per camera naming each destroyed still, its size, its hash and
// its key id.
func (e *Engine) ExpireStills(ctx context.Context, st Stills, cameras []string) error {
	const op = "retention.ExpireStills"
	holds, err := e.holds.List(ctx, false)
	if err != nil {
		return err
	}
	now := e.clk.Now()
	for _, cam := range cameras {
		ret := e.opt.Rules.Retention(cam)
		due, err := st.List(ctx, cam, time.Unix(0, 0), KeepSince(ret, now, e.loc))
		if err != nil {
			return err
		}
		var gone []stills.Still
		for _, s := range due {
			at := media.Time90k(s.RecordedAt)
			if heldBy(holds, cam, at, at+1) {
				continue
			}
			d, err := st.Delete(ctx, s.ID)
			if err != nil {
				return err
			}
			gone = append(gone, d)
		}
		if len(gone) == 0 {
			continue
		}
		var b strings.Builder
		from, to := gone[0].RecordedAt, gone[0].RecordedAt
		for _, s := range gone {
			fmt.Fprintf(&b, "still %d %s %dB sha256:%s key:%s; ", s.ID, s.RecordedAt.UTC().Format(time.RFC3339),
				s.Bytes, hex.EncodeToString(s.SHA256), s.KeyID)
			if s.RecordedAt.Before(from) {
				from = s.RecordedAt
			}
			if s.RecordedAt.After(to) {
				to = s.RecordedAt
			}
		}
		en := ledger.Entry{Kind: ledger.Destruction, Site: e.opt.Rules.Site(cam), Cameras: []string{cam},
			From: from, To: to.Add(time.Second), Object: fmt.Sprintf("점검 정지화상 %d건", len(gone)),
			Purpose: "보관기간 경과 (" + ret.Korean() + ")", Form: "암호키 파기 및 파일 삭제",
			Detail: strings.TrimSuffix(b.String(), "; ")}
		if _, err := e.opt.Ledger.Append(ctx, en); err != nil {
			// The stills are gone; say so where it cannot be missed.
			e.log.Error("still frames destroyed but their 파기 row could not be written", "camera", cam,
				"stills", len(gone), "err", err)
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}
