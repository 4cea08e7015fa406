package app

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/metrics"
	"github.com/gwanje/gwanje/internal/stills"
	"github.com/gwanje/gwanje/internal/web"
)

// healthParts are the monitoring side of a running gwanje: the alarm
// Manager with its store and webhooks, the Monitor (camera and storage
// signals, scheduled checks), the still store and the web handlers.
type healthParts struct {
	alarmStore *alarm.SQLiteStore
	hooks      *alarm.Webhooks
	monitor    *health.Monitor
	stills     *stills.SQLite
	metrics    http.Handler // nil: metrics.access is off
	report     http.Handler
	cancel     context.CancelFunc
	wg         sync.WaitGroup
}

// alarmsPath is the alarm store of a data directory, and legacyJournalPath
// the JSON-lines journal it replaced (imported once, then renamed).
func alarmsPath(dataDir string) string        { return filepath.Join(dataDir, "alarms.db") }
func legacyJournalPath(dataDir string) string { return filepath.Join(dataDir, "alarms.jsonl") }

// startHealth opens the alarm store (restoring its alarms), starts the
// webhooks and the Monitor of the recorder's cameras and of the data
// volume, with the scheduled check at cfg.Health.CheckInterval. Every alarm
// goes to the log, the alarm store, the webhooks and the dashboard. Call it
// after the recorder has started its cameras and before the web server is
// built; Close undoes it (stopHealth).
func (a *App) startHealth(ctx context.Context) error {
	cfg := a.cfg
	h := &healthParts{}
	a.health = h
	a.onClose(a.stopHealth)
	alog := a.log.With("component", "alarm")
	var err error
	if h.alarmStore, err = alarm.OpenSQLite(ctx, alarmsPath(cfg.DataDir), legacyJournalPath(cfg.DataDir)); err != nil {
		return fmt.Errorf("alarm store: %w", err)
	}
	var hooks []alarm.Webhook
	for i, w := range cfg.Alarms.Webhooks {
		hk := alarm.Webhook{URL: w.URL}
		if w.SecretFile != "" {
			b, err := os.ReadFile(w.SecretFile)
			if err != nil {
				return fmt.Errorf("alarms.webhooks[%d].secret_file: %w", i, err)
			}
			hk.Secret = strings.TrimRight(string(b), "\r\n")
		}
		hooks = append(hooks, hk)
	}
	if h.hooks, err = alarm.NewWebhooks(hooks, alarm.WebhookOptions{Clock: a.clk, Logger: alog}); err != nil {
		return err
	}
	a.alarms = alarm.New(alarm.Options{Clock: a.clk, Logger: alog, Store: h.alarmStore, Notify: []alarm.Notifier{h.hooks}})
	if err := a.alarms.Load(ctx); err != nil {
		return fmt.Errorf("alarm store: %w", err)
	}
	if n := len(a.alarms.List(true)); n > 0 {
		a.log.Warn("alarms needing attention carried over from the last run", "alarms", n)
	}

	opt := health.Options{
		Clock: a.clk, Logger: a.log.With("component", "health"), Alarms: a.alarms,
		Segments: a.store, Ledger: a.ledger, CheckInterval: cfg.Health.CheckInterval.D(),
		Thresholds: thresholds(cfg.Health),
		Volumes: []health.Volume{{Name: "data", Dir: cfg.DataDir, WriteErrors: func() uint64 {
			var n uint64
			for _, st := range a.rec.States() {
				n += st.SinkErrors
			}
			return n
		}}},
	}
	if a.reg != nil {
		for _, sc := range a.reg.StreamCameras() {
			if sup, ok := a.rec.Supervisor(sc.ID); ok {
				opt.Cameras = append(opt.Cameras, health.SupervisorCamera(sc.ID, sup, 0))
			}
		}
	}
	if cfg.Health.StillCheck {
		bin := cfg.Health.FFmpeg
		if bin == "" {
			bin = "ffmpeg"
		}
		if _, err := exec.LookPath(bin); err != nil {
			a.log.Warn("health.still_check: ffmpeg not found; scheduled checks run without judging a still frame", "ffmpeg", bin)
		} else {
			opt.Still = health.FFmpegStill{FFmpeg: bin}
			if h.stills, err = stills.Open(ctx, stills.Config{Dir: filepath.Join(cfg.DataDir, "stills"),
				Keys: a.keys, Clock: a.clk, Logger: a.log.With("component", "stills")}); err != nil {
				return err
			}
			opt.Stills = h.stills
		}
	}
	if h.monitor, err = health.NewMonitor(opt); err != nil {
		return err
	}

	h.report = health.ReportHandler(func(ctx context.Context) (health.ReportSources, error) {
		src := health.ReportSources{Ledger: a.ledger, Segments: a.store, Alarms: h.alarmStore}
		if a.reg != nil {
			for _, sc := range a.reg.StreamCameras() {
				src.Cameras = append(src.Cameras, sc.ID)
			}
		}
		return src, nil
	}, a.loc, a.clk)
	if h.metrics, err = metricsHandler(cfg, metrics.Sources{Monitor: h.monitor, Alarms: a.alarms, Webhooks: h.hooks}); err != nil {
		return err
	}

	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	h.wg.Add(2)
	go func() { defer h.wg.Done(); h.hooks.Run(hctx) }()
	go func() { defer h.wg.Done(); h.monitor.Run(hctx) }()
	return nil
}

// thresholds are the Monitor's thresholds from the configuration.
func thresholds(c config.Health) health.Thresholds {
	th := health.DefaultThresholds()
	th.NoVideo = c.NoVideo.D()
	th.RateWindow = c.RateWindow.D()
	th.FrozenWindow = c.FrozenWindow.D()
	th.MinFreeFraction = c.MinFreePercent / 100
	th.MinFreeBytes = uint64(c.MinFree)
	th.MinTimeToFull = c.MinTimeToFull.D()
	return th
}

// metricsHandler builds /metrics with the configured access; nil when off.
func metricsHandler(cfg *config.Config, src metrics.Sources) (http.Handler, error) {
	acc := metrics.Access{}
	switch cfg.Metrics.Access {
	case config.MetricsOff:
		return nil, nil
	case config.MetricsSession:
		acc.Behind = true // web checks the session and the permission
	case config.MetricsToken:
		b, err := os.ReadFile(cfg.Metrics.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("metrics.token_file: %w", err)
		}
		acc.Token = strings.TrimSpace(string(b))
		if len(acc.Token) < 16 {
			return nil, fmt.Errorf("metrics.token_file %s: the token must be at least 16 characters", cfg.Metrics.TokenFile)
		}
	case config.MetricsNetwork:
		acc.Networks = cfg.MetricsNetworks()
	}
	return metrics.Handler(metrics.NewRegistry(src), acc)
}

// healthWebOptions hands the monitoring handlers to the web server.
func (a *App) healthWebOptions(opt *web.Options) {
	h := a.health
	if h == nil {
		return
	}
	opt.Alarms = a.alarms
	opt.Health = h.monitor.Snapshot
	opt.Report = h.report
	if h.stills != nil {
		opt.Stills = h.stills
	}
	opt.Metrics = h.metrics
	if a.cfg.Metrics.Access == config.MetricsSession {
		opt.MetricsPerm = web.Perm(a.cfg.Metrics.Permission)
	}
}

// stopHealth stops the Monitor and the webhooks and closes the alarm store
// and the still store. Called before the recorder stops, so stopping the
// cameras is not reported as an outage.
func (a *App) stopHealth() {
	h := a.health
	if h == nil {
		return
	}
	if h.cancel != nil {
		h.cancel()
		h.wg.Wait()
	}
	if h.stills != nil {
		if err := h.stills.Close(); err != nil {
			a.log.Error("closing the still store", "err", err)
		}
	}
	if h.alarmStore != nil {
		h.alarmStore.Close()
	}
	a.health = nil
}
