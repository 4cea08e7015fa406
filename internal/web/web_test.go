package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/store"
)

// events records the order of ledger writes and footage reads.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

// fakeGuard: the session cookie value is the user name; users and their
// (perm, site) grants are listed.
type fakeGuard struct {
	users map[string]map[Perm][]string
}

func (g *fakeGuard) Authenticate(r *http.Request) (*Principal, error) {
	c, err := r.Cookie("s")
	if err != nil {
		return nil, errs.E("fake", errs.Unauthorized, "no session")
	}
	if _, ok := g.users[c.Value]; !ok {
		return nil, errs.E("fake", errs.Unauthorized, "unknown session")
	}
	return &Principal{User: c.Value, Role: "접근권한자", Session: "sess-" + c.Value}, nil
}

func (g *fakeGuard) CheckCSRF(r *http.Request, p *Principal) error {
	if r.Header.Get("X-CSRF-Token") != "csrf-"+p.User {
		return errs.E("fake", errs.Permission, "bad csrf")
	}
	return nil
}

func (g *fakeGuard) Authorize(r *http.Request, p *Principal, perm Perm, site string) error {
	for _, s := range g.users[p.User][perm] {
		if site == "" || s == site || s == "*" {
			return nil
		}
	}
	return errs.E("fake", errs.Permission, "not granted")
}

func (g *fakeGuard) WithPrincipal(ctx context.Context, p *Principal) context.Context { return ctx }

type fakeCameras struct{}

func (fakeCameras) Camera(id string) (CameraInfo, bool) {
	switch id {
	case "cam-a":
		return CameraInfo{ID: id, Name: "A", Site: "site-a"}, true
	case "cam-b":
		return CameraInfo{ID: id, Name: "B", Site: "site-b"}, true
	}
	return CameraInfo{}, false
}
func (c fakeCameras) List() []CameraInfo {
	a, _ := c.Camera("cam-a")
	b, _ := c.Camera("cam-b")
	return []CameraInfo{a, b}
}
func (fakeCameras) State(string) (ingest.State, bool)             { return ingest.State{}, false }
func (fakeCameras) Subscribe(string) (*ingest.Subscription, bool) { return nil, false }

// source serves 10 s of the H.264 clip for any camera and logs reads.
type source struct {
	ev     *events
	t0     int64
	frames []store.FrameInfo
	data   [][]byte
	params *media.Params
}

func newSource(t *testing.T, ev *events, t0 int64) *source {
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	s := &source{ev: ev, t0: t0, params: c.Params}
	for i, au := range c.AUs {
		b, _ := media.ToAVCC(au.NALUs)
		s.frames = append(s.frames, store.FrameInfo{Wall: t0 + int64(i)*clip.FrameDuration,
			Duration: clip.FrameDuration, Key: au.Key, Size: uint32(len(b))})
		s.data = append(s.data, b)
	}
	return s
}

func (s *source) Segments(_ context.Context, camera string, start, end int64) ([]store.Segment, error) {
	s.ev.add("segments")
	return []store.Segment{{ID: 1, Camera: camera, Start: s.t0, End: s.t0 + 10*media.Hz, Frames: len(s.frames)}}, nil
}

func (s *source) Open(context.Context, int64) (playback.SegmentData, error) {
	s.ev.add("open")
	return &segData{s}, nil
}

type segData struct{ s *source }

func (d *segData) Params() *media.Params     { return d.s.params }
func (d *segData) Frames() []store.FrameInfo { return d.s.frames }
func (d *segData) ReadFrame(i int) ([]byte, error) {
	d.s.ev.add("read")
	return d.s.data[i], nil
}
func (d *segData) Close() error { return nil }

type harness struct {
	t      *testing.T
	srv    *Server
	ts     *httptest.Server
	ev     *events
	ledger []ledger.Entry
	fail   bool
	t0     time.Time
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, ev: &events{}}
	h.t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(h.t0.Add(time.Minute))
	var mu sync.Mutex
	app := ledger.AppenderFunc(func(_ context.Context, e ledger.Entry) (ledger.Entry, error) {
		mu.Lock()
		defer mu.Unlock()
		h.ev.add("ledger:" + e.Kind.String())
		if h.fail {
			return e, errs.E("fake", errs.IO, "disk full")
		}
		e.Seq = uint64(len(h.ledger) + 1)
		h.ledger = append(h.ledger, e)
		return e, nil
	})
	srv, err := New(Options{
		Guard: &fakeGuard{users: map[string]map[Perm][]string{
			"viewer": {PermPlayback: {"site-a"}, PermLiveView: {"site-a"}},
			"other":  {PermPlayback: {"site-b"}},
		}},
		Cameras: fakeCameras{},
		Footage: newSource(t, h.ev, media.Time90k(h.t0)),
		Ledger:  app,
		Clock:   clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(h.ts.Close)
	return h
}

func (h *harness) do(method, path, user string, body any) *http.Response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		req.AddCookie(&http.Cookie{Name: "s", Value: user})
		req.Header.Set("X-CSRF-Token", "csrf-"+user)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func (h *harness) viewBody() map[string]any {
	return map[string]any{"start": h.t0, "end": h.t0.Add(8 * time.Second), "purpose": "민원확인", "reason": "분실물 확인"}
}

func TestLedgerRowBeforeFirstFootageByte(t *testing.T) {
	h := newHarness(t)
	resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", h.viewBody())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d", resp.StatusCode)
	}
	var v viewResponse
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	// The ledger entry exists and nothing was read yet.
	if got := h.ev.list(); len(got) != 1 || got[0] != "ledger:playback" {
		t.Fatalf("events after grant: %v", got)
	}
	e := h.ledger[0]
	if e.Actor != "viewer" || e.PurposeCategory != "민원확인" || e.Purpose != "분실물 확인" ||
		len(e.Cameras) != 1 || e.Cameras[0] != "cam-a" || !e.From.Equal(h.t0) {
		t.Errorf("ledger entry %+v", e)
	}
	resp = h.do("GET", v.URL, "viewer", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(b) < 1000 || string(b[4:8]) != "ftyp" {
		t.Fatalf("status %d, %d bytes", resp.StatusCode, len(b))
	}
	ev := h.ev.list()
	if ev[0] != "ledger:playback" {
		t.Fatalf("first event %q, want the ledger entry", ev[0])
	}
	for _, e := range ev[1:] {
		if strings.HasPrefix(e, "ledger:") {
			t.Errorf("a second ledger entry for one viewing: %v", ev)
		}
	}
	// Range requests on the same view add no ledger rows and serve the
	// same bytes.
	req, _ := http.NewRequest("GET", h.ts.URL+v.URL, nil)
	req.AddCookie(&http.Cookie{Name: "s", Value: "viewer"})
	req.Header.Set("Range", "bytes=100-199")
	resp, _ = http.DefaultClient.Do(req)
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, b[100:200]) {
		t.Errorf("range: status %d, equal %v", resp.StatusCode, bytes.Equal(part, b[100:200]))
	}
	if len(h.ledger) != 1 {
		t.Errorf("%d ledger rows after range requests", len(h.ledger))
	}
}

func TestNoFootageWhenLedgerFails(t *testing.T) {
	h := newHarness(t)
	h.fail = true
	resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", h.viewBody())
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503", resp.StatusCode)
	}
	if strings.Contains(string(b), "disk full") {
		t.Errorf("internal error text leaked to the client: %s", b)
	}
	for _, e := range h.ev.list() {
		if !strings.HasPrefix(e, "ledger:") {
			t.Errorf("footage touched after a failed ledger write: %v", h.ev.list())
		}
	}
}

func TestViewingNeedsPurpose(t *testing.T) {
	h := newHarness(t)
	for _, body := range []map[string]any{
		{"start": h.t0, "end": h.t0.Add(time.Second), "reason": "x"},
		{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "그냥", "reason": "x"},
		{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "민원확인", "reason": "  "},
		{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "민원확인", "reason": "x", "extra": 1},
	} {
		resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", body, resp.StatusCode)
		}
	}
	if len(h.ev.list()) != 0 {
		t.Errorf("events: %v", h.ev.list())
	}
}

func TestViewBoundToSessionScopeAndCSRF(t *testing.T) {
	h := newHarness(t)
	// Out of scope: the other site's user is refused, and the refusal is
	// ledgered.
	resp := h.do("POST", "/api/cameras/cam-a/views", "other", h.viewBody())
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("out of scope: status %d", resp.StatusCode)
	}
	if len(h.ledger) != 1 || h.ledger[0].Kind != ledger.AccessRefused {
		t.Errorf("refusal not ledgered: %+v", h.ledger)
	}
	// Unknown camera: not found, not forbidden.
	resp = h.do("POST", "/api/cameras/nope/views", "viewer", h.viewBody())
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown camera: status %d", resp.StatusCode)
	}
	// No session.
	resp = h.do("POST", "/api/cameras/cam-a/views", "", h.viewBody())
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no session: status %d", resp.StatusCode)
	}
	// Wrong CSRF token.
	b, _ := json.Marshal(h.viewBody())
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "s", Value: "viewer"})
	req.Header.Set("X-CSRF-Token", "forged")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("bad CSRF: status %d", resp.StatusCode)
	}
	// Cross-origin.
	req, _ = http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: "s", Value: "viewer"})
	req.Header.Set("X-CSRF-Token", "csrf-viewer")
	req.Header.Set("Origin", "https://evil.example")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin: status %d", resp.StatusCode)
	}
	// A view URL works only for the session it was granted to.
	resp = h.do("POST", "/api/cameras/cam-a/views", "viewer", h.viewBody())
	var v viewResponse
	json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	resp = h.do("GET", v.URL, "other", nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("view used by another session: status %d", resp.StatusCode)
	}
	for _, e := range h.ev.list() {
		if e == "read" {
			t.Errorf("footage read for a refused request")
		}
	}
}

func TestCamerasListedOnlyInScope(t *testing.T) {
	h := newHarness(t)
	resp := h.do("GET", "/api/cameras", "other", nil)
	var cams []cameraJSON
	json.NewDecoder(resp.Body).Decode(&cams)
	resp.Body.Close()
	if len(cams) != 1 || cams[0].ID != "cam-b" || cams[0].Live || !cams[0].Playback {
		t.Errorf("cameras for other: %+v", cams)
	}
}

func TestErrorsNeverLeakInternalText(t *testing.T) {
	rec := httptest.NewRecorder()
	s := &Server{log: discardLogger()}
	req := httptest.NewRequest("GET", "/x", nil)
	s.fail(rec, req, errs.E("op", errs.Internal, errors.New("secret path /var/lib/x")))
	if strings.Contains(rec.Body.String(), "secret") || strings.Contains(rec.Body.String(), "op") || rec.Code != 500 {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	var body ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Code != "internal" || body.Message == "" {
		t.Errorf("body %s: want code internal and a message", rec.Body.String())
	}
}

func TestErrorCodesAndLanguage(t *testing.T) {
	s := &Server{log: discardLogger()}
	for _, c := range []struct {
		err    error
		lang   string
		status int
		code   errs.Code
		msg    string
	}{
		{errs.E("op", errs.Invalid, errs.Code("range.too_long"), errs.Params{"max": "1h0m0s"}, "x"), "", 400, "range.too_long", "최대 1h0m0s"},
		{errs.E("op", errs.Invalid, errs.Code("range.too_long"), errs.Params{"max": "1h0m0s"}, "x"), "en", 400, "range.too_long", "At most 1h0m0s"},
		// Private reads as not found, whatever code it carries.
		{errs.E("op", errs.Private, errs.Code("range.too_long"), "x"), "", 404, "not_found", "찾을 수 없습니다"},
		// A code missing from the catalogue falls back to its kind's.
		{errs.E("op", errs.Conflict, errs.Code("no.such.code"), "x"), "", 409, "conflict", "충돌"},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/x", nil)
		if c.lang != "" {
			req.Header.Set("Cookie", "gwanje_lang="+c.lang)
		}
		s.fail(rec, req, c.err)
		var body ErrorBody
		json.Unmarshal(rec.Body.Bytes(), &body)
		if rec.Code != c.status || body.Code != c.code || !strings.Contains(body.Message, c.msg) {
			t.Errorf("%v (%s): %d %+v, want %d %s containing %q", c.err, c.lang, rec.Code, body, c.status, c.code, c.msg)
		}
	}
}
