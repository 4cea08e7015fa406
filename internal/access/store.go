package access

import (
	"context"
	"time"
)

// Store keeps the accounts, their grants, login failures and sessions. The
// service is its only user; OpenSQLite is the implementation of a single
// gwanje, and every implementation passes the conformance suite in
// internal/access/accesstest. Errors are *errs.Error: NotExist for a
// missing account, Exist for a name taken, IO for the rest.
// A ChangeWatcher is a Store that can tell cheaply whether anything was
// written since it was last asked, by this process or another (the
// command line deactivating a user): the footage gate then re-checks its
// open viewings' rights at once instead of on its next full pass.
type ChangeWatcher interface {
	WatchChanges(ctx context.Context) (ChangeWatch, error)
}

// ChangeWatch is one watch of a ChangeWatcher. Changed reports whether the
// store was written since the last call (true when it cannot tell).
type ChangeWatch interface {
	Changed() bool
	Close()
}

type Store interface {
	CountAccounts(ctx context.Context) (int, error)
	// AccountByName finds an account by its (normalized) login name.
	AccountByName(ctx context.Context, name string) (*Account, error)
	AccountByID(ctx context.Context, id int64) (*Account, error)
	// Accounts lists every account by name, with grants.
	Accounts(ctx context.Context) ([]User, error)
	// InsertAccount adds an active account that must change its password,
	// with its grants, in one transaction, and returns its id.
	InsertAccount(ctx context.Context, name, display, passwordHash string, created time.Time, grants []Grant) (int64, error)
	SetGrants(ctx context.Context, id int64, grants []Grant) error
	// Deactivate disables the account, removes its grants and TOTP
	// secret and deletes every session of it, in one transaction.
	Deactivate(ctx context.Context, id int64, reason string, at time.Time) error
	SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error
	// SetLang stores the user's own language of the UI ("ko", "en"; ""
	// = not chosen). NotExist for a missing account.
	SetLang(ctx context.Context, id int64, lang string) error
	// SetFailures records the account's failed logins from every address
	// (the ceiling that locks the account everywhere).
	SetFailures(ctx context.Context, id int64, f Failures) error
	// ClientFailures and SetClientFailures keep the failed logins of the
	// account from one client address (the lockout of that pair).
	ClientFailures(ctx context.Context, id int64, client string) (Failures, error)
	SetClientFailures(ctx context.Context, id int64, client string, f Failures) error
	// ClearFailures forgets every failure of the account, account-wide and
	// per address.
	ClearFailures(ctx context.Context, id int64) error
	// SetTOTP stores the TOTP secret (nil: off), the pending enrolment
	// secret and the last accepted step, as the service hands them over
	// (sealed).
	SetTOTP(ctx context.Context, id int64, secret, pending []byte, lastStep uint64) error

	InsertSession(ctx context.Context, s SessionRecord) error
	// Session returns the session with that id hash, or nil.
	Session(ctx context.Context, idHash []byte) (*SessionRecord, error)
	TouchSession(ctx context.Context, idHash []byte, at time.Time) error
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessionsOf deletes the account's sessions but except.
	DeleteSessionsOf(ctx context.Context, id int64, except []byte) error
	DeleteAllSessionsOf(ctx context.Context, id int64) error
	// DeleteStaleSessions deletes sessions last used before idleBefore or
	// created before createdBefore, and failure records of addresses
	// whose window started before createdBefore.
	DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) error
	CountSessions(ctx context.Context) (int, error)

	Close() error
}

// Account is an account as stored: the user, its password hash, its TOTP
// state and its account-wide failed logins.
type Account struct {
	User
	PasswordHash string // argon2id PHC string
	TOTPSecret   []byte // nil: TOTP off (sealed by the service)
	TOTPPending  []byte // an enrolment awaiting its first code (sealed)
	TOTPLastStep uint64 // the last accepted step: a code is never accepted twice
	Failures     Failures
}

// Failures counts failed logins within a window, and the lockout they
// caused.
type Failures struct {
	Count       int
	WindowStart time.Time
	LockedUntil time.Time
}

// SessionRecord is a session as stored: only the hash of its token.
type SessionRecord struct {
	IDHash    []byte // SHA-256 of the cookie value
	AccountID int64
	CSRF      string
	Created   time.Time
	Last      time.Time
	Client    string
}
