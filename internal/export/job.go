package export

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Export jobs: an export that runs in the background under an id, so that
// its maker can watch its progress (percent and time left), cancel it, and
// download the package once it is made. Jobs live in the process: a
// restart forgets them, and start-up empties the directory where their
// packages are built (app), so a restart leaves no package behind, whole
// or partial. docs/design/export.md, "Export jobs".

// Progress is told how far an export has come. A part is one clip (one
// camera); done and total are in the part's own unit: bytes of the MP4 of a
// remuxed clip, or (masking) microseconds of video rendered. A total of 0
// marks a part with nothing to do (a camera without footage in the range),
// which counts as complete. Within a part done does not decrease; total
// may be given again when it becomes better known. Calls may come from any
// goroutine.
type Progress interface {
	Report(part string, done, total int64)
}

func report(p Progress, part string, done, total int64) {
	if p != nil {
		p.Report(part, done, total)
	}
}

// progressWriter reports the bytes written of one part.
type progressWriter struct {
	w     io.Writer
	p     Progress
	part  string
	done  int64
	total int64
}

func (pw *progressWriter) Write(b []byte) (int, error) {
	n, err := pw.w.Write(b)
	pw.done += int64(n)
	pw.p.Report(pw.part, pw.done, max(pw.total, pw.done))
	return n, err
}

// noter is an Access that can add a row about its outcome to the ledger
// (*access.Handle.Note).
type noter interface {
	Note(ctx context.Context, detail string) (uint64, error)
}

// noteEnd records on the ledger that the export of h produced no package:
// a second row of the same kind (반출) with detail "cancelled; export=SEQ"
// when the caller gave up, or "failed; export=SEQ; CODE" for anything else
// (a revocation, the disk), so the book does not show a package that was
// never made. The row is written even though ctx has ended.
func noteEnd(ctx context.Context, h Access, err error) {
	n, ok := h.(noter)
	if !ok {
		return
	}
	detail := fmt.Sprintf("failed; export=%d", h.Seq())
	if ctx.Err() != nil {
		detail = fmt.Sprintf("cancelled; export=%d", h.Seq())
	} else if c := errs.CodeOf(err); c != "" {
		detail += "; " + string(c)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	n.Note(wctx, detail) // the gate logs a failure; the export's own error is what the caller needs
}

// JobState is where a job is.
type JobState string

const (
	JobRunning   JobState = "running"
	JobDone      JobState = "done"      // the package is ready to download
	JobFailed    JobState = "failed"    // no package (Status.Err says why)
	JobCancelled JobState = "cancelled" // no package: its maker cancelled it
	JobDiscarded JobState = "discarded" // the package was made, then removed (cancelled after, or expired)
)

// Status is a job's state as its maker sees it.
type Status struct {
	ID    string
	State JobState
	// Done and Total are the units done and expected over every part;
	// Percent is 100 only once the package is whole (the last steps, the
	// manifest and the fsync, count as the last per cent).
	Done, Total int64
	Percent     float64
	// Elapsed since the start; Left is the estimated time to the end, or
	// -1 while there is too little progress to estimate.
	Elapsed, Left time.Duration
	// Cancelling: Cancel was called and the job has not ended yet.
	Cancelling bool
	Err        error     // with JobFailed
	Manifest   *Manifest // with JobDone
	Expires    time.Time // with JobDone: when the package is removed
}

// Job is one export in the background.
type Job struct {
	ID    string
	Owner string // the user who started it: nobody else sees it

	js      *Jobs
	parts   []string
	started time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	end     chan struct{}

	mu        sync.Mutex
	prog      map[string][2]int64 // part → done, total
	state     JobState
	cancelled bool
	err       error
	m         *Manifest
	path      string
	finished  time.Time
	timer     *time.Timer
}

// Report implements Progress.
func (j *Job) Report(part string, done, total int64) {
	j.mu.Lock()
	j.prog[part] = [2]int64{done, total}
	j.mu.Unlock()
}

// Status returns the job's state now.
func (j *Job) Status() Status {
	now := j.js.now()
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Status{ID: j.ID, State: j.state, Err: j.err, Manifest: j.m, Elapsed: now.Sub(j.started), Left: -1,
		Cancelling: j.cancelled && j.state == JobRunning}
	var known, sized int // parts reported, and of those the ones with something to do
	for _, p := range j.parts {
		v, ok := j.prog[p]
		if !ok {
			continue
		}
		known++
		if v[1] > 0 {
			sized++
			st.Done += min(v[0], v[1])
			st.Total += v[1]
		}
	}
	if n := len(j.parts) - known; n > 0 && sized > 0 {
		// Parts not yet laid out: as large as the average of the others.
		st.Total += st.Total / int64(sized) * int64(n)
	}
	var f float64
	switch {
	case st.Total > 0:
		f = float64(st.Done) / float64(st.Total)
	case known == len(j.parts) && known > 0:
		f = 1
	}
	switch j.state {
	case JobDone, JobDiscarded:
		st.Percent, st.Left, st.Elapsed = 100, 0, j.finished.Sub(j.started)
		st.Expires = j.finished.Add(j.js.keep())
	case JobRunning:
		st.Percent = min(99, 100*f)
		if f >= 0.01 {
			st.Left = time.Duration(float64(st.Elapsed) * (1 - f) / f)
		}
	default:
		st.Percent, st.Elapsed = 100*f, j.finished.Sub(j.started)
	}
	return st
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.end }

// Wait waits until the job ends or ctx does.
func (j *Job) Wait(ctx context.Context) error {
	select {
	case <-j.end:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Cancel asks a running job to stop: as it ends it removes what it wrote
// and notes the cancellation on the ledger (Wait for that). A job whose
// package is made has the package removed at once (JobDiscarded).
func (j *Job) Cancel() {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch j.state {
	case JobRunning:
		j.cancelled = true
		j.cancel()
	case JobDone:
		j.discardLocked()
	}
}

func (j *Job) discardLocked() {
	if j.path != "" {
		os.Remove(j.path)
	}
	if j.timer != nil {
		j.timer.Stop()
	}
	j.state = JobDiscarded
}

// Package opens the made package for download, with its manifest.
func (j *Job) Package() (*os.File, *Manifest, error) {
	const op = "export.Job.Package"
	j.mu.Lock()
	defer j.mu.Unlock()
	switch j.state {
	case JobDone:
	case JobRunning:
		return nil, nil, errs.E(op, errs.Conflict, errs.Code("export.job.running"), "the package is not made yet")
	default:
		return nil, nil, errs.E(op, errs.NotExist, errs.Code("export.job.gone"), errs.Params{"state": string(j.state)},
			"the job has no package")
	}
	f, err := os.Open(j.path)
	if err != nil {
		return nil, nil, errs.E(op, errs.IO, err)
	}
	return f, j.m, nil
}

// RunFunc makes the package at path, telling p how far it has come. It
// must leave nothing at path unless it succeeds (Exporter.Export).
type RunFunc func(ctx context.Context, p Progress, path string) (*Manifest, error)

// Jobs are the export jobs of one server. Safe for concurrent use.
type Jobs struct {
	dir string
	// Now is the clock of progress estimates and expiry (default time.Now).
	Now func() time.Time
	// Keep is how long a made package waits to be downloaded before it
	// is removed (default 30 minutes). Decrypted footage does not stay on
	// disk longer than that.
	Keep time.Duration
	// MaxRunning bounds the jobs running at once over every user
	// (default 2: an export uses a core for reading and one for writing).
	MaxRunning int

	mu     sync.Mutex
	jobs   map[string]*Job
	closed bool
}

// NewJobs returns the jobs building packages in dir.
func NewJobs(dir string) *Jobs { return &Jobs{dir: dir, jobs: map[string]*Job{}} }

func (js *Jobs) now() time.Time {
	if js.Now != nil {
		return js.Now()
	}
	return time.Now()
}

func (js *Jobs) keep() time.Duration {
	if js.Keep > 0 {
		return js.Keep
	}
	return 30 * time.Minute
}

func (js *Jobs) maxRunning() int {
	if js.MaxRunning > 0 {
		return js.MaxRunning
	}
	return 2
}

// Start runs run as a job of owner over parts (the cameras, in the order
// run reports them). It refuses when MaxRunning jobs are running
// (export.busy).
func (js *Jobs) Start(owner string, parts []string, run RunFunc) (*Job, error) {
	const op = "export.Jobs.Start"
	js.sweep()
	if err := os.MkdirAll(js.dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	var b [12]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{ID: id, Owner: owner, js: js, parts: append([]string(nil), parts...), started: js.now(), ctx: ctx, cancel: cancel,
		end: make(chan struct{}), prog: map[string][2]int64{}, state: JobRunning,
		path: filepath.Join(js.dir, "export-"+id+".zip")}
	js.mu.Lock()
	if js.closed {
		js.mu.Unlock()
		cancel()
		return nil, errs.E(op, errs.Unavailable, "the server is stopping")
	}
	running := 0
	for _, o := range js.jobs {
		o.mu.Lock()
		if o.state == JobRunning {
			running++
		}
		o.mu.Unlock()
	}
	if running >= js.maxRunning() {
		js.mu.Unlock()
		cancel()
		return nil, errs.E(op, errs.Unavailable, errs.Code("export.busy"), errs.Params{"max": fmt.Sprint(js.maxRunning())},
			"too many exports running")
	}
	js.jobs[id] = j
	js.mu.Unlock()
	go j.run(ctx, run)
	return j, nil
}

func (j *Job) run(ctx context.Context, run RunFunc) {
	defer close(j.end)
	defer j.cancel()
	m, err := run(ctx, j, j.path)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.finished = j.js.now()
	switch {
	case err == nil && j.cancelled:
		// Made just as it was cancelled: whole, but not wanted.
		j.m, j.state = m, JobDone
		j.discardLocked()
	case err == nil:
		j.state, j.m = JobDone, m
		// Decrypted footage does not wait on disk for ever; sweep also
		// removes it, on the injected clock.
		j.timer = time.AfterFunc(j.js.keep(), func() {
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.state == JobDone {
				j.discardLocked()
			}
		})
	case j.cancelled:
		j.state = JobCancelled
	default:
		j.state, j.err = JobFailed, err
	}
}

// Get returns owner's job id; another user's job is as absent as an
// unknown one.
func (js *Jobs) Get(id, owner string) (*Job, error) {
	js.sweep()
	js.mu.Lock()
	j, ok := js.jobs[id]
	js.mu.Unlock()
	if !ok || j.Owner != owner {
		return nil, errs.E("export.Jobs.Get", errs.NotExist, errs.Code("export.job.unknown"), "no such export job")
	}
	return j, nil
}

// sweep removes packages kept past Keep and forgets jobs ended longer ago
// than that.
func (js *Jobs) sweep() {
	now := js.now()
	js.mu.Lock()
	defer js.mu.Unlock()
	for id, j := range js.jobs {
		j.mu.Lock()
		if j.state != JobRunning && now.Sub(j.finished) >= js.keep() {
			if j.state == JobDone {
				j.discardLocked()
			}
			if now.Sub(j.finished) >= 2*js.keep() {
				delete(js.jobs, id)
			}
		}
		j.mu.Unlock()
	}
}

// Close cancels every running job, waits for them, and removes every
// package (at shutdown).
func (js *Jobs) Close() {
	js.mu.Lock()
	js.closed = true
	jobs := make([]*Job, 0, len(js.jobs))
	for _, j := range js.jobs {
		jobs = append(jobs, j)
	}
	js.mu.Unlock()
	for _, j := range jobs {
		j.Cancel()
	}
	for _, j := range jobs {
		<-j.end
	}
}

// Parts returns the parts of req: its cameras' ids.
func (r *Request) Parts() []string {
	ids := make([]string, 0, len(r.Cameras))
	for _, c := range r.Cameras {
		ids = append(ids, c.ID)
	}
	return ids
}
