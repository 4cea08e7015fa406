package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// Config configures the access service. Zero values take the defaults.
type Config struct {
	Dir    string          // data directory; the service keeps Dir/access.db
	Ledger ledger.Appender // where logins, changes, refusals and footage access are recorded (required)
	Clock  clock.Clock
	Logger *slog.Logger

	Argon2   Argon2         // default DefaultArgon2
	Password PasswordPolicy // default 10 characters, 2 classes

	MaxFailures     int           // failed logins within FailureWindow that lock the account (default 5)
	FailureWindow   time.Duration // default 15 minutes
	LockoutDuration time.Duration // default 30 minutes

	IdleTimeout     time.Duration // a session unused this long ends (default 30 minutes)
	AbsoluteTimeout time.Duration // a session ends this long after login (default 12 hours)

	// Networks lists, per role, the client networks from which footage
	// (live view, playback, export) may be reached: the restricted viewing
	// room. A role without an entry is not restricted.
	Networks map[Role][]netip.Prefix
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	// Empty: the header is ignored and the peer address is the client.
	TrustedProxies []netip.Prefix
	// Issuer names the service in TOTP apps (default "gwanje").
	Issuer string
}

// Service is the access service. It is safe for concurrent use.
type Service struct {
	cfg Config
	st  *store

	dummyOnce sync.Once
	dummy     string
}

// User is an account as other packages see it.
type User struct {
	ID                 int64
	Name               string // login name
	Display            string // real name, written to the ledger
	Active             bool
	MustChangePassword bool
	TOTP               bool
	Grants             []Grant
	Created            time.Time
	DeactivatedAt      time.Time
	DeactivateReason   string
}

// Grant gives a role's permissions on some sites for a period.
type Grant struct {
	Role       Role
	Title      string    // e.g. "운영 책임자(부)"
	Sites      []string  // site ids; "*" means every site
	Perms      PermSet   // 0: the role's defaults (DefaultPerms)
	ValidFrom  time.Time // zero: from the start
	ValidUntil time.Time // zero: open-ended; exclusive
}

// EffectivePerms returns the grant's permissions.
func (g Grant) EffectivePerms() PermSet {
	if g.Perms != 0 {
		return g.Perms
	}
	return DefaultPerms[g.Role]
}

func (g Grant) validAt(t time.Time) bool {
	return (g.ValidFrom.IsZero() || !t.Before(g.ValidFrom)) && (g.ValidUntil.IsZero() || t.Before(g.ValidUntil))
}

func (g Grant) covers(site string) bool {
	return slices.Contains(g.Sites, "*") || slices.Contains(g.Sites, site)
}

func (g Grant) validate() error {
	const op = "access.Grant"
	if g.Role <= roleNone || g.Role >= roleEnd {
		return errs.Errorf(op, errs.Invalid, "grant has no valid role")
	}
	if len(g.Sites) == 0 {
		return errs.Errorf(op, errs.Invalid, "a %s grant needs at least one site (or \"*\")", g.Role)
	}
	for _, s := range g.Sites {
		if s == "" || strings.ContainsAny(s, "\n\r") {
			return errs.Errorf(op, errs.Invalid, "grant site %q is not a site id", s)
		}
	}
	if !g.ValidUntil.IsZero() && !g.ValidUntil.After(g.ValidFrom) {
		return errs.Errorf(op, errs.Invalid, "grant is valid until %s, not after it starts (%s)", g.ValidUntil, g.ValidFrom)
	}
	if g.Perms>>permEnd != 0 || g.Perms&1 != 0 {
		return errs.Errorf(op, errs.Invalid, "grant has unknown permissions %#x", uint32(g.Perms))
	}
	return nil
}

// Principal is an authenticated caller for one request.
type Principal struct {
	User
	Client  netip.Addr // the client address
	CSRF    string     // the session's CSRF token
	session []byte     // the session id hash
}

// Role returns the role to write in the ledger for acts that are not
// tied to one grant: the first valid grant's role.
func (p *Principal) Role(now time.Time) Role {
	for _, g := range p.Grants {
		if g.validAt(now) {
			return g.Role
		}
	}
	return roleNone
}

// Open opens (creating on first run) Dir/access.db.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	const op = "access.Open"
	if cfg.Dir == "" {
		return nil, errs.Errorf(op, errs.Invalid, "access needs a data directory")
	}
	if cfg.Ledger == nil {
		return nil, errs.Errorf(op, errs.Invalid, "access needs a ledger")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Argon2 == (Argon2{}) {
		cfg.Argon2 = DefaultArgon2
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if cfg.MaxFailures == 0 {
		cfg.MaxFailures = 5
	}
	def(&cfg.FailureWindow, 15*time.Minute)
	def(&cfg.LockoutDuration, 30*time.Minute)
	def(&cfg.IdleTimeout, 30*time.Minute)
	def(&cfg.AbsoluteTimeout, 12*time.Hour)
	if cfg.Issuer == "" {
		cfg.Issuer = "gwanje"
	}
	st, err := openStore(ctx, filepath.Join(cfg.Dir, "access.db"))
	if err != nil {
		return nil, errs.E(op, err)
	}
	return &Service{cfg: cfg, st: st}, nil
}

// Close closes the database.
func (s *Service) Close() error { return s.st.db.Close() }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func (s *Service) record(ctx context.Context, e ledger.Entry) error {
	if _, err := s.cfg.Ledger.Append(ctx, e); err != nil {
		s.cfg.Logger.Error("ledger write failed", "kind", e.Kind.String(), "err", err)
		return errs.E("access.ledger", errs.Unavailable, err)
	}
	return nil
}

func actorOf(p *Principal, now time.Time) (name, role, client string) {
	if p == nil {
		return "system", "", ""
	}
	c := ""
	if p.Client.IsValid() {
		c = p.Client.String()
	}
	return p.Name, p.Role(now).Korean(), c
}

// EnsureAdmin creates the first 시스템관리자 when there are no users at
// all, with a random one-time password that must be changed at first
// login. The password is returned to the caller to show once; it is never
// logged. When users exist it returns created == false and no password.
func (s *Service) EnsureAdmin(ctx context.Context, name string) (password string, created bool, err error) {
	const op = "access.EnsureAdmin"
	n, err := s.st.countAccounts(ctx)
	if err != nil {
		return "", false, errs.E(op, errs.IO, err)
	}
	if n > 0 {
		return "", false, nil
	}
	pw, err := randomPassword()
	if err != nil {
		return "", false, errs.E(op, errs.Internal, err)
	}
	if _, err := s.createUser(ctx, nil, name, name, pw, []Grant{{Role: SystemAdmin, Title: "시스템관리자", Sites: []string{"*"}}}); err != nil {
		return "", false, errs.E(op, err)
	}
	s.cfg.Logger.Info("first administrator created; its one-time password was shown once", "user", name)
	return pw, true, nil
}

func validName(name string) error {
	if name == "" || len(name) > 64 || strings.ContainsAny(name, " \t\r\n/\\:") {
		return errs.Errorf("access.User", errs.Invalid, "user name %q must be 1-64 characters without spaces, slashes or colons", name)
	}
	return nil
}

// CreateUser adds a user with the given grants and a random one-time
// password (returned once; the user must change it at first login).
// actor needs ManageUsers.
func (s *Service) CreateUser(ctx context.Context, actor *Principal, name, display string, grants []Grant) (User, string, error) {
	const op = "access.CreateUser"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return User{}, "", errs.E(op, err)
	}
	if err := s.mayGive(actor, grants); err != nil {
		return User{}, "", errs.E(op, err)
	}
	pw, err := randomPassword()
	if err != nil {
		return User{}, "", errs.E(op, errs.Internal, err)
	}
	u, err := s.createUser(ctx, actor, name, display, pw, grants)
	if err != nil {
		return User{}, "", errs.E(op, err)
	}
	return u, pw, nil
}

func (s *Service) createUser(ctx context.Context, actor *Principal, name, display, pw string, grants []Grant) (User, error) {
	if err := validName(name); err != nil {
		return User{}, err
	}
	if display == "" {
		display = name
	}
	for _, g := range grants {
		if err := g.validate(); err != nil {
			return User{}, err
		}
	}
	h, err := hashPassword(pw, s.cfg.Argon2)
	if err != nil {
		return User{}, err
	}
	now := s.now()
	id, err := s.st.insertAccount(ctx, name, display, h, now, grants)
	if err != nil {
		return User{}, err
	}
	a, r, c := actorOf(actor, now)
	if err := s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + name,
		Detail: fmt.Sprintf("created %q (%s) with grants: %s", name, display, describeGrants(grants))}); err != nil {
		return User{}, err
	}
	acc, err := s.st.accountByID(ctx, id)
	if err != nil {
		return User{}, err
	}
	return acc.User, nil
}

func describeGrants(gs []Grant) string {
	if len(gs) == 0 {
		return "none"
	}
	var parts []string
	for _, g := range gs {
		p := fmt.Sprintf("%s[%s] sites=%s perms=%s", g.Role.Korean(), g.Title, strings.Join(g.Sites, ","), g.EffectivePerms())
		if !g.ValidFrom.IsZero() || !g.ValidUntil.IsZero() {
			p += fmt.Sprintf(" valid=%s..%s", g.ValidFrom.Format(time.RFC3339), g.ValidUntil.Format(time.RFC3339))
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

// SetGrants replaces a user's grants. actor needs ManageUsers.
func (s *Service) SetGrants(ctx context.Context, actor *Principal, name string, grants []Grant) error {
	const op = "access.SetGrants"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return errs.E(op, err)
	}
	for _, g := range grants {
		if err := g.validate(); err != nil {
			return errs.E(op, err)
		}
	}
	acc, err := s.managed(ctx, actor, name)
	if err != nil {
		return errs.E(op, err)
	}
	if actor != nil && acc.ID == actor.ID {
		return errs.E(op, errs.Permission, errs.Code("user.self_grants"), "a user cannot change their own grants")
	}
	if err := s.mayGive(actor, grants); err != nil {
		return errs.E(op, err)
	}
	if !acc.Active {
		return errs.E(op, errs.Invalid, errs.Code("user.deactivated"), fmt.Errorf("user %q is deactivated", name))
	}
	if err := s.st.setGrants(ctx, acc.ID, grants); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(actor, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.PermissionChange, Actor: a, Role: r, Client: c, Object: "user " + name,
		Detail: fmt.Sprintf("grants %s -> %s", describeGrants(acc.Grants), describeGrants(grants))})
}

// Deactivate ends a user at once (전보, 퇴직, 기타): the account is
// disabled, its grants removed and every session deleted in one
// transaction, so the next request of any session fails. actor needs
// ManageUsers.
func (s *Service) Deactivate(ctx context.Context, actor *Principal, name string, reason Reason, note string) error {
	const op = "access.Deactivate"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return errs.E(op, err)
	}
	if _, err := ParseReason(string(reason)); err != nil {
		return errs.E(op, err)
	}
	acc, err := s.managed(ctx, actor, name)
	if err != nil {
		return errs.E(op, err)
	}
	if actor != nil && acc.ID == actor.ID {
		return errs.E(op, errs.Invalid, errs.Code("user.self_deactivate"), "a user cannot deactivate themself")
	}
	now := s.now()
	if err := s.st.deactivate(ctx, acc.ID, string(reason), now); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(actor, now)
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + name,
		Purpose: string(reason), Detail: fmt.Sprintf("deactivated (%s) %s; grants removed: %s", reason, note, describeGrants(acc.Grants))})
}

// Users lists every user. actor needs ManageUsers.
func (s *Service) Users(ctx context.Context, actor *Principal) ([]User, error) {
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return nil, errs.E("access.Users", err)
	}
	all, err := s.st.listAccounts(ctx)
	if err != nil {
		return nil, errs.E("access.Users", err)
	}
	var out []User
	for _, u := range all {
		if s.sees(actor, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Session is what a successful login returns. Token is the cookie value;
// only its hash is stored.
type Session struct {
	Token     string
	CSRF      string
	Principal *Principal
}

// ErrBadLogin is the one answer to every failed login, so a client cannot
// tell an unknown user from a wrong password or a locked account.
var ErrBadLogin = errors.New("wrong user name, password or code, or the account is locked")

func randomToken() (string, error) {
	b := make([]byte, 32) // 256 bits
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func tokenHash(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// Login checks a password (and TOTP code when enabled), applies the
// lockout, ledgers the outcome and starts a session.
func (s *Service) Login(ctx context.Context, name, password, code string, client netip.Addr) (*Session, error) {
	const op = "access.Login"
	now := s.now()
	cl := ""
	if client.IsValid() {
		cl = client.String()
	}
	fail := func(why string, acc *account) (*Session, error) {
		role := ""
		if acc != nil {
			role = (&Principal{User: acc.User}).Role(now).Korean()
		}
		if err := s.record(ctx, ledger.Entry{Kind: ledger.LoginFailed, Actor: name, Role: role, Client: cl, Detail: why}); err != nil {
			return nil, errs.E(op, err)
		}
		return nil, errs.E(op, errs.Unauthorized, ErrBadLogin)
	}
	acc, err := s.st.accountByName(ctx, name)
	if errs.Is(err, errs.NotExist) {
		checkPassword(password, s.dummyHash()) // same work as a real check
		return fail("unknown user", nil)
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !acc.Active {
		checkPassword(password, acc.pw)
		return fail("deactivated user", acc)
	}
	if now.Before(acc.lockedUntil) {
		checkPassword(password, acc.pw)
		return fail(fmt.Sprintf("account locked until %s", acc.lockedUntil.Format(time.RFC3339)), acc)
	}
	ok := checkPassword(password, acc.pw)
	why := "wrong password"
	var step uint64
	if ok && acc.TOTP {
		step, ok = totpCheck(acc.totpSecret, code, now, acc.totpLastStep)
		why = "wrong or reused TOTP code"
	}
	if !ok {
		failures, window := acc.failures+1, acc.windowStart
		if window.IsZero() || now.Sub(window) > s.cfg.FailureWindow {
			failures, window = 1, now
		}
		var locked time.Time
		if failures >= s.cfg.MaxFailures {
			locked = now.Add(s.cfg.LockoutDuration)
			why += fmt.Sprintf("; %d failures within %s: locked until %s", failures, s.cfg.FailureWindow, locked.Format(time.RFC3339))
		}
		if err := s.st.recordFailure(ctx, acc.ID, failures, window, locked); err != nil {
			return nil, errs.E(op, err)
		}
		return fail(why, acc)
	}
	if err := s.st.recordFailure(ctx, acc.ID, 0, time.Time{}, time.Time{}); err != nil {
		return nil, errs.E(op, err)
	}
	if acc.TOTP {
		if err := s.st.setTOTP(ctx, acc.ID, acc.totpSecret, nil, step); err != nil {
			return nil, errs.E(op, err)
		}
	}
	tok, err1 := randomToken()
	csrf, err2 := randomToken()
	if err1 != nil || err2 != nil {
		return nil, errs.E(op, errs.Internal, errors.Join(err1, err2))
	}
	if err := s.st.deleteStaleSessions(ctx, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.AbsoluteTimeout)); err != nil {
		return nil, errs.E(op, err)
	}
	p := &Principal{User: acc.User, Client: client, CSRF: csrf, session: tokenHash(tok)}
	if err := s.st.insertSession(ctx, p.session, acc.ID, csrf, now, cl); err != nil {
		return nil, errs.E(op, err)
	}
	if err := s.record(ctx, ledger.Entry{Kind: ledger.Login, Actor: name, Role: p.Role(now).Korean(), Client: cl}); err != nil {
		s.st.deleteSession(ctx, p.session)
		return nil, errs.E(op, err)
	}
	return &Session{Token: tok, CSRF: csrf, Principal: p}, nil
}

// dummyHash is a hash with the service's cost, checked against when the
// user does not exist so that the answer takes as long as a real check.
func (s *Service) dummyHash() string {
	s.dummyOnce.Do(func() { s.dummy, _ = hashPassword("not a password of anyone", s.cfg.Argon2) })
	return s.dummy
}

// Authenticate returns the principal of a session token. It reads the
// session and the account from the database on every call (no cache), so
// a deactivation or logout takes effect on the very next request.
func (s *Service) Authenticate(ctx context.Context, token string, client netip.Addr) (*Principal, error) {
	const op = "access.Authenticate"
	if token == "" {
		return nil, errs.Errorf(op, errs.Unauthorized, "no session")
	}
	h := tokenHash(token)
	row, err := s.st.session(ctx, h)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if row == nil {
		return nil, errs.Errorf(op, errs.Unauthorized, "no such session")
	}
	now := s.now()
	if now.Sub(row.last) > s.cfg.IdleTimeout || now.Sub(row.created) > s.cfg.AbsoluteTimeout {
		s.st.deleteSession(ctx, h)
		return nil, errs.Errorf(op, errs.Unauthorized, "session expired")
	}
	acc, err := s.st.accountByID(ctx, row.accountID)
	if err != nil || !acc.Active {
		s.st.deleteSession(ctx, h)
		return nil, errs.Errorf(op, errs.Unauthorized, "session of an inactive user")
	}
	if now.Sub(row.last) > time.Second {
		if err := s.st.touchSession(ctx, h, now); err != nil {
			return nil, errs.E(op, err)
		}
	}
	return &Principal{User: acc.User, Client: client, CSRF: row.csrf, session: h}, nil
}

// Logout ends the principal's session and ledgers it.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	const op = "access.Logout"
	if p == nil || p.session == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	if err := s.st.deleteSession(ctx, p.session); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.Logout, Actor: a, Role: r, Client: c})
}

// ChangePassword sets a new password after checking the old one and the
// policy; it clears the must-change flag and ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, oldPW, newPW string) error {
	const op = "access.ChangePassword"
	if p == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	acc, err := s.st.accountByID(ctx, p.ID)
	if err != nil {
		return errs.E(op, err)
	}
	if !checkPassword(oldPW, acc.pw) {
		return errs.Errorf(op, errs.Permission, "the current password is wrong")
	}
	if oldPW == newPW {
		return errs.Errorf(op, errs.Invalid, "the new password must differ from the current one")
	}
	if err := s.cfg.Password.Check(acc.Name, newPW); err != nil {
		return errs.E(op, err)
	}
	h, err := hashPassword(newPW, s.cfg.Argon2)
	if err != nil {
		return errs.E(op, err)
	}
	if err := s.st.setPassword(ctx, acc.ID, h, false); err != nil {
		return errs.E(op, err)
	}
	if err := s.st.deleteSessionsOf(ctx, acc.ID, p.session); err != nil {
		return errs.E(op, err)
	}
	p.MustChangePassword = false
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name, Detail: "password changed"})
}

// ResetPassword gives a user a new random one-time password (returned
// once, to be changed at the next login), ends every session of theirs and
// clears a lockout. It is how a forgotten password, the first
// administrator's included, is recovered: by someone with ManageUsers, or
// by the operator of the machine (gwanje user reset-password), never by a
// default. A deactivated user stays deactivated.
func (s *Service) ResetPassword(ctx context.Context, actor *Principal, name string) (string, error) {
	const op = "access.ResetPassword"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return "", errs.E(op, err)
	}
	acc, err := s.managed(ctx, actor, name)
	if err != nil {
		return "", errs.E(op, err)
	}
	if actor != nil && acc.ID == actor.ID {
		// A stolen session must not turn into a new password: one's own
		// password is changed with the current one (ChangePassword).
		return "", errs.E(op, errs.Permission, errs.Code("user.self_reset"), "a user cannot reset their own password")
	}
	if !acc.Active {
		return "", errs.E(op, errs.Invalid, errs.Code("user.deactivated"), fmt.Errorf("user %q is deactivated", name))
	}
	pw, err := randomPassword()
	if err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	h, err := hashPassword(pw, s.cfg.Argon2)
	if err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.setPassword(ctx, acc.ID, h, true); err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.deleteAllSessionsOf(ctx, acc.ID); err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.recordFailure(ctx, acc.ID, 0, time.Time{}, time.Time{}); err != nil {
		return "", errs.E(op, err)
	}
	a, r, c := actorOf(actor, s.now())
	if err := s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + name,
		Detail: "password reset to a one-time password; every session ended"}); err != nil {
		return "", errs.E(op, err)
	}
	return pw, nil
}

// BeginTOTP starts TOTP enrolment and returns the otpauth:// URI to show
// as a QR code. TOTP is on only after ConfirmTOTP with a valid code.
func (s *Service) BeginTOTP(ctx context.Context, p *Principal) (string, error) {
	const op = "access.BeginTOTP"
	if p == nil {
		return "", errs.Errorf(op, errs.Unauthorized, "no session")
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	acc, err := s.st.accountByID(ctx, p.ID)
	if err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.setTOTP(ctx, p.ID, acc.totpSecret, secret, acc.totpLastStep); err != nil {
		return "", errs.E(op, err)
	}
	return totpURI(s.cfg.Issuer, p.Name, secret), nil
}

// ConfirmTOTP turns TOTP on when code matches the pending secret.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) error {
	const op = "access.ConfirmTOTP"
	if p == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	acc, err := s.st.accountByID(ctx, p.ID)
	if err != nil {
		return errs.E(op, err)
	}
	if len(acc.totpPending) == 0 {
		return errs.Errorf(op, errs.Invalid, "no TOTP enrolment in progress")
	}
	step, ok := totpCheck(acc.totpPending, code, s.now(), 0)
	if !ok {
		return errs.Errorf(op, errs.Invalid, "the TOTP code does not match")
	}
	if err := s.st.setTOTP(ctx, p.ID, acc.totpPending, nil, step); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name, Detail: "TOTP enabled"})
}

// Operator returns the principal of a local operator acting through the
// gwanje CLI on the server itself (someone who can already read the data
// directory). It may manage users and is written to the ledger as
// "cli:<name>". Never hand it to a network request.
func (s *Service) Operator(name string) *Principal {
	return &Principal{User: User{Name: "cli:" + name, Display: name, Active: true,
		Grants: []Grant{{Role: SystemAdmin, Title: "local operator", Sites: []string{"*"}}}}}
}
