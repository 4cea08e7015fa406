package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
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
func (fakeCameras) State(string) (ingest.State, bool) { return ingest.State{}, false }
func (fakeCameras) Subscribe(string) (Feed, bool)     { return nil, false }

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

// lengthen repeats the source's frames n times in all, back to back.
func (s *source) lengthen(n int) {
	frames, data := s.frames, s.data
	span := int64(len(frames)) * clip.FrameDuration
	for k := 1; k < n; k++ {
		for i, f := range frames {
			f.Wall += int64(k) * span
			s.frames = append(s.frames, f)
			s.data = append(s.data, data[i])
		}
	}
}

func (s *source) Segments(_ context.Context, camera string, start, end int64) ([]store.Segment, error) {
	s.ev.add("segments")
	last := s.t0 + int64(len(s.frames))*clip.FrameDuration
	return []store.Segment{{ID: 1, Camera: camera, Start: s.t0, End: last, Frames: len(s.frames)}}, nil
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
	t     *testing.T
	srv   *Server
	ts    *httptest.Server
	ev    *events
	svc   *access.Service
	gate  *access.Gate
	clk   *clock.Fake
	cams  *liveCameras
	mu    sync.Mutex
	rows  []ledger.Entry
	fail  bool
	t0    time.Time
	src   *source
	app   ledger.Appender
	admin *access.Principal
	users map[string]*userSession
}

// userSession is a logged-in test user: the cookie and the CSRF token.
type userSession struct{ token, csrf string }

var fastArgon = access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}

// footageIndex is the gate's view of the test source: footage of every
// camera for span from t0 (10 s when 0); the live cameras are recording.
type footageIndex struct {
	t0   time.Time
	cams *liveCameras
	span time.Duration
}

func (x footageIndex) HasFootage(_ context.Context, _ string, from, to time.Time) (bool, error) {
	span := x.span
	if span == 0 {
		span = 10 * time.Second
	}
	return from.Before(x.t0.Add(span)) && to.After(x.t0), nil
}
func (x footageIndex) Recording(c string) bool { _, ok := x.cams.State(c); return ok }

// newHarness is a server on the real access service and gate, with a
// ledger that records the order of its writes among footage reads. Users:
// viewer (접근권한자 of site-a) and other (playback only, site-b).
func newHarness(t *testing.T) *harness { return newHarnessWith(t, 1, nil) }

// newHarnessWith is newHarness with repeats × 10 s of footage and opt
// changing the server's options.
func newHarnessWith(t *testing.T, repeats int, opt func(*Options)) *harness {
	return newHarnessSetup(t, repeats, nil, opt)
}

// newHarnessSetup is newHarnessWith with acc changing the access service's
// and the gate's configuration.
func newHarnessSetup(t *testing.T, repeats int, acc func(*access.Config, *access.GateConfig), opt func(*Options)) *harness {
	h := &harness{t: t, ev: &events{}, users: map[string]*userSession{}}
	h.t0 = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	h.clk = clock.NewFake(h.t0.Add(time.Duration(repeats) * 10 * time.Second).Add(time.Minute))
	h.src = newSource(t, h.ev, media.Time90k(h.t0))
	h.src.lengthen(repeats)
	h.app = ledger.AppenderFunc(func(_ context.Context, e ledger.Entry) (ledger.Entry, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.ev.add("ledger:" + e.Kind.String())
		if h.fail {
			return e, errs.E("fake", errs.IO, "disk full")
		}
		e.Seq = uint64(len(h.rows) + 1)
		h.rows = append(h.rows, e)
		return e, nil
	})
	h.cams = &liveCameras{feeds: map[string][]chan ingest.LiveFrame{}}
	ac := access.Config{Dir: t.TempDir(), Ledger: h.app, Clock: h.clk,
		Logger: discardLogger(), Argon2: fastArgon, IdleTimeout: 24 * time.Hour}
	gc := access.GateConfig{Footage: footageIndex{h.t0, h.cams, time.Duration(repeats) * 10 * time.Second},
		Tick: 20 * time.Millisecond}
	if acc != nil {
		acc(&ac, &gc)
	}
	var err error
	h.svc, err = access.Open(context.Background(), ac)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.svc.Close() })
	h.gate = access.NewGate(h.svc, gc)
	t.Cleanup(h.gate.Close)
	o := h.options()
	if opt != nil {
		opt(&o)
	}
	h.srv, err = New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(h.ts.Close)
	t.Cleanup(h.srv.Close) // first: ends the views, so streams end
	admin := h.bootstrap()
	h.admin = admin
	h.addUser(admin, "viewer", access.Grant{Role: access.Authorized, Sites: []string{"site-a"}})
	h.addUser(admin, "other", access.Grant{Role: access.Authorized, Sites: []string{"site-b"}, Perms: access.Set(access.Playback)})
	h.reset()
	return h
}

func (h *harness) options() Options {
	return Options{
		Guard: AccessGuard{S: h.svc, Clock: h.clk}, Gate: h.gate, Acks: h.svc, Ledger: h.app,
		Accounts: h.svc,
		Cameras:  h.cams,
		Footage:  h.src,
		Clock:    h.clk, Logger: discardLogger(),
	}
}

// bootstrap creates the first administrator with a password of its own.
func (h *harness) bootstrap() *access.Principal {
	ctx := context.Background()
	pw, _, err := h.svc.EnsureAdmin(ctx, "admin")
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.svc.Login(ctx, "admin", pw, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.svc.ChangePassword(ctx, s.Principal, pw, testPassword); err != nil {
		h.t.Fatal(err)
	}
	return s.Principal
}

const testPassword = "Harness-pass-2026"

// addUser creates a user, sets their password and logs them in.
func (h *harness) addUser(admin *access.Principal, name string, grants ...access.Grant) {
	ctx := context.Background()
	_, otp, err := h.svc.CreateUser(ctx, admin, name, name, grants)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := h.svc.Login(ctx, name, otp, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.svc.ChangePassword(ctx, s.Principal, otp, testPassword); err != nil {
		h.t.Fatal(err)
	}
	h.users[name] = &userSession{token: s.Token, csrf: s.CSRF}
}

func (h *harness) setFail(fail bool) {
	h.mu.Lock()
	h.fail = fail
	h.mu.Unlock()
}

// reset forgets the events and ledger rows so far (logins, user changes).
func (h *harness) reset() {
	h.mu.Lock()
	h.rows = nil
	h.mu.Unlock()
	h.ev.mu.Lock()
	h.ev.log = nil
	h.ev.mu.Unlock()
}

// ledger returns the rows written since reset, of the given kinds (all
// when none are given).
func (h *harness) ledger(kinds ...ledger.Kind) []ledger.Entry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []ledger.Entry
	for _, e := range h.rows {
		if len(kinds) == 0 || slices.Contains(kinds, e.Kind) {
			out = append(out, e)
		}
	}
	return out
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
	if s := h.users[user]; s != nil {
		req.AddCookie(&http.Cookie{Name: access.CookieName, Value: s.token})
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func (h *harness) viewBody() map[string]any {
	return map[string]any{"start": h.t0, "end": h.t0.Add(8 * time.Second), "purpose": "complaint", "reason": "분실물 확인"}
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
	// The ledger entry exists before anything was read: the server may
	// already be laying the clip out (it starts right after the grant),
	// never before the row.
	if got := h.ev.list(); len(got) == 0 || got[0] != "ledger:playback" {
		t.Fatalf("events after grant: %v", got)
	}
	e := h.ledger()[0]
	if e.Actor != "viewer" || e.PurposeCategory != "민원확인" || e.Purpose != "분실물 확인" || e.Client != "127.0.0.1" ||
		len(e.Cameras) != 1 || e.Cameras[0] != "cam-a" || !e.From.Equal(h.t0) || e.Detail != "purpose=complaint" {
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
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
	req.Header.Set("Range", "bytes=100-199")
	resp, _ = http.DefaultClient.Do(req)
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, b[100:200]) {
		t.Errorf("range: status %d, equal %v", resp.StatusCode, bytes.Equal(part, b[100:200]))
	}
	if n := len(h.ledger()); n != 1 {
		t.Errorf("%d ledger rows after range requests", n)
	}
}

func TestNoFootageWhenLedgerFails(t *testing.T) {
	h := newHarness(t)
	h.setFail(true)
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

// A viewing without a purpose is refused, and (finding 8) the refusal is
// ledgered as docs/design/access.md says; a body that is not a viewing
// request at all is only a bad request. No footage is read either way.
func TestViewingNeedsPurpose(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		body     map[string]any
		code     string
		ledgered bool
	}{
		{map[string]any{"start": h.t0, "end": h.t0.Add(time.Second), "reason": "x"}, "purpose.category", true},
		{map[string]any{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "그냥", "reason": "x"}, "purpose.category", true},
		{map[string]any{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "민원확인", "reason": "  "}, "purpose.reason", true},
		{map[string]any{"start": h.t0, "end": h.t0.Add(time.Second), "purpose": "민원확인", "reason": "x", "extra": 1}, "request.json", false},
	} {
		before := len(h.ledger(ledger.AccessRefused))
		resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", c.body)
		var eb ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || string(eb.Code) != c.code {
			t.Errorf("%v: status %d %s, want 400 %s", c.body, resp.StatusCode, eb.Code, c.code)
		}
		refused := h.ledger(ledger.AccessRefused)
		if got := len(refused) - before; got != map[bool]int{true: 1, false: 0}[c.ledgered] {
			t.Errorf("%v: %d refusal rows", c.body, got)
		} else if c.ledgered && (refused[len(refused)-1].Actor != "viewer" || !strings.Contains(refused[len(refused)-1].Detail, c.code)) {
			t.Errorf("%v: refusal row %+v", c.body, refused[len(refused)-1])
		}
	}
	for _, e := range h.ev.list() {
		if e != "ledger:access-refused" {
			t.Errorf("events: %v", h.ev.list())
		}
	}
}

func TestViewBoundToSessionScopeAndCSRF(t *testing.T) {
	h := newHarness(t)
	// Out of scope: the other site's user is refused as if the camera did
	// not exist, and the refusal is ledgered.
	resp := h.do("POST", "/api/cameras/cam-a/views", "other", h.viewBody())
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("out of scope: status %d", resp.StatusCode)
	}
	if rows := h.ledger(); len(rows) != 1 || rows[0].Kind != ledger.AccessRefused {
		t.Errorf("refusal not ledgered: %+v", rows)
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
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
	req.Header.Set("X-CSRF-Token", "forged")
	resp, _ = http.DefaultClient.Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("bad CSRF: status %d", resp.StatusCode)
	}
	// Cross-origin.
	req, _ = http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
	req.Header.Set("X-CSRF-Token", h.users["viewer"].csrf)
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

// liveCameras are fakeCameras whose recording cameras have live feeds the
// test sends frames into.
type liveCameras struct {
	fakeCameras
	mu        sync.Mutex
	recording map[string]bool
	feeds     map[string][]chan ingest.LiveFrame
}

func (c *liveCameras) State(id string) (ingest.State, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.recording[id] {
		return ingest.State{}, false
	}
	return ingest.State{Camera: id}, true
}

func (c *liveCameras) record(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recording == nil {
		c.recording = map[string]bool{}
	}
	c.recording[id] = true
}

type chanFeed struct {
	c     chan ingest.LiveFrame
	close func()
}

func (f chanFeed) Frames() <-chan ingest.LiveFrame { return f.c }
func (f chanFeed) Close()                          { f.close() }

func (c *liveCameras) Subscribe(id string) (Feed, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.recording[id] {
		return nil, false
	}
	ch := make(chan ingest.LiveFrame, 256)
	c.feeds[id] = append(c.feeds[id], ch)
	return chanFeed{ch, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if i := slices.Index(c.feeds[id], ch); i >= 0 {
			c.feeds[id] = slices.Delete(c.feeds[id], i, i+1)
			close(ch)
		}
	}}, true
}

// send gives f to every feed of camera id; a full feed misses it.
func (c *liveCameras) send(id string, f ingest.LiveFrame) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ch := range c.feeds[id] {
		select {
		case ch <- f:
		default:
		}
	}
}

// subscribers is the number of open feeds of camera id.
func (c *liveCameras) subscribers(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.feeds[id])
}

// Findings 4 and the one client address, end to end: behind a trusted
// proxy the viewer's own address is what the viewing room checks and what
// the 관리대장 records; outside the room footage is refused and the
// refusal recorded; a stranger's X-Forwarded-For is not believed.
func TestViewingRoomBehindTrustedProxy(t *testing.T) {
	h := newHarnessSetup(t, 1, func(ac *access.Config, gc *access.GateConfig) {
		ac.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
		gc.Rooms = access.Rooms{Sites: map[string][]netip.Prefix{"site-a": {netip.MustParsePrefix("10.20.0.0/24")}}}
	}, nil)
	view := func(forwarded string) (int, ErrorBody) {
		b, _ := json.Marshal(h.viewBody())
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
		req.Header.Set("X-CSRF-Token", h.users["viewer"].csrf)
		if forwarded != "" {
			req.Header.Set("X-Forwarded-For", forwarded)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		return resp.StatusCode, eb
	}
	// From the viewing room, through the proxy: allowed, and the row
	// names the viewer's machine, not the proxy.
	if code, eb := view("203.0.113.50, 10.20.0.7"); code != http.StatusCreated {
		t.Fatalf("from the viewing room: %d %s", code, eb.Code)
	}
	rows := h.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Client != "10.20.0.7" {
		t.Fatalf("ledger client %+v, want the viewer's 10.20.0.7", rows)
	}
	// From elsewhere: refused with its code, and recorded with the address.
	if code, eb := view("192.0.2.9"); code != http.StatusForbidden || eb.Code != "footage.network" || eb.Message == "" {
		t.Fatalf("outside the viewing room: %d %s %q", code, eb.Code, eb.Message)
	}
	refused := h.ledger(ledger.AccessRefused)
	if len(refused) != 1 || refused[0].Client != "192.0.2.9" || !strings.Contains(refused[0].Detail, "footage.network") {
		t.Fatalf("refusal %+v", refused)
	}
	// The proxy itself (no header) is outside the room too.
	if code, _ := view(""); code != http.StatusForbidden {
		t.Fatalf("from the proxy's own address: %d", code)
	}
	// The camera list still shows the camera: the grant allows it, the
	// room decides where it may be watched.
	resp := h.do("GET", "/api/cameras", "viewer", nil)
	var cams []cameraJSON
	json.NewDecoder(resp.Body).Decode(&cams)
	resp.Body.Close()
	if len(cams) != 1 || cams[0].ID != "cam-a" {
		t.Fatalf("cameras %+v", cams)
	}
}

// A stranger (not a trusted proxy) cannot walk into the viewing room by
// writing X-Forwarded-For.
func TestForwardedHeaderOfStrangerIgnored(t *testing.T) {
	h := newHarnessSetup(t, 1, func(_ *access.Config, gc *access.GateConfig) {
		gc.Rooms = access.Rooms{Networks: []netip.Prefix{netip.MustParsePrefix("10.20.0.0/24")}}
	}, nil)
	b, _ := json.Marshal(h.viewBody())
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
	req.Header.Set("X-CSRF-Token", h.users["viewer"].csrf)
	req.Header.Set("X-Forwarded-For", "10.20.0.7")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("spoofed X-Forwarded-For let a stranger in: %d", resp.StatusCode)
	}
	if r := h.ledger(ledger.AccessRefused); len(r) != 1 || r[0].Client != "127.0.0.1" {
		t.Fatalf("refusal recorded with %+v, want the real peer", r)
	}
}

// Brief makes source an export.Source: one segment, no hash.
func (s *source) Brief(_ context.Context, id int64) (*store.Brief, error) {
	last := s.t0 + int64(len(s.frames))*clip.FrameDuration
	return &store.Brief{ID: id, Camera: "cam-a", Start: s.t0, End: last}, nil
}
