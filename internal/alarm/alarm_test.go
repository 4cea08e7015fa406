package alarm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/i18n"
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type recorder struct {
	mu sync.Mutex
	ev []Event
}

func (r *recorder) Notify(e Event) { r.mu.Lock(); r.ev = append(r.ev, e); r.mu.Unlock() }
func (r *recorder) Record(e Event) error {
	r.Notify(e)
	return nil
}
func (r *recorder) events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.ev...)
}

func TestRaiseDedupClearAck(t *testing.T) {
	clk := clock.NewFake(t0)
	var logs bytes.Buffer
	n := &recorder{}
	m := New(Options{Clock: clk, Notify: []Notifier{n}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})

	a, isNew := m.Raise(CameraDown, "cam1", Critical, "no video for 10s")
	if !isNew || a.ID != 1 || !a.Active() {
		t.Fatalf("first raise: %+v new=%v", a, isNew)
	}
	clk.Advance(time.Second)
	if b, isNew := m.Raise(CameraDown, "cam1", Critical, "no video for 10s"); isNew || b.ID != a.ID {
		t.Fatalf("repeated raise made a new alarm: %+v", b)
	}
	if b, isNew := m.Raise(CameraDown, "cam2", Critical, "x"); !isNew || b.ID == a.ID {
		t.Fatalf("another camera must get its own alarm: %+v", b)
	}
	if len(n.events()) != 2 {
		t.Fatalf("a repeated identical raise must not notify again: %d events", len(n.events()))
	}
	if b, _ := m.Raise(CameraDown, "cam1", Critical, "no video for 20s"); b.Message != "no video for 20s" || len(n.events()) != 2 {
		t.Fatalf("a new message is kept without an event: %+v, %d events", b, len(n.events()))
	}
	m.Raise(CameraDown, "cam1", Warning, "degraded")
	if ev := n.events(); len(ev) != 3 || ev[2].Change != Updated || ev[2].Alarm.Severity != Warning {
		t.Fatalf("a severity change should be an update: %+v", ev)
	}
	m.Raise(CameraDown, "cam1", Critical, "no video for 20s")
	clk.Advance(time.Minute)
	c, ok := m.Clear(CameraDown, "cam1")
	if !ok || c.Active() || !c.Cleared.Equal(t0.Add(61*time.Second)) {
		t.Fatalf("clear: %+v %v", c, ok)
	}
	if _, ok := m.Clear(CameraDown, "cam1"); ok {
		t.Fatal("clearing twice reported a clear")
	}
	// Cleared but unacknowledged: still needs attention.
	if l := m.List(true); len(l) != 2 {
		t.Fatalf("attention list: %+v", l)
	}
	if _, err := m.Ack(a.ID, "", ""); err == nil {
		t.Fatal("an anonymous ack was accepted")
	}
	if _, err := m.Ack(a.ID, "kim", "cable reseated"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Ack(a.ID, "lee", ""); err == nil {
		t.Fatal("second ack accepted")
	}
	if _, err := m.Ack(99, "kim", ""); err == nil {
		t.Fatal("ack of a missing alarm accepted")
	}
	l := m.List(true)
	if len(l) != 1 || l[0].Subject != "cam2" {
		t.Fatalf("after ack, only cam2 needs attention: %+v", l)
	}
	// A new outage after the clear is a new alarm.
	if d, isNew := m.Raise(CameraDown, "cam1", Critical, "again"); !isNew || d.ID == a.ID {
		t.Fatalf("raise after clear: %+v", d)
	}
	if !strings.Contains(logs.String(), "alarm acknowledged") || !strings.Contains(logs.String(), "by=kim") {
		t.Fatalf("ack not logged:\n%s", logs.String())
	}
}

// After every restart, every gap of the last 10 minutes was raised again
// as a new alarm (10 crashes turned 55 real gaps into 330 alarms): an event
// is identified by its kind, subject and start, kept in the store, so a
// restarted Manager finds it already raised. Conditions are restored
// active, so re-raising them is silent too.
func TestEventsIdempotentAcrossRestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "alarms.db")
	clk := clock.NewFake(t0)
	start := func() (*Manager, *SQLiteStore, *recorder) {
		st, err := OpenSQLite(ctx, path, "")
		if err != nil {
			t.Fatal(err)
		}
		n := &recorder{}
		m := New(Options{Clock: clk, Store: st, Notify: []Notifier{n}})
		if err := m.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return m, st, n
	}
	gaps := []time.Time{t0.Add(-9 * time.Minute), t0.Add(-5 * time.Minute), t0.Add(-time.Minute)}
	raiseAll := func(m *Manager) int {
		n := 0
		for _, g := range gaps {
			if _, isNew := m.Event(Gap, "cam1", Warning, M("alarm.msg.gap", "duration", "12s", "cause", "EOF"), g, g.Add(12*time.Second)); isNew {
				n++
			}
		}
		if _, isNew := m.RaiseMsg(StorageLow, "data", Critical, M("alarm.msg.free_bytes", "free", "1 GiB", "threshold", "2 GiB")); isNew {
			n++
		}
		return n
	}
	m, st, _ := start()
	if n := raiseAll(m); n != 4 {
		t.Fatalf("first run raised %d, want 4", n)
	}
	m.Ack(1, "kim", "")
	st.Close()
	for restart := range 10 {
		clk.Advance(time.Second)
		m, st, notes := start()
		if n := raiseAll(m); n != 0 {
			t.Fatalf("restart %d raised %d new alarms for the same gaps and condition", restart+1, n)
		}
		if ev := notes.events(); len(ev) != 0 {
			t.Fatalf("restart %d notified %+v", restart+1, ev)
		}
		st.Close()
	}
	m, st, _ = start()
	defer st.Close()
	if l := m.List(false); len(l) != 4 {
		t.Fatalf("%d alarms after 10 restarts, want 4: %+v", len(l), l)
	}
	// A gap starting elsewhere is a new one; ids continue.
	if a, isNew := m.Event(Gap, "cam1", Warning, M("alarm.msg.gap", "duration", "3s", "cause", "EOF"), t0, t0.Add(3*time.Second)); !isNew || a.ID != 5 {
		t.Fatalf("a new gap: %+v new=%v", a, isNew)
	}
	// An event trimmed from memory is still found in the store.
	m2 := New(Options{Clock: clk, Store: st, Keep: 1})
	if _, isNew := m2.Event(Gap, "cam1", Warning, M("alarm.msg.gap", "duration", "12s", "cause", "EOF"), gaps[0], gaps[0].Add(12*time.Second)); isNew {
		t.Fatal("an event only in the store was raised again")
	}
}

func TestMessagesInTheCataloguesWords(t *testing.T) {
	m := New(Options{Clock: clock.NewFake(t0)})
	a, _ := m.RaiseMsg(StorageLow, "data", Critical, M("alarm.msg.free_bytes", "free", "0.9 GiB", "threshold", "1.0 GiB"))
	if a.Message != "여유 공간이 0.9 GiB로 기준 1.0 GiB 미만입니다" || a.Text(i18n.En) != "0.9 GiB free, below 1.0 GiB" {
		t.Fatalf("message %q, in English %q", a.Message, a.Text(i18n.En))
	}
	c, _ := m.ClearMsg(StorageLow, "data", M("alarm.msg.storage_recovered", "percent", "6.2", "free", "1.3 GiB",
		"full", "not filling", "clear_percent", "6.0", "clear_full", "28h48m0s"))
	if !strings.Contains(c.Text(i18n.En), "6.2% free") || c.Active() {
		t.Fatalf("cleared with %q", c.Text(i18n.En))
	}
	for _, k := range Kinds {
		if n := k.Name(i18n.Ko); strings.HasPrefix(n, i18n.Missing) {
			t.Errorf("kind %s has no name in the catalogue", k)
		}
	}
}

func TestLegacyJournalImported(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	jpath := filepath.Join(dir, "alarms.jsonl")
	gapFrom := t0.Add(-time.Hour)
	var lines []string
	for _, e := range []Event{
		{Change: Raised, At: t0, Alarm: Alarm{ID: 1, Kind: StorageLow, Subject: "data", Message: "5% free", Raised: t0, Updated: t0}},
		{Change: Raised, At: t0, Alarm: Alarm{ID: 2, Kind: Gap, Subject: "cam1", Message: "gap", Raised: t0, Updated: t0, Cleared: t0, From: gapFrom, To: gapFrom.Add(time.Minute)}},
		// The same gap raised again by a restart of old.
		{Change: Raised, At: t0.Add(time.Minute), Alarm: Alarm{ID: 3, Kind: Gap, Subject: "cam1", Message: "gap", Raised: t0.Add(time.Minute), Updated: t0.Add(time.Minute), Cleared: t0.Add(time.Minute), From: gapFrom, To: gapFrom.Add(time.Minute)}},
		{Change: Acked, At: t0.Add(2 * time.Minute), Alarm: Alarm{ID: 2, Kind: Gap, Subject: "cam1", Message: "gap", Raised: t0, Updated: t0, Cleared: t0, From: gapFrom, To: gapFrom.Add(time.Minute), AckedAt: t0.Add(2 * time.Minute), AckedBy: "kim"}},
	} {
		b, _ := json.Marshal(e)
		lines = append(lines, string(b))
	}
	os.WriteFile(jpath, []byte(strings.Join(lines, "\n")+"\n"+`{"change":"rai`), 0o600) // torn last line
	st, err := OpenSQLite(ctx, filepath.Join(dir, "alarms.db"), jpath)
	if err != nil {
		t.Fatal(err)
	}
	m := New(Options{Clock: clock.NewFake(t0), Store: st})
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if a, ok := m.ActiveFor(StorageLow, "data"); !ok || a.ID != 1 {
		t.Fatalf("active alarm lost in the import: %+v", a)
	}
	if g, _ := m.Get(2); g.AckedBy != "kim" || g.Key == "" {
		t.Fatalf("gap after import: %+v", g)
	}
	if _, isNew := m.Event(Gap, "cam1", Warning, M("alarm.msg.gap", "duration", "1m0s", "cause", "EOF"), gapFrom, gapFrom.Add(time.Minute)); isNew {
		t.Fatal("an imported gap was raised again")
	}
	if c, _ := m.Raise(CameraDown, "cam9", Critical, "x"); c.ID != 4 {
		t.Fatalf("ids must continue after the import, got %d", c.ID)
	}
	st.Close()
	if _, err := os.Stat(jpath); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the journal was not renamed after its import: %v", err)
	}
	if _, err := os.Stat(jpath + ".imported"); err != nil {
		t.Fatal(err)
	}
	// A corrupt line in the middle is named.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{}\nnot json\n{}\n"), 0o600)
	if _, err := ReadJournal(bad); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Fatalf("corrupt journal error: %v", err)
	}
	if _, err := OpenSQLite(ctx, filepath.Join(dir, "other.db"), bad); err == nil {
		t.Fatal("a corrupt journal was imported")
	}
}

// The alarm store holds camera ids, acknowledgers' names and their notes:
// readable by the service account only.
func TestAlarmStoreMode0600(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenSQLite(context.Background(), filepath.Join(dir, "alarms.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	New(Options{Clock: clock.NewFake(t0), Store: st}).Raise(CameraDown, "cam", Critical, "x")
	defer st.Close()
	ms, _ := filepath.Glob(filepath.Join(dir, "alarms.db*"))
	if len(ms) < 2 {
		t.Fatalf("files %v", ms)
	}
	for _, p := range ms {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
}

func TestWebhookRetriesThenDelivers(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	fails := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		bodies = append(bodies, b)
		sigs = append(sigs, r.Header.Get("X-Gwanje-Signature"))
	}))
	defer srv.Close()

	clk := clock.NewFake(t0)
	var logs syncBuffer
	wh, err := NewWebhooks([]Webhook{{URL: srv.URL + "/hook?token=s3cret", Secret: "k"}},
		WebhookOptions{Clock: clk, BackoffMin: time.Second, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- wh.Run(ctx) }()
	defer func() { cancel(); <-done }()

	m := New(Options{Clock: clk, Notify: []Notifier{wh}})
	m.Raise(CameraDown, "cam1", Critical, "no video")
	// Two failures: the sender waits 1 s, then 2 s, on the fake clock.
	for _, d := range []time.Duration{time.Second, 2 * time.Second} {
		waitFor(t, func() bool { return strings.Count(logs.String(), "retrying") >= int(d/time.Second) })
		clk.Advance(d)
	}
	waitFor(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(bodies) == 1 })
	var p Payload
	if err := json.Unmarshal(bodies[0], &p); err != nil || p.Version != 1 || p.Change != Raised || p.Alarm.Subject != "cam1" {
		t.Fatalf("payload %s: %v", bodies[0], err)
	}
	mac := hmac.New(sha256.New, []byte("k"))
	mac.Write(bodies[0])
	if sigs[0] != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		t.Fatalf("bad signature %q", sigs[0])
	}
	if strings.Contains(logs.String(), "s3cret") {
		t.Fatal("the webhook URL's query (a token) was logged")
	}
	waitFor(t, func() bool { st := wh.Stats()[0]; return st.Sent == 1 && st.Queued == 0 })
	if st := wh.Stats()[0]; st.Failed != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestWebhookGivesUpAndQueueIsBounded(t *testing.T) {
	var hits sync.WaitGroup
	hits.Add(6) // three events, two attempts each
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Done()
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	clk := clock.NewFake(t0)
	var logs syncBuffer
	wh, _ := NewWebhooks([]Webhook{{URL: srv.URL}}, WebhookOptions{Clock: clk, Attempts: 2, Queue: 3,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	// Fill the queue before the sender runs: the oldest are dropped.
	for i := range 5 {
		wh.Notify(Event{Change: Raised, At: t0.Add(time.Duration(i)), Alarm: Alarm{ID: uint64(i + 1)}})
	}
	if st := wh.Stats()[0]; st.Dropped != 2 || st.Queued != 3 {
		t.Fatalf("stats %+v", st)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- wh.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for i := 1; i <= 3; i++ {
		waitFor(t, func() bool { return strings.Count(logs.String(), "retrying") == i })
		clk.Advance(time.Second)
	}
	hits.Wait()
	waitFor(t, func() bool { return wh.Stats()[0].Failed == 3 && wh.Stats()[0].Queued == 0 })
	if n := strings.Count(logs.String(), "webhook gave up"); n != 3 {
		t.Fatalf("gave up %d times", n)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestHandler(t *testing.T) {
	m := New(Options{Clock: clock.NewFake(t0)})
	a, _ := m.Raise(CameraDown, "cam1", Critical, "down")
	h := Handler(m, func(r *http.Request) string { return r.Header.Get("X-Test-User") })

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/?attention=1", nil))
	var list struct{ Alarms []Alarm }
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || len(list.Alarms) != 1 {
		t.Fatalf("list %d %s", rec.Code, rec.Body)
	}
	req := httptest.NewRequest("POST", "/1/ack", strings.NewReader(`{"note":"seen"}`))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("anonymous ack: %d", rec.Code)
	}
	req = httptest.NewRequest("POST", "/1/ack", strings.NewReader(`{"note":"seen"}`))
	req.Header.Set("X-Test-User", "kim")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("ack: %d %s", rec.Code, rec.Body)
	}
	if got, _ := m.List(false)[0], 0; got.AckedBy != "kim" || got.AckNote != "seen" || got.ID != a.ID {
		t.Fatalf("ack not recorded: %+v", got)
	}
	for path, want := range map[string]int{"/1/ack": 409, "/7/ack": 404, "/x/ack": 400} {
		req = httptest.NewRequest("POST", path, nil)
		req.Header.Set("X-Test-User", "kim")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	if !waitForOrNot(cond) {
		t.Fatal("condition not met within 5 s")
	}
}

// waitForOrNot polls cond until it holds or 5 s pass.
func waitForOrNot(cond func() bool) bool {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(time.Millisecond)
	}
	return cond()
}
