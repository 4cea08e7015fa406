package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

// access of a route, as this test states it independently of the route
// table: the test fails for a route the table has and this list lacks.
type want struct {
	public bool
	perm   access.Perm // 0: any session
	scoped bool        // perm checked for the {id} camera's site
	// mustChange: reachable with a one-time password
	mustChange bool
	// path and body of a request that exercises the route
	path string
	body any
	// ok is the status an allowed request gets (0: any status that is
	// not a refusal: not 401, 403 or 404)
	ok int
	// whole: the route needs perm for every site, so a grant of one
	// site (every user here) is refused with 403
	whole bool
	// inside: the thing named is checked by the handler (a view token,
	// an export job): the path names none, so 404 for everyone
	inside bool
	// hidden: the thing named is one a user without perm may not know
	// of, so they get 404, not 403 (a provision)
	hidden bool
}

func matrix(t0 time.Time) map[string]want {
	view := map[string]any{"start": t0, "end": t0.Add(5 * time.Second), "purpose": "시스템점검", "reason": "권한 점검"}
	return map[string]want{
		"GET /{$}":          {public: true, path: "/", ok: 200},
		"GET /ui/":          {public: true, path: "/ui/app.js", ok: 200},
		"GET /healthz":      {public: true, path: "/healthz", ok: 200},
		"POST /api/login":   {public: true, path: "/api/login", body: map[string]string{"name": "nobody", "password": "x"}},
		"GET /api/cameras":  {path: "/api/cameras", ok: 200},
		"GET /api/purposes": {path: "/api/purposes", ok: 200},
		"GET /{page}":       {public: true, path: "/login", ok: 200}, // pages check their own rule (pages_test.go)
		"GET /api/cameras/{id}/recordings": {perm: access.Playback, scoped: true,
			path: "/api/cameras/{id}/recordings?start=2026-06-01T12:00:00Z&end=2026-06-01T13:00:00Z", ok: 200},
		"POST /api/cameras/{id}/views": {perm: access.Playback, scoped: true, path: "/api/cameras/{id}/views", body: view, ok: 201},
		"POST /api/cameras/{id}/live":  {perm: access.LiveView, scoped: true, path: "/api/cameras/{id}/live", body: view},
		"POST /api/cameras/{id}/exports": {perm: access.Export, scoped: true, path: "/api/cameras/{id}/exports", ok: 200,
			body: map[string]any{"start": t0, "end": t0.Add(5 * time.Second), "purpose": "provision", "reason": "수사",
				"recipient": "경찰서", "legal_basis": "개인정보 보호법 제18조 제2항 제7호"}},
		"GET /api/views/{token}": {path: "/api/views/no-such-token", inside: true}, // the grant is checked inside: 404 for everyone
		// Export jobs: starting one is an export (503 once two are running);
		// a job is its maker's, checked inside.
		"POST /api/cameras/{id}/export-jobs": {perm: access.Export, scoped: true, path: "/api/cameras/{id}/export-jobs",
			body: map[string]any{"start": t0, "end": t0.Add(5 * time.Second), "purpose": "provision", "reason": "수사",
				"recipient": "경찰서", "legal_basis": "개인정보 보호법 제18조 제2항 제7호"}},
		"GET /api/export-jobs/{job}":         {path: "/api/export-jobs/no-such-job", inside: true},
		"POST /api/export-jobs/{job}/cancel": {path: "/api/export-jobs/no-such-job/cancel", inside: true},
		"GET /api/export-jobs/{job}/package": {path: "/api/export-jobs/no-such-job/package", inside: true},
		"POST /api/logout":                   {mustChange: true, path: "/api/logout"},
		"GET /api/me":                        {mustChange: true, path: "/api/me", ok: 200},
		"PUT /api/me/lang":                   {mustChange: true, path: "/api/me/lang", body: map[string]string{"lang": "ko"}, ok: 200},
		// {pw} is the caller's own password: a wrong one is refused by the
		// handler, which is not what this test is about.
		"POST /api/password":     {mustChange: true, path: "/api/password", body: map[string]string{"old": "{pw}", "new": "{pw}"}},
		"POST /api/totp":         {path: "/api/totp", body: map[string]string{"password": "{pw}"}, ok: 200},
		"DELETE /api/totp":       {path: "/api/totp", body: map[string]string{"password": "{pw}"}}, // 400: TOTP is off
		"POST /api/totp/confirm": {path: "/api/totp/confirm", body: map[string]string{"code": "000000"}},
		"GET /api/users":         {perm: access.ManageUsers, path: "/api/users", ok: 200},
		"POST /api/users":        {perm: access.ManageUsers, path: "/api/users", body: map[string]any{"name": ""}},
		"PUT /api/users/{name}/grants": {perm: access.ManageUsers, path: "/api/users/target/grants",
			body: map[string]any{"grants": []map[string]any{{"role": "staff", "sites": []string{"site-a"}}}}},
		"POST /api/users/{name}/deactivate": {perm: access.ManageUsers, path: "/api/users/target/deactivate",
			body: map[string]any{"reason": "퇴직"}},
		"POST /api/users/{name}/reset-password": {perm: access.ManageUsers, path: "/api/users/resettable/reset-password", ok: 200},
		"POST /api/users/{name}/reset-totp":     {perm: access.ManageUsers, path: "/api/users/resettable/reset-totp"}, // 400: no TOTP
		// Monitoring. Alarm 1 is a storage alarm every session may see;
		// the first acknowledgement succeeds, the next are conflicts.
		"GET /api/alarms":           {path: "/api/alarms", ok: 200},
		"POST /api/alarms/{id}/ack": {path: "/api/alarms/1/ack", body: map[string]string{"note": "matrix"}},
		"GET /api/health":           {path: "/api/health", ok: 200},
		"GET /api/health/report":    {perm: access.ReadLedger, path: "/api/health/report?month=2026-06&format=csv", ok: 200},
		"GET /api/cameras/{id}/stills": {perm: access.Playback, scoped: true,
			path: "/api/cameras/{id}/stills?start=2026-06-01T00:00:00Z&end=2026-06-02T00:00:00Z", ok: 200},
		"POST /api/cameras/{id}/stills/{still}/views": {perm: access.Playback, scoped: true,
			path: "/api/cameras/{id}/stills/1/views", body: view, ok: 201},
		"GET /metrics": {perm: access.ManageRegistry, path: "/metrics", ok: 200},
		// Retention and holds (fakeRetention holds hold 1 on each camera).
		"GET /api/retention": {perm: access.ReadLedger, path: "/api/retention", ok: 200},
		"GET /api/holds":     {perm: access.ReadLedger, path: "/api/holds", ok: 200},
		// The request forms are public by design; their limits are
		// requests_test.go's. Request 1 is on cam-a (site-a).
		"GET /requests/new":         {public: true, path: "/requests/new", ok: 200},
		"POST /requests/new":        {public: true, path: "/requests/new"},
		"POST /requests/status":     {public: true, path: "/requests/status"},
		"POST /api/requests":        {public: true, path: "/api/requests"},
		"POST /api/requests/status": {public: true, path: "/api/requests/status"},
		"GET /api/requests":         {perm: access.HandleRequests, path: "/api/requests", ok: 200},
		"POST /api/requests/intake": {perm: access.HandleRequests, path: "/api/requests/intake"},
		"POST /api/requests/{rid}/postpone": {perm: access.HandleRequests, path: "/api/requests/1/postpone",
			body: map[string]string{"date": "2026-07-01", "reason": "확인 중"}},
		"POST /api/requests/{rid}/identity": {perm: access.HandleRequests, path: "/api/requests/1/identity",
			body: map[string]string{"method": "신분증 대조"}},
		"POST /api/requests/{rid}/close": {perm: access.HandleRequests, path: "/api/requests/1/close"},
		"GET /api/requests/{rid}":        {perm: access.HandleRequests, path: "/api/requests/1", ok: 200},
		"POST /api/requests/{rid}/cameras": {perm: access.HandleRequests, path: "/api/requests/1/cameras",
			body: map[string]any{"cameras": []string{"cam-a"}}},
		"POST /api/requests/{rid}/decision": {perm: access.HandleRequests, path: "/api/requests/1/decision",
			body: map[string]any{"types": []map[string]string{{"type": "view", "outcome": "refused", "ground": "law"}}}},
		"POST /api/requests/{rid}/existence":  {perm: access.HandleRequests, path: "/api/requests/1/existence"},
		"POST /api/requests/{rid}/view-grant": {perm: access.HandleRequests, path: "/api/requests/1/view-grant"},
		"POST /api/requests/{rid}/views": {perm: access.HandleRequests, path: "/api/requests/1/views",
			body: map[string]any{"camera": "cam-a", "start": t0.Add(-time.Hour), "end": t0.Add(-50 * time.Minute)}},
		"POST /api/requests/{rid}/stills/{still}/views": {perm: access.HandleRequests, path: "/api/requests/1/stills/1/views"},
		"POST /api/requests/{rid}/deletion":             {perm: access.HandleRequests, path: "/api/requests/1/deletion"},
		"GET /api/requests/{rid}/notice": {perm: access.HandleRequests, ok: 200,
			path: "/api/requests/1/notice?kind=answer&answer=%EC%97%B4%EB%9E%8C&when=a&where=b"},
		"POST /api/requests/{rid}/copy": {perm: access.HandleRequests, path: "/api/requests/1/copy",
			body: map[string]any{"specs": map[string]any{"cam-a": map[string]string{"style": "blur"}}}},
		"POST /api/requests/{rid}/faces": {perm: access.HandleRequests, path: "/api/requests/1/faces",
			body: map[string]any{"camera": "cam-a"}},
		"POST /api/cameras/{id}/holds": {perm: access.HandleRequests, scoped: true, path: "/api/cameras/{id}/holds",
			body: map[string]any{"from": t0, "to": t0.Add(time.Hour), "reason": "수사 협조"}, ok: 201},
		"POST /api/cameras/{id}/holds/{hold}/release": {perm: access.HandleRequests, scoped: true,
			path: "/api/cameras/{id}/holds/1/release", ok: 204},
		// The 관리대장, the registry and the policy (admin.go).
		"GET /api/ledger":        {perm: access.ReadLedger, path: "/api/ledger?kind=official", ok: 200},
		"GET /api/ledger/export": {perm: access.ReadLedger, path: "/api/ledger/export?format=csv", ok: 200},
		"GET /api/ledger/verify": {perm: access.ReadLedger, path: "/api/ledger/verify", ok: 200},
		// The sign-off is the 관리책임자's: read-ledger and approve-provision.
		"POST /api/ledger/signoffs": {perm: access.ApproveProvision, path: "/api/ledger/signoffs",
			body: map[string]string{"site": "site-a", "from": "2026-06-01", "to": "2026-06-01"}, ok: 201},
		"GET /api/registry":          {perm: access.ManageRegistry, path: "/api/registry", ok: 200},
		"POST /api/registry/preview": {perm: access.ManageRegistry, whole: true, path: "/api/registry/preview", body: map[string]string{"yaml": "format: 1"}},
		"POST /api/registry/apply":   {perm: access.ManageRegistry, whole: true, path: "/api/registry/apply", body: map[string]string{"yaml": "format: 1"}},
		"GET /api/policy":            {perm: access.ManageRegistry, path: "/api/policy", ok: 200},
		"GET /api/policy/draft":      {perm: access.ManageRegistry, path: "/api/policy/draft?format=md", ok: 200},
		"GET /api/policy/diff":       {perm: access.ManageRegistry, path: "/api/policy/diff?to=draft", ok: 200},
		"POST /api/policy/publish":   {perm: access.ManageRegistry, whole: true, path: "/api/policy/publish", body: map[string]string{}},
		"GET /api/policy/sign":       {path: "/api/policy/sign?site=main"},
		"GET /api/policy/form":       {path: "/api/policy/form"},
		// Provisions (provisions.go): the routes need a session and the
		// service decides. Provision 1 (a copy) and 2 and 3 are on cam-a,
		// requested by "maker", a 관리책임자 of site-a outside the roles
		// below: user-manager approves and produces 1, refuses 2 and
		// cancels 3; to anyone without export or approve-provision on
		// site-a a provision does not exist.
		"GET /api/provisions":       {path: "/api/provisions", ok: 200},
		"GET /api/provisions/bases": {path: "/api/provisions/bases", ok: 200},
		"POST /api/provisions": {perm: access.Export, path: "/api/provisions", ok: 201,
			body: map[string]any{"kind": "provide", "recipient": "구로경찰서", "letter": "수사-77", "purpose": "수사",
				"basis": 7, "form": "copy", "period": "수사 종결 시까지", "cameras": []string{"cam-a"},
				"from": t0, "to": t0.Add(5 * time.Second)}},
		"GET /api/provisions/{pid}":          {perm: access.ApproveProvision, hidden: true, path: "/api/provisions/1", ok: 200},
		"POST /api/provisions/{pid}/approve": {perm: access.ApproveProvision, hidden: true, path: "/api/provisions/1/approve", ok: 200},
		"POST /api/provisions/{pid}/refuse": {perm: access.ApproveProvision, hidden: true, path: "/api/provisions/2/refuse", ok: 200,
			body: map[string]string{"reason": "근거 부족"}},
		"POST /api/provisions/{pid}/cancel": {perm: access.ApproveProvision, hidden: true, path: "/api/provisions/3/cancel", ok: 200,
			body: map[string]string{"reason": "요청 철회"}},
		"POST /api/provisions/{pid}/produce": {perm: access.Export, hidden: true, path: "/api/provisions/1/produce", ok: 200},
		"GET /api/provisions/{pid}/package":  {perm: access.Export, hidden: true, path: "/api/provisions/1/package", ok: 200},
	}
}

// TestAuthorizationMatrix walks every route of the table × every role ×
// a camera of the user's site and one of another site, plus no session
// and a session that must still change its one-time password.
func TestAuthorizationMatrix(t *testing.T) {
	var logBuf bytes.Buffer
	defer func() {
		if t.Failed() {
			t.Log(logBuf.String())
		}
	}()
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	clk := clock.NewFake(t0.Add(time.Minute))
	dir := t.TempDir()
	quiet := slog.New(slog.NewTextHandler(&logBuf, nil))
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
	mon := newMonitoring(t, dir, clk, lg, t0)
	gate := access.NewGate(svc, access.GateConfig{Footage: footageIndex{t0: t0, cams: &liveCameras{}}})
	defer gate.Close()
	reqs := matrixRequests(t, dir, clk, t0)
	exporter := &export.Exporter{Source: mon.src, Key: export.NewKey(ed25519.NewKeyFromSeed(make([]byte, 32))), Now: clk.Now}
	provs := matrixProvisions(t, dir, svc, gate, exporter, clk)
	srv, err := New(Options{
		Guard: AccessGuard{S: svc, Clock: clk}, Gate: gate, Acks: svc, Ledger: lg, Accounts: svc,
		Cameras: fakeCameras{}, Footage: mon.src, Requests: reqs,
		Alarms: mon.am, Health: mon.snapshot, Report: mon.report, Stills: mon.stills,
		Metrics: mon.metrics, MetricsPerm: PermManageRegistry,
		Retention:  &fakeRetention{},
		Admin:      matrixAdmin(t, dir, lg, clk),
		Exporter:   exporter,
		ExportDir:  filepath.Join(dir, "exports"),
		Provisions: provs,
		Clock:      clk, Logger: quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()

	local := netip.MustParseAddr("127.0.0.1")
	adminPW, _, err := svc.EnsureAdmin(context.Background(), "admin")
	if err != nil {
		t.Fatal(err)
	}
	const pw = "matrix-Passw0rd-1"
	sess, err := svc.Login(context.Background(), "admin", adminPW, "", local)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ChangePassword(context.Background(), sess.Principal, adminPW, pw); err != nil {
		t.Fatal(err)
	}
	sess, _ = svc.Login(context.Background(), "admin", pw, "", local)
	admin := sess.Principal

	// One user per role, each granted on site-a only; passwords set.
	users := map[access.Role]string{}
	for _, role := range access.Roles() {
		name := "user-" + role.String()
		_, otp, err := svc.CreateUser(context.Background(), admin, name, name,
			[]access.Grant{{Role: role, Sites: []string{"site-a"}}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := svc.Login(context.Background(), name, otp, "", local)
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.ChangePassword(context.Background(), s.Principal, otp, pw); err != nil {
			t.Fatal(err)
		}
		users[role] = name
	}
	if _, _, err := svc.CreateUser(context.Background(), admin, "target", "target",
		[]access.Grant{{Role: access.Staff, Sites: []string{"site-a"}}}); err != nil {
		t.Fatal(err)
	}
	// Reset over and over, never deactivated.
	if _, _, err := svc.CreateUser(context.Background(), admin, "resettable", "resettable",
		[]access.Grant{{Role: access.Staff, Sites: []string{"site-a"}}}); err != nil {
		t.Fatal(err)
	}
	// The requester of the provisions, who cannot approve their own.
	_, makerOTP, err := svc.CreateUser(context.Background(), admin, "maker", "maker",
		[]access.Grant{{Role: access.Manager, Sites: []string{"site-a"}}})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := svc.Login(context.Background(), "maker", makerOTP, "", local)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.ChangePassword(context.Background(), ms.Principal, makerOTP, pw); err != nil {
		t.Fatal(err)
	}
	if ms, err = svc.Login(context.Background(), "maker", pw, "", local); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := provs.Create(context.Background(), ms.Principal, provision.Input{Kind: provision.Provide,
			Recipient: "구로경찰서", Letter: "수사-77", Purpose: "수사", Basis: 7, Form: provision.Copy, Period: "수사 종결 시까지",
			Cameras: []string{"cam-a"}, From: t0, To: t0.Add(5 * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	_, oneTime, err := svc.CreateUser(context.Background(), admin, "fresh", "fresh",
		[]access.Grant{{Role: access.Manager, Sites: []string{"*"}}})
	if err != nil {
		t.Fatal(err)
	}

	// login returns a client with a fresh session (routes like logout end
	// the session they are called on).
	login := func(name, password string) (*http.Client, string) {
		b, _ := json.Marshal(map[string]string{"name": name, "password": password})
		resp, err := http.Post(ts.URL+"/api/login", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct{ CSRF string }
		json.NewDecoder(resp.Body).Decode(&r)
		if resp.StatusCode != 200 {
			t.Fatalf("login %s: %d", name, resp.StatusCode)
		}
		hc := &http.Client{Jar: jarWith(ts.URL, resp.Cookies())}
		return hc, r.CSRF
	}
	call := func(hc *http.Client, csrf, method, path string, body any, ownPW string) int {
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			b = bytes.ReplaceAll(b, []byte("{pw}"), []byte(ownPW))
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, ts.URL+path, rd)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("X-CSRF-Token", csrf)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	refused := func(code int) bool { return code == 401 || code == 403 || code == 404 }

	m := matrix(t0)
	for _, rt := range srv.table {
		w, ok := m[rt.pattern]
		if !ok {
			t.Errorf("route %q has no entry in the authorization matrix", rt.pattern)
			continue
		}
		if w.public != (rt.rule == rulePublic) {
			t.Errorf("%s: public=%v in the table, %v in the matrix", rt.pattern, rt.rule == rulePublic, w.public)
		}
		method := strings.Fields(rt.pattern)[0]
		for _, camera := range []string{"cam-a", "cam-b"} {
			if !w.scoped && camera == "cam-b" {
				continue
			}
			path := strings.ReplaceAll(w.path, "{id}", camera)
			name := fmt.Sprintf("%s [%s]", rt.pattern, camera)

			// No session.
			code := call(http.DefaultClient, "", method, path, w.body, "")
			if w.public {
				if w.ok != 0 && code != w.ok {
					t.Errorf("%s, no session: %d, want %d", name, code, w.ok)
				}
			} else if code != http.StatusUnauthorized {
				t.Errorf("%s, no session: %d, want 401", name, code)
			}
			if w.public {
				continue
			}
			// A session that must change its one-time password.
			hc, csrf := login("fresh", oneTime)
			code = call(hc, csrf, method, path, w.body, oneTime)
			if w.mustChange == refused(code) && !(w.mustChange && w.ok == 0 && code == 404) {
				t.Errorf("%s, one-time password: %d (reachable=%v)", name, code, w.mustChange)
			}
			for _, role := range access.Roles() {
				hc, csrf := login(users[role], pw)
				code := call(hc, csrf, method, path, w.body, pw)
				inScope := camera == "cam-a"
				allowed := w.perm == 0 || access.DefaultPerms[role].Has(w.perm)
				switch {
				case !allowed && w.hidden:
					if code != http.StatusNotFound {
						t.Errorf("%s as %v: %d, want 404", name, role, code)
					}
				case !allowed:
					if code != http.StatusForbidden {
						t.Errorf("%s as %v: %d, want 403", name, role, code)
					}
				case w.scoped && !inScope:
					// Granted, but not on that site: looks like no such camera.
					if code != http.StatusNotFound {
						t.Errorf("%s as %v out of scope: %d, want 404", name, role, code)
					}
				case w.whole:
					if code != http.StatusForbidden {
						t.Errorf("%s as %v with one site: %d, want 403", name, role, code)
					}
				case w.ok != 0:
					if code != w.ok {
						t.Errorf("%s as %v: %d, want %d", name, role, code, w.ok)
					}
				case !w.inside && refused(code):
					t.Errorf("%s as %v: refused with %d", name, role, code)
				}
			}
		}
	}
	for p := range m {
		found := false
		for _, rt := range srv.table {
			found = found || rt.pattern == p
		}
		if !found {
			t.Errorf("matrix entry %q names no route", p)
		}
	}
}

// matrixProvisions is the provision service of the matrix's server.
func matrixProvisions(t *testing.T, dir string, svc *access.Service, gate *access.Gate, ex *export.Exporter, clk clock.Clock) *provision.Service {
	st, err := provision.OpenSQLite(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return provision.New(provision.Config{Store: st, Access: svc, Gate: gate, Holds: &fakeHolds{},
		Camera:   func(id string) (string, bool) { c, ok := fakeCameras{}.Camera(id); return c.Site, ok },
		Exporter: ex, Dir: filepath.Join(dir, "provisions"), Clock: clk, Logger: discardLogger()})
}

// matrixAdmin is the administrative part of the matrix's server: the
// ledger, the guro registry and a policy store.
func matrixAdmin(t *testing.T, dir string, lg *ledger.Ledger, clk clock.Clock) Admin {
	y, err := os.ReadFile("../../testdata/registry/guro.yaml")
	if err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, y, 0o600); err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Load(regPath)
	if err != nil {
		t.Fatal(err)
	}
	st, err := policy.OpenStore(filepath.Join(dir, "policy"), clk)
	if err != nil {
		t.Fatal(err)
	}
	return Admin{Book: lg,
		Registry: &RegistryAdmin{Running: func() *registry.Registry { return reg }, Path: regPath},
		Policy:   &PolicyAdmin{Store: st, Registry: func() (*registry.Registry, error) { return reg, nil }}}
}

// jarWith returns a cookie jar holding cookies for base.
func jarWith(base string, cookies []*http.Cookie) http.CookieJar {
	j := &simpleJar{cookies: cookies}
	return j
}

type simpleJar struct{ cookies []*http.Cookie }

func (j *simpleJar) SetCookies(_ *url.URL, cs []*http.Cookie) { j.cookies = append(j.cookies, cs...) }
func (j *simpleJar) Cookies(*url.URL) []*http.Cookie          { return j.cookies }

// Every permission web asks for is one the access service knows.
func TestWebPermsAreAccessPerms(t *testing.T) {
	for _, p := range []Perm{PermLiveView, PermPlayback, PermExport, PermReadLedger, PermManageUsers, PermManageRegistry,
		PermHandleRequests, PermApproveProvision} {
		if _, err := access.ParsePerm(string(p)); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
}

// liveFrames are the H.264 sample clip's frames as the recorder hands
// them to live viewers (parameter sets in Params, not in the data).
func liveFrames(t *testing.T, t0 time.Time) []*media.Frame {
	t.Helper()
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	fs, err := storetest.Frames(media.CodecH264, media.Time90k(t0), len(c.AUs))
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// stream is a response being read by a test client.
type stream struct {
	started chan struct{} // the first bytes arrived
	resume  chan struct{} // (a download) read on after the first bytes
	done    chan struct{}
	// set before started is closed
	status   int
	length   int64 // Content-Length, -1 for a stream
	startErr error
	// set before done is closed
	n   int64
	err error
}

// open GETs url as user and reads: a stream (resume nil) to its end; a
// download its first 64 KiB, then, once resume is closed, to its end.
func (h *harness) open(url, user string, download bool) *stream {
	st := &stream{started: make(chan struct{}), done: make(chan struct{})}
	if download {
		st.resume = make(chan struct{})
	}
	req, _ := http.NewRequest("GET", h.ts.URL+url, nil)
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users[user].token})
	go func() {
		defer close(st.done)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			st.startErr, st.err = err, err
			close(st.started)
			return
		}
		defer resp.Body.Close()
		st.status, st.length = resp.StatusCode, resp.ContentLength
		first := make([]byte, 64<<10)
		n, err := io.ReadAtLeast(resp.Body, first, 8)
		st.n, st.startErr, st.err = int64(n), err, err
		close(st.started)
		if err != nil {
			return
		}
		if st.resume != nil {
			<-st.resume
		}
		m, err := io.Copy(io.Discard, resp.Body)
		st.n += m
		st.err = err
	}()
	return st
}

// Finding 1 (High): live streams and downloads outlived the right to
// watch. For each kind of revocation, a live stream and a playback
// download in progress end within 1 s, and the view URLs answer 404 (or
// 401 when the session itself is gone) afterwards.
func TestStreamsEndWithinOneSecondOfRevocation(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name    string
		revoke  func(h *harness, p *access.Principal)
		after   int  // status of the view URLs afterwards
		liveOK  bool // the live stream may go on (narrowed to live view)
		advance bool
	}{
		{"logout", func(h *harness, p *access.Principal) { must(t, h.svc.Logout(ctx, p)) }, 401, false, false},
		{"deactivation", func(h *harness, p *access.Principal) {
			must(t, h.svc.Deactivate(ctx, h.admin, "viewer", access.Retirement, "퇴직"))
		}, 401, false, false},
		{"password reset", func(h *harness, p *access.Principal) {
			_, err := h.svc.ResetPassword(ctx, h.admin, "viewer")
			must(t, err)
		}, 401, false, false},
		{"session expiry", func(h *harness, p *access.Principal) { h.clk.Advance(13 * time.Hour) }, 401, false, true},
		{"grant removed", func(h *harness, p *access.Principal) {
			must(t, h.svc.SetGrants(ctx, h.admin, "viewer", []access.Grant{{Role: access.Auditor, Sites: []string{"*"}}}))
		}, 404, false, false},
		{"grant moved to another site", func(h *harness, p *access.Principal) {
			must(t, h.svc.SetGrants(ctx, h.admin, "viewer", []access.Grant{{Role: access.Authorized, Sites: []string{"site-b"}}}))
		}, 404, false, false},
		{"grant narrowed to live view", func(h *harness, p *access.Principal) {
			must(t, h.svc.SetGrants(ctx, h.admin, "viewer", []access.Grant{{Role: access.Staff, Sites: []string{"site-a"}}}))
		}, 404, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// 40 min of footage: far more than socket buffers hold, so the
			// download is still being written when the right goes.
			h := newHarnessWith(t, 240, func(o *Options) { o.ViewTTL = 24 * time.Hour })
			h.cams.record("cam-a")
			frames := liveFrames(t, h.t0)
			p, err := h.svc.Authenticate(ctx, h.users["viewer"].token, netip.MustParseAddr("127.0.0.1"))
			must(t, err)

			var live, play viewResponse
			resp := h.do("POST", "/api/cameras/cam-a/live", "viewer", map[string]string{"purpose": "monitoring", "reason": "정문 관제"})
			if resp.StatusCode != 201 {
				t.Fatalf("live view: %d", resp.StatusCode)
			}
			live = decode[viewResponse](t, resp)
			resp = h.do("POST", "/api/cameras/cam-a/views", "viewer", map[string]any{
				"start": h.t0, "end": h.t0.Add(40 * time.Minute), "purpose": "incident", "reason": "분실물 확인"})
			if resp.StatusCode != 201 {
				t.Fatalf("playback view: %d", resp.StatusCode)
			}
			play = decode[viewResponse](t, resp)

			ls := h.open(live.URL, "viewer", false)
			waitUntil(t, "the live stream subscribed", func() bool { return h.cams.subscribers("cam-a") == 1 })
			for _, f := range frames[:3] {
				h.cams.send("cam-a", ingest.LiveFrame{Frame: f})
			}
			ds := h.open(play.URL, "viewer", true)
			for _, st := range []*stream{ls, ds} {
				<-st.started
				if st.status != 200 || st.startErr != nil {
					t.Fatalf("stream did not start: %d %v", st.status, st.startErr)
				}
			}
			if ds.length < 64<<20 {
				t.Fatalf("download of %d bytes: too small to still be in progress", ds.length)
			}

			revoked := time.Now()
			c.revoke(h, p)
			// The live stream ends (its body closes) within 1 s; frames
			// keep coming meanwhile, as from a working camera.
			i := 3
			liveEnded := func() bool {
				select {
				case <-ls.done:
					return true
				default:
					h.cams.send("cam-a", ingest.LiveFrame{Frame: frames[i%len(frames)]})
					i++
					return false
				}
			}
			if c.liveOK {
				// The live view is still granted: the stream goes on while
				// the gate ends the playback.
				waitUntil(t, "the playback access ended", func() bool { return h.gate.Active() == 1 })
				if liveEnded() {
					t.Fatal("the live stream ended though live view is still granted")
				}
				defer func() { h.srv.Close(); <-ls.done }()
			} else {
				waitUntil(t, "the live stream ended", liveEnded)
				if d := time.Since(revoked); d > time.Second {
					t.Errorf("live stream ended %v after the revocation", d)
				}
				if h.cams.subscribers("cam-a") != 0 {
					t.Error("the live feed is still subscribed")
				}
			}
			// The download ends short of its length: read on now, and what
			// arrives is only what was already in flight.
			waitUntil(t, "the playback access ended", func() bool { return h.gate.Active() <= map[bool]int{true: 1, false: 0}[c.liveOK] })
			close(ds.resume)
			select {
			case <-ds.done:
			case <-time.After(time.Second):
				t.Fatal("the download went on after the revocation")
			}
			if ds.err == nil || ds.n >= ds.length {
				t.Errorf("download read %d of %d bytes, err %v: it was not cut", ds.n, ds.length, ds.err)
			}
			if d := time.Since(revoked); d > time.Second+500*time.Millisecond {
				t.Errorf("download cut %v after the revocation", d)
			}
			// The view URLs are gone.
			for _, u := range []string{play.URL} {
				resp := h.do("GET", u, "viewer", nil)
				resp.Body.Close()
				if resp.StatusCode != c.after {
					t.Errorf("%s after %s: %d, want %d", u, c.name, resp.StatusCode, c.after)
				}
			}
			if !c.liveOK {
				resp := h.do("GET", live.URL, "viewer", nil)
				resp.Body.Close()
				if resp.StatusCode != c.after {
					t.Errorf("live URL after %s: %d, want %d", c.name, resp.StatusCode, c.after)
				}
			}
		})
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// matrixRequests is the requests service of the matrix's server, holding
// request 1 on cam-a.
func matrixRequests(t *testing.T, dir string, clk clock.Clock, t0 time.Time) *requests.Service {
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := requests.OpenSQLite(context.Background(), dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := requests.New(requests.Config{Store: st, Calendar: requests.Calendar{Zone: time.UTC}, Clock: clk,
		Logger: slog.New(slog.DiscardHandler),
		Camera: func(id string) (string, bool) { c, ok := (fakeCameras{}).Camera(id); return c.Site, ok }})
	_, err = svc.Submit(context.Background(), requests.Input{Types: []requests.Type{requests.View}, From: t0.Add(-time.Hour),
		To: t0.Add(-30 * time.Minute), Cameras: []string{"cam-a"}, Personal: requests.Personal{
			Requester: requests.Person{Name: "a", Phone: "010-1234-5678", Birth: "1980-01-01", Address: "a", Relation: "본인"},
			Subject:   requests.Person{Name: "a"}, Purpose: "a"}}, netip.Addr{}, "setup")
	if err != nil {
		t.Fatal(err)
	}
	return svc
}
