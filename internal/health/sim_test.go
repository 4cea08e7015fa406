package health

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// These tests record simulated cameras (internal/camsim) through real
// ingest supervisors into a real store on the real clock (sockets force
// it), with thresholds shortened so they run in seconds. Each threshold
// names the production value it stands for.
func simThresholds() Thresholds {
	th := DefaultThresholds()
	th.Tick = 100 * time.Millisecond      // production 1 s
	th.NoVideo = 1500 * time.Millisecond  // production 5 s
	th.RateWindow = 2 * time.Second       // production 10 s
	th.FrozenWindow = 2 * time.Second     // production 10 s
	th.GapScan = 300 * time.Millisecond   // production 10 s
	th.MinGap = 500 * time.Millisecond    // production 1 s
	th.WriteErrorClear = 10 * time.Second // production 1 min
	return th
}

// simRecorder is camsim → ingest supervisors → store, watched by a Monitor.
type simRecorder struct {
	t    *testing.T
	sim  *camsim.Server
	st   *store.Store
	am   *alarm.Manager
	mon  *Monitor
	sups []*ingest.Supervisor
	ids  []string
	stop func()
}

func startSim(t *testing.T, n int, th Thresholds, files func(dir string) store.Files, vols func(dir string, sups []*ingest.Supervisor) []Volume) *simRecorder {
	t.Helper()
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: n, Stagger: 7 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	keys, err := seal.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := store.Config{Dir: dir, Keys: keys, SegmentDuration: 2 * time.Second, ChunkDuration: 500 * time.Millisecond,
		SyncInterval: 200 * time.Millisecond}
	if files != nil {
		cfg.Files = files(dir)
	}
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := &simRecorder{t: t, sim: sim, st: st, am: alarm.New(alarm.Options{})}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var cams []Camera
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("cam%d", i)
		w, err := st.Writer(id)
		if err != nil {
			t.Fatal(err)
		}
		sup, err := ingest.New(ingest.Camera{ID: id, URL: sim.URL(i),
			ReadTimeout: 3 * time.Second, // production 10 s: longer than NoVideo, so a stall is seen while connected
			BackoffMin:  200 * time.Millisecond, BackoffMax: 500 * time.Millisecond}, w, ingest.Options{})
		if err != nil {
			t.Fatal(err)
		}
		r.sups = append(r.sups, sup)
		r.ids = append(r.ids, id)
		cams = append(cams, SupervisorCamera(id, sup, 0)) // expected fps learned from the stream
		wg.Add(1)
		go func() {
			defer wg.Done()
			sup.Run(ctx)
			w.Close()
		}()
	}
	var vs []Volume
	if vols != nil {
		vs = vols(dir, r.sups)
	}
	r.mon, err = NewMonitor(Options{Alarms: r.am, Cameras: cams, Volumes: vs, Segments: st, Thresholds: th})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.mon.Run(ctx)
	}()
	r.stop = func() {
		cancel()
		wg.Wait()
		st.Close()
	}
	t.Cleanup(r.stop)
	return r
}

// waitAlarm waits until the alarm's state is want, failing after limit.
func (r *simRecorder) waitAlarm(kind alarm.Kind, subject string, want bool, limit time.Duration) time.Duration {
	r.t.Helper()
	start := time.Now()
	for {
		if _, ok := r.am.ActiveFor(kind, subject); ok == want {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			r.t.Fatalf("%s %s: active=%v not reached within %v; alarms: %+v", kind, subject, want, limit, r.am.List(true))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *simRecorder) waitCond(what string, limit time.Duration, cond func() bool) {
	r.t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			r.t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSimulatedFaults: four cameras, one fault each at the same time.
// Each raises its own alarm, and only it, well within the 30 s promise
// (here within 10 s at thresholds 1/3 to 1/5 of production), and clears it
// on recovery; the outages leave gaps in the store's index and in the
// Monitor's gap list.
func TestSimulatedFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("records simulated cameras for ~15 s")
	}
	th := simThresholds()
	r := startSim(t, 4, th, nil, nil)
	// Warm up: every camera recording, rates learned.
	r.waitCond("all cameras recording with a learned frame rate", 15*time.Second, func() bool {
		for _, c := range r.mon.Snapshot().Cameras {
			if !c.Connected || c.ExpectedFPS < 24 || c.FPS < 20 {
				return false
			}
		}
		return true
	})
	if l := r.am.List(true); len(l) != 0 {
		t.Fatalf("healthy cameras raised %+v", l)
	}
	faults := map[string]struct {
		f    camsim.Fault
		kind alarm.Kind
	}{
		"cam1": {camsim.Fault{Stop: true}, alarm.CameraDown},
		"cam2": {camsim.Fault{Freeze: true}, alarm.Frozen},
		"cam3": {camsim.Fault{Every: 5}, alarm.LowFrameRate},
		"cam4": {camsim.Fault{Stall: true}, alarm.CameraStalled}, // connection cut without closing it
	}
	faultAt := time.Now()
	for i, id := range r.ids {
		if err := r.sim.SetFault(i+1, faults[id].f); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range r.ids {
		r.waitAlarm(faults[id].kind, id, true, 10*time.Second)
		a, _ := r.am.ActiveFor(faults[id].kind, id)
		t.Logf("%s: %s raised %v after the fault: %s", id, a.Kind, a.Raised.Sub(faultAt).Round(time.Millisecond), a.Message)
	}
	// Each camera has only its own alarm.
	for _, a := range r.am.List(true) {
		if a.Kind != alarm.Gap && faults[a.Subject].kind != a.Kind {
			t.Errorf("%s raised %s, want only %s: %s", a.Subject, a.Kind, faults[a.Subject].kind, a.Message)
		}
	}
	// A stall shorter than ingest's discontinuity limit (10 s of RTP time)
	// is recorded as one long frame, not a gap (see docs/design/health.md);
	// keep cam4 stalled until ingest times the session out and reconnects.
	r.waitCond("cam4 session timed out", 10*time.Second, func() bool { return r.sups[3].State().Reconnects > 0 })
	healAt := time.Now()
	for i := range r.ids {
		r.sim.SetFault(i+1, camsim.Fault{})
	}
	for _, id := range r.ids {
		r.waitAlarm(faults[id].kind, id, false, 10*time.Second)
	}
	t.Logf("all cleared %v after healing", time.Since(healAt).Round(time.Millisecond))

	// The outages are gaps in the index and in the Monitor's list.
	for _, id := range []string{"cam1", "cam4"} {
		r.waitCond(id+" gap reported", 10*time.Second, func() bool {
			for _, g := range r.mon.Snapshot().Gaps {
				if g.Camera == id && g.End.Sub(g.Start) >= time.Second {
					return true
				}
			}
			return false
		})
		segs, err := r.st.Segments(context.Background(), id, media.Time90k(faultAt.Add(-time.Minute)), media.Time90k(time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		gaps := FindGaps(id, segs, th.MinGap)
		if len(gaps) == 0 {
			t.Fatalf("%s: no gap in the store's segments %+v", id, segs)
		}
		g := gaps[len(gaps)-1]
		if g.Start.Before(faultAt.Add(-time.Second)) || g.End.After(time.Now()) {
			t.Fatalf("%s: gap %v–%v outside the fault %v", id, g.Start, g.End, faultAt)
		}
	}
	var causes []string
	for _, g := range r.mon.Snapshot().Gaps {
		causes = append(causes, g.Camera+": "+g.Cause)
	}
	t.Logf("gaps: %q", causes)
}

// quotaFiles is the store's disk with a byte quota: a write that would
// exceed it fails with ENOSPC, as on a full file system. Statfs of the
// volume reports the quota, so the Monitor sees the same disk the store
// fills.
type quotaFiles struct {
	store.Files
	limit int64
	used  atomic.Int64
}

type quotaFile struct {
	store.AppendFile
	q *quotaFiles
}

func (q *quotaFiles) Create(camera string, id int64) (store.AppendFile, error) {
	f, err := q.Files.Create(camera, id)
	if err != nil {
		return nil, err
	}
	return quotaFile{f, q}, nil
}

func (f quotaFile) Write(p []byte) (int, error) {
	if f.q.used.Add(int64(len(p))) > f.q.limit {
		f.q.used.Add(-int64(len(p)))
		return 0, syscall.ENOSPC
	}
	return f.AppendFile.Write(p)
}

func (q *quotaFiles) statfs(string) (uint64, uint64, error) {
	return uint64(q.limit - q.used.Load()), uint64(q.limit), nil
}

// TestDiskFullAlarmBeforeRecordingStops fills a 3 MB quota with one camera
// (about 250 kB/s) and checks that the storage alarm comes while every
// write still succeeds, and the write-error alarm once the quota is hit.
func TestDiskFullAlarmBeforeRecordingStops(t *testing.T) {
	if testing.Short() {
		t.Skip("records a simulated camera for ~12 s")
	}
	th := simThresholds()
	th.MinTimeToFull = 6 * time.Second // production 24 h
	th.MinFreeFraction = 0.05
	th.MinFreeBytes = 1
	var q *quotaFiles
	r := startSim(t, 1, th, func(dir string) store.Files {
		d, err := store.NewDisk(filepath.Join(dir, "segments"))
		if err != nil {
			t.Fatal(err)
		}
		q = &quotaFiles{Files: d, limit: 3 << 20}
		return q
	}, func(dir string, sups []*ingest.Supervisor) []Volume {
		return []Volume{{Name: "data", Dir: dir, Statfs: q.statfs,
			WriteErrors: func() uint64 {
				var n uint64
				for _, s := range sups {
					n += s.State().SinkErrors
				}
				return n
			}}}
	})
	r.waitAlarm(alarm.StorageLow, "data", true, 20*time.Second)
	a, _ := r.am.ActiveFor(alarm.StorageLow, "data")
	errsAtAlarm := r.sups[0].State().SinkErrors
	usedAtAlarm := q.used.Load()
	t.Logf("storage alarm at %d of %d bytes: %s", usedAtAlarm, q.limit, a.Message)
	if errsAtAlarm != 0 {
		t.Fatalf("the storage alarm came after recording had already failed (%d write errors)", errsAtAlarm)
	}
	r.waitAlarm(alarm.StorageWriteErrors, "data", true, 20*time.Second)
	if r.sups[0].State().SinkErrors == 0 {
		t.Fatal("write-error alarm without write errors")
	}
}
