package health

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// fakeCam is a camera whose ingest state the test sets.
type fakeCam struct {
	mu sync.Mutex
	st ingest.State
}

func (f *fakeCam) State() ingest.State { f.mu.Lock(); defer f.mu.Unlock(); return f.st }
func (f *fakeCam) set(fn func(s *ingest.State)) {
	f.mu.Lock()
	fn(&f.st)
	f.mu.Unlock()
}

// stream advances the fake camera by one second at fps frames per second.
func (f *fakeCam) stream(fps int) {
	f.set(func(s *ingest.State) {
		s.Status = ingest.Recording
		s.Frames += uint64(fps)
		s.KeyFrames++
		s.Bytes += 250000
	})
}

type rig struct {
	clk  *clock.Fake
	am   *alarm.Manager
	m    *Monitor
	cams map[string]*fakeCam
}

func newRig(t *testing.T, opt Options, ids ...string) *rig {
	t.Helper()
	r := &rig{clk: clock.NewFake(t0), cams: map[string]*fakeCam{}}
	r.am = alarm.New(alarm.Options{Clock: r.clk})
	for _, id := range ids {
		fc := &fakeCam{st: ingest.State{Camera: id, Status: ingest.Connecting}}
		r.cams[id] = fc
		opt.Cameras = append(opt.Cameras, Camera{ID: id, State: fc.State, ExpectedFPS: 25})
	}
	opt.Clock, opt.Alarms = r.clk, r.am
	m, err := NewMonitor(opt)
	if err != nil {
		t.Fatal(err)
	}
	r.m = m
	return r
}

// second moves one second on: each camera acts, then the monitor steps.
func (r *rig) second(act func()) {
	r.clk.Advance(time.Second)
	if act != nil {
		act()
	}
	r.m.Step(context.Background())
}

func (r *rig) active(kind alarm.Kind, subject string) bool {
	_, ok := r.am.ActiveFor(kind, subject)
	return ok
}

// secondsUntil steps until the alarm is active, up to limit seconds, and
// returns how many it took (limit+1 if never).
func (r *rig) secondsUntil(kind alarm.Kind, subject string, limit int, act func()) int {
	for i := 1; i <= limit; i++ {
		r.second(act)
		if r.active(kind, subject) {
			return i
		}
	}
	return limit + 1
}

func TestCameraDownRaisedWithin30sAndCleared(t *testing.T) {
	r := newRig(t, Options{}, "cam1")
	c := r.cams["cam1"]
	for range 12 {
		r.second(func() { c.stream(25) })
	}
	if l := r.am.List(true); len(l) != 0 {
		t.Fatalf("a healthy camera raised %+v", l)
	}
	h := r.m.Snapshot().Cameras[0]
	if h.FPS < 24 || h.FPS > 26 || h.KeyFPS < 0.9 || h.BitrateBPS < 1.9e6 || !h.Connected {
		t.Fatalf("signals of a healthy camera: %+v", h)
	}
	// The camera is switched off: ingest reports Down with its error.
	c.set(func(s *ingest.State) { s.Status, s.LastError = ingest.Down, "DESCRIBE: 503 Service Unavailable" })
	n := r.secondsUntil(alarm.CameraDown, "cam1", 30, nil)
	if n > 30 {
		t.Fatal("camera down not raised within 30 s")
	}
	if n < 4 {
		t.Fatalf("raised after %d s: a blip shorter than NoVideo must not alarm", n)
	}
	a, _ := r.am.ActiveFor(alarm.CameraDown, "cam1")
	if !strings.Contains(a.Message, "503") {
		t.Fatalf("message should carry the last error: %q", a.Message)
	}
	if r.active(alarm.CameraStalled, "cam1") || r.active(alarm.LowFrameRate, "cam1") {
		t.Fatal("one outage must be one alarm")
	}
	r.second(func() { c.stream(25) })
	if r.active(alarm.CameraDown, "cam1") {
		t.Fatal("not cleared on recovery")
	}
}

func TestCameraStalledStaysOneAlarm(t *testing.T) {
	r := newRig(t, Options{}, "cam1")
	c := r.cams["cam1"]
	for range 12 {
		r.second(func() { c.stream(25) })
	}
	// Connection open, nothing arrives: status stays Recording.
	if n := r.secondsUntil(alarm.CameraStalled, "cam1", 30, nil); n > 30 {
		t.Fatal("stall not raised")
	}
	// Ingest times the session out and reconnects: still the same outage.
	c.set(func(s *ingest.State) {
		s.Status, s.LastError = ingest.Down, "no video from the camera for 10s (read timeout)"
	})
	for range 5 {
		r.second(nil)
	}
	if !r.active(alarm.CameraStalled, "cam1") || r.active(alarm.CameraDown, "cam1") {
		t.Fatalf("outage changed kind: %+v", r.am.List(true))
	}
	if got := len(r.am.List(false)); got != 1 {
		t.Fatalf("%d alarms for one outage", got)
	}
	r.second(func() { c.stream(25) })
	if r.active(alarm.CameraStalled, "cam1") {
		t.Fatal("not cleared on recovery")
	}
}

func TestLowFrameRate(t *testing.T) {
	r := newRig(t, Options{}, "cam1")
	c := r.cams["cam1"]
	for range 12 {
		r.second(func() { c.stream(25) })
	}
	if n := r.secondsUntil(alarm.LowFrameRate, "cam1", 30, func() { c.stream(6) }); n > 30 {
		t.Fatal("low frame rate not raised within 30 s")
	}
	if r.active(alarm.CameraDown, "cam1") {
		t.Fatal("a slow camera is not down")
	}
	for range 12 {
		r.second(func() { c.stream(25) })
	}
	if r.active(alarm.LowFrameRate, "cam1") {
		t.Fatal("not cleared on recovery")
	}
}

// A camera that comes back after an outage or a reconnect is measured over
// the frames since its connection: the seconds it was away are not a low
// frame rate (a false low_frame_rate followed every reconnect).
func TestNoLowFrameRateAfterReconnect(t *testing.T) {
	for _, away := range []int{3, 7} { // shorter and longer than NoVideo
		r := newRig(t, Options{}, "cam1")
		c := r.cams["cam1"]
		for range 12 {
			r.second(func() { c.stream(25) })
		}
		c.set(func(s *ingest.State) { s.Status, s.LastError = ingest.Connecting, "EOF" })
		for range away {
			r.second(nil)
		}
		c.set(func(s *ingest.State) { s.Reconnects++ })
		for i := range 20 {
			r.second(func() { c.stream(25) })
			if r.active(alarm.LowFrameRate, "cam1") {
				t.Fatalf("away %d s: low frame rate raised %d s after the camera came back", away, i+1)
			}
		}
		if r.active(alarm.CameraDown, "cam1") {
			t.Fatalf("away %d s: camera down not cleared", away)
		}
		// A camera that really is slow after its reconnect is still caught.
		if n := r.secondsUntil(alarm.LowFrameRate, "cam1", 30, func() { c.stream(6) }); n > 30 {
			t.Fatalf("away %d s: low frame rate not raised for a slow camera", away)
		}
	}
}

func TestExpectedFPSLearnedFromStreamTiming(t *testing.T) {
	clk := clock.NewFake(t0)
	tr := newTracker(Camera{ID: "c"}, t0)
	th := DefaultThresholds()
	wall := media.Time90k(t0)
	for i := range 30 {
		wall += 3600 // 25 fps
		tr.frame(ingest.LiveFrame{Frame: &media.Frame{Wall: wall, Key: i%25 == 0, Data: []byte{byte(i)}}}, clk.Now(), th)
	}
	if e := tr.expected(); e < 24.9 || e > 25.1 {
		t.Fatalf("learned %v fps, want 25", e)
	}
	// A later drop (every 4th frame) does not lower the expectation.
	for range 30 {
		wall += 4 * 3600
		tr.frame(ingest.LiveFrame{Frame: &media.Frame{Wall: wall, Data: []byte{1}}}, clk.Now(), th)
	}
	if e := tr.expected(); e < 24.9 {
		t.Fatalf("expectation fell to %v", e)
	}
}

func TestFrozenPicture(t *testing.T) {
	r := newRig(t, Options{}, "cam1")
	c := r.cams["cam1"]
	frames := make(chan ingest.LiveFrame)
	r.m.cams[0].cam.Subscribe = func() (<-chan ingest.LiveFrame, func()) { return frames, func() {} }
	feed := func(data byte) func() {
		return func() {
			c.stream(25)
			r.m.mu.Lock()
			r.m.cams[0].frame(ingest.LiveFrame{Frame: &media.Frame{Key: true, Data: []byte{0, 0, 0, 1, data}}}, r.clk.Now(), r.m.th)
			r.m.mu.Unlock()
		}
	}
	i := byte(0)
	for range 12 {
		i++
		r.second(feed(i))
	}
	if r.active(alarm.Frozen, "cam1") {
		t.Fatal("distinct key frames reported frozen")
	}
	if n := r.secondsUntil(alarm.Frozen, "cam1", 30, feed(200)); n > 30 {
		t.Fatal("frozen not raised within 30 s")
	}
	if !r.m.Snapshot().Cameras[0].Frozen {
		t.Fatal("snapshot does not say frozen")
	}
	r.second(feed(201))
	if r.active(alarm.Frozen, "cam1") {
		t.Fatal("not cleared when the picture changes")
	}
}

// quota is a volume of a fixed size whose used bytes the test sets.
type quota struct {
	mu          sync.Mutex
	size, used  uint64
	probeErr    error
	writeErrors uint64
}

func (q *quota) statfs(string) (uint64, uint64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.size - min(q.used, q.size), q.size, nil
}
func (q *quota) probe(string) error { q.mu.Lock(); defer q.mu.Unlock(); return q.probeErr }
func (q *quota) errors() uint64     { q.mu.Lock(); defer q.mu.Unlock(); return q.writeErrors }

func TestStorageAlarms(t *testing.T) {
	q := &quota{size: 100 << 30}
	th := DefaultThresholds()
	th.MinTimeToFull = time.Hour
	r := newRig(t, Options{Thresholds: th, Volumes: []Volume{{Name: "data", Dir: "/nonexistent", Statfs: q.statfs, Probe: q.probe, WriteErrors: q.errors}}})
	for range 12 {
		r.second(func() { q.mu.Lock(); q.used += 1 << 20; q.mu.Unlock() }) // 1 MiB/s: ~28 h to full
	}
	if l := r.am.List(true); len(l) != 0 {
		t.Fatalf("healthy volume raised %+v", l)
	}
	v := r.m.Snapshot().Volumes[0]
	if !v.Writable || v.WriteRate < 0.9*(1<<20) || v.TimeToFull < 24*time.Hour {
		t.Fatalf("signals %+v", v)
	}
	// Writing 100 MiB/s: full in well under an hour.
	if n := r.secondsUntil(alarm.StorageLow, "data", 30, func() { q.mu.Lock(); q.used += 100 << 20; q.mu.Unlock() }); n > 30 {
		t.Fatal("time-to-full alarm not raised")
	}
	a, _ := r.am.ActiveFor(alarm.StorageLow, "data")
	if a.Code != "alarm.msg.time_to_full" || !strings.Contains(a.Text(i18n.En), "Full in") {
		t.Fatalf("message %q (%s)", a.Message, a.Code)
	}
	q.mu.Lock()
	q.probeErr = errors.New("read-only file system")
	q.writeErrors = 3
	q.mu.Unlock()
	r.second(nil)
	if !r.active(alarm.StorageUnwritable, "data") || !r.active(alarm.StorageWriteErrors, "data") {
		t.Fatalf("alarms %+v", r.am.List(true))
	}
	q.mu.Lock()
	q.probeErr = nil
	q.mu.Unlock()
	for range 70 {
		r.second(nil) // no more writes: the rate falls to zero
	}
	if r.active(alarm.StorageUnwritable, "data") || r.active(alarm.StorageWriteErrors, "data") || r.active(alarm.StorageLow, "data") {
		t.Fatalf("not cleared: %+v", r.am.List(true))
	}
}

type fakeSegs struct {
	mu   sync.Mutex
	segs map[string][]store.Segment
}

func (f *fakeSegs) Segments(_ context.Context, camera string, start, end int64) ([]store.Segment, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Segment
	for _, s := range f.segs[camera] {
		if s.End > start && s.Start < end {
			out = append(out, s)
		}
	}
	return out, nil
}

func TestGapsFromSegments(t *testing.T) {
	at := func(d time.Duration) int64 { return media.Time90k(t0.Add(d)) }
	fs := &fakeSegs{segs: map[string][]store.Segment{"cam1": {
		{Camera: "cam1", Start: at(0), End: at(60 * time.Second)},
		{Camera: "cam1", Start: at(60*time.Second + 100*time.Millisecond), End: at(120 * time.Second)}, // jitter, no gap
		{Camera: "cam1", Start: at(150 * time.Second), End: at(200 * time.Second)},                     // 30 s gap
	}}}
	r := newRig(t, Options{Segments: fs}, "cam1")
	c := r.cams["cam1"]
	c.set(func(s *ingest.State) { s.LastError = "DESCRIBE: 503 Service Unavailable" })
	r.clk.Set(t0.Add(200 * time.Second))
	for range 11 {
		r.second(func() { c.stream(25) })
	}
	s := r.m.Snapshot()
	if len(s.Gaps) != 1 {
		t.Fatalf("gaps %+v", s.Gaps)
	}
	g := s.Gaps[0]
	if !g.Start.Equal(t0.Add(120*time.Second)) || !g.End.Equal(t0.Add(150*time.Second)) || !strings.Contains(g.Cause, "503") {
		t.Fatalf("gap %+v", g)
	}
	for range 11 {
		r.second(func() { c.stream(25) })
	}
	var gapAlarms int
	for _, a := range r.am.List(false) {
		if a.Kind == alarm.Gap {
			gapAlarms++
			if !a.From.Equal(g.Start) || !a.To.Equal(g.End) {
				t.Fatalf("gap alarm period %+v", a)
			}
		}
	}
	if gapAlarms != 1 {
		t.Fatalf("a gap must alarm once, got %d", gapAlarms)
	}
}

type fakeLedger struct {
	mu sync.Mutex
	e  []ledger.Entry
}

func (f *fakeLedger) Append(_ context.Context, e ledger.Entry) (ledger.Entry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e.Seq = uint64(len(f.e) + 1)
	e.Time = t0
	f.e = append(f.e, e)
	return e, nil
}

func TestScheduledCheckWritesLedger(t *testing.T) {
	led := &fakeLedger{}
	q := &quota{size: 100 << 30}
	r := newRig(t, Options{Ledger: led, CheckInterval: time.Hour,
		Volumes: []Volume{{Name: "data", Dir: "/x", Statfs: q.statfs, Probe: q.probe}}}, "cam1", "cam2")
	for range 12 {
		r.second(func() { r.cams["cam1"].stream(25) })
	}
	res, err := r.m.RunCheck(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || !res[0].OK || res[1].OK || !res[2].OK {
		t.Fatalf("results %+v", res)
	}
	if len(led.e) != 3 {
		t.Fatalf("ledger entries %+v", led.e)
	}
	e := led.e[1]
	if e.Kind != ledger.DeviceCheck || len(e.Cameras) != 1 || e.Cameras[0] != "cam2" || !strings.HasPrefix(e.Detail, "이상: ") ||
		!strings.Contains(e.Detail, "녹화 중이 아닙니다(상태: 연결 중); 카메라 연결 끊김: ") || e.Purpose != CheckPurpose {
		t.Fatalf("entry %+v", e)
	}
	if led.e[0].Detail != "정상" || led.e[2].Object != "storage:data" {
		t.Fatalf("entries %+v", led.e)
	}
}

func TestRunSchedulesChecks(t *testing.T) {
	led := &fakeLedger{}
	r := newRig(t, Options{Ledger: led, CheckInterval: 10 * time.Second}, "cam1")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.m.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		led.mu.Lock()
		n := len(led.e)
		led.mu.Unlock()
		if n > 0 {
			break
		}
		r.clk.Advance(time.Second)
		time.Sleep(time.Millisecond) // let Run arm its next tick
	}
	cancel()
	<-done
	if len(led.e) == 0 {
		t.Fatal("Run never ran the scheduled check")
	}
	if r.m.Snapshot().Checks == 0 {
		t.Fatal("check count not kept")
	}
}

func TestNewMonitorRejectsBadOptions(t *testing.T) {
	am := alarm.New(alarm.Options{})
	st := func() ingest.State { return ingest.State{} }
	for name, o := range map[string]Options{
		"no alarms": {},
		"no id":     {Alarms: am, Cameras: []Camera{{State: st}}},
		"twice":     {Alarms: am, Cameras: []Camera{{ID: "a", State: st}, {ID: "a", State: st}}},
		"no dir":    {Alarms: am, Volumes: []Volume{{Name: "d"}}},
		"no state":  {Alarms: am, Cameras: []Camera{{ID: "a"}}},
	} {
		if _, err := NewMonitor(o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
