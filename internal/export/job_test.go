package export

import (
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// pausing is a Source whose reads stop after `after` frames until release
// is closed, and that says when they have stopped.
type pausing struct {
	Source
	after   int
	release chan struct{}
	paused  chan struct{}
	mu      sync.Mutex
	reads   int
}

func newPausing(s Source, after int) *pausing {
	return &pausing{Source: s, after: after, release: make(chan struct{}), paused: make(chan struct{})}
}

func (p *pausing) Open(ctx context.Context, id int64) (playback.SegmentData, error) {
	d, err := p.Source.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return &pausingData{SegmentData: d, p: p}, nil
}

type pausingData struct {
	playback.SegmentData
	p *pausing
}

func (d *pausingData) ReadFrame(i int) ([]byte, error) {
	d.p.mu.Lock()
	d.p.reads++
	n := d.p.reads
	d.p.mu.Unlock()
	if n == d.p.after {
		close(d.p.paused)
	}
	if n >= d.p.after {
		<-d.p.release
	}
	return d.SegmentData.ReadFrame(i)
}

// gated is an export set-up on the real access service, gate and ledger:
// a manager "kim" of site main, logged in from 10.0.0.1.
type gated struct {
	l   *ledger.Ledger
	g   *access.Gate
	p   *access.Principal
	clk *clock.Fake
}

func newGated(t *testing.T) *gated {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(media.FromTime90k(t0 + 3600*sec))
	quiet := slog.New(slog.DiscardHandler)
	l, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	svc, err := access.Open(context.Background(), access.Config{Dir: dir, Ledger: l, Clock: clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx := context.Background()
	addr := netip.MustParseAddr("10.0.0.1")
	login := func(name, pw, next string) *access.Principal {
		sess, err := svc.Login(ctx, name, pw, "", addr)
		if err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		if err := svc.ChangePassword(ctx, sess.Principal, pw, next); err != nil {
			t.Fatal(err)
		}
		if sess, err = svc.Login(ctx, name, next, "", addr); err != nil {
			t.Fatal(err)
		}
		p, err := svc.Authenticate(ctx, sess.Token, addr)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw, _, err := svc.EnsureAdmin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := login("admin", pw, "Strong-pass-2026")
	_, otp, err := svc.CreateUser(ctx, admin, "kim", "kim", []access.Grant{{Role: access.Manager, Sites: []string{"main"}}})
	if err != nil {
		t.Fatal(err)
	}
	g := access.NewGate(svc, access.GateConfig{Tick: 20 * time.Millisecond})
	t.Cleanup(g.Close)
	return &gated{l: l, g: g, p: login("kim", otp, "Blue-river-4242"), clk: clk}
}

func (e *gated) rows(t *testing.T) []ledger.Entry {
	t.Helper()
	es, err := e.l.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{ledger.Export}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// A job reports its progress as the clips are written: part of the way
// (neither 0 nor 100 %) with a time left while reading is held, 100 % and
// a package that verifies once done. Its maker gets it; another user's
// lookup finds nothing.
func TestJobProgressToDone(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	e := newGated(t)
	src := newPausing(StoreSource{rec.s}, 900) // cam-1 has 875 frames in the range: held within cam-2
	x := &Exporter{Source: src, Key: newKey(t), Now: e.clk.Now}
	dir := filepath.Join(t.TempDir(), "exports")
	js := NewJobs(dir)
	js.Now = e.clk.Now
	req := testRequest(t0, t0+40*sec, "cam-1", "cam-2")
	j, err := js.Start("kim", req.Parts(), func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		req.Progress = p
		return x.Export(ctx, GateOf(e.g, e.p), req, path)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-src.paused
	e.clk.Advance(10 * time.Second)
	st := j.Status()
	if st.State != JobRunning || st.Percent <= 0 || st.Percent >= 99 || st.Done <= 0 || st.Total <= st.Done || st.Left <= 0 {
		t.Errorf("midway: %+v", st)
	}
	if _, _, err := j.Package(); errs.CodeOf(err) != "export.job.running" {
		t.Errorf("package while running: %v", err)
	}
	close(src.release)
	if err := j.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	st = j.Status()
	if st.State != JobDone || st.Percent != 100 || st.Done != st.Total || st.Manifest == nil || len(st.Manifest.Clips) != 2 {
		t.Fatalf("done: %+v", st)
	}
	var clipBytes int64
	for _, c := range st.Manifest.Clips {
		clipBytes += c.Bytes
	}
	if st.Total != clipBytes {
		t.Errorf("progress total %d, clips %d bytes", st.Total, clipBytes)
	}
	if _, err := js.Get(j.ID, "lee"); !errs.Is(err, errs.NotExist) {
		t.Errorf("another user's lookup: %v", err)
	}
	got, err := js.Get(j.ID, "kim")
	if err != nil || got != j {
		t.Fatal(err)
	}
	f, m, err := j.Package()
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if v := verifyFile(t, f.Name(), Trust{PublicKey: x.Key.Public()}); !v.OK() || m.LedgerSeq != e.rows(t)[0].Seq {
		t.Fatal(v.Problems)
	}
	if n := len(e.rows(t)); n != 1 {
		t.Errorf("%d export rows for one export", n)
	}
}

// Cancelling a running job removes everything it wrote (the export
// directory is empty again) and adds a second 반출 row, detail
// "cancelled; export=SEQ", naming the first; the job says cancelled and
// has no package.
func TestJobCancelLeavesNothingAndIsLedgered(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	e := newGated(t)
	src := newPausing(StoreSource{rec.s}, 200)
	x := &Exporter{Source: src, Key: newKey(t), Now: e.clk.Now}
	dir := filepath.Join(t.TempDir(), "exports")
	js := NewJobs(dir)
	req := testRequest(t0, t0+40*sec, "cam-1")
	j, err := js.Start("kim", req.Parts(), func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		req.Progress = p
		return x.Export(ctx, GateOf(e.g, e.p), req, path)
	})
	if err != nil {
		t.Fatal(err)
	}
	<-src.paused
	if ents, _ := os.ReadDir(dir); len(ents) != 1 || !strings.HasSuffix(ents[0].Name(), ".tmp") {
		t.Fatalf("while running the directory holds %v, want one temporary file", ents)
	}
	j.Cancel()
	if st := j.Status(); st.State != JobRunning || !st.Cancelling {
		t.Errorf("after Cancel, before the end: %+v", st)
	}
	close(src.release)
	j.Wait(context.Background())
	if s := j.Status().State; s != JobCancelled {
		t.Fatalf("state after cancel: %s", s)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left after cancel: %v", ents)
	}
	rows := e.rows(t)
	if len(rows) != 2 {
		t.Fatalf("export rows %+v", rows)
	}
	first, note := rows[0], rows[1]
	if note.Detail != "cancelled; export="+itoa(first.Seq) || note.Actor != "kim" || note.Party != req.Recipient ||
		note.Kind != ledger.Export || len(note.Cameras) != 1 || note.Cameras[0] != "cam-1" {
		t.Errorf("cancellation row %+v (first %d)", note, first.Seq)
	}
	if st := j.Status(); st.State != JobCancelled || st.Manifest != nil {
		t.Errorf("status %+v", st)
	}
	if _, _, err := j.Package(); errs.CodeOf(err) != "export.job.gone" {
		t.Errorf("package of a cancelled job: %v", err)
	}
	if e.g.Active() != 0 {
		t.Errorf("%d accesses open after the cancel", e.g.Active())
	}
}

// A revoked access (the maker logged out) fails the job with no package,
// and the second row says failed with the code.
func TestJobRevokedIsLedgeredAsFailed(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	e := newGated(t)
	src := newPausing(StoreSource{rec.s}, 200)
	x := &Exporter{Source: src, Key: newKey(t), Now: e.clk.Now}
	dir := filepath.Join(t.TempDir(), "exports")
	js := NewJobs(dir)
	req := testRequest(t0, t0+40*sec, "cam-1")
	j, _ := js.Start("kim", req.Parts(), func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		return x.Export(ctx, GateOf(e.g, e.p), req, path)
	})
	<-src.paused
	e.g.Close() // as at shutdown: every access revoked
	close(src.release)
	j.Wait(context.Background())
	st := j.Status()
	if st.State != JobFailed || errs.CodeOf(st.Err) != "footage.revoked" {
		t.Fatalf("status %+v", st)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left after the failure: %v", ents)
	}
	rows := e.rows(t)
	if len(rows) != 2 || rows[1].Detail != "failed; export="+itoa(rows[0].Seq)+"; footage.revoked" {
		t.Errorf("rows %+v", rows)
	}
}

// A made package is kept for Keep on the job's clock, then removed; a
// cancel after it is made discards it at once. No more than MaxRunning
// jobs run at once.
func TestJobKeepDiscardAndLimit(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	js := NewJobs(dir)
	js.Now, js.Keep, js.MaxRunning = clk.Now, time.Hour, 1
	made := func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		p.Report("cam-1", 10, 10)
		return &Manifest{ID: "m"}, os.WriteFile(path, []byte("zip"), 0o600)
	}
	a, err := js.Start("kim", []string{"cam-1"}, made)
	if err != nil {
		t.Fatal(err)
	}
	a.Wait(context.Background())
	b, err := js.Start("kim", []string{"cam-1"}, made)
	if err != nil {
		t.Fatal(err)
	}
	b.Wait(context.Background())
	b.Cancel()
	if st := b.Status().State; st != JobDiscarded {
		t.Errorf("cancel of a made job: %s", st)
	}
	if _, err := os.Stat(b.path); !os.IsNotExist(err) {
		t.Errorf("discarded package still there: %v", err)
	}
	clk.Advance(time.Hour)
	if _, err := js.Get(a.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	if st := a.Status(); st.State != JobDiscarded {
		t.Errorf("after Keep: %s", st.State)
	}
	if _, err := os.Stat(a.path); !os.IsNotExist(err) {
		t.Errorf("expired package still there: %v", err)
	}

	block := make(chan struct{})
	slow := func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		<-block
		return nil, errs.E("test", errs.IO, "stopped")
	}
	c, err := js.Start("kim", []string{"cam-1"}, slow)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.Start("lee", []string{"cam-1"}, slow); errs.CodeOf(err) != "export.busy" {
		t.Errorf("second job over the limit: %v", err)
	}
	close(block)
	c.Wait(context.Background())
	if st := c.Status(); st.State != JobFailed || st.Err == nil {
		t.Errorf("failed job %+v", st)
	}
}

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

// The percent and the time left: a camera not yet laid out counts as large
// as the average of those that are; a camera without footage (total 0)
// counts as done; the time left is the elapsed time scaled by what
// remains, on the job's clock; nothing is estimated below 1 %.
func TestJobEstimate(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	js := NewJobs(t.TempDir())
	js.Now = clk.Now
	step, stepped := make(chan func(Progress)), make(chan struct{})
	j, err := js.Start("kim", []string{"cam-1", "cam-2", "cam-3"}, func(ctx context.Context, p Progress, path string) (*Manifest, error) {
		for f := range step {
			f(p)
			stepped <- struct{}{}
		}
		return nil, errs.E("test", errs.IO, "stopped")
	})
	if err != nil {
		t.Fatal(err)
	}
	do := func(f func(Progress)) { step <- f; <-stepped }
	if st := j.Status(); st.Percent != 0 || st.Left != -1 || st.Total != 0 {
		t.Errorf("before any report: %+v", st)
	}
	do(func(p Progress) { p.Report("cam-1", 0, 0) }) // no footage
	do(func(p Progress) { p.Report("cam-2", 50, 100) })
	clk.Advance(10 * time.Second)
	if st := j.Status(); st.Done != 50 || st.Total != 200 || st.Percent != 25 || st.Left != 30*time.Second {
		t.Errorf("cam-2 half done, cam-3 unknown: %+v", st)
	}
	do(func(p Progress) { p.Report("cam-3", 100, 300) })
	if st := j.Status(); st.Done != 150 || st.Total != 400 || st.Percent != 37.5 {
		t.Errorf("all laid out: %+v", st)
	}
	do(func(p Progress) { p.Report("cam-2", 100, 100); p.Report("cam-3", 300, 300) })
	if st := j.Status(); st.Percent != 99 {
		t.Errorf("every byte written, package not yet whole: %v %%", st.Percent)
	}
	close(step)
	j.Wait(context.Background())
}
