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
	"unicode"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/seal"
)

// Config configures the access service. Zero values take the defaults.
type Config struct {
	Dir    string          // data directory; the service keeps Dir/access.db
	Ledger ledger.Appender // where logins, changes, refusals and footage access are recorded (required)
	Clock  clock.Clock
	Logger *slog.Logger

	Argon2   Argon2         // default DefaultArgon2
	Password PasswordPolicy // default 10 characters, 2 classes

	// Store keeps the accounts and sessions; nil opens the SQLite store
	// Dir/access.db. The service closes it.
	Store Store
	// Keys, when set, seal TOTP secrets at rest (the master keyring);
	// without, they are stored as they are.
	Keys *seal.Keyring

	// Lockout (docs/design/access.md, "Login"): MaxFailures failed logins
	// within FailureWindow from one client address lock that (account,
	// address) pair for LockoutDuration; the account's owner can still
	// log in from elsewhere. AccountMaxFailures, much higher, locks the
	// account everywhere. MaxAddressFailures failed logins from one address
	// (IPv6: its /64), whatever the names, make further attempts from it
	// refused unchecked and unledgered until its window ends.
	MaxFailures        int           // default 5
	AccountMaxFailures int           // default 50
	MaxAddressFailures int           // default 20
	FailureWindow      time.Duration // default 15 minutes
	LockoutDuration    time.Duration // default 30 minutes

	IdleTimeout     time.Duration // a session unused this long ends (default 30 minutes)
	AbsoluteTimeout time.Duration // a session ends this long after login (default 12 hours)

	// TrustedProxies are the proxies whose X-Forwarded-For is believed
	// (ClientAddr). Empty: the header is ignored and the peer is the client.
	TrustedProxies []netip.Prefix
	// Issuer names the service in TOTP apps (default "gwanje").
	Issuer string
}

// Service is the access service. It is safe for concurrent use.
type Service struct {
	cfg     Config
	st      Store
	limiter *addrLimiter

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
	Lang               string // the user's own UI language ("ko", "en"); "" = not chosen
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
	bad := func(code errs.Code, p errs.Params, format string, a ...any) error {
		return errs.E(op, errs.Invalid, code, p, fmt.Errorf(format, a...))
	}
	if g.Role <= roleNone || g.Role >= roleEnd {
		return bad("grant.role", errs.Params{"name": ""}, "grant has no valid role")
	}
	if len(g.Sites) == 0 {
		return bad("grant.no_sites", nil, "a %s grant needs at least one site (or \"*\")", g.Role)
	}
	for _, s := range g.Sites {
		if s == "" || len(s) > 200 || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
			return bad("grant.site_id", errs.Params{"site": LedgerName(s)}, "grant site %q is not a site id", s)
		}
	}
	if !g.ValidUntil.IsZero() && !g.ValidUntil.After(g.ValidFrom) {
		return bad("grant.period", nil, "grant is valid until %s, not after it starts (%s)", g.ValidUntil, g.ValidFrom)
	}
	if g.Perms>>permEnd != 0 || g.Perms&1 != 0 {
		return bad("grant.perm_name", errs.Params{"name": fmt.Sprintf("%#x", uint32(g.Perms))}, "grant has unknown permissions %#x", uint32(g.Perms))
	}
	if utf8.RuneCountInString(g.Title) > 100 {
		return bad("grant.title", errs.Params{"max": "100"}, "grant title is longer than 100 characters")
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
	if cfg.AccountMaxFailures == 0 {
		cfg.AccountMaxFailures = 50
	}
	if cfg.MaxAddressFailures == 0 {
		cfg.MaxAddressFailures = 20
	}
	def(&cfg.FailureWindow, 15*time.Minute)
	def(&cfg.LockoutDuration, 30*time.Minute)
	def(&cfg.IdleTimeout, 30*time.Minute)
	def(&cfg.AbsoluteTimeout, 12*time.Hour)
	if cfg.Issuer == "" {
		cfg.Issuer = "gwanje"
	}
	st := cfg.Store
	if st == nil {
		var err error
		if st, err = OpenSQLite(ctx, filepath.Join(cfg.Dir, "access.db")); err != nil {
			return nil, errs.E(op, err)
		}
	}
	return &Service{cfg: cfg, st: st, limiter: newAddrLimiter(cfg.MaxAddressFailures, cfg.FailureWindow)}, nil
}

// Close closes the store.
func (s *Service) Close() error { return s.st.Close() }

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
	n, err := s.st.CountAccounts(ctx)
	if err != nil {
		return "", false, errs.E(op, err)
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

// CreateUser adds a user with the given grants and a random one-time
// password (returned once; the user must change it at first login).
// actor needs ManageUsers.
func (s *Service) CreateUser(ctx context.Context, actor *Principal, name, display string, grants []Grant) (User, string, error) {
	const op = "access.CreateUser"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return User{}, "", errs.E(op, err)
	}
	for _, g := range grants {
		if err := g.validate(); err != nil {
			return User{}, "", errs.E(op, err)
		}
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
	name, err := NormalizeName(name)
	if err != nil {
		return User{}, err
	}
	if err := s.nameFree(ctx, name); err != nil {
		return User{}, err
	}
	if display, err = cleanDisplay(display, name); err != nil {
		return User{}, err
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
	id, err := s.st.InsertAccount(ctx, name, display, h, now, grants)
	if err != nil {
		return User{}, err
	}
	a, r, c := actorOf(actor, now)
	if err := s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + name,
		Detail: fmt.Sprintf("created %q (%s) with grants: %s", name, display, describeGrants(grants))}); err != nil {
		return User{}, err
	}
	acc, err := s.st.AccountByID(ctx, id)
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
	if err := s.st.SetGrants(ctx, acc.ID, grants); err != nil {
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
	if err := s.st.Deactivate(ctx, acc.ID, string(reason), now); err != nil {
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
	all, err := s.st.Accounts(ctx)
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
// per-address limit and the lockouts, ledgers the outcome and starts a
// session. Every refusal is the same Unauthorized error (code
// login.failed), so a client cannot tell an unknown user from a wrong
// password, a wrong code or a lockout.
func (s *Service) Login(ctx context.Context, name, password, code string, client netip.Addr) (*Session, error) {
	const op = "access.Login"
	now := s.now()
	cl := clientString(client)
	actor := LedgerName(name)
	if ok, first := s.limiter.allow(client, now); !ok {
		// The address has failed too often: no check, and a ledger row
		// only for the first refusal of the window, so a flood from one
		// address cannot grow the ledger.
		checkPassword(password, s.dummyHash())
		if first {
			if err := s.record(ctx, ledger.Entry{Kind: ledger.LoginFailed, Actor: actor, Client: cl,
				Detail: fmt.Sprintf("%d failed logins from this address within %s: further attempts are refused unchecked and unrecorded until the window ends",
					s.cfg.MaxAddressFailures, s.cfg.FailureWindow)}); err != nil {
				return nil, errs.E(op, err)
			}
		}
		return nil, errs.E(op, errs.Unauthorized, errs.Code("login.failed"), ErrBadLogin)
	}
	fail := func(why string, acc *Account) (*Session, error) {
		s.limiter.fail(client, now)
		role := ""
		if acc != nil {
			role = (&Principal{User: acc.User}).Role(now).Korean()
		}
		if err := s.record(ctx, ledger.Entry{Kind: ledger.LoginFailed, Actor: actor, Role: role, Client: cl, Detail: why}); err != nil {
			return nil, errs.E(op, err)
		}
		return nil, errs.E(op, errs.Unauthorized, errs.Code("login.failed"), ErrBadLogin)
	}
	acc, err := s.lookup(ctx, name)
	if errs.Is(err, errs.NotExist) || errs.Is(err, errs.Invalid) {
		checkPassword(password, s.dummyHash()) // same work as a real check
		return fail("unknown user", nil)
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !acc.Active {
		checkPassword(password, acc.PasswordHash)
		return fail("deactivated user", acc)
	}
	if now.Before(acc.Failures.LockedUntil) {
		checkPassword(password, acc.PasswordHash)
		return fail(fmt.Sprintf("account locked everywhere until %s", acc.Failures.LockedUntil.Format(time.RFC3339)), acc)
	}
	pair, err := s.st.ClientFailures(ctx, acc.ID, cl)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if now.Before(pair.LockedUntil) {
		checkPassword(password, acc.PasswordHash)
		return fail(fmt.Sprintf("account locked for this address until %s", pair.LockedUntil.Format(time.RFC3339)), acc)
	}
	ok := checkPassword(password, acc.PasswordHash)
	why := "wrong password"
	var step uint64
	stored := acc.TOTPSecret
	if ok && acc.TOTP {
		secret, err := s.openSecret(acc.ID, acc.TOTPSecret)
		if err != nil {
			return nil, errs.E(op, err)
		}
		step, ok = totpCheck(secret, code, now, acc.TOTPLastStep)
		why = "wrong or reused TOTP code"
		if ok && s.cfg.Keys != nil && !isSealed(stored) {
			// A secret stored before sealing is sealed at its first use.
			if stored, err = s.sealSecret(acc.ID, secret); err != nil {
				return nil, errs.E(op, err)
			}
		}
	}
	if !ok {
		why, err = s.countFailure(ctx, acc, cl, why, now)
		if err != nil {
			return nil, errs.E(op, err)
		}
		return fail(why, acc)
	}
	if err := s.st.SetClientFailures(ctx, acc.ID, cl, Failures{}); err != nil {
		return nil, errs.E(op, err)
	}
	if acc.TOTP {
		if err := s.st.SetTOTP(ctx, acc.ID, stored, acc.TOTPPending, step); err != nil {
			return nil, errs.E(op, err)
		}
	}
	tok, err1 := randomToken()
	csrf, err2 := randomToken()
	if err1 != nil || err2 != nil {
		return nil, errs.E(op, errs.Internal, errors.Join(err1, err2))
	}
	if err := s.st.DeleteStaleSessions(ctx, now.Add(-s.cfg.IdleTimeout), now.Add(-s.cfg.AbsoluteTimeout)); err != nil {
		return nil, errs.E(op, err)
	}
	p := &Principal{User: acc.User, Client: client, CSRF: csrf, session: tokenHash(tok)}
	if err := s.st.InsertSession(ctx, SessionRecord{IDHash: p.session, AccountID: acc.ID, CSRF: csrf, Created: now, Last: now, Client: cl}); err != nil {
		return nil, errs.E(op, err)
	}
	if err := s.record(ctx, ledger.Entry{Kind: ledger.Login, Actor: acc.Name, Role: p.Role(now).Korean(), Client: cl}); err != nil {
		s.st.DeleteSession(ctx, p.session)
		return nil, errs.E(op, err)
	}
	return &Session{Token: tok, CSRF: csrf, Principal: p}, nil
}

// countFailure counts a failed proof of identity (password or code) of
// acc from client: MaxFailures within the window lock the (account,
// address) pair, AccountMaxFailures lock the account everywhere. It
// returns why with the lockout appended.
func (s *Service) countFailure(ctx context.Context, acc *Account, client, why string, now time.Time) (string, error) {
	bump := func(f Failures, limit int) Failures {
		if f.WindowStart.IsZero() || now.Sub(f.WindowStart) > s.cfg.FailureWindow {
			f = Failures{WindowStart: now}
		}
		f.Count++
		if f.Count >= limit {
			f.LockedUntil = now.Add(s.cfg.LockoutDuration)
		}
		return f
	}
	pair, err := s.st.ClientFailures(ctx, acc.ID, client)
	if err != nil {
		return why, err
	}
	pair = bump(pair, s.cfg.MaxFailures)
	if err := s.st.SetClientFailures(ctx, acc.ID, client, pair); err != nil {
		return why, err
	}
	all := bump(acc.Failures, s.cfg.AccountMaxFailures)
	if err := s.st.SetFailures(ctx, acc.ID, all); err != nil {
		return why, err
	}
	acc.Failures = all
	if !pair.LockedUntil.IsZero() {
		why += fmt.Sprintf("; %d failures from this address within %s: locked until %s for this address", pair.Count, s.cfg.FailureWindow, pair.LockedUntil.Format(time.RFC3339))
	}
	if !all.LockedUntil.IsZero() {
		why += fmt.Sprintf("; %d failures from all addresses within %s: locked until %s from every address", all.Count, s.cfg.FailureWindow, all.LockedUntil.Format(time.RFC3339))
	}
	return why, nil
}

func clientString(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return ""
}

// lookup finds an account by the name a person typed: its normalized form,
// or, for an account made before names were normalized, the name as
// stored.
func (s *Service) lookup(ctx context.Context, name string) (*Account, error) {
	norm, err := NormalizeName(name)
	if err != nil {
		return nil, err
	}
	acc, err := s.st.AccountByName(ctx, norm)
	if errs.Is(err, errs.NotExist) && norm != name {
		acc, err = s.st.AccountByName(ctx, name)
	}
	return acc, err
}

// nameFree refuses a normalized name that any account's name, normalized,
// already is (accounts made before normalization included).
func (s *Service) nameFree(ctx context.Context, norm string) error {
	us, err := s.st.Accounts(ctx)
	if err != nil {
		return err
	}
	for _, u := range us {
		if n, err := NormalizeName(u.Name); u.Name == norm || (err == nil && n == norm) {
			return errs.E("access.User", errs.Exist, errs.Code("user.exists"), errs.Params{"name": norm},
				fmt.Errorf("user %q exists (as %q)", norm, u.Name))
		}
	}
	return nil
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
	row, err := s.st.Session(ctx, h)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if row == nil {
		return nil, errs.Errorf(op, errs.Unauthorized, "no such session")
	}
	now := s.now()
	if now.Sub(row.Last) > s.cfg.IdleTimeout || now.Sub(row.Created) > s.cfg.AbsoluteTimeout {
		s.st.DeleteSession(ctx, h)
		return nil, errs.Errorf(op, errs.Unauthorized, "session expired")
	}
	acc, err := s.st.AccountByID(ctx, row.AccountID)
	if err != nil || !acc.Active {
		s.st.DeleteSession(ctx, h)
		return nil, errs.Errorf(op, errs.Unauthorized, "session of an inactive user")
	}
	if now.Sub(row.Last) > time.Second {
		if err := s.st.TouchSession(ctx, h, now); err != nil {
			return nil, errs.E(op, err)
		}
	}
	return &Principal{User: acc.User, Client: client, CSRF: row.CSRF, session: h}, nil
}

// Logout ends the principal's session and ledgers it.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	const op = "access.Logout"
	if p == nil || p.session == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	if err := s.st.DeleteSession(ctx, p.session); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.Logout, Actor: a, Role: r, Client: c})
}

// proveIdentity checks, for an act of the session's own user that a
// stolen session must not be enough for (changing the password, changing
// or removing TOTP), the current password, or, when TOTP is on and allowed
// is true, the current code. A wrong answer counts as a failed login from
// the session's address (the same lockout).
func (s *Service) proveIdentity(ctx context.Context, p *Principal, password, code string, codeAllowed bool) (*Account, error) {
	const op = "access.proveIdentity"
	if p == nil {
		return nil, errs.Errorf(op, errs.Unauthorized, "no session")
	}
	acc, err := s.st.AccountByID(ctx, p.ID)
	if err != nil {
		return nil, errs.E(op, err)
	}
	now := s.now()
	cl := clientString(p.Client)
	pair, err := s.st.ClientFailures(ctx, acc.ID, cl)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if now.Before(pair.LockedUntil) || now.Before(acc.Failures.LockedUntil) {
		return nil, errs.E(op, errs.Permission, errs.Code("login.locked"), "locked after repeated failures")
	}
	if password != "" && checkPassword(password, acc.PasswordHash) {
		return acc, nil
	}
	if password == "" && codeAllowed && acc.TOTP && code != "" {
		secret, err := s.openSecret(acc.ID, acc.TOTPSecret)
		if err != nil {
			return nil, errs.E(op, err)
		}
		if step, ok := totpCheck(secret, code, now, acc.TOTPLastStep); ok {
			acc.TOTPLastStep = step
			if err := s.st.SetTOTP(ctx, acc.ID, acc.TOTPSecret, acc.TOTPPending, step); err != nil {
				return nil, errs.E(op, err)
			}
			return acc, nil
		}
	}
	why, err := s.countFailure(ctx, acc, cl, "wrong current password or code", now)
	if err != nil {
		return nil, errs.E(op, err)
	}
	a, r, c := actorOf(p, now)
	if err := s.record(ctx, ledger.Entry{Kind: ledger.LoginFailed, Actor: a, Role: r, Client: c, Detail: why}); err != nil {
		return nil, errs.E(op, err)
	}
	if codeAllowed && acc.TOTP {
		return nil, errs.E(op, errs.Permission, errs.Code("password.or_code_wrong"), "wrong current password or code")
	}
	return nil, errs.E(op, errs.Permission, errs.Code("password.wrong"), "wrong current password")
}

// ChangePassword sets a new password after checking the old one and the
// policy; it clears the must-change flag and ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, oldPW, newPW string) error {
	const op = "access.ChangePassword"
	acc, err := s.proveIdentity(ctx, p, oldPW, "", false)
	if err != nil {
		return errs.E(op, err)
	}
	if oldPW == newPW {
		return errs.E(op, errs.Invalid, errs.Code("password.same"), "the new password must differ from the current one")
	}
	if err := s.cfg.Password.Check(newPW, acc.Name, acc.Display, s.cfg.Issuer); err != nil {
		return errs.E(op, err)
	}
	h, err := hashPassword(newPW, s.cfg.Argon2)
	if err != nil {
		return errs.E(op, err)
	}
	if err := s.st.SetPassword(ctx, acc.ID, h, false); err != nil {
		return errs.E(op, err)
	}
	if err := s.st.DeleteSessionsOf(ctx, acc.ID, p.session); err != nil {
		return errs.E(op, err)
	}
	p.MustChangePassword = false
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name, Detail: "password changed"})
}

// SetLang sets the session's own user's language of the UI ("ko" or
// "en"), kept with the account so that it follows the user to every
// browser and survives logouts and restarts. It is not a ledger event: it
// changes nothing of what the user may do.
func (s *Service) SetLang(ctx context.Context, p *Principal, lang string) error {
	const op = "access.SetLang"
	if p == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	if !slices.Contains(i18n.Langs, i18n.Lang(lang)) {
		return errs.E(op, errs.Invalid, errs.Code("lang.unknown"), fmt.Errorf("unknown language %q", lang))
	}
	if err := s.st.SetLang(ctx, p.ID, lang); err != nil {
		return errs.E(op, err)
	}
	p.Lang = lang
	return nil
}

// ResetPassword gives a user a new random one-time password (returned
// once, to be changed at the next login), ends every session of theirs and
// clears a lockout. It is how a forgotten password, the first
// administrator's included, is recovered: by someone with ManageUsers who
// could have given all of the user's grants, or by the operator of the
// machine (gwanje user reset-password), never by a default. A deactivated
// user stays deactivated.
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
	if err := s.st.SetPassword(ctx, acc.ID, h, true); err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.DeleteAllSessionsOf(ctx, acc.ID); err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.ClearFailures(ctx, acc.ID); err != nil {
		return "", errs.E(op, err)
	}
	a, r, c := actorOf(actor, s.now())
	if err := s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name,
		Detail: "password reset to a one-time password; every session ended"}); err != nil {
		return "", errs.E(op, err)
	}
	return pw, nil
}

// BeginTOTP starts TOTP enrolment (or replaces the authenticator) and
// returns the otpauth:// URI to show as a QR code. It needs the current
// password, or, when TOTP is already on, the current code: a stolen
// session alone cannot move the second factor to the thief's phone. TOTP
// is on (or replaced) only after ConfirmTOTP with a valid code.
func (s *Service) BeginTOTP(ctx context.Context, p *Principal, password, code string) (string, error) {
	const op = "access.BeginTOTP"
	acc, err := s.proveIdentity(ctx, p, password, code, true)
	if err != nil {
		return "", errs.E(op, err)
	}
	secret := make([]byte, 20)
	if _, err := rand.Read(secret); err != nil {
		return "", errs.E(op, errs.Internal, err)
	}
	sealed, err := s.sealSecret(acc.ID, secret)
	if err != nil {
		return "", errs.E(op, err)
	}
	if err := s.st.SetTOTP(ctx, acc.ID, acc.TOTPSecret, sealed, acc.TOTPLastStep); err != nil {
		return "", errs.E(op, err)
	}
	return totpURI(s.cfg.Issuer, acc.Name, secret), nil
}

// ConfirmTOTP turns TOTP on (or onto the new authenticator) when code
// matches the pending secret.
func (s *Service) ConfirmTOTP(ctx context.Context, p *Principal, code string) error {
	const op = "access.ConfirmTOTP"
	if p == nil {
		return errs.Errorf(op, errs.Unauthorized, "no session")
	}
	acc, err := s.st.AccountByID(ctx, p.ID)
	if err != nil {
		return errs.E(op, err)
	}
	if len(acc.TOTPPending) == 0 {
		return errs.E(op, errs.Invalid, errs.Code("totp.no_enrolment"), "no TOTP enrolment in progress")
	}
	pending, err := s.openSecret(acc.ID, acc.TOTPPending)
	if err != nil {
		return errs.E(op, err)
	}
	step, ok := totpCheck(pending, code, s.now(), 0)
	if !ok {
		return errs.E(op, errs.Invalid, errs.Code("totp.wrong"), "the TOTP code does not match")
	}
	detail := "TOTP enabled"
	if acc.TOTP {
		detail = "TOTP moved to a new authenticator"
	}
	if err := s.st.SetTOTP(ctx, p.ID, acc.TOTPPending, nil, step); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name, Detail: detail})
}

// RemoveTOTPOf turns another user's TOTP off and ends their sessions: the
// recovery of a lost authenticator, by whoever could reset their password
// (the same rules), ledgered. Nobody removes their own this way.
func (s *Service) RemoveTOTPOf(ctx context.Context, actor *Principal, name string) error {
	const op = "access.RemoveTOTPOf"
	if err := s.Authorize(actor, ManageUsers, ""); err != nil {
		return errs.E(op, err)
	}
	acc, err := s.managed(ctx, actor, name)
	if err != nil {
		return errs.E(op, err)
	}
	if actor != nil && acc.ID == actor.ID {
		return errs.E(op, errs.Permission, errs.Code("user.self_reset"), "a user cannot reset their own authenticator")
	}
	if !acc.TOTP {
		return errs.E(op, errs.Invalid, errs.Code("totp.off"), fmt.Errorf("user %q has no authenticator", name))
	}
	if err := s.st.SetTOTP(ctx, acc.ID, nil, nil, acc.TOTPLastStep); err != nil {
		return errs.E(op, err)
	}
	if err := s.st.DeleteAllSessionsOf(ctx, acc.ID); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(actor, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name,
		Detail: "TOTP removed by an administrator (lost authenticator); every session ended"})
}

// RemoveTOTP turns TOTP off. Like BeginTOTP it needs the current password
// or the current code.
func (s *Service) RemoveTOTP(ctx context.Context, p *Principal, password, code string) error {
	const op = "access.RemoveTOTP"
	acc, err := s.proveIdentity(ctx, p, password, code, true)
	if err != nil {
		return errs.E(op, err)
	}
	if !acc.TOTP {
		return errs.E(op, errs.Invalid, errs.Code("totp.off"), "TOTP is not on")
	}
	if err := s.st.SetTOTP(ctx, acc.ID, nil, nil, acc.TOTPLastStep); err != nil {
		return errs.E(op, err)
	}
	a, r, c := actorOf(p, s.now())
	return s.record(ctx, ledger.Entry{Kind: ledger.UserChange, Actor: a, Role: r, Client: c, Object: "user " + acc.Name, Detail: "TOTP removed"})
}

// Operator returns the principal of a local operator acting through the
// gwanje CLI on the server itself (someone who can already read the data
// directory). It may manage users and is written to the ledger as
// "cli:<name>". Never hand it to a network request.
func (s *Service) Operator(name string) *Principal {
	return &Principal{User: User{Name: "cli:" + LedgerName(name), Display: name, Active: true,
		Grants: []Grant{{Role: SystemAdmin, Title: "local operator", Sites: []string{"*"}}}}}
}
