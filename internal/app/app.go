// Package app is gwanje's composition root: it opens the stores, starts
// the recorder, health, retention and the web server in that order, and
// closes them in reverse. cmd/gwanje parses flags and calls Start (serve),
// StartDemo (demo) or StartRecording (record); nothing else wires
// components together. docs/design/app.md states the order and what each
// package owns.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/recorder"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/web"
)

// App is a running gwanje: recorder, store, ledger, access, health,
// retention and the web server, wired from one configuration.
type App struct {
	cfg    *config.Config
	log    *slog.Logger
	clk    clock.Clock
	loc    *time.Location // the institution's time zone (zone.go)
	keys   *seal.Keyring
	reg    *registry.Registry
	store  *store.Store
	ledger *ledger.Ledger
	access *access.Service
	gate   *access.Gate // the one way to footage
	rec    *recorder.Recorder
	policy *policy.Store
	// alarms is the alarm Manager (every alarm goes to the log, the
	// journal, webhooks and the dashboard); health its monitoring side.
	alarms *alarm.Manager
	health *healthParts
	// retention destroys due footage and stills.
	retention *retentionParts
	// requests are the data-subject requests (열람등 요구).
	requests *requestParts
	web      *web.Server
	ln       net.Listener
	srv      *http.Server
	timeouts httpTimeouts

	// undo holds what each started step needs to stop, in start order;
	// Close runs it backwards, so a half-started App closes what it
	// started and nothing else.
	undo []func()
	// adminPassword is the first administrator's one-time password when
	// this start created it ("" otherwise). Never printed or logged: it
	// is kept in the file AdminPasswordFile names (the demo uses it).
	adminPassword string
}

// onClose registers f to run when the App closes, before everything
// registered earlier.
func (a *App) onClose(f func()) { a.undo = append(a.undo, f) }

// Start opens everything and starts recording and serving, in this order:
// data directory, registry, master keys, segment store, ledger (and its
// checkpoint loop), access, the first administrator, policy store,
// recorder with the registry's cameras, health, retention, web server,
// listener. On an error it closes what it started and returns the error,
// which names its cause (a registry error its file and line).
func Start(ctx context.Context, cfg *config.Config, log *slog.Logger) (*App, error) {
	return StartWith(ctx, cfg, log, Options{})
}

// Options change gwanje's defaults for a caller that needs to (the
// browser tests).
type Options struct {
	// Clock is the time of access and the footage gate, the ledger, the
	// web server, health, retention, requests and the policy store
	// (default clock.Real). The recorder's ingest stamps frames on the
	// real clock always: footage is recorded in real time
	// (docs/design/decisions.md).
	Clock clock.Clock
}

// StartWith is Start with opt.
func StartWith(ctx context.Context, cfg *config.Config, log *slog.Logger, opt Options) (*App, error) {
	a := newApp(cfg, log)
	if opt.Clock != nil {
		a.clk = opt.Clock
	}
	return a.begin(ctx)
}

// newApp is an App not yet started, with gwanje's defaults (tests change
// them before begin).
func newApp(cfg *config.Config, log *slog.Logger) *App {
	return &App{cfg: cfg, log: log, clk: clock.Real{}, timeouts: defaultTimeouts}
}

// begin starts a; on an error it closes what it started.
func (a *App) begin(ctx context.Context) (*App, error) {
	if err := a.start(ctx); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) start(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	var err error
	if err = os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return err
	}
	if cfg.Registry != "" {
		if a.reg, err = registry.Load(cfg.Registry); err != nil {
			return err
		}
	} else {
		log.Warn("no registry configured: no camera is recorded and no policy is published")
	}
	if a.loc, err = institutionZone(cfg, a.reg); err != nil {
		return err
	}
	if a.keys, err = LoadKeys(cfg.KeyFile(), true, log); err != nil {
		return err
	}
	if err := a.openStores(ctx); err != nil {
		return err
	}
	if err := a.startRecorder(ctx); err != nil {
		return err
	}
	if err := a.startHealth(ctx); err != nil {
		return err
	}
	if err := a.startRetention(ctx); err != nil {
		return err
	}
	if err := a.startRequests(ctx); err != nil {
		return err
	}
	return a.startWeb()
}

// openStores opens the segment store, the ledger with its checkpoint
// loop, the access service (creating the first administrator) and the
// policy store.
func (a *App) openStores(ctx context.Context) error {
	cfg, log := a.cfg, a.log
	var err error
	if a.store, err = store.Open(ctx, store.Config{Dir: cfg.DataDir, Keys: a.keys,
		SegmentDuration: cfg.Recording.SegmentDuration.D(), ChunkDuration: cfg.Recording.ChunkDuration.D(),
		SyncInterval: cfg.Recording.SyncInterval.D(), Logger: log.With("component", "store")}); err != nil {
		return err
	}
	a.onClose(func() {
		if err := a.store.Close(); err != nil {
			a.log.Error("closing the store", "err", err)
		}
	})
	lo := ledger.Options{Dir: cfg.DataDir, KeyPath: cfg.LedgerKeyFile(),
		Witnesses: ledger.ConfigWitnesses(cfg.Ledger.WitnessDir, cfg.Ledger.Syslog), Clock: a.clk, Logger: log.With("component", "ledger")}
	// The 관리대장 page verifies the chain against the configured anchor,
	// as `gwanje ledger verify` does, not against the key in data_dir.
	if p := cfg.Ledger.TrustedPublicKey; p != "" {
		pub, err := ledger.ReadPublicKey(p)
		if err != nil {
			return fmt.Errorf("ledger.trusted_public_key: %w", err)
		}
		lo.Trust = append(lo.Trust, pub)
	}
	if f := cfg.Ledger.TrustedFingerprint; f != "" {
		lo.Fingerprints = append(lo.Fingerprints, f)
	}
	if a.ledger, err = ledger.Open(ctx, lo); err != nil {
		return err
	}
	a.onClose(func() { a.ledger.Close() })
	// Sign a checkpoint even when the ledger is quiet, so the unsealed
	// tail stays short (docs/design/ledger.md).
	cpCtx, stopCheckpoints := context.WithCancel(context.WithoutCancel(ctx))
	cpDone := make(chan struct{})
	go func() { a.ledger.RunCheckpoints(cpCtx); close(cpDone) }()
	a.onClose(func() { stopCheckpoints(); <-cpDone })
	if a.access, err = access.Open(ctx, access.Config{Dir: cfg.DataDir, Ledger: a.ledger, Keys: a.keys,
		TrustedProxies: cfg.TrustedProxies(), Clock: a.clk, Logger: log.With("component", "access"),
		MaxFailures: cfg.Access.Login.MaxFailures, AccountMaxFailures: cfg.Access.Login.AccountMaxFailures,
		MaxAddressFailures: cfg.Access.Login.AddressMaxFailures, FailureWindow: cfg.Access.Login.FailureWindow.D(),
		LockoutDuration: cfg.Access.Login.Lockout.D()}); err != nil {
		return err
	}
	a.onClose(func() { a.access.Close() })
	if err := a.startGate(); err != nil {
		return err
	}
	if a.adminPassword, _, err = a.access.EnsureAdmin(ctx, "admin"); err != nil {
		return err
	}
	if a.adminPassword != "" {
		if err := a.keepAdminPassword(a.adminPassword); err != nil {
			return err
		}
	}
	wctx, stopWatch := context.WithCancel(context.WithoutCancel(ctx))
	watched := make(chan struct{})
	go func() { a.watchAdminPassword(wctx); close(watched) }()
	a.onClose(func() { stopWatch(); <-watched })
	if a.policy, err = policy.OpenStore(filepath.Join(cfg.DataDir, "policy"), a.clk); err != nil {
		return err
	}
	return nil
}

// startRecorder starts recording the registry's cameras, their starts
// spread over recorder.DefaultRamp, and compares the registry with the
// published policy.
func (a *App) startRecorder(ctx context.Context) error {
	a.rec = recorder.New(a.store, ingest.Options{Logger: a.log.With("component", "ingest")})
	a.onClose(func() { a.rec.Close() })
	if a.reg == nil {
		return nil
	}
	cams, err := registryCameras(a.reg, a.cfg.Ingest)
	if err != nil {
		return err
	}
	a.log.Debug("garbage collector", "memory_limit", recorder.TuneGC(len(cams)))
	if err := a.rec.StartAll(ctx, cams, recorder.DefaultRamp(len(cams))); err != nil {
		return err
	}
	a.checkDrift()
	return nil
}

// Close stops serving, retention, health and recording and closes every
// store: the reverse of Start. It is safe on an App that started only in
// part, and a second call does nothing.
func (a *App) Close() {
	for i := len(a.undo) - 1; i >= 0; i-- {
		a.undo[i]()
	}
	a.undo = nil
}

// URL is where the web server listens.
func (a *App) URL() string {
	scheme := "http"
	if a.cfg.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + a.ln.Addr().String() + "/"
}

// facts are the safety measures this running system really takes; the
// policy states only these (plus what the registry declares of rooms and
// locks, which software cannot see).
func (a *App) facts() policy.Facts { return a.factsFor(a.reg) }

// factsFor is facts with reg's declarations (a registry about to be
// published).
func (a *App) factsFor(reg *registry.Registry) policy.Facts {
	f := policy.Facts{
		EncryptionAtRest:     true, // every segment is sealed; there is no plaintext mode
		PasswordProtected:    true, // every footage route needs a session
		DifferentiatedAccess: true, // roles and site-scoped grants
		AccessLogging:        true, // the ledger records every viewing before it happens
		RevokeOnTransfer:     true, // deactivation ends every session at once, and the streams with them
	}
	f = f.Declared(reg)
	// The viewing room is promised only where gwanje enforces it: footage
	// is refused from outside the configured networks.
	rooms, err := a.rooms()
	f.ViewingRoomRestricted = err == nil && rooms.Configured()
	return f
}

// checkDrift compares the running registry with the published policy and
// logs each difference.
func (a *App) checkDrift() {
	live := policy.SnapshotOf(a.reg)
	if _, err := a.policy.CheckDrift(live, a.log.With("component", "policy")); err != nil {
		a.log.Warn("policy drift check failed", "err", err)
	}
}

// registryCameras are the registry's connected cameras as ingest
// configures them, each with its password read from the environment or
// its file.
func registryCameras(reg *registry.Registry, in config.Ingest) ([]ingest.Camera, error) {
	var out []ingest.Camera
	for _, sc := range reg.StreamCameras() {
		pw, err := readSecret(sc.PasswordEnv, sc.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("camera %s: password: %w", sc.ID, err)
		}
		out = append(out, ingest.Camera{ID: sc.ID, URL: sc.URL, Username: sc.Username, Password: pw,
			Transport: ingest.Transport(sc.Transport), ReadTimeout: in.ReadTimeout.D(),
			MaxAccessUnit: int(in.MaxFrameSize), BackoffMin: in.BackoffMin.D(), BackoffMax: in.BackoffMax.D()})
	}
	return out, nil
}
