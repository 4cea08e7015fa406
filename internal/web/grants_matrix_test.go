package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// accountsServer is a web server with the real access service and its
// account routes, and a helper to log users in over HTTP.
type accountsServer struct {
	t   *testing.T
	svc *access.Service
	ts  *httptest.Server
}

type session struct {
	hc   *http.Client
	csrf string
}

func newAccountsServer(t *testing.T) *accountsServer {
	t.Helper()
	clk := clock.NewFake(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	lg, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	svc, err := access.Open(context.Background(), access.Config{Dir: dir, Ledger: lg, Clock: clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	srv, err := New(Options{Guard: AccessGuard{S: svc, Clock: clk}, Accounts: svc,
		Cameras: fakeCameras{}, Footage: newSource(t, &events{}, 0), Ledger: lg, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &accountsServer{t: t, svc: svc, ts: ts}
}

const grantsPW = "Quiet-Lamp-Orbit-93"

// user creates name with grants (by the operator) and sets its password.
func (a *accountsServer) user(name string, grants ...access.Grant) {
	a.t.Helper()
	ctx := context.Background()
	_, otp, err := a.svc.CreateUser(ctx, a.svc.Operator("test"), name, "", grants)
	if err != nil {
		a.t.Fatal(err)
	}
	s, err := a.svc.Login(ctx, name, otp, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.svc.ChangePassword(ctx, s.Principal, otp, grantsPW); err != nil {
		a.t.Fatal(err)
	}
}

// login logs in over HTTP; a failure returns the error body.
func (a *accountsServer) login(name, pw string) (*session, ErrorBody) {
	a.t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "password": pw})
	resp, err := http.Post(a.ts.URL+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		var eb ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		return nil, eb
	}
	var r struct{ CSRF string }
	json.NewDecoder(resp.Body).Decode(&r)
	return &session{hc: &http.Client{Jar: jarWith(a.ts.URL, resp.Cookies())}, csrf: r.CSRF}, ErrorBody{}
}

func (a *accountsServer) call(s *session, method, path string, body any) (int, ErrorBody) {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, a.ts.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", s.csrf)
	resp, err := s.hc.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	var eb ErrorBody
	if resp.StatusCode >= 400 {
		raw, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(raw, &eb); err != nil {
			a.t.Fatalf("%s %s: error body %q is not {code, message}", method, path, raw)
		}
	}
	return resp.StatusCode, eb
}

// TestGrantsMatrix: over HTTP, who may give, change and take away which
// grants (docs/design/access.md, "Delegation"), each refusal with its
// catalogue code and a Korean message.
func TestGrantsMatrix(t *testing.T) {
	a := newAccountsServer(t)
	a.user("root", access.Grant{Role: access.SystemAdmin, Sites: []string{"*"}})
	a.user("aadmin", access.Grant{Role: access.SystemAdmin, Sites: []string{"site-a"}, Perms: access.Set(access.ManageUsers)})
	a.user("astaff", access.Grant{Role: access.Staff, Sites: []string{"site-a"}})
	a.user("bstaff", access.Grant{Role: access.Staff, Sites: []string{"site-b"}})
	a.user("amanager", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	root, _ := a.login("root", grantsPW)
	aadmin, _ := a.login("aadmin", grantsPW)
	manager, _ := a.login("amanager", grantsPW)
	grant := func(role string, sites ...string) map[string]any {
		return map[string]any{"grants": []map[string]any{{"role": role, "sites": sites}}}
	}
	newUser := func(name, role string, sites ...string) map[string]any {
		b := grant(role, sites...)
		b["name"] = name
		return b
	}
	for _, c := range []struct {
		who          string
		s            *session
		method, path string
		body         any
		status       int
		code         errs.Code
	}{
		// A site administrator within its site.
		{"aadmin", aadmin, "POST", "/api/users", newUser("a-viewer", "authorized", "site-a"), 201, ""},
		{"aadmin", aadmin, "PUT", "/api/users/astaff/grants", grant("manager", "site-a"), 204, ""},
		// Beyond it.
		{"aadmin", aadmin, "POST", "/api/users", newUser("m-all", "manager", "*"), 403, "grant.site"},
		{"aadmin", aadmin, "POST", "/api/users", newUser("m-b", "manager", "site-a", "site-b"), 403, "grant.site"},
		{"aadmin", aadmin, "POST", "/api/users", newUser("admin-a", "admin", "site-a"), 403, "grant.perm"},
		{"aadmin", aadmin, "PUT", "/api/users/aadmin/grants", grant("admin", "*"), 403, "user.self_grants"},
		{"aadmin", aadmin, "POST", "/api/users/root/deactivate", map[string]string{"reason": "퇴직"}, 403, "user.beyond"},
		{"aadmin", aadmin, "PUT", "/api/users/root/grants", grant("staff", "site-a"), 403, "user.beyond"},
		{"aadmin", aadmin, "POST", "/api/users/bstaff/deactivate", map[string]string{"reason": "전보"}, 404, "not_found"},
		{"aadmin", aadmin, "POST", "/api/users/root/reset-password", nil, 403, "user.beyond"},
		{"aadmin", aadmin, "POST", "/api/users/aadmin/reset-password", nil, 403, "user.self_reset"},
		{"aadmin", aadmin, "POST", "/api/users/root/reset-totp", nil, 403, "user.beyond"},
		{"aadmin", aadmin, "POST", "/api/users/a-viewer/reset-password", nil, 200, ""},
		// Not an administrator at all.
		{"amanager", manager, "POST", "/api/users", newUser("x", "staff", "site-a"), 403, "forbidden"},
		// The global administrator.
		{"root", root, "POST", "/api/users", newUser("m-all", "manager", "*"), 201, ""},
		{"root", root, "POST", "/api/users/aadmin/deactivate", map[string]string{"reason": "퇴직"}, 204, ""},
		{"root", root, "PUT", "/api/users/root/grants", grant("staff", "*"), 403, "user.self_grants"},
		{"root", root, "POST", "/api/users", newUser("M-ALL", "staff", "*"), 409, "user.exists"},
		{"root", root, "POST", "/api/users", newUser("ad\x1bmin", "staff", "*"), 400, "user.name"},
		{"root", root, "POST", "/api/users", newUser("x", "emperor", "*"), 400, "grant.role"},
	} {
		status, eb := a.call(c.s, c.method, c.path, c.body)
		if status != c.status || eb.Code != c.code {
			t.Errorf("%s %s %s as %s: %d %q, want %d %q", c.method, c.path, c.body, c.who, status, eb.Code, c.status, c.code)
		}
		if c.code != "" && (eb.Message == "" || strings.Contains(eb.Message, "access.")) {
			t.Errorf("%s %s as %s: message %q", c.method, c.path, c.who, eb.Message)
		}
	}
	// The deactivated site administrator's session ended with it.
	if status, _ := a.call(aadmin, "GET", "/api/me", nil); status != 401 {
		t.Errorf("deactivated administrator's session: %d", status)
	}
}

// TestAccountErrorsAreCatalogued: the account routes answer wrong
// passwords, password rules, must-change and TOTP with catalogue codes and
// messages in the reader's language, never Go text.
func TestAccountErrorsAreCatalogued(t *testing.T) {
	a := newAccountsServer(t)
	a.user("kim", access.Grant{Role: access.Staff, Sites: []string{"site-a"}})
	if _, eb := a.login("kim", "wrong-password-1"); eb.Code != "login.failed" || !strings.Contains(eb.Message, "비밀번호") {
		t.Errorf("failed login: %+v", eb)
	}
	s, _ := a.login("kim", grantsPW)
	for _, c := range []struct {
		method, path string
		body         any
		code         errs.Code
	}{
		{"POST", "/api/password", map[string]string{"old": "wrong-password-1", "new": "Another-Quiet-Lamp-7"}, "password.wrong"},
		{"POST", "/api/password", map[string]string{"old": grantsPW, "new": "password123"}, "password.weak"},
		{"POST", "/api/password", map[string]string{"old": grantsPW, "new": "short"}, "password.short"},
		{"POST", "/api/totp", map[string]string{}, "password.wrong"},
		{"POST", "/api/totp/confirm", map[string]string{"code": "123456"}, "totp.no_enrolment"},
		{"DELETE", "/api/totp", map[string]string{"password": grantsPW}, "totp.off"},
		{"POST", "/api/password", "not an object", "request.json"},
	} {
		_, eb := a.call(s, c.method, c.path, c.body)
		if eb.Code != c.code || eb.Message == "" {
			t.Errorf("%s %s %v: %+v, want code %s", c.method, c.path, c.body, eb, c.code)
		}
	}
	// A one-time password restricts the session to changing it.
	_, otp, err := a.svc.CreateUser(context.Background(), a.svc.Operator("test"), "fresh", "", []access.Grant{{Role: access.Staff, Sites: []string{"site-a"}}})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := a.login("fresh", otp)
	if _, eb := a.call(f, "GET", "/api/cameras", nil); eb.Code != "password.must_change" {
		t.Errorf("must-change session: %+v", eb)
	}
}
