package requests

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// Store keeps requests durably. SQLiteStore keeps them in requests.db;
// internal/requests/requeststest is the conformance suite every
// implementation passes.
type Store interface {
	// Create stores r (State, Received, Due and the rest as given) with
	// its personal data p sealed under a data key of its own, assigns its
	// ID and its receipt number FormatReceipt(year, the next number of
	// that year, check), and calls record with the stored request before
	// committing: an error from record stores nothing.
	Create(ctx context.Context, r Request, year int, check string, p Personal, record func(Request) error) (Request, error)
	// Get returns request id.
	Get(ctx context.Context, id int64) (Request, bool, error)
	// ByReceipt returns the request with that receipt number.
	ByReceipt(ctx context.Context, receipt string) (Request, bool, error)
	// Personal returns request id's personal data; false once forgotten
	// (or for no such request).
	Personal(ctx context.Context, id int64) (Personal, bool, error)
	// List returns the requests, open ones only unless all, oldest first.
	List(ctx context.Context, all bool) ([]Request, error)
	// Update stores r's mutable fields (Cameras, Site, Due, the
	// postponement, State, ClosedAt, ClosedBy, Withdrawn, the identity
	// check, the decision and the fulfilments) for the request r.ID.
	Update(ctx context.Context, r Request) error
	// Forget destroys the personal data (its wrapped key and sealed text)
	// of every request closed before closedBefore, recording at as when,
	// and returns their ids.
	Forget(ctx context.Context, closedBefore, at time.Time) ([]int64, error)
	Close() error
}

// FileName is the store's file in the data directory.
const FileName = "requests.db"

// sqliteMigrations are requests.db's schema, oldest first (the sqlitedb
// convention: append only).
var sqliteMigrations = []string{`
CREATE TABLE request (
  id              INTEGER PRIMARY KEY,
  receipt         TEXT NOT NULL UNIQUE,      -- FormatReceipt: 2026-0042-K7QF
  year            INTEGER NOT NULL,          -- the receipt's year in the institution's zone
  seq             INTEGER NOT NULL,          -- its number within the year
  types           TEXT NOT NULL,             -- JSON array of Type
  from_ns         INTEGER NOT NULL,          -- 영상정보 기록기간 [from, to), Unix ns
  to_ns           INTEGER NOT NULL,
  site            TEXT NOT NULL,             -- '' when not named
  cameras         TEXT NOT NULL,             -- JSON array; [] for a described place
  channel         TEXT NOT NULL,             -- web | staff
  intake          TEXT NOT NULL,             -- staff member who took it, '' for the public page
  received_ns     INTEGER NOT NULL,
  due_ns          INTEGER NOT NULL,          -- Calendar.Due, or the postponed due time
  postpone_reason TEXT NOT NULL DEFAULT '',
  postponed_ns    INTEGER NOT NULL DEFAULT 0,
  state           TEXT NOT NULL,             -- received | closed
  closed_ns       INTEGER NOT NULL DEFAULT 0,
  key_id          TEXT,                      -- master key that wraps data_key; NULL once forgotten
  data_key        BLOB,                      -- the request's data key, wrapped (seal.Keyring.Wrap with id); NULL once forgotten
  personal        BLOB,                      -- Personal as JSON, seal.DataKey.SealBlob(id, "request personal"); NULL once forgotten
  forgotten_ns    INTEGER NOT NULL DEFAULT 0,
  UNIQUE (year, seq)
);
CREATE INDEX request_open ON request (state, due_ns);
`, `
ALTER TABLE request ADD COLUMN identity_method TEXT NOT NULL DEFAULT '';  -- what staff checked ('신분증 대조')
ALTER TABLE request ADD COLUMN identity_proxy  TEXT NOT NULL DEFAULT '';  -- a representative's documents
ALTER TABLE request ADD COLUMN identity_by     TEXT NOT NULL DEFAULT '';  -- the staff member
ALTER TABLE request ADD COLUMN identity_ns     INTEGER NOT NULL DEFAULT 0; -- when; 0: not checked
`, `
ALTER TABLE request ADD COLUMN decision    TEXT NOT NULL DEFAULT '';   -- Decision as JSON; '' before it is decided
ALTER TABLE request ADD COLUMN fulfilments TEXT NOT NULL DEFAULT '[]'; -- JSON array of Fulfilment, in order
ALTER TABLE request ADD COLUMN closed_by   TEXT NOT NULL DEFAULT '';   -- the staff member who closed it
ALTER TABLE request ADD COLUMN withdrawn   INTEGER NOT NULL DEFAULT 0; -- 1: closed as withdrawn by the requester
`}

// personalPurpose binds the sealed personal data to its use.
const personalPurpose = "request personal"

// SQLiteStore is the Store in requests.db.
type SQLiteStore struct {
	db   *sql.DB
	keys *seal.Keyring
	// dummy is a sealed record of no one, opened when Personal is asked
	// for a request that does not exist, so that a lookup of an unknown
	// receipt number does the work a wrong phone does.
	dummy struct {
		keyID           string
		wrapped, sealed []byte
	}
}

// OpenSQLite opens (creating, mode 0600) dir's requests.db. keys seal the
// personal data; without keys nothing opens (a person's data is never
// kept in the clear).
func OpenSQLite(ctx context.Context, dir string, keys *seal.Keyring) (*SQLiteStore, error) {
	const op = "requests.OpenSQLite"
	if keys == nil {
		return nil, errs.Errorf(op, errs.Invalid, "requests need the master keyring: a person's data is sealed at rest")
	}
	db, err := sqlitedb.Open(ctx, op, filepath.Join(dir, FileName), sqlitedb.Options{Migrations: sqliteMigrations})
	if err != nil {
		return nil, err
	}
	st := &SQLiteStore{db: db, keys: keys}
	dk := seal.NewDataKey()
	if st.dummy.wrapped, st.dummy.keyID, err = keys.Wrap(dk, 0); err != nil {
		db.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	st.dummy.sealed = dk.SealBlob(0, personalPurpose, []byte(`{"requester":{"phone":""}}`))
	return st, nil
}

// Close implements Store.
func (s *SQLiteStore) Close() error { return s.db.Close() }

func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNS(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Create implements Store.
func (s *SQLiteStore) Create(ctx context.Context, r Request, year int, check string, p Personal, record func(Request) error) (Request, error) {
	const op = "requests.SQLiteStore.Create"
	if r.Cameras == nil {
		r.Cameras = []string{}
	}
	types, _ := json.Marshal(r.Types)
	cams, _ := json.Marshal(r.Cameras)
	plain, err := json.Marshal(p)
	if err != nil {
		return Request{}, errs.E(op, errs.Internal, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	var seq int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM request WHERE year = ?`, year).Scan(&seq); err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	r.Receipt = FormatReceipt(year, seq, check)
	res, err := tx.ExecContext(ctx, `INSERT INTO request (receipt, year, seq, types, from_ns, to_ns, site, cameras, channel,
		intake, received_ns, due_ns, postpone_reason, postponed_ns, state, closed_ns) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		r.Receipt, year, seq, string(types), ns(r.From), ns(r.To), r.Site, string(cams), r.Channel, r.Intake,
		ns(r.Received), ns(r.Due), r.PostponeReason, ns(r.Postponed), string(r.State), ns(r.ClosedAt))
	if err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	if r.ID, err = res.LastInsertId(); err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	dk := seal.NewDataKey()
	wrapped, keyID, err := s.keys.Wrap(dk, r.ID)
	if err != nil {
		return Request{}, errs.E(op, errs.Internal, err)
	}
	sealed := dk.SealBlob(r.ID, personalPurpose, plain)
	if _, err := tx.ExecContext(ctx, `UPDATE request SET key_id = ?, data_key = ?, personal = ? WHERE id = ?`,
		keyID, wrapped, sealed, r.ID); err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	got, ok, err := get(ctx, tx, `id = ?`, r.ID)
	if err != nil || !ok {
		return Request{}, errs.E(op, errs.IO, fmt.Errorf("request %d not read back: %v", r.ID, err))
	}
	if record != nil {
		if err := record(got); err != nil {
			return Request{}, errs.E(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return Request{}, sqlitedb.Err(op, err)
	}
	return got, nil
}

type querier interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

const columns = `id, receipt, types, from_ns, to_ns, site, cameras, channel, intake, received_ns, due_ns,
	postpone_reason, postponed_ns, state, closed_ns, forgotten_ns, identity_method, identity_proxy, identity_by, identity_ns,
	decision, fulfilments, closed_by, withdrawn`

func list(ctx context.Context, q querier, where string, args ...any) ([]Request, error) {
	const op = "requests.SQLiteStore.list"
	rows, err := q.QueryContext(ctx, `SELECT `+columns+` FROM request WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer rows.Close()
	var out []Request
	for rows.Next() {
		var r Request
		var types, cams, state, dec, ful string
		var from, to, recv, due, post, closed, forgot, ident int64
		if err := rows.Scan(&r.ID, &r.Receipt, &types, &from, &to, &r.Site, &cams, &r.Channel, &r.Intake, &recv, &due,
			&r.PostponeReason, &post, &state, &closed, &forgot, &r.IdentityMethod, &r.IdentityProxy, &r.IdentityBy,
			&ident, &dec, &ful, &r.ClosedBy, &r.Withdrawn); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		if dec != "" {
			r.Decision = new(Decision)
			if err := json.Unmarshal([]byte(dec), r.Decision); err != nil {
				return nil, errs.E(op, errs.Corrupt, fmt.Errorf("request %d decision: %w", r.ID, err))
			}
		}
		if err := json.Unmarshal([]byte(ful), &r.Fulfilments); err != nil {
			return nil, errs.E(op, errs.Corrupt, fmt.Errorf("request %d fulfilments: %w", r.ID, err))
		}
		if err := json.Unmarshal([]byte(types), &r.Types); err != nil {
			return nil, errs.E(op, errs.Corrupt, fmt.Errorf("request %d types: %w", r.ID, err))
		}
		if err := json.Unmarshal([]byte(cams), &r.Cameras); err != nil {
			return nil, errs.E(op, errs.Corrupt, fmt.Errorf("request %d cameras: %w", r.ID, err))
		}
		r.From, r.To, r.Received, r.Due = fromNS(from), fromNS(to), fromNS(recv), fromNS(due)
		r.Postponed, r.ClosedAt, r.Forgotten, r.State = fromNS(post), fromNS(closed), fromNS(forgot), State(state)
		r.IdentityAt = fromNS(ident)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	return out, nil
}

func get(ctx context.Context, q querier, where string, args ...any) (Request, bool, error) {
	rs, err := list(ctx, q, where, args...)
	if err != nil || len(rs) == 0 {
		return Request{}, false, err
	}
	return rs[0], true, nil
}

// Get implements Store.
func (s *SQLiteStore) Get(ctx context.Context, id int64) (Request, bool, error) {
	return get(ctx, s.db, `id = ?`, id)
}

// ByReceipt implements Store.
func (s *SQLiteStore) ByReceipt(ctx context.Context, receipt string) (Request, bool, error) {
	return get(ctx, s.db, `receipt = ?`, strings.ToUpper(receipt))
}

// List implements Store.
func (s *SQLiteStore) List(ctx context.Context, all bool) ([]Request, error) {
	if all {
		return list(ctx, s.db, `1`)
	}
	return list(ctx, s.db, `state != ?`, string(Closed))
}

// Personal implements Store.
func (s *SQLiteStore) Personal(ctx context.Context, id int64) (Personal, bool, error) {
	const op = "requests.SQLiteStore.Personal"
	var keyID sql.NullString
	var wrapped, sealed []byte
	err := s.db.QueryRowContext(ctx, `SELECT key_id, data_key, personal FROM request WHERE id = ?`, id).Scan(&keyID, &wrapped, &sealed)
	if errors.Is(err, sql.ErrNoRows) {
		// The same work as for a request that exists, then nothing.
		if dk, err := s.keys.Unwrap(s.dummy.wrapped, 0, s.dummy.keyID); err == nil {
			dk.OpenBlob(0, personalPurpose, s.dummy.sealed)
		}
		return Personal{}, false, nil
	}
	if err != nil {
		return Personal{}, false, sqlitedb.Err(op, err)
	}
	if !keyID.Valid || wrapped == nil || sealed == nil {
		return Personal{}, false, nil
	}
	dk, err := s.keys.Unwrap(wrapped, id, keyID.String)
	if err != nil {
		return Personal{}, false, errs.E(op, errs.Corrupt, fmt.Errorf("request %d: %w", id, err))
	}
	plain, err := dk.OpenBlob(id, personalPurpose, sealed)
	if err != nil {
		return Personal{}, false, errs.E(op, errs.Corrupt, fmt.Errorf("request %d: %w", id, err))
	}
	var p Personal
	if err := json.Unmarshal(plain, &p); err != nil {
		return Personal{}, false, errs.E(op, errs.Corrupt, fmt.Errorf("request %d personal data", id))
	}
	return p, true, nil
}

// Update implements Store.
func (s *SQLiteStore) Update(ctx context.Context, r Request) error {
	const op = "requests.SQLiteStore.Update"
	if r.Cameras == nil {
		r.Cameras = []string{}
	}
	cams, _ := json.Marshal(r.Cameras)
	var dec []byte
	if r.Decision != nil {
		dec, _ = json.Marshal(r.Decision)
	}
	if r.Fulfilments == nil {
		r.Fulfilments = []Fulfilment{}
	}
	ful, _ := json.Marshal(r.Fulfilments)
	res, err := s.db.ExecContext(ctx, `UPDATE request SET site = ?, cameras = ?, due_ns = ?, postpone_reason = ?,
		postponed_ns = ?, state = ?, closed_ns = ?, identity_method = ?, identity_proxy = ?, identity_by = ?,
		identity_ns = ?, decision = ?, fulfilments = ?, closed_by = ?, withdrawn = ? WHERE id = ?`, r.Site, string(cams),
		ns(r.Due), r.PostponeReason, ns(r.Postponed), string(r.State), ns(r.ClosedAt), r.IdentityMethod, r.IdentityProxy,
		r.IdentityBy, ns(r.IdentityAt), string(dec), string(ful), r.ClosedBy, r.Withdrawn, r.ID)
	if err != nil {
		return sqlitedb.Err(op, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.Errorf(op, errs.NotExist, "no request %d", r.ID)
	}
	return nil
}

// Forget implements Store. secure_delete (sqlitedb) overwrites the freed
// cells, so the wrapped key does not linger in the file.
func (s *SQLiteStore) Forget(ctx context.Context, closedBefore, at time.Time) ([]int64, error) {
	const op = "requests.SQLiteStore.Forget"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	rs, err := list(ctx, tx, `state = ? AND closed_ns < ? AND data_key IS NOT NULL`, string(Closed), ns(closedBefore))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, r := range rs {
		if _, err := tx.ExecContext(ctx, `UPDATE request SET key_id = NULL, data_key = NULL, personal = NULL,
			forgotten_ns = ? WHERE id = ?`, ns(at), r.ID); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		ids = append(ids, r.ID)
	}
	if err := tx.Commit(); err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	return ids, nil
}
