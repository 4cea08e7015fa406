package access

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// schema of access.db. Every SQL statement of the package is in this file,
// so a PostgreSQL store can replace it method for method.
const schema = `
CREATE TABLE IF NOT EXISTS account (
  id                INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,   -- login name
  display           TEXT NOT NULL,          -- name shown and written to the ledger with the role
  pw                TEXT NOT NULL,          -- argon2id PHC string
  must_change       INTEGER NOT NULL,       -- 1: only change-password is allowed
  active            INTEGER NOT NULL,       -- 0 after deactivation (전보, 퇴직, 기타)
  deactivated_ns    INTEGER NOT NULL DEFAULT 0,
  deactivate_reason TEXT NOT NULL DEFAULT '',
  totp_secret       BLOB,                   -- NULL: TOTP off
  totp_pending      BLOB,                   -- enrolment awaiting its first code
  totp_last_step    INTEGER NOT NULL DEFAULT 0, -- last accepted step (no replay)
  failures          INTEGER NOT NULL DEFAULT 0, -- failed logins in the current window
  window_ns         INTEGER NOT NULL DEFAULT 0, -- start of that window
  locked_until_ns   INTEGER NOT NULL DEFAULT 0,
  created_ns        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS account_grant (
  id             INTEGER PRIMARY KEY,
  account_id     INTEGER NOT NULL REFERENCES account(id),
  role           INTEGER NOT NULL,  -- access.Role
  title          TEXT NOT NULL,     -- e.g. '총괄 책임자(정)'
  sites          TEXT NOT NULL,     -- site ids joined by newline; '*' = every site
  perms          INTEGER NOT NULL,  -- access.PermSet; 0 = the role's defaults
  valid_from_ns  INTEGER NOT NULL,
  valid_until_ns INTEGER NOT NULL   -- 0 = open-ended
);
CREATE INDEX IF NOT EXISTS account_grant_account ON account_grant(account_id);
CREATE TABLE IF NOT EXISTS session (
  id_hash    BLOB PRIMARY KEY,      -- SHA-256 of the 256-bit cookie value
  account_id INTEGER NOT NULL,
  csrf       TEXT NOT NULL,         -- per-session CSRF token
  created_ns INTEGER NOT NULL,
  last_ns    INTEGER NOT NULL,
  client     TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS session_account ON session(account_id);
`

type store struct{ db *sql.DB }

func openStore(ctx context.Context, path string) (*store, error) {
	const op = "access.openStore"
	// access.db holds password hashes and TOTP secrets: create it 0600
	// before SQLite does (its -wal and -shm files take the same mode).
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	db.SetMaxOpenConns(1) // one writer; the queries are small
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, errs.Errorf(op, errs.IO, "create schema in %s: %v", path, err)
	}
	return &store{db: db}, nil
}

type account struct {
	User
	pw            string
	totpSecret    []byte
	totpPending   []byte
	totpLastStep  uint64
	failures      int
	windowStart   time.Time
	lockedUntil   time.Time
	deactivatedAt time.Time
}

const accountCols = `id, name, display, pw, must_change, active, deactivate_reason, totp_secret, totp_pending, totp_last_step, failures, window_ns, locked_until_ns, created_ns, deactivated_ns`

func scanAccount(row interface{ Scan(...any) error }) (*account, error) {
	var a account
	var must, active int
	var win, locked, created, deact int64
	err := row.Scan(&a.ID, &a.Name, &a.Display, &a.pw, &must, &active, &a.DeactivateReason, &a.totpSecret, &a.totpPending,
		&a.totpLastStep, &a.failures, &win, &locked, &created, &deact)
	if err != nil {
		return nil, err
	}
	a.MustChangePassword, a.Active, a.TOTP = must == 1, active == 1, len(a.totpSecret) > 0
	a.windowStart, a.lockedUntil, a.Created, a.deactivatedAt = ns(win), ns(locked), ns(created), ns(deact)
	a.DeactivatedAt = a.deactivatedAt
	return &a, nil
}

// ioErr wraps a storage error, keeping nil nil.
func ioErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.E(op, errs.IO, err)
}

func ns(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func toNS(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func (s *store) accountByName(ctx context.Context, name string) (*account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM account WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Errorf("access.account", errs.NotExist, "no user %q", name)
	}
	if err != nil {
		return nil, errs.E("access.account", errs.IO, err)
	}
	return a, s.loadGrants(ctx, a)
}

func (s *store) accountByID(ctx context.Context, id int64) (*account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM account WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Errorf("access.account", errs.NotExist, "no user %d", id)
	}
	if err != nil {
		return nil, errs.E("access.account", errs.IO, err)
	}
	return a, s.loadGrants(ctx, a)
}

func (s *store) loadGrants(ctx context.Context, a *account) error {
	rows, err := s.db.QueryContext(ctx, `SELECT role, title, sites, perms, valid_from_ns, valid_until_ns FROM account_grant WHERE account_id = ? ORDER BY id`, a.ID)
	if err != nil {
		return errs.E("access.grants", errs.IO, err)
	}
	defer rows.Close()
	a.Grants = nil
	for rows.Next() {
		var g Grant
		var sites string
		var from, until int64
		if err := rows.Scan(&g.Role, &g.Title, &sites, &g.Perms, &from, &until); err != nil {
			return errs.E("access.grants", errs.IO, err)
		}
		g.Sites = strings.Split(sites, "\n")
		g.ValidFrom, g.ValidUntil = ns(from), ns(until)
		a.Grants = append(a.Grants, g)
	}
	return rows.Err()
}

func (s *store) countAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM account`).Scan(&n)
	return n, err
}

func (s *store) listAccounts(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM account ORDER BY name`)
	if err != nil {
		return nil, errs.E("access.list", errs.IO, err)
	}
	var as []*account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			rows.Close()
			return nil, errs.E("access.list", errs.IO, err)
		}
		as = append(as, a)
	}
	rows.Close()
	var out []User
	for _, a := range as {
		if err := s.loadGrants(ctx, a); err != nil {
			return nil, err
		}
		out = append(out, a.User)
	}
	return out, nil
}

func (s *store) insertAccount(ctx context.Context, name, display, pw string, now time.Time, grants []Grant) (int64, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, errs.E("access.insert", errs.IO, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO account(name, display, pw, must_change, active, created_ns) VALUES (?, ?, ?, 1, 1, ?)`,
		name, display, pw, now.UnixNano())
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return 0, errs.Errorf("access.insert", errs.Exist, "user %q already exists", name)
		}
		return 0, errs.E("access.insert", errs.IO, err)
	}
	id, _ := res.LastInsertId()
	if err := replaceGrants(ctx, tx, id, grants); err != nil {
		return 0, err
	}
	return id, ioErr("access.insert", tx.Commit())
}

func replaceGrants(ctx context.Context, tx *sql.Tx, id int64, grants []Grant) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM account_grant WHERE account_id = ?`, id); err != nil {
		return errs.E("access.grants", errs.IO, err)
	}
	for _, g := range grants {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_grant(account_id, role, title, sites, perms, valid_from_ns, valid_until_ns) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			id, g.Role, g.Title, strings.Join(g.Sites, "\n"), g.Perms, toNS(g.ValidFrom), toNS(g.ValidUntil)); err != nil {
			return errs.E("access.grants", errs.IO, err)
		}
	}
	return nil
}

func (s *store) setGrants(ctx context.Context, id int64, grants []Grant) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("access.grants", errs.IO, err)
	}
	defer tx.Rollback()
	if err := replaceGrants(ctx, tx, id, grants); err != nil {
		return err
	}
	return ioErr("access.grants", tx.Commit())
}

// deactivate ends the account, its grants and every session in one
// transaction: the next request of any of its sessions finds nothing.
func (s *store) deactivate(ctx context.Context, id int64, reason string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("access.deactivate", errs.IO, err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE account SET active = 0, deactivated_ns = ?, deactivate_reason = ?, totp_secret = NULL WHERE id = ?`, []any{now.UnixNano(), reason, id}},
		{`DELETE FROM account_grant WHERE account_id = ?`, []any{id}},
		{`DELETE FROM session WHERE account_id = ?`, []any{id}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return errs.E("access.deactivate", errs.IO, err)
		}
	}
	return ioErr("access.deactivate", tx.Commit())
}

func (s *store) exec(ctx context.Context, op, q string, args ...any) error {
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

func (s *store) setPassword(ctx context.Context, id int64, pw string, mustChange bool) error {
	m := 0
	if mustChange {
		m = 1
	}
	return s.exec(ctx, "access.setPassword", `UPDATE account SET pw = ?, must_change = ? WHERE id = ?`, pw, m, id)
}

func (s *store) recordFailure(ctx context.Context, id int64, failures int, window, lockedUntil time.Time) error {
	return s.exec(ctx, "access.recordFailure", `UPDATE account SET failures = ?, window_ns = ?, locked_until_ns = ? WHERE id = ?`,
		failures, toNS(window), toNS(lockedUntil), id)
}

func (s *store) setTOTP(ctx context.Context, id int64, secret, pending []byte, lastStep uint64) error {
	return s.exec(ctx, "access.setTOTP", `UPDATE account SET totp_secret = ?, totp_pending = ?, totp_last_step = ? WHERE id = ?`,
		secret, pending, lastStep, id)
}

func (s *store) insertSession(ctx context.Context, idHash []byte, id int64, csrf string, now time.Time, client string) error {
	return s.exec(ctx, "access.insertSession", `INSERT INTO session(id_hash, account_id, csrf, created_ns, last_ns, client) VALUES (?, ?, ?, ?, ?, ?)`,
		idHash, id, csrf, now.UnixNano(), now.UnixNano(), client)
}

type sessionRow struct {
	accountID     int64
	csrf          string
	created, last time.Time
}

func (s *store) session(ctx context.Context, idHash []byte) (*sessionRow, error) {
	var r sessionRow
	var c, l int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, csrf, created_ns, last_ns FROM session WHERE id_hash = ?`, idHash).Scan(&r.accountID, &r.csrf, &c, &l)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.E("access.session", errs.IO, err)
	}
	r.created, r.last = ns(c), ns(l)
	return &r, nil
}

func (s *store) touchSession(ctx context.Context, idHash []byte, now time.Time) error {
	return s.exec(ctx, "access.touchSession", `UPDATE session SET last_ns = ? WHERE id_hash = ?`, now.UnixNano(), idHash)
}

func (s *store) deleteSession(ctx context.Context, idHash []byte) error {
	return s.exec(ctx, "access.deleteSession", `DELETE FROM session WHERE id_hash = ?`, idHash)
}

func (s *store) deleteSessionsOf(ctx context.Context, id int64, except []byte) error {
	return s.exec(ctx, "access.deleteSessions", `DELETE FROM session WHERE account_id = ? AND id_hash != ?`, id, except)
}

func (s *store) deleteAllSessionsOf(ctx context.Context, id int64) error {
	return s.exec(ctx, "access.deleteAllSessions", `DELETE FROM session WHERE account_id = ?`, id)
}

// deleteStaleSessions removes sessions past their idle or absolute limit,
// so sessions that are never used again do not pile up.
func (s *store) deleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) error {
	return s.exec(ctx, "access.deleteStaleSessions", `DELETE FROM session WHERE last_ns < ? OR created_ns < ?`,
		idleBefore.UnixNano(), createdBefore.UnixNano())
}

func (s *store) countSessions(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM session`).Scan(&n)
	return n, err
}
