package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/retention"
)

// retentionParts are the retention side of a running gwanje: the engine
// that destroys due footage (with receipts and 파기 rows) and the loop
// that applies the same rules to the still frames of device checks.
type retentionParts struct {
	engine *retention.Engine
	rules  retention.Rules
	loc    *time.Location
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// retentionConfig maps the configuration's retention section onto the
// engine's options (the config package validates it, with its line).
func retentionConfig(c config.Retention) retention.Config {
	return retention.Config{
		Interval: c.Interval, BatchSize: c.BatchSize, ClockMargin: c.ClockMargin, MaxClockStep: c.MaxClockStep,
		Capacity: retention.Capacity{Quota: c.Capacity.Quota, MaxUsedPercent: c.Capacity.MaxUsedPercent,
			MinFree: c.Capacity.MinFree, HeadroomPercent: c.Capacity.HeadroomPercent},
	}
}

// startRetention opens the retention engine on the store and the ledger
// and runs it every retention.interval. The promised periods come from
// the registry (30 days with a warning for a camera without one), counted
// in the registry's time zone. Call it after startHealth (it raises
// retention_broken through a.alarms); stopRetention undoes it.
func (a *app) startRetention(ctx context.Context) error {
	p := &retentionParts{loc: a.cfg.Location()}
	if a.reg != nil {
		p.loc = a.reg.Location()
	}
	p.rules = retention.RegistryRules(a.reg, a.log.With("component", "retention"))
	opt := retention.Options{
		Store: a.store, Dir: a.cfg.DataDir, Rules: p.rules, Location: p.loc, Ledger: a.ledger,
		Clock: a.clk, Logger: a.log.With("component", "retention"), Config: retentionConfig(a.cfg.Retention),
	}
	if a.alarms != nil {
		opt.Alarms = a.alarms
	}
	var err error
	if p.engine, err = retention.New(ctx, opt); err != nil {
		return err
	}
	a.retention = p
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.engine.Run(rctx) }()
	if a.reg != nil && a.health != nil && a.health.stills != nil {
		p.wg.Add(1)
		go func() { defer p.wg.Done(); a.runStillRetention(rctx, a.cfg.Retention.Interval.D()) }()
	}
	return nil
}

// stopRetention stops the engine (a destruction in progress finishes or is
// completed at the next start, docs/design/retention.md) and closes it.
// Called before the health side closes the alarm journal.
func (a *app) stopRetention() {
	p := a.retention
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	if err := p.engine.Close(); err != nil {
		a.log.Error("closing the retention engine", "err", err)
	}
	a.retention = nil
}

// runStillRetention destroys the still frames kept by device checks by
// the camera's footage rule: a still is footage of people, kept no longer
// than the recording it was taken from, and kept while a hold covers it.
func (a *app) runStillRetention(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.expireStills(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("destroying due still frames", "component", "retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// expireStills is one run of still retention: for each camera, the stills
// recorded before the camera's keep-since time are destroyed, except those
// an active hold covers, with one 파기 row per camera naming each
// destroyed still, its size, its hash and its key id.
func (a *app) expireStills(ctx context.Context) error {
	p, st := a.retention, a.health.stills
	holds, err := p.engine.Holds().List(ctx, false)
	if err != nil {
		return err
	}
	now := a.clk.Now()
	for _, sc := range a.reg.StreamCameras() {
		ret := p.rules.Retention(sc.ID)
		due, err := st.List(ctx, sc.ID, time.Unix(0, 0), retention.KeepSince(ret, now, p.loc))
		if err != nil {
			return err
		}
		var gone []health.Still
		for _, s := range due {
			if slices.ContainsFunc(holds, func(h retention.Hold) bool {
				return (len(h.Cameras) == 0 || slices.Contains(h.Cameras, sc.ID)) &&
					!s.RecordedAt.Before(h.From) && s.RecordedAt.Before(h.To)
			}) {
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
			from, to = minTime(from, s.RecordedAt), maxTime(to, s.RecordedAt)
		}
		e := ledger.Entry{Kind: ledger.Destruction, Site: p.rules.Site(sc.ID), Cameras: []string{sc.ID},
			From: from, To: to.Add(time.Second), Object: fmt.Sprintf("점검 정지화상 %d건", len(gone)),
			Purpose: "보관기간 경과 (" + ret.Korean() + ")", Form: "암호키 파기 및 파일 삭제",
			Detail: strings.TrimSuffix(b.String(), "; ")}
		if _, err := a.ledger.Append(ctx, e); err != nil {
			// The stills are gone; say so where it cannot be missed.
			a.log.Error("still frames destroyed but their 파기 row could not be written", "camera", sc.ID,
				"stills", len(gone), "err", err)
			return err
		}
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// webRetention adapts the engine to what the web server needs.
type webRetention struct{ e *retention.Engine }

func (w webRetention) Status(ctx context.Context) (*retention.Status, error) { return w.e.Status(ctx) }
func (w webRetention) Holds(ctx context.Context, all bool) ([]retention.Hold, error) {
	return w.e.Holds().List(ctx, all)
}
func (w webRetention) Hold(ctx context.Context, h retention.Hold) (retention.Hold, error) {
	return w.e.Holds().Add(ctx, h)
}
func (w webRetention) Release(ctx context.Context, id int64, actor string) error {
	return w.e.Holds().Release(ctx, id, actor)
}
