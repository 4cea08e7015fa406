package health

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// counter counts the raised events a Manager notifies.
type counter struct{ raised map[alarm.Kind]int }

func (c *counter) Notify(e alarm.Event) {
	if e.Change == alarm.Raised {
		c.raised[e.Alarm.Kind]++
	}
}

// After every restart, every gap of the last 10 minutes was raised again
// as new alarms: 10 crashes turned 55 real gaps into 330 alarms. Now the
// alarm store keeps each gap's identity (camera, kind, start), so the
// monitor of a restarted gwanje finds the same gaps and raises nothing new.
// An outage alarm carried over from before the restart is cleared once the
// camera records again.
func TestRestartRaisesNoGapTwice(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "alarms.db")
	at := func(d time.Duration) int64 { return media.Time90k(t0.Add(d)) }
	// Five gaps in the last ten minutes.
	var segs []store.Segment
	for i := range 6 {
		segs = append(segs, store.Segment{Camera: "cam1", Start: at(time.Duration(i) * 100 * time.Second),
			End: at(time.Duration(i)*100*time.Second + 90*time.Second)})
	}
	fs := &fakeSegs{segs: map[string][]store.Segment{"cam1": segs}}
	clk := clock.NewFake(t0.Add(600 * time.Second))
	cam := &fakeCam{st: ingest.State{Camera: "cam1", Status: ingest.Down, LastError: "EOF"}}
	total := &counter{raised: map[alarm.Kind]int{}}
	run := func(seconds int, act func()) {
		st, err := alarm.OpenSQLite(ctx, dbPath, "")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		am := alarm.New(alarm.Options{Clock: clk, Store: st, Notify: []alarm.Notifier{total}})
		if err := am.Load(ctx); err != nil {
			t.Fatal(err)
		}
		th := DefaultThresholds()
		th.GapLookback = time.Hour // every restart sees every gap again
		m, err := NewMonitor(Options{Clock: clk, Alarms: am, Segments: fs, Thresholds: th,
			Cameras: []Camera{{ID: "cam1", State: cam.State, ExpectedFPS: 25}}})
		if err != nil {
			t.Fatal(err)
		}
		for range seconds {
			clk.Advance(time.Second)
			if act != nil {
				act()
			}
			m.Step(ctx)
		}
		if n := len(m.Snapshot().Gaps); n != 5 {
			t.Fatalf("the monitor lists %d recent gaps, want 5", n)
		}
	}
	run(12, nil) // the camera is down: camera_down and the gaps
	if total.raised[alarm.Gap] != 5 || total.raised[alarm.CameraDown] != 1 {
		t.Fatalf("first run raised %v", total.raised)
	}
	for range 10 { // ten crashes and restarts, the camera still down
		run(12, nil)
	}
	if total.raised[alarm.Gap] != 5 || total.raised[alarm.CameraDown] != 1 {
		t.Fatalf("after 10 restarts: raised %v; want the 5 gaps and the outage once", total.raised)
	}
	// The camera records again after a restart: the carried-over outage
	// alarm clears.
	cam.set(func(s *ingest.State) { s.Status, s.LastError = ingest.Recording, "" })
	run(12, func() { cam.stream(25) })
	st, _ := alarm.OpenSQLite(ctx, dbPath, "")
	defer st.Close()
	am := alarm.New(alarm.Options{Store: st})
	am.Load(ctx)
	if _, ok := am.ActiveFor(alarm.CameraDown, "cam1"); ok {
		t.Fatal("the outage alarm from before the restart was never cleared")
	}
	var gaps int
	for _, a := range am.List(false) {
		if a.Kind == alarm.Gap {
			gaps++
			if a.Code != "alarm.msg.gap" && a.Code != "alarm.msg.gap_error" {
				t.Fatalf("gap message %q not in the catalogue's words", a.Message)
			}
		}
	}
	if gaps != 5 {
		t.Fatalf("%d gap alarms in the store, want 5", gaps)
	}
}

// storage_low flapped (24 raises where other programs wrote to the disk;
// some "cleared" messages showed a value still below the threshold): it
// is raised below the threshold and cleared only StorageClearMargin above
// it, and its clearing message states the value that cleared it.
func TestStorageLowHysteresis(t *testing.T) {
	const size = 100 << 30
	q := &quota{size: size}
	n := &counter{raised: map[alarm.Kind]int{}}
	clk := clock.NewFake(t0)
	am := alarm.New(alarm.Options{Clock: clk, Notify: []alarm.Notifier{n}})
	m, err := NewMonitor(Options{Clock: clk, Alarms: am,
		Volumes: []Volume{{Name: "data", Dir: "/x", Statfs: q.statfs, Probe: q.probe}}})
	if err != nil {
		t.Fatal(err)
	}
	setFree := func(pct float64) {
		q.mu.Lock()
		q.used = size - uint64(pct/100*size)
		q.mu.Unlock()
	}
	step := func() { clk.Advance(time.Second); m.Step(context.Background()) }
	var cleared []alarm.Alarm
	clearedAt := func() {
		if a, ok := am.Get(1); ok && !a.Active() && len(cleared) == 0 {
			cleared = append(cleared, a)
		}
	}
	// Free space wanders around 5 % for ten minutes: other programs write
	// and delete temporary files, retention frees some now and then.
	for i := range 600 {
		setFree([]float64{5.3, 4.9, 5.2, 4.8, 5.4, 5.1}[i%6])
		step()
		clearedAt()
	}
	if n.raised[alarm.StorageLow] != 1 || len(cleared) != 0 {
		t.Fatalf("free space around the threshold: raised %d times, cleared %v; want one alarm, still active",
			n.raised[alarm.StorageLow], cleared)
	}
	// Above the threshold, below the clearing level (6 %): still low.
	for range 60 {
		setFree(5.8)
		step()
		clearedAt()
	}
	if len(cleared) != 0 {
		t.Fatalf("cleared at 5.8 %% free: %+v", cleared[0])
	}
	// Retention frees space: cleared once above 6 %, saying so.
	for range 400 {
		setFree(7)
		step()
		clearedAt()
	}
	if len(cleared) != 1 || n.raised[alarm.StorageLow] != 1 {
		t.Fatalf("cleared %v, raised %d", cleared, n.raised[alarm.StorageLow])
	}
	msg := cleared[0].Text(i18n.En)
	if cleared[0].Code != "alarm.msg.storage_recovered" || !strings.HasPrefix(msg, "7.0% free") {
		t.Fatalf("clearing message %q", msg)
	}
	// A burst from another program (2 GiB in 2 s, then deleted) on a
	// healthy volume is not a volume filling up.
	for i := range 600 {
		q.mu.Lock()
		q.used = size - size*7/10 // 70 % free
		if i%120 < 2 {
			q.used += 2 << 30
		}
		q.mu.Unlock()
		step()
	}
	if n.raised[alarm.StorageLow] != 1 {
		t.Fatalf("write bursts by other programs raised storage_low %d more times", n.raised[alarm.StorageLow]-1)
	}
}

// Every message code health builds is in the catalogue, in both languages
// (the catalogue's own test checks the wordings and placeholders).
func TestMessageCodesInCatalogue(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`(?:alarm\.M|alarm\.Ref|i18n\.T\(i18n\.Ko,)\(?\s*"([a-z_.]+)"`)
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			n++
			if strings.HasSuffix(m[1], ".") { // a prefix: its keys are checked below
				continue
			}
			if !i18n.Has(m[1]) {
				t.Errorf("%s: code %q is not in the catalogue", f, m[1])
			}
		}
	}
	if n < 15 {
		t.Fatalf("found only %d message codes: the pattern is stale", n)
	}
	for _, st := range []ingest.Status{ingest.Connecting, ingest.Recording, ingest.Down} {
		if !i18n.Has("camera.state." + st.String()) {
			t.Errorf("camera state %s has no wording", st)
		}
	}
	for _, k := range alarm.Kinds {
		if !i18n.Has("alarm.kind." + string(k)) {
			t.Errorf("alarm kind %s has no name", k)
		}
	}
}
