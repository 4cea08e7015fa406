// Package recorder runs the cameras: for each one an ingest supervisor
// feeding that camera's store writer, started and stopped together. It is
// the piece that makes "24시간 연속촬영 및 녹화" true; the web server and
// monitoring read its state.
package recorder

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/store"
)

// Recorder records a set of cameras into a store.
type Recorder struct {
	st   *store.Store
	opts ingest.Options
	log  *slog.Logger

	mu     sync.Mutex
	cams   map[string]*camera
	wg     sync.WaitGroup
	closed bool
}

type camera struct {
	cfg    ingest.Camera
	sup    *ingest.Supervisor
	w      *store.Writer
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns a Recorder writing into st.
func New(st *store.Store, opts ingest.Options) *Recorder {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Recorder{st: st, opts: opts, log: log, cams: map[string]*camera{}}
}

// Start begins recording cam until ctx ends or Stop/Close is called.
func (r *Recorder) Start(ctx context.Context, cam ingest.Camera) error {
	const op = "recorder.Start"
	if err := store.ValidCamera(cam.ID); err != nil {
		return errs.E(op, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errs.E(op, errs.Unavailable, "recorder closed")
	}
	if _, dup := r.cams[cam.ID]; dup {
		return errs.Errorf(op, errs.Exist, "camera %q is already recording", cam.ID)
	}
	w, err := r.st.Writer(cam.ID)
	if err != nil {
		return errs.E(op, err)
	}
	sup, err := ingest.New(cam, w, r.opts)
	if err != nil {
		w.Close()
		return errs.E(op, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	c := &camera{cfg: cam, sup: sup, w: w, cancel: cancel, done: make(chan struct{})}
	r.cams[cam.ID] = c
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(c.done)
		_ = sup.Run(cctx)
		if err := w.Close(); err != nil {
			r.log.Error("closing segment writer", "camera", cam.ID, "err", err)
		}
	}()
	return nil
}

// Stop stops recording one camera and closes its current segment.
func (r *Recorder) Stop(id string) error {
	r.mu.Lock()
	c, ok := r.cams[id]
	delete(r.cams, id)
	r.mu.Unlock()
	if !ok {
		return errs.Errorf("recorder.Stop", errs.NotExist, "camera %q is not recording", id)
	}
	c.cancel()
	<-c.done
	return nil
}

// Close stops every camera and waits for their segments to be closed.
func (r *Recorder) Close() error {
	r.mu.Lock()
	r.closed = true
	for _, c := range r.cams {
		c.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// States returns every camera's ingest state, ordered by camera id.
func (r *Recorder) States() []ingest.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ingest.State, 0, len(r.cams))
	for _, c := range r.cams {
		out = append(out, c.sup.State())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Camera < out[j].Camera })
	return out
}

// Supervisor returns the supervisor of a recording camera, for live view.
func (r *Recorder) Supervisor(id string) (*ingest.Supervisor, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.cams[id]
	if !ok {
		return nil, false
	}
	return c.sup, true
}
