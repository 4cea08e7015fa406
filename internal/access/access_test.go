package access

import (
	"context"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type env struct {
	s     *Service
	l     *ledger.Ledger
	clk   *clock.Fake
	admin *Principal
}

var fast = Argon2{Time: 1, MemoryKiB: 64, Threads: 1}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	quiet := slog.New(slog.DiscardHandler)
	l, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	cfg := Config{Dir: dir, Ledger: l, Clock: clk, Logger: quiet, Argon2: fast}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	e := &env{s: s, l: l, clk: clk}
	e.admin = e.login(t, "admin", e.bootstrap(t), "")
	return e
}

// bootstrap creates the first admin and changes its one-time password.
func (e *env) bootstrap(t *testing.T) string {
	t.Helper()
	pw, created, err := e.s.EnsureAdmin(context.Background(), "admin")
	if err != nil || !created || pw == "" {
		t.Fatalf("EnsureAdmin: %q %v %v", pw, created, err)
	}
	sess, err := e.s.Login(context.Background(), "admin", pw, "", netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ChangePassword(context.Background(), sess.Principal, pw, "Strong-pass-2026"); err != nil {
		t.Fatal(err)
	}
	return "Strong-pass-2026"
}

func (e *env) login(t *testing.T, name, pw, code string) *Principal {
	t.Helper()
	sess, err := e.s.Login(context.Background(), name, pw, code, netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	p, err := e.s.Authenticate(context.Background(), sess.Token, netip.MustParseAddr("10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// addUser creates a user and sets their password, returning a session token.
func (e *env) addUser(t *testing.T, name string, grants ...Grant) (string, *Principal) {
	t.Helper()
	_, otp, err := e.s.CreateUser(context.Background(), e.admin, name, name+" 씨", grants)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := e.s.Login(context.Background(), name, otp, "", netip.MustParseAddr("10.10.0.5"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.s.ChangePassword(context.Background(), sess.Principal, otp, "Blue-river-42"); err != nil {
		t.Fatal(err)
	}
	return sess.Token, sess.Principal
}

func (e *env) entries(t *testing.T, k ledger.Kind) []ledger.Entry {
	t.Helper()
	es, err := e.l.Query(context.Background(), ledger.Filter{Kinds: []ledger.Kind{k}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// The permission table in docs/design/access.md is THE table; this keeps
// DefaultPerms equal to it.
func TestPermissionTableMatchesDoc(t *testing.T) {
	b, err := os.ReadFile("../../docs/design/access.md")
	if err != nil {
		t.Fatal(err)
	}
	var header []string
	got := map[Role]PermSet{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "| "), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == "permission" {
			header = cells
			continue
		}
		if header == nil {
			continue
		}
		p, err := ParsePerm(strings.Trim(cells[0], "`"))
		if err != nil {
			if strings.HasPrefix(cells[0], "---") {
				continue
			}
			break // end of the table
		}
		for i, c := range cells[1:] {
			name := regexp.MustCompile(`\(([a-z]+)\)`).FindStringSubmatch(header[i+1])
			if name == nil {
				t.Fatalf("header cell %q has no (role) name", header[i+1])
			}
			r, err := ParseRole(name[1])
			if err != nil {
				t.Fatal(err)
			}
			if c == "✓" {
				got[r] |= Set(p)
			}
		}
	}
	if len(got) == 0 {
		t.Fatal("no permission table found in docs/design/access.md")
	}
	for _, r := range Roles() {
		if got[r] != DefaultPerms[r] {
			t.Errorf("%s: doc says %s, DefaultPerms says %s", r, got[r], DefaultPerms[r])
		}
	}
}

func TestEnsureAdminOnceAndMustChange(t *testing.T) {
	dir := t.TempDir()
	l, _ := ledger.Open(context.Background(), ledger.Options{Dir: dir, Logger: slog.New(slog.DiscardHandler)})
	defer l.Close()
	s, err := Open(context.Background(), Config{Dir: dir, Ledger: l, Argon2: fast, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pw, created, err := s.EnsureAdmin(context.Background(), "root")
	if err != nil || !created || len(pw) < 16 {
		t.Fatalf("first EnsureAdmin: %q %v %v", pw, created, err)
	}
	if err := (PasswordPolicy{}).Check(pw, "root"); err != nil {
		t.Fatalf("one-time password breaks the policy: %v", err)
	}
	pw2, created, err := s.EnsureAdmin(context.Background(), "root")
	if err != nil || created || pw2 != "" {
		t.Fatalf("second EnsureAdmin created again: %q %v %v", pw2, created, err)
	}
	sess, err := s.Login(context.Background(), "root", pw, "", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	if !sess.Principal.MustChangePassword {
		t.Fatal("one-time password does not force a change")
	}
	if err := s.Authorize(sess.Principal, ManageUsers, ""); !errors.Is(err, ErrMustChangePassword) {
		t.Fatalf("admin with one-time password authorized: %v", err)
	}
	if err := s.ChangePassword(context.Background(), sess.Principal, pw, "short1"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("weak password accepted: %v", err)
	}
	if err := s.ChangePassword(context.Background(), sess.Principal, pw, "Tall-tree-77"); err != nil {
		t.Fatal(err)
	}
	if err := s.Authorize(sess.Principal, ManageUsers, ""); err != nil {
		t.Fatalf("after change: %v", err)
	}
}

func TestPasswordPolicy(t *testing.T) {
	var p PasswordPolicy
	for pw, ok := range map[string]bool{"short1!": false, "onlyletterslong": false, "1234567890123": false,
		"kim-secret-99": false, "Password1234": false, "long-enough-9": true, "긴비밀번호입니다만1": true} {
		if err := p.Check(pw, "kim"); (err == nil) != ok {
			t.Errorf("%q: %v", pw, err)
		}
	}
	h, _ := hashPassword("long-enough-9", fast)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || !checkPassword("long-enough-9", h) || checkPassword("long-enough-8", h) {
		t.Fatalf("argon2id hash %q", h)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxFailures, c.FailureWindow, c.LockoutDuration = 3, time.Minute, 10*time.Minute })
	e.addUser(t, "kim", Grant{Role: Staff, Sites: []string{"main"}})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if _, err := e.s.Login(ctx, "kim", "wrong-pass-1", "", netip.Addr{}); !errs.Is(err, errs.Unauthorized) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", netip.Addr{}); !errors.Is(err, ErrBadLogin) {
		t.Fatalf("locked account accepted the right password: %v", err)
	}
	fails := e.entries(t, ledger.LoginFailed)
	if len(fails) != 4 || !strings.Contains(fails[2].Detail, "locked until") || !strings.Contains(fails[3].Detail, "account locked") {
		t.Fatalf("failed logins not ledgered as expected: %+v", fails)
	}
	e.clk.Advance(10 * time.Minute)
	if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", netip.Addr{}); err != nil {
		t.Fatalf("after lockout expiry: %v", err)
	}
	// Unknown users fail the same way and are ledgered.
	if _, err := e.s.Login(ctx, "nobody", "x", "", netip.Addr{}); !errors.Is(err, ErrBadLogin) {
		t.Fatal(err)
	}
	// Failures outside the window do not add up.
	for i := 0; i < 4; i++ {
		e.s.Login(ctx, "kim", "wrong-pass-1", "", netip.Addr{})
		e.clk.Advance(61 * time.Second)
		if i == 1 {
			if _, err := e.s.Login(ctx, "kim", "Blue-river-42", "", netip.Addr{}); err != nil {
				t.Fatalf("spread-out failures locked the account: %v", err)
			}
		}
	}
}

func TestDeactivationEndsEverySessionAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	tok1, _ := e.addUser(t, "lee", Grant{Role: Authorized, Sites: []string{"main"}})
	sess2, err := e.s.Login(context.Background(), "lee", "Blue-river-42", "", netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	get := func(tok string) int {
		if _, err := e.s.Authenticate(context.Background(), tok, netip.Addr{}); err != nil {
			if !errs.Is(err, errs.Unauthorized) {
				t.Fatal(err)
			}
			return 401
		}
		return 200
	}
	if get(tok1) != 200 || get(sess2.Token) != 200 {
		t.Fatal("sessions not working before deactivation")
	}
	if err := e.s.Deactivate(context.Background(), e.admin, "lee", Retirement, "2026-03 퇴직"); err != nil {
		t.Fatal(err)
	}
	// No clock advance: the very next request fails.
	if c1, c2 := get(tok1), get(sess2.Token); c1 != 401 || c2 != 401 {
		t.Fatalf("after deactivation: %d %d, want 401", c1, c2)
	}
	if _, err := e.s.Login(context.Background(), "lee", "Blue-river-42", "", netip.Addr{}); err == nil {
		t.Fatal("deactivated user logged in")
	}
	ch := e.entries(t, ledger.UserChange)
	last := ch[len(ch)-1]
	if last.Actor != "admin" || last.Purpose != "퇴직" || !strings.Contains(last.Detail, "접근권한자") {
		t.Fatalf("deactivation ledger entry: %+v", last)
	}
}

// The CSRF token may come in the form field instead of the header (the
// routes' CSRF checks are web's: TestAccountRoutesOverHTTP).
func TestCSRFFormField(t *testing.T) {
	req := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{CSRFField: {"tok"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := CheckCSRF(req, &Principal{CSRF: "tok"}); err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest("POST", "/", strings.NewReader(url.Values{CSRFField: {"other"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if err := CheckCSRF(req, &Principal{CSRF: "tok"}); !errs.Is(err, errs.Permission) {
		t.Fatalf("wrong form token: %v", err)
	}
}

func TestSecureCookieBehindTLS(t *testing.T) {
	w := httptest.NewRecorder()
	SetSessionCookie(w, httptest.NewRequest("GET", "https://gwanje.example/", nil), "tok")
	c := w.Result().Cookies()[0]
	if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie over TLS: %+v", c)
	}
}

func TestAuthorizeScopeAndValidity(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "choi",
		Grant{Role: Authorized, Sites: []string{"guro"}, ValidUntil: t0.Add(24 * time.Hour)},
		Grant{Role: Auditor, Sites: []string{"*"}, ValidFrom: t0.Add(time.Hour)})
	p.Client = netip.MustParseAddr("10.10.0.9")
	if err := e.s.Authorize(p, Playback, "guro"); err != nil {
		t.Fatalf("in scope: %v", err)
	}
	if err := e.s.Authorize(p, Playback, "sijang"); !errs.Is(err, errs.Private) {
		t.Fatalf("out of scope: %v, want Private", err)
	}
	if err := e.s.Authorize(p, Export, "guro"); !errs.Is(err, errs.Permission) {
		t.Fatalf("export not granted: %v", err)
	}
	if err := e.s.Authorize(p, ReadLedger, ""); !errs.Is(err, errs.Permission) {
		t.Fatalf("auditor grant before its start: %v", err)
	}
	e.clk.Advance(2 * time.Hour)
	if err := e.s.Authorize(p, ReadLedger, ""); err != nil {
		t.Fatalf("auditor grant in force: %v", err)
	}
	e.clk.Advance(24 * time.Hour)
	if err := e.s.Authorize(p, Playback, "guro"); !errs.Is(err, errs.Permission) {
		t.Fatalf("expired grant: %v", err)
	}
}

func TestSessionTimeouts(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout, c.AbsoluteTimeout = 10*time.Minute, time.Hour })
	tok, _ := e.addUser(t, "han", Grant{Role: Staff, Sites: []string{"*"}})
	ctx := context.Background()
	for i := 0; i < 6; i++ { // active use keeps it alive up to the absolute limit
		e.clk.Advance(9 * time.Minute)
		if _, err := e.s.Authenticate(ctx, tok, netip.Addr{}); err != nil {
			t.Fatalf("active session ended at step %d: %v", i, err)
		}
	}
	e.clk.Advance(7 * time.Minute)
	if _, err := e.s.Authenticate(ctx, tok, netip.Addr{}); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("session outlived its absolute timeout: %v", err)
	}
	sess, _ := e.s.Login(ctx, "han", "Blue-river-42", "", netip.Addr{})
	e.clk.Advance(11 * time.Minute)
	if _, err := e.s.Authenticate(ctx, sess.Token, netip.Addr{}); !errs.Is(err, errs.Unauthorized) {
		t.Fatalf("idle session survived: %v", err)
	}
	// Abandoned sessions are swept at the next login.
	e.s.Login(ctx, "han", "Blue-river-42", "", netip.Addr{})
	e.clk.Advance(time.Hour)
	e.s.Login(ctx, "han", "Blue-river-42", "", netip.Addr{})
	if n, _ := e.s.st.CountSessions(ctx); n != 1 {
		t.Fatalf("%d sessions left, want only the newest", n)
	}
}

func TestLogoutEndsSession(t *testing.T) {
	e := newEnv(t, nil)
	tok, p := e.addUser(t, "seo", Grant{Role: Staff, Sites: []string{"*"}})
	if err := e.s.Logout(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Authenticate(context.Background(), tok, netip.Addr{}); err == nil {
		t.Fatal("session alive after logout")
	}
	if len(e.entries(t, ledger.Logout)) != 1 {
		t.Fatal("logout not ledgered")
	}
}

func TestTOTPLogin(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "oh", Grant{Role: Staff, Sites: []string{"*"}})
	ctx := context.Background()
	uri, err := e.s.BeginTOTP(ctx, p, "Blue-river-42", "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(uri)
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(u.Query().Get("secret"))
	if err != nil {
		t.Fatal(err)
	}
	code := func() string { return totpCode(sha1.New, secret, totpStepAt(e.clk.Now()), 6) }
	if err := e.s.ConfirmTOTP(ctx, p, "000000"); err == nil && code() != "000000" {
		t.Fatal("wrong confirmation code accepted")
	}
	if err := e.s.ConfirmTOTP(ctx, p, code()); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(30 * time.Second)
	if _, err := e.s.Login(ctx, "oh", "Blue-river-42", "", netip.Addr{}); err == nil {
		t.Fatal("login without TOTP code")
	}
	c := code()
	if _, err := e.s.Login(ctx, "oh", "Blue-river-42", c, netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "oh", "Blue-river-42", c, netip.Addr{}); err == nil {
		t.Fatal("TOTP code replayed")
	}
}

func TestManageUsersNeedsPermission(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "kang", Grant{Role: Manager, Title: "운영 책임자(정)", Sites: []string{"*"}})
	if _, _, err := e.s.CreateUser(context.Background(), p, "x1", "", nil); !errs.Is(err, errs.Permission) {
		t.Fatalf("manager created a user: %v", err)
	}
	if err := e.s.SetGrants(context.Background(), e.admin, "kang", []Grant{{Role: Staff, Sites: []string{"guro"}}}); err != nil {
		t.Fatal(err)
	}
	pc := e.entries(t, ledger.PermissionChange)
	if len(pc) != 1 || !strings.Contains(pc[0].Detail, "관리책임자") || !strings.Contains(pc[0].Detail, "업무담당") {
		t.Fatalf("permission change ledger: %+v", pc)
	}
	if err := e.s.SetGrants(context.Background(), e.admin, "kang", []Grant{{Role: Staff}}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("grant without sites: %v", err)
	}
}

func TestOperatorManagesUsersWithoutFootage(t *testing.T) {
	e := newEnv(t, nil)
	op := e.s.Operator("root")
	if _, _, err := e.s.CreateUser(context.Background(), op, "moon", "", []Grant{{Role: Staff, Sites: []string{"*"}}}); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Authorize(op, Playback, "guro"); !errs.Is(err, errs.Permission) {
		t.Fatalf("operator may play footage: %v", err)
	}
	ch := e.entries(t, ledger.UserChange)
	if ch[len(ch)-1].Actor != "cli:root" {
		t.Fatalf("actor %q", ch[len(ch)-1].Actor)
	}
}

// Unknown-user logins from many goroutines share the dummy hash safely.
func TestConcurrentUnknownLogins(t *testing.T) {
	e := newEnv(t, nil)
	done := make(chan error)
	for i := 0; i < 8; i++ {
		go func() {
			_, err := e.s.Login(context.Background(), "ghost", "x", "", netip.Addr{})
			done <- err
		}()
	}
	for i := 0; i < 8; i++ {
		if err := <-done; !errors.Is(err, ErrBadLogin) {
			t.Fatal(err)
		}
	}
}
