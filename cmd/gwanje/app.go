package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/recorder"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/web"
)

// app is a running gwanje: recorder, store, ledger, access and the web
// server, wired from one configuration.
type app struct {
	cfg    *config.Config
	log    *slog.Logger
	clk    clock.Clock
	keys   *seal.Keyring
	reg    *registry.Registry
	store  *store.Store
	ledger *ledger.Ledger
	access *access.Service
	rec    *recorder.Recorder
	policy *policy.Store
	web    *web.Server
	// alarms is the alarm Manager (every alarm goes to the log, the
	// journal, webhooks and the dashboard); health its monitoring side
	// (cmd/gwanje/health.go).
	alarms *alarm.Manager
	health *healthParts
	// retention destroys due footage and stills (cmd/gwanje/retain.go).
	retention *retentionParts
	ln        net.Listener
	// stopCheckpoints ends the ledger's checkpoint loop before it closes.
	stopCheckpoints func()
	srv             *http.Server
	// AdminPassword is the first administrator's one-time password when
	// this start created it ("" otherwise). Shown once, never logged.
	AdminPassword string
}

// openKeys loads the master keys from GWANJE_MASTER_KEY or the key file,
// creating the key file on first start.
func openKeys(path string, log *slog.Logger) (*seal.Keyring, error) {
	if v := os.Getenv("GWANJE_MASTER_KEY"); v != "" {
		return seal.ParseKeyring("environment variable GWANJE_MASTER_KEY", []byte(v))
	}
	k, err := seal.LoadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	k, err = seal.CreateKeyFile(path)
	if err == nil {
		log.Warn("created a new footage master key: back it up apart from the footage, or every recording is lost with it",
			"file", path, "key_id", k.Active())
	}
	return k, err
}

// readSecret reads a camera password from the environment or a file.
func readSecret(envName, file string) (string, error) {
	switch {
	case envName != "":
		v := os.Getenv(envName)
		if v == "" {
			return "", fmt.Errorf("environment variable %s is empty", envName)
		}
		return v, nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", nil
}

// startApp opens everything and starts recording and serving.
func startApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (a *app, err error) {
	a = &app{cfg: cfg, log: log, clk: clock.Real{}}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, err
	}
	if cfg.Registry != "" {
		if a.reg, err = registry.Load(cfg.Registry); err != nil {
			return nil, err
		}
	} else {
		log.Warn("no registry configured: no camera is recorded and no policy is published")
	}
	if a.keys, err = openKeys(cfg.KeyFile(), log); err != nil {
		return nil, err
	}
	if a.store, err = store.Open(ctx, store.Config{Dir: cfg.DataDir, Keys: a.keys,
		SegmentDuration: cfg.Recording.SegmentDuration.D(), ChunkDuration: cfg.Recording.ChunkDuration.D(),
		SyncInterval: cfg.Recording.SyncInterval.D(), Logger: log.With("component", "store")}); err != nil {
		return nil, err
	}
	if a.ledger, err = ledger.Open(ctx, ledger.Options{Dir: cfg.DataDir, Logger: log.With("component", "ledger")}); err != nil {
		return nil, err
	}
	// Sign a checkpoint even when the ledger is quiet, so the unsealed
	// tail stays short (docs/design/ledger.md).
	cpCtx, stopCheckpoints := context.WithCancel(ctx)
	cpDone := make(chan struct{})
	go func() { a.ledger.RunCheckpoints(cpCtx); close(cpDone) }()
	a.stopCheckpoints = func() { stopCheckpoints(); <-cpDone }
	if a.access, err = access.Open(ctx, access.Config{Dir: cfg.DataDir, Ledger: a.ledger,
		Logger: log.With("component", "access")}); err != nil {
		return nil, err
	}
	if a.AdminPassword, _, err = a.access.EnsureAdmin(ctx, "admin"); err != nil {
		return nil, err
	}
	if a.policy, err = policy.OpenStore(filepath.Join(cfg.DataDir, "policy"), a.clk); err != nil {
		return nil, err
	}

	a.rec = recorder.New(a.store, ingest.Options{Logger: log.With("component", "ingest")})
	if a.reg != nil {
		cams := a.reg.StreamCameras()
		log.Debug("garbage collector", "memory_limit", recorder.TuneGC(len(cams)))
		// Cameras start a few milliseconds apart (at most 5 s in all), so
		// hundreds of first segments, each an index commit, do not all
		// wait at once with their frames queued in memory.
		step := time.Duration(0)
		if len(cams) > 1 {
			step = min(time.Duration(len(cams))*20*time.Millisecond, 5*time.Second) / time.Duration(len(cams)-1)
		}
		for i, sc := range cams {
			if i > 0 && step > 0 {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(step):
				}
			}
			pw, err := readSecret(sc.PasswordEnv, sc.PasswordFile)
			if err != nil {
				return nil, fmt.Errorf("camera %s: password: %w", sc.ID, err)
			}
			cam := ingest.Camera{ID: sc.ID, URL: sc.URL, Username: sc.Username, Password: pw,
				Transport: ingest.Transport(sc.Transport), ReadTimeout: cfg.Ingest.ReadTimeout.D(),
				MaxAccessUnit: int(cfg.Ingest.MaxFrameSize), BackoffMin: cfg.Ingest.BackoffMin.D(),
				BackoffMax: cfg.Ingest.BackoffMax.D()}
			if err := a.rec.Start(ctx, cam); err != nil {
				return nil, err
			}
		}
		a.checkDrift()
	}
	if err := a.startHealth(ctx); err != nil {
		return nil, err
	}
	if err := a.startRetention(ctx); err != nil {
		return nil, err
	}

	opt := web.Options{
		Guard:    web.AccessGuard{S: a.access, Clock: a.clk},
		Accounts: web.AccountRoutes(&access.Handlers{S: a.access}),
		Cameras:  appCameras{a},
		Footage:  playback.StoreSource{Store: a.store},
		Summaries: func(ctx context.Context) (map[string][2]time.Time, error) {
			sums, err := a.store.Cameras(ctx)
			if err != nil {
				return nil, err
			}
			out := map[string][2]time.Time{}
			for _, s := range sums {
				out[s.Camera] = [2]time.Time{media.FromTime90k(s.Oldest).UTC(), media.FromTime90k(s.Newest).UTC()}
			}
			return out, nil
		},
		Ledger: a.ledger,
		Policy: a.policy.Handler(log.With("component", "policy")),
		TLS:    cfg.TLSCert != "",
		Clock:  a.clk,
		Logger: log.With("component", "web"),
	}
	a.healthWebOptions(&opt)
	if a.retention != nil {
		opt.Retention = webRetention{a.retention.engine}
	}
	if a.web, err = web.New(opt); err != nil {
		return nil, err
	}
	if a.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, err
	}
	a.srv = &http.Server{Handler: a.web, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	go func() {
		var err error
		if cfg.TLSCert != "" {
			err = a.srv.ServeTLS(a.ln, cfg.TLSCert, cfg.TLSKey)
		} else {
			err = a.srv.Serve(a.ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("http server stopped", "err", err)
		}
	}()
	return a, nil
}

// URL is where the web server listens.
func (a *app) URL() string {
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + a.ln.Addr().String() + "/"
}

// facts are the safety measures this running system really takes; the
// policy states only these (plus what the registry declares of rooms and
// locks, which software cannot see).
func (a *app) facts() policy.Facts {
	f := policy.Facts{
		EncryptionAtRest:     true, // every segment is sealed; there is no plaintext mode
		PasswordProtected:    true, // every footage route needs a session
		DifferentiatedAccess: true, // roles and site-scoped grants
		AccessLogging:        true, // the ledger records every viewing before it happens
		RevokeOnTransfer:     true, // deactivation ends every session at once
	}
	return f.Declared(a.reg)
}

// checkDrift compares the running registry with the published policy and
// logs each difference.
func (a *app) checkDrift() {
	live := policy.SnapshotOf(a.reg)
	if _, err := a.policy.CheckDrift(live, a.log.With("component", "policy")); err != nil {
		a.log.Warn("policy drift check failed", "err", err)
	}
}

// Close stops recording and serving and closes every store, in order.
func (a *app) Close() {
	if a.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.srv.Shutdown(ctx)
		cancel()
	} else if a.ln != nil {
		a.ln.Close()
	}
	if a.web != nil {
		a.web.Close()
	}
	a.stopRetention()
	a.stopHealth()
	if a.rec != nil {
		a.rec.Close()
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Error("closing the store", "err", err)
		}
	}
	if a.access != nil {
		a.access.Close()
	}
	if a.stopCheckpoints != nil {
		a.stopCheckpoints()
	}
	if a.ledger != nil {
		a.ledger.Close()
	}
}

// appCameras answers web's questions about cameras from the registry and
// the recorder.
type appCameras struct{ a *app }

func (c appCameras) Camera(id string) (web.CameraInfo, bool) {
	if c.a.reg == nil {
		return web.CameraInfo{}, false
	}
	site, group, cam, ok := c.a.reg.Camera(id)
	if !ok {
		return web.CameraInfo{}, false
	}
	name := cam.Name
	if name == "" {
		name = group.Location
	}
	return web.CameraInfo{ID: id, Name: name, Site: site.ID}, true
}

func (c appCameras) List() []web.CameraInfo {
	var out []web.CameraInfo
	if c.a.reg == nil {
		return out
	}
	for _, sc := range c.a.reg.StreamCameras() {
		if ci, ok := c.Camera(sc.ID); ok {
			out = append(out, ci)
		}
	}
	return out
}

func (c appCameras) State(id string) (ingest.State, bool) {
	sup, ok := c.a.rec.Supervisor(id)
	if !ok {
		return ingest.State{}, false
	}
	return sup.State(), true
}

func (c appCameras) Subscribe(id string) (*ingest.Subscription, bool) {
	sup, ok := c.a.rec.Supervisor(id)
	if !ok {
		return nil, false
	}
	return sup.Subscribe(64), true
}
