// Package retention keeps the retention promises of the 운영·관리 방침:
// footage is destroyed when its retention period, counted from the
// recording date in the institution's time zone, has passed; the oldest
// footage goes first when a storage volume runs out of room (with an alarm
// when that breaks the promise); footage under a hold is never destroyed;
// and every destruction is crypto-shredding with an Ed25519-signed receipt
// and one 파기 row per camera in the ledger. docs/design/retention.md states
// the rules, the formats and the crash-safety procedure.
package retention

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/store"
)

// Defaults for Config.
const (
	DefaultInterval        = time.Minute
	DefaultBatchSize       = 4096
	DefaultClockMargin     = 10 * time.Minute
	DefaultMaxClockStep    = 48 * time.Hour
	DefaultHeadroomPercent = 5
)

// Config is the retention section of gwanje's configuration (YAML key
// "retention"); the zero value gets the defaults.
type Config struct {
	// Interval is how often the engine runs. Default 1m.
	Interval config.Duration `yaml:"interval"`
	// BatchSize is how many segments one index transaction destroys.
	// Default 4096.
	BatchSize int `yaml:"batch_size"`
	// ClockMargin: a run is refused while the clock is behind the newest
	// recorded footage by more than this (the clock went back). Default 10m.
	ClockMargin config.Duration `yaml:"clock_margin"`
	// MaxClockStep: a run is refused while the clock is ahead of the last
	// run by more than this (the clock may have jumped forward), until an
	// operator accepts the clock. Default 48h.
	MaxClockStep config.Duration `yaml:"max_clock_step"`
	// Capacity limits the footage on the data directory's volume.
	Capacity Capacity `yaml:"capacity"`
}

// Capacity is a storage volume's limits. Any limit set and exceeded starts
// capacity deletion; zero means unset.
type Capacity struct {
	// Quota is the most bytes of footage (segment files) to keep.
	Quota config.ByteSize `yaml:"quota"`
	// MaxUsedPercent is the most of the file system, in percent, that may
	// be in use (by anything).
	MaxUsedPercent float64 `yaml:"max_used_percent"`
	// MinFree is the least free space to keep on the file system.
	MinFree config.ByteSize `yaml:"min_free"`
	// HeadroomPercent: deletion frees this much below the limit, so that
	// it does not run again a minute later. Default 5.
	HeadroomPercent float64 `yaml:"headroom_percent"`
}

func (c *Config) defaults() {
	if c.Interval <= 0 {
		c.Interval = config.Duration(DefaultInterval)
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.ClockMargin <= 0 {
		c.ClockMargin = config.Duration(DefaultClockMargin)
	}
	if c.MaxClockStep <= 0 {
		c.MaxClockStep = config.Duration(DefaultMaxClockStep)
	}
	if c.Capacity.HeadroomPercent <= 0 {
		c.Capacity.HeadroomPercent = DefaultHeadroomPercent
	}
}

// Validate reports a configuration error, naming the key.
func (c *Config) Validate() error {
	const op = "retention.Config.Validate"
	switch {
	case c.BatchSize < 0 || c.BatchSize > 100000:
		return errs.Errorf(op, errs.Invalid, "retention.batch_size %d: want 1 to 100000", c.BatchSize)
	case c.Capacity.MaxUsedPercent < 0 || c.Capacity.MaxUsedPercent >= 100:
		return errs.Errorf(op, errs.Invalid, "retention.capacity.max_used_percent %v: want more than 0 and less than 100", c.Capacity.MaxUsedPercent)
	case c.Capacity.HeadroomPercent < 0 || c.Capacity.HeadroomPercent >= 50:
		return errs.Errorf(op, errs.Invalid, "retention.capacity.headroom_percent %v: want 0 to 50", c.Capacity.HeadroomPercent)
	case c.Capacity.Quota < 0 || c.Capacity.MinFree < 0:
		return errs.Errorf(op, errs.Invalid, "retention.capacity: quota and min_free cannot be negative")
	}
	return nil
}

// Rules says what each camera's published policy promises.
type Rules interface {
	// Retention is the camera's promised retention period.
	Retention(camera string) registry.Retention
	// Site is the camera's site id ("" if unknown), for the ledger.
	Site(camera string) string
}

// CapacityRules is implemented by Rules that know whether a camera's
// published policy announces early deletion by capacity (the registry's
// capacity rule). Where it does, capacity deletion before the retention
// period ends is a 파기 by capacity as announced, with no broken-promise
// alarm; where it does not, or the Rules cannot say, it is a broken promise.
type CapacityRules interface {
	EarlyCapacityDeletion(camera string) bool
}

// earlyAnnounced reports whether the camera's policy announces early
// deletion by capacity.
func (e *Engine) earlyAnnounced(camera string) bool {
	cr, ok := e.opt.Rules.(CapacityRules)
	return ok && cr.EarlyCapacityDeletion(camera)
}

// RegistryRules reads the rules from the registry: a camera's site
// retention, or the 30-day default with a warning logged once per camera
// (reg may be nil: every camera gets the default); and the site's capacity
// rule, or the institution's for a camera in no site.
func RegistryRules(reg *registry.Registry, log *slog.Logger) Rules {
	return &registryRules{reg: reg, log: log}
}

type registryRules struct {
	reg    *registry.Registry
	log    *slog.Logger
	warned sync.Map
}

func (r *registryRules) Retention(camera string) registry.Retention {
	if _, done := r.warned.Load(camera); done {
		return r.reg.RetentionOrDefault(camera, nil)
	}
	r.warned.Store(camera, true)
	return r.reg.RetentionOrDefault(camera, r.log)
}

func (r *registryRules) EarlyCapacityDeletion(camera string) bool {
	if r.reg == nil {
		return false
	}
	s, _, _, _ := r.reg.Camera(camera)
	return r.reg.CapacityRule(s).Early()
}

func (r *registryRules) Site(camera string) string {
	if r.reg == nil {
		return ""
	}
	if s, _, _, ok := r.reg.Camera(camera); ok {
		return s.ID
	}
	return ""
}

// Alarms is what the engine needs of alarm.Manager.
type Alarms interface {
	Raise(kind alarm.Kind, subject string, sev alarm.Severity, message string) (alarm.Alarm, bool)
	Clear(kind alarm.Kind, subject string) (alarm.Alarm, bool)
}

// Options are an Engine's dependencies.
type Options struct {
	// Store is the open segment store (required).
	Store *store.Store
	// Dir is the data directory: retention.db and receipts/ live there
	// (required).
	Dir string
	// KeyPath is the receipt signing key; default <Dir>/keys/receipt-signing.key,
	// created on first use.
	KeyPath string
	// Rules gives each camera's promised retention; nil gives every camera
	// the 30-day default (with a warning).
	Rules Rules
	// Location is the institution's time zone; default Asia/Seoul.
	Location *time.Location
	// Ledger receives one 파기 row per camera per destruction (required).
	Ledger ledger.Appender
	// Alarms receives the retention-broken alarms; nil only logs them.
	Alarms Alarms
	Clock  clock.Clock
	Logger *slog.Logger
	Config Config
	// StatFS reports the total and free bytes of the file system holding
	// path; default statfs(2). Tests fake a small disk with it.
	StatFS func(path string) (total, free int64, err error)
}

// Engine applies retention and capacity rules and destroys footage with
// receipts. Its methods are safe for concurrent use; destructions run one
// at a time.
type Engine struct {
	opt   Options
	cfg   Config
	log   *slog.Logger
	clk   clock.Clock
	loc   *time.Location
	st    *store.Store
	db    *db
	holds *Holds
	key   *Key

	mu sync.Mutex // one destruction at a time

	// hook, if set, is called at named steps of a destruction; an error
	// aborts there, simulating a crash (tests).
	hook func(step string) error
}

// New opens the engine's state in opt.Dir (retention.db, the receipt key,
// receipts/) and completes any destruction a crash interrupted, so that
// every destroyed segment has its receipt and ledger row.
func New(ctx context.Context, opt Options) (*Engine, error) {
	const op = "retention.New"
	switch {
	case opt.Store == nil:
		return nil, errs.Errorf(op, errs.Invalid, "no store")
	case opt.Dir == "":
		return nil, errs.Errorf(op, errs.Invalid, "no data directory")
	case opt.Ledger == nil:
		return nil, errs.Errorf(op, errs.Invalid, "no ledger: every destruction must be recorded")
	}
	cfg := opt.Config
	if err := cfg.Validate(); err != nil {
		return nil, errs.E(op, err)
	}
	cfg.defaults()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Location == nil {
		loc, err := time.LoadLocation("Asia/Seoul")
		if err != nil {
			loc = time.FixedZone("KST", 9*3600)
		}
		opt.Location = loc
	}
	if opt.Rules == nil {
		opt.Rules = RegistryRules(nil, opt.Logger)
	}
	if opt.KeyPath == "" {
		opt.KeyPath = DefaultKeyPath(opt.Dir)
	}
	if opt.StatFS == nil {
		opt.StatFS = statFS
	}
	key, err := LoadOrCreateKey(opt.KeyPath)
	if err != nil {
		return nil, errs.E(op, err)
	}
	d, err := openDB(ctx, opt.Dir)
	if err != nil {
		return nil, errs.E(op, err)
	}
	e := &Engine{opt: opt, cfg: cfg, log: opt.Logger, clk: opt.Clock, loc: opt.Location, st: opt.Store, db: d, key: key,
		holds: NewHolds(&SQLiteHolds{db: d.sql}, opt.Ledger, opt.Clock.Now)}
	if err := e.recoverPending(ctx); err != nil {
		d.close()
		return nil, errs.E(op, err)
	}
	return e, nil
}

// Close closes retention.db. It does not close the store.
func (e *Engine) Close() error { return e.db.close() }

// Holds is the hold list (add, release, list).
func (e *Engine) Holds() *Holds { return e.holds }

// Key is the receipt signing key.
func (e *Engine) Key() *Key { return e.key }

// Run runs RunOnce at once and then every Config.Interval until ctx ends,
// logging failures; it returns ctx's error.
func (e *Engine) Run(ctx context.Context) error {
	for {
		if _, err := e.RunOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("retention run failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-e.clk.After(e.cfg.Interval.D()):
		}
	}
}

// alarm raises (or, with message "", clears) a retention-broken alarm and
// logs it.
func (e *Engine) alarm(subject, message string) {
	if message == "" {
		if e.opt.Alarms != nil {
			if _, changed := e.opt.Alarms.Clear(alarm.RetentionBroken, subject); changed {
				e.log.Info("retention promise kept again", "subject", subject)
			}
		}
		return
	}
	e.log.Warn("retention promise broken", "subject", subject, "message", message)
	if e.opt.Alarms != nil {
		e.opt.Alarms.Raise(alarm.RetentionBroken, subject, alarm.Critical, message)
	}
}
