package app

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/web"
)

// provisionWebOptions opens provisions.db and the provision service
// (제3자 제공, 목적 외 이용) over the gate, the exporter and the retention
// engine's holds, with its hourly sweep (holds released after their grace,
// packages removed after their keep). It runs after exportWebOptions, which
// made the exporter and emptied the export directory its packages live in.
func (a *App) provisionWebOptions(opt *web.Options) error {
	ctx := context.Background()
	st, err := provision.OpenSQLite(ctx, a.cfg.DataDir)
	if err != nil {
		return err
	}
	cfg := provision.Config{Store: st, Access: a.access, Gate: a.gate, Exporter: opt.Exporter,
		Camera: func(id string) (string, bool) { c, ok := (appCameras{a}).Camera(id); return c.Site, ok },
		Zoned:  func(id string) bool { return len((appCameras{a}).PrivacyZones(id)) > 0 },
		Dir:    filepath.Join(opt.ExportDir, "provisions"), ViewTTL: opt.ViewTTL,
		Clock: a.clk, Logger: a.log.With("component", "provision")}
	if a.retention != nil {
		cfg.Holds = a.retention.engine.Holds()
	}
	svc := provision.New(cfg)
	opt.Provisions = svc
	sctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if err := svc.Sweep(sctx); err != nil && sctx.Err() == nil {
				a.log.Error("sweeping provisions", "err", err)
			}
			select {
			case <-sctx.Done():
				return
			case <-a.clk.After(time.Hour):
			}
		}
	}()
	a.onClose(func() {
		cancel()
		wg.Wait()
		if err := st.Close(); err != nil {
			a.log.Error("closing provisions.db", "err", err)
		}
	})
	return nil
}
