package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/ledger/report"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

// scopeGuard is a fake Guard whose grants name sites as the access
// service does: "*" is every site, and asking for "*" needs a "*" grant.
// A grant on another site than the one asked reads as Private.
type scopeGuard struct {
	users map[string]map[Perm][]string
}

func (g *scopeGuard) Authenticate(r *http.Request) (*Principal, error) {
	c, err := r.Cookie("s")
	if err != nil {
		return nil, errs.E("fake", errs.Unauthorized, "no session")
	}
	if _, ok := g.users[c.Value]; !ok {
		return nil, errs.E("fake", errs.Unauthorized, "unknown session")
	}
	return &Principal{User: c.Value, Role: "감사", Session: "sess-" + c.Value}, nil
}

func (g *scopeGuard) CheckCSRF(r *http.Request, p *Principal) error {
	if r.Header.Get("X-CSRF-Token") != "csrf-"+p.User {
		return errs.E("fake", errs.Permission, "bad csrf")
	}
	return nil
}

func (g *scopeGuard) Authorize(r *http.Request, p *Principal, perm Perm, site string) error {
	sites, ok := g.users[p.User][perm]
	if !ok {
		return errs.E("fake", errs.Permission, "not granted")
	}
	if site == "" || slices.Contains(sites, "*") || slices.Contains(sites, site) {
		if perm == PermApproveProvision {
			p.Role = "관리책임자"
		}
		return nil
	}
	return errs.E("fake", errs.Private, "other site")
}

func (g *scopeGuard) WithPrincipal(ctx context.Context, p *Principal) context.Context { return ctx }

type adminHarness struct {
	t       *testing.T
	clk     *clock.Fake
	lg      *ledger.Ledger
	ts      *httptest.Server
	srv     *Server
	dir     string
	regYAML []byte
}

// newAdminHarness serves the administrative routes over a real ledger,
// the guro registry and a policy store, on a fake clock at 2026-06-01
// 09:00 KST.
func newAdminHarness(t *testing.T, book LedgerBook) *adminHarness {
	t.Helper()
	h := &adminHarness{t: t, dir: t.TempDir()}
	h.clk = clock.NewFake(time.Date(2026, 6, 1, 9, 0, 0, 0, seoul))
	var err error
	h.lg, err = ledger.Open(context.Background(), ledger.Options{Dir: h.dir, Clock: h.clk, Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.lg.Close() })
	if book == nil {
		book = h.lg
	}
	h.regYAML, err = os.ReadFile("../../testdata/registry/guro.yaml")
	if err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(h.dir, "registry.yaml")
	if err := os.WriteFile(regPath, h.regYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	running, err := registry.Load(regPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := policy.OpenStore(filepath.Join(h.dir, "policy"), h.clk)
	if err != nil {
		t.Fatal(err)
	}
	st.Ledger = h.lg
	h.srv, err = New(Options{
		Guard: &scopeGuard{users: map[string]map[Perm][]string{
			"auditor-main": {PermReadLedger: {"main"}},
			"auditor-a":    {PermReadLedger: {"site-a"}},
			"auditor-all":  {PermReadLedger: {"*"}},
			"manager-main": {PermReadLedger: {"main"}, PermApproveProvision: {"main"}, PermPlayback: {"main"}},
			"admin":        {PermManageRegistry: {"*"}},
			"admin-main":   {PermManageRegistry: {"main"}},
			"staff":        {PermLiveView: {"main"}},
		}},
		Cameras:  fakeCameras{},
		Footage:  newSource(t, &events{}, 0),
		Ledger:   h.lg,
		Clock:    h.clk,
		Location: seoul,
		Logger:   discardLogger(),
		Admin: Admin{
			Book: book, Institution: "구로신협", Font: filepath.Join(h.dir, "no-font.ttf"),
			Registry: &RegistryAdmin{Running: func() *registry.Registry { return running }, Path: regPath},
			Policy: &PolicyAdmin{Store: st, Registry: func() (*registry.Registry, error) { return registry.Load(regPath) },
				// The running configuration restricts viewing to a room,
				// as the guro registry promises.
				Facts: func(reg *registry.Registry) policy.Facts {
					return policy.Facts{ViewingRoomRestricted: true}.Declared(reg)
				}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.ts = httptest.NewServer(h.srv)
	t.Cleanup(h.ts.Close)
	return h
}

// at appends e with the ledger's clock set to t.
func (h *adminHarness) at(t time.Time, e ledger.Entry) ledger.Entry {
	h.t.Helper()
	h.clk.Set(t)
	got, err := h.lg.Append(context.Background(), e)
	if err != nil {
		h.t.Fatal(err)
	}
	return got
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("status %d, body %q: %v", r.status, r.body, err)
	}
}

func (r reply) code(t *testing.T) errs.Code {
	t.Helper()
	var b ErrorBody
	r.json(t, &b)
	if b.Message == "" || strings.Contains(b.Message, "⟦") {
		t.Errorf("error %s has no catalogue message: %q", b.Code, b.Message)
	}
	return b.Code
}

// call makes a request as user ("" for none) with the user's CSRF token
// unless csrf is false.
func (h *adminHarness) call(method, path, user string, body any, csrf bool) reply {
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
		if csrf {
			req.Header.Set("X-CSRF-Token", "csrf-"+user)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, b}
}

// seoul is the institution's zone of these tests.
var seoul = func() *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		return time.FixedZone("KST", 9*3600)
	}
	return l
}()

func kst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, seoul)
}

// fillLedger writes rows of two sites and of none, at times whose UTC
// date differs from their Korean one.
func (h *adminHarness) fillLedger() {
	h.at(kst(2026, 5, 31, 23, 50), ledger.Entry{Kind: ledger.Login, Actor: "kim"})
	h.at(kst(2026, 6, 1, 0, 30), ledger.Entry{Kind: ledger.Playback, Actor: "kim", Site: "main",
		Cameras: []string{"cam-a"}, Purpose: "분실물"})
	h.at(kst(2026, 6, 1, 8, 0), ledger.Entry{Kind: ledger.Playback, Actor: "lee", Site: "market",
		Cameras: []string{"cam-b"}, Purpose: "민원"})
	h.at(kst(2026, 6, 1, 23, 30), ledger.Entry{Kind: ledger.Export, Actor: "park", Site: "main",
		Cameras: []string{"cam-c"}, Purpose: "수사 협조", Party: "구로경찰서", Ref: "수사과-1182"})
	h.at(kst(2026, 6, 2, 0, 10), ledger.Entry{Kind: ledger.Playback, Actor: "kim", Site: "main",
		Cameras: []string{"cam-a"}, Purpose: "확인"})
	h.clk.Set(kst(2026, 6, 3, 9, 0))
}

func seqs(p ledgerPage) []uint64 {
	var out []uint64
	for _, e := range p.Entries {
		out = append(out, e.Seq)
	}
	return out
}

// TestLedgerListScopeAndFilters: a reader sees only the rows of their
// sites (rows of no site only with every site); days are the
// institution's; kind, camera and person filter; newest first.
func TestLedgerListScopeAndFilters(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.fillLedger()
	for _, c := range []struct {
		user, query string
		want        []uint64
	}{
		{"auditor-all", "", []uint64{5, 4, 3, 2, 1}},
		{"auditor-main", "", []uint64{5, 4, 2}},
		// Another site's rows look like none.
		{"auditor-main", "?site=market", nil},
		{"auditor-all", "?site=market", []uint64{3}},
		// 2026-06-01 in Seoul: 00:30 and 23:30 are in, 05-31 23:50 and
		// 06-02 00:10 are not, though their UTC dates say otherwise.
		{"auditor-all", "?from=2026-06-01&to=2026-06-01", []uint64{4, 3, 2}},
		{"auditor-all", "?kind=playback", []uint64{5, 3, 2}},
		{"auditor-all", "?kind=official", []uint64{5, 4, 3, 2}},
		{"auditor-all", "?camera=cam-a", []uint64{5, 2}},
		{"auditor-all", "?person=KIM", []uint64{5, 2, 1}},
		{"auditor-all", "?person=경찰", []uint64{4}},
		{"auditor-all", "?ref=수사과-1182", []uint64{4}},
		{"auditor-all", "?ref=수사과-118", nil}, // exact, not a prefix
		{"auditor-all", "?per=2", []uint64{5, 4}},
		{"auditor-all", "?per=2&page=3", []uint64{1}},
		{"auditor-all", "?per=2&page=4", nil},
	} {
		r := h.call("GET", "/api/ledger"+c.query, c.user, nil, true)
		if r.status != 200 {
			t.Fatalf("%s %s: %d %s", c.user, c.query, r.status, r.body)
		}
		var p ledgerPage
		r.json(t, &p)
		if !slices.Equal(seqs(p), c.want) {
			t.Errorf("%s %s: seqs %v, want %v", c.user, c.query, seqs(p), c.want)
		}
	}
	// Times are printed in the institution's zone.
	var p ledgerPage
	h.call("GET", "/api/ledger?camera=cam-c", "auditor-all", nil, true).json(t, &p)
	if len(p.Entries) != 1 || p.Entries[0].Time != "2026-06-01T23:30:00+09:00" || p.Zone != "Asia/Seoul" ||
		p.Entries[0].Ref != "수사과-1182" {
		t.Errorf("entry %+v zone %s", p.Entries, p.Zone)
	}
	for _, c := range []struct{ query, code string }{
		{"?from=2026-13-01", "date.invalid"},
		{"?from=2026-06-02&to=2026-06-01", "date.order"},
		{"?kind=nonsense", "ledger.kind"},
		{"?per=10000", "request.per"},
		{"?page=0", "request.page"},
	} {
		r := h.call("GET", "/api/ledger"+c.query, "auditor-all", nil, true)
		if r.status != 400 || string(r.code(t)) != c.code {
			t.Errorf("%s: %d %s, want 400 %s", c.query, r.status, r.body, c.code)
		}
	}
	// A row of no site that names cameras (the retention engine's hold
	// rows) is read by who reads every camera's site.
	h.at(kst(2026, 6, 3, 9, 0), ledger.Entry{Kind: ledger.Hold, Actor: "kim", Cameras: []string{"cam-a"}})
	for user, want := range map[string][]uint64{"auditor-a": {6}, "auditor-main": nil, "auditor-all": {6}} {
		var p ledgerPage
		h.call("GET", "/api/ledger?kind=hold", user, nil, true).json(t, &p)
		if !slices.Equal(seqs(p), want) {
			t.Errorf("%s: hold rows %v, want %v", user, seqs(p), want)
		}
	}
	// Who may not read the ledger is refused.
	if r := h.call("GET", "/api/ledger", "staff", nil, true); r.status != 403 {
		t.Errorf("staff: %d", r.status)
	}
	if r := h.call("GET", "/api/ledger", "", nil, true); r.status != 401 {
		t.Errorf("no session: %d", r.status)
	}
}

// TestLedgerExportScoped: the download is the report package's register
// of the rows the reader may see, in the chosen format.
func TestLedgerExportScoped(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.fillLedger()
	r := h.call("GET", "/api/ledger/export?format=csv&from=2026-06-01&to=2026-06-01", "auditor-main", nil, true)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.header.Get("Content-Disposition"), "gwanje-ledger-20260601-20260601.csv") {
		t.Fatalf("csv: %d %v", r.status, r.header)
	}
	body := string(r.body)
	if !strings.HasPrefix(body, "\uFEFF") || !strings.Contains(body, "구로경찰서") || strings.Contains(body, "lee") ||
		strings.Contains(body, "2026-06-02") {
		t.Errorf("csv holds rows out of scope or period:\n%s", body)
	}
	if !strings.Contains(body, "2026-06-01 23:30:00") {
		t.Errorf("csv time not in Korean time:\n%s", body)
	}
	r = h.call("GET", "/api/ledger/export?format=xlsx", "auditor-all", nil, true)
	if r.status != 200 || !bytes.HasPrefix(r.body, []byte("PK")) {
		t.Errorf("xlsx: %d %q", r.status, r.body[:min(20, len(r.body))])
	}
	// No Korean font on the server: a coded error, not half a PDF.
	r = h.call("GET", "/api/ledger/export?format=pdf", "auditor-all", nil, true)
	if r.status != 503 || r.code(t) != "ledger.font" {
		t.Errorf("pdf without a font: %d %s", r.status, r.body)
	}
	r = h.call("GET", "/api/ledger/export?format=doc", "auditor-all", nil, true)
	if r.status != 400 || r.code(t) != "ledger.format" {
		t.Errorf("bad format: %d %s", r.status, r.body)
	}
}

// problemBook is a ledger whose verification finds damage.
type problemBook struct {
	LedgerBook
	calls int
}

func (b *problemBook) Verify(ctx context.Context) (ledger.Report, error) {
	b.calls++
	return ledger.Report{Entries: 6, LastSeq: 9, Problem: &ledger.Problem{Seq: 7, Damage: ledger.BadCheckpoint, Detail: "sig"}}, nil
}

// TestLedgerVerifyCachedAndFresh: the last verification is shown with its
// time until it is older than the verify age; fresh=1 runs it now; damage
// is told by sequence number and kind.
func TestLedgerVerifyCachedAndFresh(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.fillLedger()
	var v verifyJSON
	h.call("GET", "/api/ledger/verify", "auditor-main", nil, true).json(t, &v)
	if !v.OK || v.LastSeq != 5 || !v.Fresh || v.VerifiedAt != "2026-06-03T09:00:00+09:00" || v.Anchored {
		t.Fatalf("first verify %+v", v)
	}
	h.at(kst(2026, 6, 3, 9, 5), ledger.Entry{Kind: ledger.Login, Actor: "kim"})
	h.call("GET", "/api/ledger/verify", "auditor-main", nil, true).json(t, &v)
	if v.Fresh || v.LastSeq != 5 {
		t.Errorf("within the verify age: %+v, want the cached result", v)
	}
	h.call("GET", "/api/ledger/verify?fresh=1", "auditor-main", nil, true).json(t, &v)
	if !v.Fresh || v.LastSeq != 6 {
		t.Errorf("fresh: %+v", v)
	}
	h.clk.Advance(11 * time.Minute)
	h.call("GET", "/api/ledger/verify", "auditor-main", nil, true).json(t, &v)
	if !v.Fresh {
		t.Errorf("older than the verify age: %+v, want a new verification", v)
	}

	pb := &problemBook{}
	h2 := newAdminHarness(t, pb)
	pb.LedgerBook = h2.lg
	h2.call("GET", "/api/ledger/verify", "auditor-all", nil, true).json(t, &v)
	if v.OK || v.ProblemSeq != 7 || v.ProblemDamage != "bad-checkpoint" {
		t.Errorf("damaged: %+v", v)
	}
}

// TestLedgerSignOff: the 관리책임자 of a site signs off a period of it; the
// row is of kind sign-off with the period in the institution's days and
// the verified chain in its detail. A 감사 may not, nor anyone for a site
// or all sites beyond their grant; CSRF and Origin are checked.
func TestLedgerSignOff(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.fillLedger()
	body := map[string]string{"site": "main", "from": "2026-06-01", "to": "2026-06-02", "note": "이상 없음"}
	r := h.call("POST", "/api/ledger/signoffs", "manager-main", body, true)
	if r.status != 201 {
		t.Fatalf("sign-off: %d %s", r.status, r.body)
	}
	es, _ := h.lg.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{ledger.SignOff}})
	if len(es) != 1 {
		t.Fatalf("%d sign-off rows", len(es))
	}
	e := es[0]
	if e.Actor != "manager-main" || e.Role != "관리책임자" || e.Site != "main" ||
		!e.From.Equal(kst(2026, 6, 1, 0, 0)) || !e.To.Equal(kst(2026, 6, 3, 0, 0)) ||
		!strings.Contains(e.Detail, "기간 내 항목 3건") || !strings.Contains(e.Detail, "이상 없음(1~5번)") ||
		!strings.HasSuffix(e.Detail, "— 이상 없음") || e.Object != "관리대장 2026-06-01 ~ 2026-06-02" {
		t.Errorf("sign-off row %+v", e)
	}
	for _, c := range []struct {
		user   string
		body   map[string]string
		status int
		code   string
	}{
		{"auditor-all", body, 403, "signoff.forbidden"},
		{"manager-main", map[string]string{"site": "market", "from": "2026-06-01", "to": "2026-06-01"}, 404, "not_found"},
		{"manager-main", map[string]string{"from": "2026-06-01", "to": "2026-06-01"}, 403, "signoff.forbidden"},
		{"manager-main", map[string]string{"site": "main", "from": "2026-07-01", "to": "2026-07-31"}, 400, "signoff.future"},
		{"manager-main", map[string]string{"site": "main", "from": "2026-06-02", "to": "2026-06-01"}, 400, "date.order"},
		{"manager-main", map[string]string{"site": "main", "from": "June", "to": "2026-06-01"}, 400, "date.invalid"},
		{"manager-main", map[string]string{"site": "main", "from": "2026-06-01", "to": "2026-06-01", "note": strings.Repeat("가", 501)}, 400, "signoff.note"},
	} {
		r := h.call("POST", "/api/ledger/signoffs", c.user, c.body, true)
		if r.status != c.status || string(r.code(t)) != c.code {
			t.Errorf("%s %v: %d %s, want %d %s", c.user, c.body, r.status, r.body, c.status, c.code)
		}
	}
	if r := h.call("POST", "/api/ledger/signoffs", "manager-main", body, false); r.status != 403 {
		t.Errorf("without CSRF token: %d", r.status)
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", h.ts.URL+"/api/ledger/signoffs", bytes.NewReader(b))
	req.AddCookie(&http.Cookie{Name: "s", Value: "manager-main"})
	req.Header.Set("X-CSRF-Token", "csrf-manager-main")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("cross-origin: %d", resp.StatusCode)
	}
	es, _ = h.lg.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{ledger.SignOff}})
	if len(es) != 1 {
		t.Errorf("%d sign-off rows after refusals, want 1", len(es))
	}
	// The sign-off shows on the 관리대장 of its site.
	var p ledgerPage
	h.call("GET", "/api/ledger?kind=official", "auditor-main", nil, true).json(t, &p)
	if len(p.Entries) == 0 || p.Entries[0].Kind != "sign-off" {
		t.Errorf("official rows %+v", p.Entries)
	}
}

// TestRegistryViewPreviewApply: the registry is shown by site scope; an
// upload is validated and previewed against the file it replaces; apply
// writes the ledger row, then the file, and refuses a stale preview.
func TestRegistryViewPreviewApply(t *testing.T) {
	h := newAdminHarness(t, nil)
	var v registryView
	h.call("GET", "/api/registry", "admin", nil, true).json(t, &v)
	if v.Organization != "구로신협" || len(v.Sites) != 3 || v.Pending || v.Base == "" || v.Path == "" || v.Timezone != "Asia/Seoul" {
		t.Fatalf("view %+v", v)
	}
	for _, s := range v.Sites {
		for _, g := range s.Groups {
			for _, c := range g.Cameras {
				if strings.Contains(c.Stream, "admin@") {
					t.Errorf("stream shows user information: %s", c.Stream)
				}
			}
		}
	}
	var vm registryView
	h.call("GET", "/api/registry", "admin-main", nil, true).json(t, &vm)
	if len(vm.Sites) != 1 || vm.Sites[0].ID != "main" || vm.Path != "" {
		t.Errorf("site-scoped view %+v", vm)
	}

	// An invalid file: every problem with its line, in the error's params.
	bad := strings.Replace(string(h.regYAML), "retention: 6mo", "retention: forever", 1)
	r := h.call("POST", "/api/registry/preview", "admin", map[string]string{"yaml": bad}, true)
	var eb ErrorBody
	r.json(t, &eb)
	if r.status != 400 || eb.Code != "registry.problems" || !strings.Contains(eb.Params["problems"], "20") ||
		!strings.Contains(eb.Params["problems"], "forever") || !strings.Contains(eb.Message, "forever") {
		t.Errorf("invalid registry: %d %+v", r.status, eb)
	}

	// A valid change: one more camera at the main site.
	newer := strings.Replace(string(h.regYAML), "location: 2층 회의실, type: fixed, angles: [84.5, 45.8], count: 1}",
		"location: 2층 회의실, type: fixed, angles: [84.5, 45.8], count: 2}", 1)
	var pv registryPreviewJSON
	h.call("POST", "/api/registry/preview", "admin", map[string]string{"yaml": newer}, true).json(t, &pv)
	if !pv.Valid || pv.Base != v.Base || len(pv.Changes) != 1 || pv.Changes[0].Field != "sites[main].cameras" ||
		pv.Changes[0].Old != "34" || pv.Changes[0].New != "35" {
		t.Errorf("preview %+v", pv.Changes)
	}
	var plus, minus int
	for _, d := range pv.Diff {
		switch d.Op {
		case "+":
			plus++
		case "-":
			minus++
		}
	}
	if plus != 1 || minus != 1 || len(pv.Diff) > 9 {
		t.Errorf("line diff %+v", pv.Diff)
	}

	// Only who manages every site imports; CSRF is checked.
	if r := h.call("POST", "/api/registry/preview", "admin-main", map[string]string{"yaml": newer}, true); r.status != 403 || r.code(t) != "registry.whole" {
		t.Errorf("site admin preview: %d %s", r.status, r.body)
	}
	if r := h.call("POST", "/api/registry/preview", "admin", map[string]string{"yaml": newer}, false); r.status != 403 {
		t.Errorf("preview without CSRF: %d", r.status)
	}
	if r := h.call("POST", "/api/registry/apply", "admin", map[string]string{"yaml": newer, "base": pv.Base}, false); r.status != 403 {
		t.Errorf("apply without CSRF: %d", r.status)
	}
	if r := h.call("POST", "/api/registry/apply", "admin", map[string]string{"yaml": newer, "base": "stale"}, true); r.status != 409 || r.code(t) != "registry.changed" {
		t.Errorf("stale apply: %d %s", r.status, r.body)
	}
	r = h.call("POST", "/api/registry/apply", "admin", map[string]string{"yaml": newer, "base": pv.Base}, true)
	if r.status != 200 {
		t.Fatalf("apply: %d %s", r.status, r.body)
	}
	onDisk, err := registry.Load(filepath.Join(h.dir, "registry.yaml"))
	if err != nil || onDisk.CameraCount() != 83 {
		t.Errorf("written registry: %v cameras, %v", onDisk.CameraCount(), err)
	}
	es, _ := h.lg.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{ledger.RegistryChange}})
	if len(es) != 1 || es[0].Actor != "admin" || !strings.Contains(es[0].Detail, "sites[main].cameras") {
		t.Errorf("registry-change rows %+v", es)
	}
	// The running registry is unchanged until a restart: the view says so.
	h.call("GET", "/api/registry", "admin", nil, true).json(t, &v)
	if !v.Pending || v.Cameras != 82 {
		t.Errorf("after apply: pending %v, cameras %d", v.Pending, v.Cameras)
	}
	// The same preview applied twice is stale.
	if r := h.call("POST", "/api/registry/apply", "admin", map[string]string{"yaml": newer, "base": pv.Base}, true); r.status != 409 {
		t.Errorf("second apply: %d", r.status)
	}
}

// TestPolicyDraftPublishDiff: the draft states its dates and what stops
// publication (the 7-day notice); a good draft is published as version 1
// with a ledger row; versions diff against each other and the draft.
func TestPolicyDraftPublishDiff(t *testing.T) {
	h := newAdminHarness(t, nil)
	regPath := filepath.Join(h.dir, "registry.yaml")
	write := func(effective string) {
		y := strings.Replace(string(h.regYAML), "    - effective: 2024-04-01\n      summary: 제정",
			"    - effective: "+effective+"\n      summary: 제정", 1)
		if err := os.WriteFile(regPath, []byte(y), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("2026-06-05")
	var st policyJSON
	h.call("GET", "/api/policy", "admin", nil, true).json(t, &st)
	if st.Draft == nil || st.Draft.Announced != "2026-06-01" || st.Draft.Earliest != "2026-06-08" ||
		st.Draft.NoticeDays != 7 || st.Draft.Problem != "policy.notice" || len(st.Versions) != 0 || len(st.Sites) != 3 {
		t.Fatalf("status %+v draft %+v", st, st.Draft)
	}
	r := h.call("POST", "/api/policy/publish", "admin", map[string]any{}, true)
	var eb ErrorBody
	r.json(t, &eb)
	if r.status != 400 || eb.Code != "policy.notice" || eb.Params["earliest"] != "2026-06-08" || !strings.Contains(eb.Message, "2026-06-08") {
		t.Errorf("publish inside the notice period: %d %+v", r.status, eb)
	}
	write("2026-06-08")
	if r := h.call("POST", "/api/policy/publish", "admin-main", map[string]any{}, true); r.status != 403 {
		t.Errorf("site admin publish: %d", r.status)
	}
	if r := h.call("POST", "/api/policy/publish", "admin", map[string]any{}, false); r.status != 403 {
		t.Errorf("publish without CSRF: %d", r.status)
	}
	r = h.call("POST", "/api/policy/publish", "admin", map[string]any{}, true)
	if r.status != 201 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	es, _ := h.lg.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{ledger.RegistryChange}})
	if len(es) != 1 || !strings.Contains(es[0].Object, "policy version 1") || es[0].Actor != "admin" {
		t.Errorf("ledger rows %+v", es)
	}
	h.call("GET", "/api/policy", "admin", nil, true).json(t, &st)
	if len(st.Versions) != 1 || st.Versions[0].State != "pending" || st.Draft.Problem != "policy.unchanged" {
		t.Errorf("after publishing: %+v %+v", st.Versions, st.Draft)
	}
	// The draft against version 1, after one more camera.
	y, _ := os.ReadFile(regPath)
	os.WriteFile(regPath, []byte(strings.Replace(string(y), "count: 17}", "count: 18}", 1)), 0o600)
	var d struct {
		Diff []policy.DiffLine `json:"diff"`
	}
	h.call("GET", "/api/policy/diff?to=draft", "admin", nil, true).json(t, &d)
	changed := 0
	for _, l := range d.Diff {
		if l.Op != " " {
			changed++
		}
	}
	if changed == 0 {
		t.Errorf("draft diff shows no change")
	}
	if r := h.call("GET", "/api/policy/diff?to=9", "admin", nil, true); r.status != 404 || r.code(t) != "policy.version" {
		t.Errorf("diff to a missing version: %d %s", r.status, r.body)
	}
	r = h.call("GET", "/api/policy/draft?format=md", "admin", nil, true)
	if r.status != 200 || !strings.Contains(string(r.body), "구로신협") {
		t.Errorf("draft md: %d", r.status)
	}
	r = h.call("GET", "/api/policy/draft", "admin", nil, true)
	if r.status != 200 || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Errorf("draft html: %d %v", r.status, r.header)
	}
	if r := h.call("GET", "/api/policy", "auditor-all", nil, true); r.status != 403 {
		t.Errorf("auditor reads the policy admin: %d", r.status)
	}
	// Signs: any session; an unknown site is a coded not-found.
	if r := h.call("GET", "/api/policy/sign?site=nowhere", "staff", nil, true); r.status != 404 || r.code(t) != "not_found" && r.code(t) != "site.unknown" {
		t.Errorf("sign of no site: %d %s", r.status, r.body)
	}
	if r := h.call("GET", "/api/policy/form", "", nil, true); r.status != 401 {
		t.Errorf("form without a session: %d", r.status)
	}
}

// CSRFToken lets pages of the scope guard's users send their token.
func (g *scopeGuard) CSRFToken(p *Principal) string { return "csrf-" + p.User }

// TestAdminPagesRender: the administrative pages with data, for each
// reader, in both languages: no key missing from the catalogue, every time
// in the institution's zone, and the 관리대장 page scoped like its API.
func TestAdminPagesRender(t *testing.T) {
	h := newAdminHarness(t, nil)
	h.fillLedger()
	for _, c := range []struct{ user, path string }{
		{"auditor-main", "/ledger"}, {"auditor-all", "/ledger?kind=playback&from=2026-06-01&to=2026-06-02"},
		{"manager-main", "/ledger"}, {"auditor-all", "/ledger?from=bad"},
		{"admin", "/registry"}, {"admin-main", "/registry"}, {"admin", "/policy-admin"},
		{"staff", "/alarms"}, {"staff", "/health"},
	} {
		for _, lang := range i18n.Langs {
			code, body := adminPage(t, h.ts, c.path, c.user, lang)
			if code != 200 {
				t.Errorf("%s %s (%s): %d", c.user, c.path, lang, code)
				continue
			}
			if i := strings.Index(body, i18n.Missing); i >= 0 {
				t.Errorf("%s %s (%s): a key missing from the catalogue: %q", c.user, c.path, lang, body[i:min(len(body), i+60)])
			}
			for _, tm := range anyTime.FindAllString(body, -1) {
				if !strings.Contains(tm, "KST") {
					t.Errorf("%s %s: time %q is not in the institution's zone", c.user, c.path, tm)
				}
			}
		}
	}
	_, body := adminPage(t, h.ts, "/ledger", "auditor-main", i18n.Ko)
	if strings.Contains(body, "lee") || strings.Contains(body, `data-seq="1"`) || !strings.Contains(body, `data-seq="4"`) {
		t.Error("the 관리대장 page of a reader of one site shows rows of another site or of none")
	}
	if strings.Contains(body, `id="signoff-form"`) {
		t.Error("a 감사 is offered the sign-off")
	}
	// No trusted key is configured in this harness: the page says the
	// chain was checked only against the data directory's key.
	if !strings.Contains(body, `<p class="warn" id="chain-anchor">신뢰 키가 설정되지 않아`) {
		t.Error("the 관리대장 page does not say its verification is not anchored")
	}
	_, body = adminPage(t, h.ts, "/ledger", "manager-main", i18n.Ko)
	if !strings.Contains(body, `id="signoff-form"`) {
		t.Error("the 관리책임자 is not offered the sign-off")
	}
	_, body = adminPage(t, h.ts, "/ledger?from=bad", "auditor-all", i18n.En)
	if !strings.Contains(body, "YYYY-MM-DD") {
		t.Error("a bad date on the 관리대장 page is not explained")
	}
	_, body = adminPage(t, h.ts, "/registry", "admin-main", i18n.Ko)
	if strings.Contains(body, "시장지점") || strings.Contains(body, `id="import"`) {
		t.Error("a site administrator sees another site or the import")
	}
	if code, _ := adminPage(t, h.ts, "/users", "auditor-all", i18n.Ko); code != 403 {
		t.Errorf("the users page for a 감사: %d", code)
	}
}

// TestHoldsPageScope: the holds page lists a hold only to who reads the
// 관리대장 of its cameras, offers release only to who handles requests on
// every camera's site, and never offers it for a request's own hold.
func TestHoldsPageScope(t *testing.T) {
	srv, err := New(Options{
		Guard: &scopeGuard{users: map[string]map[Perm][]string{
			"auditor-a": {PermReadLedger: {"site-a"}},
			"manager-a": {PermReadLedger: {"site-a"}, PermHandleRequests: {"site-a"}},
		}},
		Cameras: fakeCameras{}, Footage: newSource(t, &events{}, 0),
		Ledger:    ledger.AppenderFunc(func(_ context.Context, e ledger.Entry) (ledger.Entry, error) { return e, nil }),
		Retention: &fakeRetention{}, Location: seoul, Logger: discardLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	_, body := adminPage(t, ts, "/holds", "auditor-a", i18n.Ko)
	if strings.Count(body, `data-hold="1"`) != 1 || !strings.Contains(body, `data-hold="2"`) {
		t.Errorf("auditor of site-a: want hold 1 on cam-a once and the request's hold 2")
	}
	if strings.Contains(body, `class="release"`) || strings.Contains(body, `id="hold-form"`) {
		t.Error("an auditor is offered to place or release a hold")
	}
	_, body = adminPage(t, ts, "/holds", "manager-a", i18n.Ko)
	if !strings.Contains(body, `data-camera="cam-a" data-hold="1"`) || strings.Contains(body, `class="release" data-camera="cam-a" data-hold="2"`) ||
		!strings.Contains(body, `name="camera" value="cam-a"`) || strings.Contains(body, `value="cam-b"`) {
		t.Errorf("manager of site-a: release of hold 1 on cam-a only, placing on cam-a only:\n%s", body[strings.Index(body, "<main"):])
	}
}

// adminPage gets a page as one of the scope guard's users.
func adminPage(t *testing.T, ts *httptest.Server, path, user string, lang i18n.Lang) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	if user != "" {
		req.AddCookie(&http.Cookie{Name: "s", Value: user})
	}
	req.AddCookie(&http.Cookie{Name: i18n.CookieName, Value: string(lang)})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Every ledger kind has a name in the catalogue, in the ledger's own
// Korean: a kind added later shows on the 관리대장 page by its label.
func TestLedgerKindsInCatalogue(t *testing.T) {
	for _, k := range ledger.Kinds() {
		key := "ledger.kind." + k.String()
		if !i18n.Has(key) {
			t.Errorf("kind %s: %s missing from the catalogue", k, key)
		} else if got := i18n.T(i18n.Ko, key, nil); got != k.Label() {
			t.Errorf("kind %s: catalogue says %q, the ledger %q", k, got, k.Label())
		}
	}
}

// TestAdminPDFs: with the Korean font installed, the 관리대장, the draft
// policy, a site's sign and the request form come out as PDF.
func TestAdminPDFs(t *testing.T) {
	if _, err := os.Stat(report.DefaultFont); err != nil {
		t.Skipf("no Korean font (%v): scripts/test-deps installs fonts-nanum", err)
	}
	h := newAdminHarness(t, nil)
	h.srv.opt.Admin.Font = ""
	h.fillLedger()
	for _, c := range []struct{ user, path string }{
		{"auditor-all", "/api/ledger/export?format=pdf&kind=official"},
		{"admin", "/api/policy/draft?format=pdf"},
		{"staff", "/api/policy/sign?site=main"},
		{"staff", "/api/policy/form"},
	} {
		r := h.call("GET", c.path, c.user, nil, true)
		if r.status != 200 || !bytes.HasPrefix(r.body, []byte("%PDF")) || r.header.Get("Content-Type") != "application/pdf" {
			t.Errorf("%s: %d %s %q", c.path, r.status, r.header.Get("Content-Type"), r.body[:min(40, len(r.body))])
		}
	}
}
