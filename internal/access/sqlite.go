package access

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// migrations of access.db (sqlitedb's convention: PRAGMA user_version is
// how many are applied). Append only. Every SQL statement of the package
// is in this file, so another Store replaces it file for file.
var migrations = []string{
	// 1: the schema access.db had before it was versioned.
	`
CREATE TABLE IF NOT EXISTS account (
  id                INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,   -- login name (PRECIS UsernameCaseMapped since migration 2's gwanje)
  display           TEXT NOT NULL,          -- name shown and written to the ledger with the role
  pw                TEXT NOT NULL,          -- argon2id PHC string
  must_change       INTEGER NOT NULL,       -- 1: only change-password is allowed
  active            INTEGER NOT NULL,       -- 0 after deactivation (전보, 퇴직, 기타)
  deactivated_ns    INTEGER NOT NULL DEFAULT 0,
  deactivate_reason TEXT NOT NULL DEFAULT '',
  totp_secret       BLOB,                   -- NULL: TOTP off; sealed (seal.SealBlob) when the service has keys
  totp_pending      BLOB,                   -- enrolment awaiting its first code, sealed the same way
  totp_last_step    INTEGER NOT NULL DEFAULT 0, -- last accepted step (no replay)
  failures          INTEGER NOT NULL DEFAULT 0, -- failed logins from every address in the current window
  window_ns         INTEGER NOT NULL DEFAULT 0, -- start of that window
  locked_until_ns   INTEGER NOT NULL DEFAULT 0, -- account locked everywhere until then
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
`,
	// 2: failed logins per (account, client address), so that a lockout
	// shuts out the address that guessed, not the account's owner.
	`
CREATE TABLE login_failure (
  account_id      INTEGER NOT NULL REFERENCES account(id),
  client          TEXT NOT NULL,          -- client address ('' when unknown)
  failures        INTEGER NOT NULL,       -- failed logins in the window
  window_ns       INTEGER NOT NULL,       -- start of the window
  locked_until_ns INTEGER NOT NULL,       -- this pair locked until then
  PRIMARY KEY (account_id, client)
);
`,
	// 3: the user's own language of the UI ('' = not chosen: the browser's
	// cookie decides, else Korean).
	`
ALTER TABLE account ADD COLUMN lang TEXT NOT NULL DEFAULT '';
`,
}

// legacyVersion: an access.db from before versioning has the account
// table and user_version 0; it is migration 1.
func legacyVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'account'`).Scan(&n); err != nil {
		return 0, errs.E("access.legacyVersion", errs.IO, err)
	}
	if n == 1 {
		return 1, nil
	}
	return 0, nil
}

type sqliteStore struct{ db *sql.DB }

// OpenSQLite opens (creating 0600 on first run, migrating an older file)
// the SQLite Store at path (the service uses <data>/access.db).
func OpenSQLite(ctx context.Context, path string) (Store, error) {
	db, err := sqlitedb.Open(ctx, "access.OpenSQLite", path, sqlitedb.Options{Migrations: migrations, Legacy: legacyVersion})
	if err != nil {
		return nil, err
	}
	return &sqliteStore{db: db}, nil
}

func (s *sqliteStore) Close() error { return s.db.Close() }

const accountCols = `id, name, display, pw, must_change, active, deactivate_reason, totp_secret, totp_pending, totp_last_step, failures, window_ns, locked_until_ns, created_ns, deactivated_ns, lang`

func scanAccount(row interface{ Scan(...any) error }) (*Account, error) {
	var a Account
	var must, active int
	var win, locked, created, deact int64
	err := row.Scan(&a.ID, &a.Name, &a.Display, &a.PasswordHash, &must, &active, &a.DeactivateReason, &a.TOTPSecret, &a.TOTPPending,
		&a.TOTPLastStep, &a.Failures.Count, &win, &locked, &created, &deact, &a.Lang)
	if err != nil {
		return nil, err
	}
	a.MustChangePassword, a.Active, a.TOTP = must == 1, active == 1, len(a.TOTPSecret) > 0
	a.Failures.WindowStart, a.Failures.LockedUntil, a.Created, a.DeactivatedAt = ns(win), ns(locked), ns(created), ns(deact)
	return &a, nil
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

func (s *sqliteStore) AccountByName(ctx context.Context, name string) (*Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM account WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Errorf("access.account", errs.NotExist, "no user %q", name)
	}
	if err != nil {
		return nil, errs.E("access.account", errs.IO, err)
	}
	return a, s.loadGrants(ctx, a)
}

func (s *sqliteStore) AccountByID(ctx context.Context, id int64) (*Account, error) {
	a, err := scanAccount(s.db.QueryRowContext(ctx, `SELECT `+accountCols+` FROM account WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Errorf("access.account", errs.NotExist, "no user %d", id)
	}
	if err != nil {
		return nil, errs.E("access.account", errs.IO, err)
	}
	return a, s.loadGrants(ctx, a)
}

func (s *sqliteStore) loadGrants(ctx context.Context, a *Account) error {
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
	return sqlitedb.Err("access.grants", rows.Err())
}

func (s *sqliteStore) CountAccounts(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM account`).Scan(&n)
	return n, sqlitedb.Err("access.count", err)
}

func (s *sqliteStore) Accounts(ctx context.Context) ([]User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+accountCols+` FROM account ORDER BY name`)
	if err != nil {
		return nil, errs.E("access.list", errs.IO, err)
	}
	var as []*Account
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

func (s *sqliteStore) InsertAccount(ctx context.Context, name, display, pw string, now time.Time, grants []Grant) (int64, error) {
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
	return id, sqlitedb.Err("access.insert", tx.Commit())
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

func (s *sqliteStore) SetGrants(ctx context.Context, id int64, grants []Grant) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("access.grants", errs.IO, err)
	}
	defer tx.Rollback()
	if err := replaceGrants(ctx, tx, id, grants); err != nil {
		return err
	}
	return sqlitedb.Err("access.grants", tx.Commit())
}

// Deactivate ends the account, its grants and every session in one
// transaction: the next request of any of its sessions finds nothing.
func (s *sqliteStore) Deactivate(ctx context.Context, id int64, reason string, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("access.deactivate", errs.IO, err)
	}
	defer tx.Rollback()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE account SET active = 0, deactivated_ns = ?, deactivate_reason = ?, totp_secret = NULL, totp_pending = NULL WHERE id = ?`, []any{now.UnixNano(), reason, id}},
		{`DELETE FROM account_grant WHERE account_id = ?`, []any{id}},
		{`DELETE FROM session WHERE account_id = ?`, []any{id}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return errs.E("access.deactivate", errs.IO, err)
		}
	}
	return sqlitedb.Err("access.deactivate", tx.Commit())
}

func (s *sqliteStore) exec(ctx context.Context, op, q string, args ...any) error {
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

func (s *sqliteStore) SetPassword(ctx context.Context, id int64, pw string, mustChange bool) error {
	m := 0
	if mustChange {
		m = 1
	}
	return s.exec(ctx, "access.setPassword", `UPDATE account SET pw = ?, must_change = ? WHERE id = ?`, pw, m, id)
}

func (s *sqliteStore) SetLang(ctx context.Context, id int64, lang string) error {
	const op = "access.setLang"
	res, err := s.db.ExecContext(ctx, `UPDATE account SET lang = ? WHERE id = ?`, lang, id)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return errs.E(op, errs.IO, err)
	} else if n == 0 {
		return errs.Errorf(op, errs.NotExist, "no user %d", id)
	}
	return nil
}

func (s *sqliteStore) SetFailures(ctx context.Context, id int64, f Failures) error {
	return s.exec(ctx, "access.setFailures", `UPDATE account SET failures = ?, window_ns = ?, locked_until_ns = ? WHERE id = ?`,
		f.Count, toNS(f.WindowStart), toNS(f.LockedUntil), id)
}

func (s *sqliteStore) ClientFailures(ctx context.Context, id int64, client string) (Failures, error) {
	var f Failures
	var win, locked int64
	err := s.db.QueryRowContext(ctx, `SELECT failures, window_ns, locked_until_ns FROM login_failure WHERE account_id = ? AND client = ?`,
		id, client).Scan(&f.Count, &win, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return Failures{}, nil
	}
	if err != nil {
		return Failures{}, errs.E("access.clientFailures", errs.IO, err)
	}
	f.WindowStart, f.LockedUntil = ns(win), ns(locked)
	return f, nil
}

func (s *sqliteStore) SetClientFailures(ctx context.Context, id int64, client string, f Failures) error {
	if f == (Failures{}) {
		return s.exec(ctx, "access.setClientFailures", `DELETE FROM login_failure WHERE account_id = ? AND client = ?`, id, client)
	}
	return s.exec(ctx, "access.setClientFailures", `INSERT INTO login_failure(account_id, client, failures, window_ns, locked_until_ns)
VALUES (?, ?, ?, ?, ?) ON CONFLICT(account_id, client) DO UPDATE SET failures = excluded.failures, window_ns = excluded.window_ns,
locked_until_ns = excluded.locked_until_ns`, id, client, f.Count, toNS(f.WindowStart), toNS(f.LockedUntil))
}

func (s *sqliteStore) ClearFailures(ctx context.Context, id int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return errs.E("access.clearFailures", errs.IO, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `UPDATE account SET failures = 0, window_ns = 0, locked_until_ns = 0 WHERE id = ?`, id); err != nil {
		return errs.E("access.clearFailures", errs.IO, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM login_failure WHERE account_id = ?`, id); err != nil {
		return errs.E("access.clearFailures", errs.IO, err)
	}
	return sqlitedb.Err("access.clearFailures", tx.Commit())
}

func (s *sqliteStore) SetTOTP(ctx context.Context, id int64, secret, pending []byte, lastStep uint64) error {
	return s.exec(ctx, "access.setTOTP", `UPDATE account SET totp_secret = ?, totp_pending = ?, totp_last_step = ? WHERE id = ?`,
		secret, pending, lastStep, id)
}

func (s *sqliteStore) InsertSession(ctx context.Context, r SessionRecord) error {
	return s.exec(ctx, "access.insertSession", `INSERT INTO session(id_hash, account_id, csrf, created_ns, last_ns, client) VALUES (?, ?, ?, ?, ?, ?)`,
		r.IDHash, r.AccountID, r.CSRF, r.Created.UnixNano(), r.Last.UnixNano(), r.Client)
}

func (s *sqliteStore) Session(ctx context.Context, idHash []byte) (*SessionRecord, error) {
	r := SessionRecord{IDHash: idHash}
	var c, l int64
	err := s.db.QueryRowContext(ctx, `SELECT account_id, csrf, created_ns, last_ns, client FROM session WHERE id_hash = ?`, idHash).
		Scan(&r.AccountID, &r.CSRF, &c, &l, &r.Client)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.E("access.session", errs.IO, err)
	}
	r.Created, r.Last = ns(c), ns(l)
	return &r, nil
}

func (s *sqliteStore) TouchSession(ctx context.Context, idHash []byte, now time.Time) error {
	return s.exec(ctx, "access.touchSession", `UPDATE session SET last_ns = ? WHERE id_hash = ?`, now.UnixNano(), idHash)
}

func (s *sqliteStore) DeleteSession(ctx context.Context, idHash []byte) error {
	return s.exec(ctx, "access.deleteSession", `DELETE FROM session WHERE id_hash = ?`, idHash)
}

func (s *sqliteStore) DeleteSessionsOf(ctx context.Context, id int64, except []byte) error {
	return s.exec(ctx, "access.deleteSessions", `DELETE FROM session WHERE account_id = ? AND id_hash != ?`, id, except)
}

func (s *sqliteStore) DeleteAllSessionsOf(ctx context.Context, id int64) error {
	return s.exec(ctx, "access.deleteAllSessions", `DELETE FROM session WHERE account_id = ?`, id)
}

// DeleteStaleSessions removes sessions past their idle or absolute limit,
// so sessions that are never used again do not pile up, and per-address
// failure records long past.
func (s *sqliteStore) DeleteStaleSessions(ctx context.Context, idleBefore, createdBefore time.Time) error {
	if err := s.exec(ctx, "access.deleteStaleSessions", `DELETE FROM session WHERE last_ns < ? OR created_ns < ?`,
		idleBefore.UnixNano(), createdBefore.UnixNano()); err != nil {
		return err
	}
	return s.exec(ctx, "access.deleteStaleFailures", `DELETE FROM login_failure WHERE window_ns < ? AND locked_until_ns < ?`,
		createdBefore.UnixNano(), createdBefore.UnixNano())
}

func (s *sqliteStore) CountSessions(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM session`).Scan(&n)
	return n, sqlitedb.Err("access.countSessions", err)
}

// WatchChanges implements ChangeWatcher: SQLite's data_version, read on a
// connection of the watch's own, counts the commits of every other
// connection, this process's and others'.
func (s *sqliteStore) WatchChanges(ctx context.Context) (ChangeWatch, error) {
	const op = "access.WatchChanges"
	var path string
	if err := s.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&path); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	if path == "" {
		return nil, errs.E(op, errs.Invalid, "an in-memory database cannot be watched")
	}
	db, err := sqlitedb.Open(ctx, op, path, sqlitedb.Options{ReadOnly: true, MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	c, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	v := &dataVersion{db: db, conn: c}
	v.last, _ = v.read()
	return v, nil
}

// dataVersion is a ChangeWatch on SQLite's PRAGMA data_version.
type dataVersion struct {
	db   *sql.DB
	conn *sql.Conn
	last int64
}

func (v *dataVersion) read() (int64, error) {
	var n int64
	err := v.conn.QueryRowContext(context.Background(), `PRAGMA data_version`).Scan(&n)
	return n, err
}

func (v *dataVersion) Changed() bool {
	n, err := v.read()
	if err != nil {
		return true
	}
	ch := n != v.last
	v.last = n
	return ch
}

func (v *dataVersion) Close() {
	v.conn.Close()
	v.db.Close()
}
