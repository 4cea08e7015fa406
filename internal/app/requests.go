package app

import (
	"context"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/requests"
)

// requestParts are the data-subject requests: their store in requests.db
// and the service over it, with its daily sweep (holds released after
// their grace, personal data forgotten after its years).
type requestParts struct {
	store  *requests.SQLiteStore
	svc    *requests.Service
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// startRequests opens requests.db (personal data sealed under the master
// keyring) and the service, whose holds go to the retention engine's hold
// list. It runs after retention (it places holds) and before the web
// server (which serves its routes); Close undoes it.
func (a *App) startRequests(ctx context.Context) error {
	st, err := requests.OpenSQLite(ctx, a.cfg.DataDir, a.keys)
	if err != nil {
		return err
	}
	p := &requestParts{store: st}
	cfg := requests.Config{Store: st, Calendar: requestCalendar(a.reg, a.loc),
		Camera: func(id string) (string, bool) { c, ok := (appCameras{a}).Camera(id); return c.Site, ok },
		Clock:  a.clk, Logger: a.log.With("component", "requests")}
	if a.retention != nil {
		cfg.Holds, cfg.Destroyer = a.retention.engine.Holds(), a.retention.engine
	}
	// Every step's 관리대장 row; the four-eyes count of who handles
	// requests on a site; 존재확인 from the segment index.
	cfg.Ledger, cfg.Footage = a.ledger, footageIndex{a}
	cfg.Holders = func(ctx context.Context, site string) (int, error) {
		return a.access.CountHolders(ctx, access.HandleRequests, site)
	}
	p.svc = requests.New(cfg)
	a.requests = p
	a.onClose(a.stopRequests)
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	p.cancel = cancel
	a.startDueAlarms(sctx, p)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			if err := p.svc.Sweep(sctx); err != nil && sctx.Err() == nil {
				a.log.Error("sweeping data-subject requests", "err", err)
			}
			select {
			case <-sctx.Done():
				return
			case <-a.clk.After(24 * time.Hour):
			}
		}
	}()
	return nil
}

// stopRequests stops the sweep and closes requests.db.
func (a *App) stopRequests() {
	p := a.requests
	if p == nil {
		return
	}
	p.cancel()
	p.wg.Wait()
	if err := p.store.Close(); err != nil {
		a.log.Error("closing requests.db", "err", err)
	}
	a.requests = nil
}
