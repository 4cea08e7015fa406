package app

import (
	"context"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/retention"
)

// retentionParts are the retention side of a running gwanje: the engine
// that destroys due footage (with receipts and 파기 rows) and applies the
// same rules to the still frames of device checks.
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
// in the registry's time zone; the still frames of device checks follow
// the same rules. Call it after startHealth (it raises retention_broken
// through a.alarms); Close undoes it (stopRetention).
func (a *App) startRetention(ctx context.Context) error {
	p := &retentionParts{loc: a.loc}
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
	a.onClose(a.stopRetention)
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	p.wg.Add(1)
	go func() { defer p.wg.Done(); p.engine.Run(rctx) }()
	// The still frames of device checks follow their camera's footage
	// rule (retention.Engine.ExpireStills).
	if a.reg != nil && a.health != nil && a.health.stills != nil {
		var cams []string
		for _, sc := range a.reg.StreamCameras() {
			cams = append(cams, sc.ID)
		}
		p.wg.Add(1)
		go func() { defer p.wg.Done(); p.engine.RunStills(rctx, a.health.stills, cams) }()
	}
	return nil
}

// stopRetention stops the engine (a destruction in progress finishes or is
// completed at the next start, docs/design/retention.md) and closes it.
// Called before the health side closes the alarm store.
func (a *App) stopRetention() {
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
