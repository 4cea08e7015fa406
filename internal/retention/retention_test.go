package retention

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

var seoul = func() *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return l
}()

var testKeys = func() *seal.Keyring {
	k, err := seal.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		panic(err)
	}
	return k
}()

func kst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, seoul)
	if err != nil {
		panic(err)
	}
	return t
}

// rules is a fixed retention per camera.
type rules map[string]registry.Retention

func (r rules) Retention(c string) registry.Retention {
	if v, ok := r[c]; ok {
		return v
	}
	return registry.DefaultRetention
}
func (r rules) Site(c string) string { return "site-" + c }

// fakeLedger records appended entries.
type fakeLedger struct {
	mu  sync.Mutex
	ent []ledger.Entry
}

func (l *fakeLedger) Append(ctx context.Context, e ledger.Entry) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e.Seq = uint64(len(l.ent) + 1)
	l.ent = append(l.ent, e)
	return e, nil
}

func (l *fakeLedger) entries() []ledger.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ent)
}

// destructions returns the 파기 rows (holds placed and released have rows
// of their own).
func (l *fakeLedger) destructions() []ledger.Entry {
	var out []ledger.Entry
	for _, en := range l.entries() {
		if en.Kind == ledger.Destruction {
			out = append(out, en)
		}
	}
	return out
}

// fakeAlarms records active alarms.
type fakeAlarms struct {
	mu     sync.Mutex
	active map[string]string // subject → message
	raised []string
}

func (a *fakeAlarms) Raise(k alarm.Kind, subject string, sev alarm.Severity, msg string) (alarm.Alarm, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if k != alarm.RetentionBroken {
		panic("unexpected alarm kind " + k)
	}
	if a.active == nil {
		a.active = map[string]string{}
	}
	a.active[subject] = msg
	a.raised = append(a.raised, subject)
	return alarm.Alarm{}, true
}

func (a *fakeAlarms) Clear(k alarm.Kind, subject string) (alarm.Alarm, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.active[subject]
	delete(a.active, subject)
	return alarm.Alarm{}, ok
}

func (a *fakeAlarms) get(subject string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.active[subject]
	return m, ok
}

type env struct {
	t      *testing.T
	dir    string
	clk    *clock.Fake
	st     *store.Store
	eng    *Engine
	led    *fakeLedger
	alarms *fakeAlarms
	opt    Options
}

func newEnv(t *testing.T, start time.Time, r Rules, cfg Config) *env {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(start)
	st, err := store.Open(context.Background(), store.Config{Dir: dir, Keys: testKeys, Clock: clk, SegmentDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, dir: dir, clk: clk, st: st, led: &fakeLedger{}, alarms: &fakeAlarms{}}
	e.opt = Options{Store: st, Dir: dir, Rules: r, Location: seoul, Ledger: e.led, Alarms: e.alarms, Clock: clk, Config: cfg}
	e.eng, err = New(context.Background(), e.opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.eng.Close()
		e.st.Close()
	})
	return e
}

// record writes n one-minute segments of camera from start.
func (e *env) record(camera string, start time.Time, n int) []store.Segment {
	e.t.Helper()
	if err := storetest.Footage(e.st, camera, media.Time90k(start), time.Minute, n); err != nil {
		e.t.Fatal(err)
	}
	segs, err := e.st.Segments(context.Background(), camera, media.Time90k(start), media.Time90k(start.Add(time.Duration(n)*time.Minute)))
	if err != nil || len(segs) != n {
		e.t.Fatalf("recorded %d segments of %s (%v), want %d", len(segs), camera, err, n)
	}
	return segs
}

func (e *env) run() *RunReport {
	e.t.Helper()
	rep, err := e.eng.RunOnce(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

func (e *env) has(id int64) bool {
	ok, err := e.st.Has(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ok
}

func (e *env) fileExists(camera string, id int64) bool {
	_, err := os.Stat(filepath.Join(e.dir, "segments", camera, itoa(id)+".gws"))
	return err == nil
}

func itoa(i int64) string { return strconvItoa(i) }

// verifyAll verifies every receipt in the data directory and returns them.
func (e *env) verifyAll() []*Receipt {
	e.t.Helper()
	names, _ := filepath.Glob(filepath.Join(e.dir, "receipts", "*.json"))
	var out []*Receipt
	for _, n := range names {
		v, err := VerifyReceipt(n, e.dir, "")
		if err != nil {
			e.t.Fatalf("verify %s: %v", n, err)
		}
		for _, p := range v.Problems {
			e.t.Errorf("verify %s: %s", filepath.Base(n), p)
		}
		if v.LocalKey != "match" {
			e.t.Errorf("verify %s: local key %s", filepath.Base(n), v.LocalKey)
		}
		out = append(out, v.Receipt)
	}
	return out
}

// TestRetention61Days records two cameras, a 60-day and a 10-day one, on
// several days, then runs retention every day for 61 days. After every run
// exactly the footage due by registry.Retention.Expiry is gone (row, key,
// file), except footage under a hold; every receipt verifies; every run
// wrote one receipt and one 파기 row per camera that lost footage.
func TestRetention61Days(t *testing.T) {
	day0 := kst("2026-03-01 00:00:30")
	r := rules{"cam60": {Days: 60}, "cam10": {Days: 10}}
	e := newEnv(t, day0, r, Config{})
	type rec struct {
		seg  store.Segment
		held bool
	}
	var recs []rec
	recordDays := map[int]bool{0: true, 1: true, 5: true, 50: true, 55: true}
	// A manual hold on cam10's footage of 2 March (an investigation).
	hold, err := e.eng.Holds().Add(context.Background(), Hold{Owner: OwnerManual, Actor: "kim", Reason: "수사기관 협조 요청",
		Cameras: []string{"cam10"}, From: kst("2026-03-02 00:00:00"), To: kst("2026-03-03 00:00:00")})
	if err != nil {
		t.Fatal(err)
	}
	wrapped := map[int64][]byte{} // wrapped keys of every recorded segment
	runs := 0
	for d := 0; d <= 61; d++ {
		e.clk.Set(day0.AddDate(0, 0, d))
		rep := e.run()
		runs++
		if rep.Refused != "" {
			t.Fatalf("day %d: run refused: %s", d, rep.Refused)
		}
		// One receipt per camera per run.
		seen := map[string]bool{}
		for _, rc := range rep.Receipts {
			if seen[rc.Camera] {
				t.Errorf("day %d: two receipts for %s in one run", d, rc.Camera)
			}
			seen[rc.Camera] = true
		}
		now := e.clk.Now()
		for _, x := range recs {
			due := !r.Retention(x.seg.Camera).Expiry(media.FromTime90k(x.seg.End-1), seoul).After(now)
			want := !due || x.held
			if got := e.has(x.seg.ID); got != want {
				t.Fatalf("day %d (%s): %s segment %d from %s: present %v, want %v (due %v, held %v)", d, now.Format(time.RFC3339),
					x.seg.Camera, x.seg.ID, at(x.seg.Start, seoul).Format(time.RFC3339), got, want, due, x.held)
			}
			if got := e.fileExists(x.seg.Camera, x.seg.ID); got != want {
				t.Fatalf("day %d: %s segment %d file present %v, want %v", d, x.seg.Camera, x.seg.ID, got, want)
			}
		}
		if recordDays[d] {
			e.clk.Set(day0.AddDate(0, 0, d).Add(12 * time.Hour))
			for _, cam := range []string{"cam60", "cam10"} {
				for _, s := range e.record(cam, day0.AddDate(0, 0, d).Add(9*time.Hour), 3) {
					b, _ := e.st.Brief(context.Background(), s.ID)
					wrapped[s.ID] = b.WrappedKey
					recs = append(recs, rec{seg: s, held: cam == "cam10" && d == 1})
				}
			}
		}
	}
	// What is left on 1 May 00:00:30: cam60 from 2 March on (1 March
	// became due at 00:00), cam10 from 25 April on plus the held 2 March.
	left := map[string][]string{}
	for _, x := range recs {
		if e.has(x.seg.ID) {
			left[x.seg.Camera] = append(left[x.seg.Camera], at(x.seg.Start, seoul).Format("01-02"))
		}
	}
	want := map[string][]string{
		"cam60": {"03-02", "03-02", "03-02", "03-06", "03-06", "03-06", "04-20", "04-20", "04-20", "04-25", "04-25", "04-25"},
		"cam10": {"03-02", "03-02", "03-02", "04-25", "04-25", "04-25"},
	}
	for cam, w := range want {
		if !slices.Equal(left[cam], w) {
			t.Errorf("%s keeps %v, want %v", cam, left[cam], w)
		}
	}
	// The held footage is reported as due but held.
	stt, err := e.eng.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range stt.Cameras {
		switch c.Camera {
		case "cam10":
			if c.DueHeld != 3 || c.Promised != "10d" || c.PromisedKorean != "10일" || !c.KeepSince.Equal(kst("2026-04-21 00:00:00")) {
				t.Errorf("status of cam10: %+v", c)
			}
		case "cam60":
			if c.DueHeld != 0 || !c.KeepSince.Equal(kst("2026-03-02 00:00:00")) || !c.Oldest.Equal(kst("2026-03-02 09:00:30")) {
				t.Errorf("status of cam60: %+v", c)
			}
		}
	}
	// Receipts: signed, verifiable, and together listing exactly the
	// destroyed segments; none of their keys is left anywhere in the index.
	rs := e.verifyAll()
	listed := map[int64]bool{}
	for _, rc := range rs {
		if rc.Reason != ReasonRetention || rc.Actor != "" || rc.Site != "site-"+rc.Camera {
			t.Errorf("receipt %s: reason %q actor %q site %q", rc.ID, rc.Reason, rc.Actor, rc.Site)
		}
		for _, s := range rc.Segments {
			listed[s.ID] = true
		}
	}
	for _, x := range recs {
		if listed[x.seg.ID] == e.has(x.seg.ID) {
			t.Errorf("segment %d: in a receipt %v, still present %v", x.seg.ID, listed[x.seg.ID], e.has(x.seg.ID))
		}
	}
	e.st.Close()
	e.st = reopen(t, e.dir)
	e.opt.Store = e.st
	index, _ := os.ReadFile(filepath.Join(e.dir, "index.db"))
	wal, _ := os.ReadFile(filepath.Join(e.dir, "index.db-wal"))
	for id, w := range wrapped {
		in := bytes.Contains(index, w) || bytes.Contains(wal, w)
		if in == listed[id] {
			t.Errorf("segment %d: wrapped key in the index %v, destroyed %v", id, in, listed[id])
		}
	}
	// The ledger has one 파기 row per receipt, naming it and its hash.
	ents := e.led.destructions()
	if len(ents) != len(rs) {
		t.Errorf("%d ledger rows for %d receipts", len(ents), len(rs))
	}
	for _, en := range ents {
		if en.Kind != ledger.Destruction || len(en.Cameras) != 1 || !strings.HasPrefix(en.Object, "receipts/") ||
			!strings.Contains(en.Detail, "receipt sha256=") || en.Purpose != "보관기간 경과" {
			t.Errorf("ledger row %+v", en)
		}
		b, err := os.ReadFile(filepath.Join(e.dir, en.Object))
		if err != nil {
			t.Errorf("ledger row names %s: %v", en.Object, err)
		} else if !strings.Contains(en.Detail, sha256hex(b)) {
			t.Errorf("ledger row for %s does not carry its hash", en.Object)
		}
	}
	// Releasing the hold lets the next run destroy the held footage.
	e.eng.Close()
	var err2 error
	e.eng, err2 = New(context.Background(), e.opt)
	if err2 != nil {
		t.Fatal(err2)
	}
	if err := e.eng.Holds().Release(context.Background(), hold.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	if err := e.eng.Holds().Release(context.Background(), hold.ID, "kim"); !errs.Is(err, errs.Conflict) {
		t.Errorf("releasing twice: %v", err)
	}
	e.clk.Advance(time.Hour)
	rep := e.run()
	if rep.Expired != 3 {
		t.Errorf("after release: %d destroyed, want the 3 held", rep.Expired)
	}
	e.verifyAll()
	// A changed receipt no longer verifies.
	p := filepath.Join(e.dir, "receipts", rs[0].ID+".json")
	b, _ := os.ReadFile(p)
	os.WriteFile(p, bytes.Replace(b, []byte(`"camera":"`), []byte(`"camera":"x`), 1), 0o600)
	if _, err := VerifyReceipt(p, e.dir, ""); err == nil || !strings.Contains(err.Error(), "signature does not verify") {
		t.Errorf("tampered receipt: %v", err)
	}
	if rep, _ := storeCheck(e); rep != "" {
		t.Error(rep)
	}
}
