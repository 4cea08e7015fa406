package web

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/retention"
)

// fakeRetention keeps holds in memory; it starts with manual hold 1 on
// cam-a and on cam-b, and hold 2, a data-subject request's, on cam-a.
type fakeRetention struct {
	mu       sync.Mutex
	placed   []retention.Hold
	released []int64
}

func (f *fakeRetention) Status(ctx context.Context) (*retention.Status, error) {
	return &retention.Status{Holds: 3, Cameras: []retention.CameraStatus{{Camera: "cam-a", Site: "site-a"}, {Camera: "cam-b", Site: "site-b"}}}, nil
}

func (f *fakeRetention) Holds(ctx context.Context, all bool) ([]retention.Hold, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	hs := []retention.Hold{
		{ID: 1, Owner: retention.OwnerManual, Reason: "수사 협조", Cameras: []string{"cam-a"}},
		{ID: 1, Owner: retention.OwnerManual, Reason: "수사 협조", Cameras: []string{"cam-b"}},
		{ID: 2, Owner: retention.OwnerRequest, Ref: "req-7", Cameras: []string{"cam-a"}},
	}
	return append(hs, f.placed...), nil
}

func (f *fakeRetention) Hold(ctx context.Context, h retention.Hold) (retention.Hold, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h.ID = int64(10 + len(f.placed))
	f.placed = append(f.placed, h)
	return h, nil
}

func (f *fakeRetention) Release(ctx context.Context, id int64, actor string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if id == 2 {
		return errs.Errorf("fake", errs.Conflict, "not manual")
	}
	f.released = append(f.released, id)
	return nil
}

// TestHoldRoutes: a manager places a hold with its reason and is named as
// its actor; a hold is released only through a camera it covers, and a
// data-subject request's hold only by closing the request.
func TestHoldRoutes(t *testing.T) {
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0)
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	lg, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	svc, err := access.Open(context.Background(), access.Config{Dir: dir, Ledger: lg, Clock: clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ret := &fakeRetention{}
	srv, err := New(Options{Guard: AccessGuard{S: svc, Clock: clk}, Gate: access.NewGate(svc, access.GateConfig{}), Ledger: lg,
		Accounts: svc,
		Cameras:  fakeCameras{}, Footage: newSource(t, &events{}, 0), Retention: ret, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	ctx := context.Background()
	local := netip.MustParseAddr("127.0.0.1")
	adminPW, _, _ := svc.EnsureAdmin(ctx, "admin")
	sess, err := svc.Login(ctx, "admin", adminPW, "", local)
	if err != nil {
		t.Fatal(err)
	}
	const pw = "holds-Passw0rd-1"
	if err := svc.ChangePassword(ctx, sess.Principal, adminPW, pw); err != nil {
		t.Fatal(err)
	}
	sess, _ = svc.Login(ctx, "admin", pw, "", local)
	_, otp, err := svc.CreateUser(ctx, sess.Principal, "kim", "김", []access.Grant{{Role: access.Manager, Sites: []string{"site-a"}}})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := svc.Login(ctx, "kim", otp, "", local)
	if err := svc.ChangePassword(ctx, ms.Principal, otp, pw); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{"name": "kim", "password": pw})
	resp, err := http.Post(ts.URL+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var lr struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&lr)
	resp.Body.Close()
	hc := &http.Client{Jar: jarWith(ts.URL, resp.Cookies())}
	post := func(path string, body any) int {
		t.Helper()
		var buf bytes.Buffer
		if body != nil {
			json.NewEncoder(&buf).Encode(body)
		}
		req, _ := http.NewRequest("POST", ts.URL+path, &buf)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", lr.CSRF)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if c := post("/api/cameras/cam-a/holds", map[string]any{"from": t0, "to": t0.Add(time.Hour), "reason": " 소송 대비 "}); c != 201 {
		t.Fatalf("place hold: %d", c)
	}
	if len(ret.placed) != 1 {
		t.Fatalf("placed %d holds", len(ret.placed))
	}
	h := ret.placed[0]
	if h.Owner != retention.OwnerManual || h.Actor != "kim" || h.Reason != "소송 대비" || !slices.Equal(h.Cameras, []string{"cam-a"}) ||
		!h.From.Equal(t0) || !h.To.Equal(t0.Add(time.Hour)) {
		t.Errorf("hold placed as %+v", h)
	}
	for _, bad := range []map[string]any{
		{"from": t0, "to": t0, "reason": "x"},                        // empty period
		{"from": t0, "to": t0.Add(time.Hour)},                        // no reason
		{"from": t0, "to": t0.Add(time.Hour), "reason": "x", "z": 1}, // unknown field
	} {
		if c := post("/api/cameras/cam-a/holds", bad); c != 400 {
			t.Errorf("hold %v: %d, want 400", bad, c)
		}
	}
	if c := post("/api/cameras/cam-b/holds", map[string]any{"from": t0, "to": t0.Add(time.Hour), "reason": "x"}); c != 404 {
		t.Errorf("hold on another site's camera: %d, want 404", c)
	}
	if c := post("/api/cameras/cam-a/holds/10/release", nil); c != 204 {
		t.Errorf("release own hold: %d", c)
	}
	if c := post("/api/cameras/cam-a/holds/99/release", nil); c != 404 {
		t.Errorf("release unknown hold: %d, want 404", c)
	}
	if c := post("/api/cameras/cam-a/holds/2/release", nil); c != 409 {
		t.Errorf("release a request's hold: %d, want 409", c)
	}
	if !slices.Equal(ret.released, []int64{10}) {
		t.Errorf("released %v, want [10]", ret.released)
	}
}
