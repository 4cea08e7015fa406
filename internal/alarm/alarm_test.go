package alarm

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

func TestJournalRestoreAndBetween(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "alarms.jsonl")
	j, err := OpenJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewFake(t0)
	m := New(Options{Clock: clk, Journal: j})
	m.Raise(StorageLow, "data", Warning, "5% free")
	gap := m.Event(Gap, "cam1", Warning, "gap 12s", t0.Add(-time.Hour), t0.Add(-time.Hour+12*time.Second))
	clk.Advance(time.Hour)
	m.Raise(Frozen, "cam2", Warning, "frozen")
	m.Clear(Frozen, "cam2")
	m.Ack(gap.ID, "kim", "")
	j.Close()
	// A torn last line (crash mid-write) is ignored.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"change":"rai`)
	f.Close()

	ev, err := ReadJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 5 {
		t.Fatalf("events: %d", len(ev))
	}
	m2 := New(Options{Clock: clk})
	m2.Restore(ev)
	if a, ok := m2.ActiveFor(StorageLow, "data"); !ok || a.ID != 1 {
		t.Fatalf("active alarm lost on restore: %+v", a)
	}
	if b, isNew := m2.Raise(StorageLow, "data", Warning, "5% free"); isNew || b.ID != 1 {
		t.Fatal("restored alarm not deduplicated")
	}
	if c, _ := m2.Raise(CameraDown, "cam9", Critical, "x"); c.ID != 4 {
		t.Fatalf("ids must continue after restore, got %d", c.ID)
	}
	// Between: the gap's period is an hour before t0.
	in := Between(ev, t0.Add(-2*time.Hour), t0.Add(-30*time.Minute))
	if len(in) != 1 || in[0].Kind != Gap || in[0].AckedBy != "kim" {
		t.Fatalf("between: %+v", in)
	}
	if in := Between(ev, t0.Add(30*time.Minute), t0.Add(2*time.Hour)); len(in) != 2 {
		t.Fatalf("between later: %+v", in) // storage (active) and frozen
	}

	// A corrupt line in the middle is named.
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{}\nnot json\n{}\n"), 0o600)
	if _, err := ReadJournal(bad); err == nil || !strings.Contains(err.Error(), "bad.jsonl:2") {
		t.Fatalf("corrupt journal error: %v", err)
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
