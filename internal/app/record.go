package app

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/recorder"
	"github.com/gwanje/gwanje/internal/store"
)

// RecordingConfig configures a recorder without the web server (gwanje
// record).
type RecordingConfig struct {
	Dir, KeyFile    string // data directory and master key file
	SegmentDuration time.Duration
	Cameras         []ingest.Camera
	// Ramp spreads the cameras' starts over this long; negative means
	// recorder.DefaultRamp.
	Ramp time.Duration
	// Discard receives and assembles the cameras' frames but stores
	// nothing (benchmarks: the cost of ingest alone).
	Discard bool
	Logger  *slog.Logger
}

// Recording is a running recorder: store and recorder, or with Discard
// the ingest supervisors alone.
type Recording struct {
	store *store.Store
	rec   *recorder.Recorder
	// Discard: the supervisors, stopped by cancel.
	sups   []*ingest.Supervisor
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// StartRecording opens the master keys (creating the key file on first
// run) and the store in cfg.Dir and starts recording cfg.Cameras, their
// starts spread over cfg.Ramp.
func StartRecording(ctx context.Context, cfg RecordingConfig) (*Recording, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log.Debug("garbage collector", "memory_limit", recorder.TuneGC(len(cfg.Cameras)))
	if cfg.Ramp < 0 {
		cfg.Ramp = recorder.DefaultRamp(len(cfg.Cameras))
	}
	if cfg.Discard {
		return startDiscard(ctx, cfg.Cameras, log)
	}
	keys, err := LoadKeys(cfg.KeyFile, true, log)
	if err != nil {
		return nil, err
	}
	r := &Recording{}
	if r.store, err = store.Open(ctx, store.Config{Dir: cfg.Dir, Keys: keys, SegmentDuration: cfg.SegmentDuration, Logger: log}); err != nil {
		return nil, err
	}
	r.rec = recorder.New(r.store, ingest.Options{Logger: log})
	if err := r.rec.StartAll(ctx, cfg.Cameras, cfg.Ramp); err != nil && ctx.Err() == nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// discardSink takes frames and keeps nothing.
type discardSink struct{}

func (discardSink) WriteFrame(*media.Frame) error { return nil }
func (discardSink) Break(string)                  {}
func (discardSink) CopiesFrames() bool            { return true }

// startDiscard runs ingest for cams with a sink that keeps nothing, so a
// benchmark can tell ingest's cost from the store's.
func startDiscard(ctx context.Context, cams []ingest.Camera, log *slog.Logger) (*Recording, error) {
	ctx, cancel := context.WithCancel(ctx)
	r := &Recording{cancel: cancel}
	for _, c := range cams {
		sup, err := ingest.New(c, discardSink{}, ingest.Options{Logger: log})
		if err != nil {
			r.Close()
			return nil, err
		}
		r.sups = append(r.sups, sup)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			sup.Run(ctx)
		}()
	}
	return r, nil
}

// States returns every camera's ingest state.
func (r *Recording) States() []ingest.State {
	if r.rec != nil {
		return r.rec.States()
	}
	var out []ingest.State
	for _, sup := range r.sups {
		out = append(out, sup.State())
	}
	return out
}

// Close stops every camera, closing its current segment, then the store.
func (r *Recording) Close() error {
	if r.cancel != nil {
		r.cancel()
		r.wg.Wait()
	}
	if r.rec != nil {
		r.rec.Close()
	}
	if r.store != nil {
		return r.store.Close()
	}
	return nil
}
