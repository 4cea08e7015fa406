package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/store"
)

// RetentionConfig configures a retention engine outside `gwanje serve`
// (gwanje retention run and status, on a data directory not in use).
type RetentionConfig struct {
	Dir, KeyFile string             // data directory and master key file
	Registry     *registry.Registry // nil: every camera keeps the 30-day default
	Location     *time.Location
	Config       retention.Config
	Ledger       ledger.Options // the ledger's signing key and witnesses (Dir and Logger are set from the fields here)
	Logger       *slog.Logger
}

// Retention is a retention engine with the store and ledger it opened.
type Retention struct {
	*retention.Engine
	store  *store.Store
	ledger *ledger.Ledger
}

// OpenRetention opens the master keys, the store, the ledger and the
// retention engine of cfg.Dir (completing an interrupted destruction).
func OpenRetention(ctx context.Context, cfg RetentionConfig) (_ *Retention, err error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	keys, err := LoadKeys(cfg.KeyFile, false, log)
	if err != nil {
		return nil, err
	}
	r := &Retention{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.store, err = store.Open(ctx, store.Config{Dir: cfg.Dir, Keys: keys, Logger: log.With("component", "store")}); err != nil {
		return nil, err
	}
	lo := cfg.Ledger
	lo.Dir, lo.Logger = cfg.Dir, log.With("component", "ledger")
	if r.ledger, err = ledger.Open(ctx, lo); err != nil {
		return nil, err
	}
	if r.Engine, err = retention.New(ctx, retention.Options{Store: r.store, Dir: cfg.Dir,
		Rules: retention.RegistryRules(cfg.Registry, log), Location: cfg.Location, Ledger: r.ledger,
		Logger: log.With("component", "retention"), Config: cfg.Config}); err != nil {
		return nil, err
	}
	return r, nil
}

// Close closes the engine, the ledger and the store, in that order.
func (r *Retention) Close() {
	if r.Engine != nil {
		r.Engine.Close()
	}
	if r.ledger != nil {
		r.ledger.Close()
	}
	if r.store != nil {
		r.store.Close()
	}
}
