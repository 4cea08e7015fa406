package provision

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// Store keeps provisions durably. SQLiteStore keeps them in
// provisions.db; internal/provision/provisiontest is the conformance suite
// every implementation passes. Times are kept to the nanosecond.
type Store interface {
	// Create stores p as a new provision with a fresh id (never one a
	// stored provision had) and calls record with it before committing:
	// an error from record stores nothing. A provision without a valid
	// legal basis is refused (errs.Invalid, code provision.basis).
	Create(ctx context.Context, p Provision, record func(Provision) error) (Provision, error)
	// Get returns provision id.
	Get(ctx context.Context, id int64) (Provision, bool, error)
	// List returns the provisions, open ones (requested, approved) only
	// unless all, newest first.
	List(ctx context.Context, all bool) ([]Provision, error)
	// Update stores p's mutable fields (state, approval, closing,
	// production, hold release) if the stored provision p.ID is still in
	// state from, calling record before committing; otherwise it changes
	// nothing and returns errs.Conflict (code provision.state). A missing
	// provision is errs.NotExist.
	Update(ctx context.Context, p Provision, from State, record func(Provision) error) error
	// Close releases the store.
	Close() error
}

// FileName is the store's file in the data directory.
const FileName = "provisions.db"

// sqliteMigrations are provisions.db's schema, oldest first (the sqlitedb
// convention: append only). docs/design/export.md comments the table.
var sqliteMigrations = []string{`
CREATE TABLE provision (
  id              INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
  kind            TEXT NOT NULL,              -- provide (제3자 제공) | use (목적 외 이용)
  recipient       TEXT NOT NULL,              -- 이용·제공받는 제3자
  letter          TEXT NOT NULL,              -- 공문 번호 (the ledger row's Ref)
  purpose         TEXT NOT NULL,              -- 목적/사유
  basis           INTEGER NOT NULL CHECK (basis IN (1, 2, 3, 5, 6, 7, 8, 9, 10)), -- 개인정보 보호법 제18조제2항 item
  statute         TEXT NOT NULL,              -- the named statute ('' unless given; required for item 2)
  form            TEXT NOT NULL,              -- copy (사본 제공) | viewing (현장 열람)
  period          TEXT NOT NULL,              -- 이용 기간
  cameras         TEXT NOT NULL,              -- JSON array of camera ids, at least one
  from_ns         INTEGER NOT NULL,           -- footage range [from, to), Unix ns
  to_ns           INTEGER NOT NULL,
  state           TEXT NOT NULL,              -- requested | approved | produced | refused | cancelled
  requested_by    TEXT NOT NULL,
  requested_ns    INTEGER NOT NULL,
  approved_by     TEXT NOT NULL DEFAULT '',   -- never requested_by
  approved_ns     INTEGER NOT NULL DEFAULT 0,
  closed_by       TEXT NOT NULL DEFAULT '',   -- who refused or cancelled it
  closed_ns       INTEGER NOT NULL DEFAULT 0,
  close_reason    TEXT NOT NULL DEFAULT '',
  produced_by     TEXT NOT NULL DEFAULT '',
  produced_ns     INTEGER NOT NULL DEFAULT 0,
  ledger_seq      INTEGER NOT NULL DEFAULT 0, -- the 제공/이용 row the gate wrote
  package         TEXT NOT NULL DEFAULT '',   -- the evidence package's manifest id ('' for a viewing)
  hold_released_ns INTEGER NOT NULL DEFAULT 0, -- when its hold was released; 0 while it holds
  CHECK (to_ns > from_ns),
  CHECK (approved_by = '' OR approved_by <> requested_by)
);
CREATE INDEX provision_state ON provision (state);
`}

// SQLiteStore is the Store in provisions.db.
type SQLiteStore struct{ db *sql.DB }

// OpenSQLite opens (creating it 0600 through internal/sqlitedb) dir's
// provisions.db.
func OpenSQLite(ctx context.Context, dir string) (*SQLiteStore, error) {
	db, err := sqlitedb.Open(ctx, "provision.OpenSQLite", filepath.Join(dir, FileName),
		sqlitedb.Options{Migrations: sqliteMigrations})
	if err != nil {
		return nil, err
	}
	return &SQLiteStore{db: db}, nil
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
	return time.Unix(0, n).UTC()
}

// Create implements Store.
func (s *SQLiteStore) Create(ctx context.Context, p Provision, record func(Provision) error) (Provision, error) {
	const op = "provision.SQLiteStore.Create"
	if !p.Basis.Valid() {
		return Provision{}, errs.E(op, errs.Invalid, errs.Code("provision.basis"), errs.Params{"field": "basis"},
			"a provision needs a legal basis")
	}
	cams, err := json.Marshal(p.Cameras)
	if err != nil || len(p.Cameras) == 0 {
		return Provision{}, errs.Errorf(op, errs.Invalid, "a provision needs cameras")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Provision{}, sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO provision (kind, recipient, letter, purpose, basis, statute, form, period,
		cameras, from_ns, to_ns, state, requested_by, requested_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		string(p.Kind), p.Recipient, p.Letter, p.Purpose, int(p.Basis), p.Statute, string(p.Form), p.Period, string(cams),
		ns(p.From), ns(p.To), string(p.State), p.RequestedBy, ns(p.RequestedAt))
	if err != nil {
		return Provision{}, sqlitedb.Err(op, err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return Provision{}, sqlitedb.Err(op, err)
	}
	ps, err := list(ctx, tx, `id = ?`, p.ID)
	if err != nil || len(ps) != 1 {
		return Provision{}, errs.E(op, errs.IO, fmt.Errorf("provision %d not read back: %v", p.ID, err))
	}
	if err := record(ps[0]); err != nil {
		return Provision{}, errs.E(op, err)
	}
	if err := tx.Commit(); err != nil {
		return Provision{}, sqlitedb.Err(op, err)
	}
	return ps[0], nil
}

// Get implements Store.
func (s *SQLiteStore) Get(ctx context.Context, id int64) (Provision, bool, error) {
	ps, err := list(ctx, s.db, `id = ?`, id)
	if err != nil || len(ps) == 0 {
		return Provision{}, false, err
	}
	return ps[0], true, nil
}

// List implements Store.
func (s *SQLiteStore) List(ctx context.Context, all bool) ([]Provision, error) {
	if all {
		return list(ctx, s.db, `1`)
	}
	return list(ctx, s.db, `state IN ('requested', 'approved')`)
}

// Update implements Store.
func (s *SQLiteStore) Update(ctx context.Context, p Provision, from State, record func(Provision) error) error {
	const op = "provision.SQLiteStore.Update"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE provision SET state = ?, approved_by = ?, approved_ns = ?, closed_by = ?,
		closed_ns = ?, close_reason = ?, produced_by = ?, produced_ns = ?, ledger_seq = ?, package = ?, hold_released_ns = ?
		WHERE id = ? AND state = ?`, string(p.State), p.ApprovedBy, ns(p.ApprovedAt), p.ClosedBy, ns(p.ClosedAt),
		p.CloseReason, p.ProducedBy, ns(p.ProducedAt), int64(p.LedgerSeq), p.Package, ns(p.HoldReleased), p.ID, string(from))
	if err != nil {
		return sqlitedb.Err(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return sqlitedb.Err(op, err)
	}
	if n == 0 {
		ps, err := list(ctx, tx, `id = ?`, p.ID)
		if err != nil {
			return err
		}
		if len(ps) == 0 {
			return errs.Errorf(op, errs.NotExist, "no provision %d", p.ID)
		}
		return errs.E(op, errs.Conflict, errs.Code("provision.state"), errs.Params{"state": string(ps[0].State)},
			fmt.Sprintf("provision %d is %s, not %s", p.ID, ps[0].State, from))
	}
	if record != nil {
		ps, err := list(ctx, tx, `id = ?`, p.ID)
		if err != nil || len(ps) != 1 {
			return errs.E(op, errs.IO, fmt.Errorf("provision %d not read back: %v", p.ID, err))
		}
		if err := record(ps[0]); err != nil {
			return errs.E(op, err)
		}
	}
	return sqlitedb.Err(op, tx.Commit())
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// list returns the provisions matching where, newest first.
func list(ctx context.Context, q querier, where string, args ...any) ([]Provision, error) {
	const op = "provision.list"
	rows, err := q.QueryContext(ctx, `SELECT id, kind, recipient, letter, purpose, basis, statute, form, period, cameras,
		from_ns, to_ns, state, requested_by, requested_ns, approved_by, approved_ns, closed_by, closed_ns, close_reason,
		produced_by, produced_ns, ledger_seq, package, hold_released_ns FROM provision WHERE `+where+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer rows.Close()
	var out []Provision
	for rows.Next() {
		var p Provision
		var kind, form, state, cams string
		var basis int
		var from, to, req, appr, closed, prod, rel, seq int64
		if err := rows.Scan(&p.ID, &kind, &p.Recipient, &p.Letter, &p.Purpose, &basis, &p.Statute, &form, &p.Period, &cams,
			&from, &to, &state, &p.RequestedBy, &req, &p.ApprovedBy, &appr, &p.ClosedBy, &closed, &p.CloseReason,
			&p.ProducedBy, &prod, &seq, &p.Package, &rel); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		if err := json.Unmarshal([]byte(cams), &p.Cameras); err != nil {
			return nil, errs.Errorf(op, errs.Corrupt, "provision %d: cameras %q: %v", p.ID, cams, err)
		}
		p.Kind, p.Form, p.State, p.Basis = Kind(kind), Form(form), State(state), Basis(basis)
		p.From, p.To, p.RequestedAt, p.ApprovedAt = fromNS(from), fromNS(to), fromNS(req), fromNS(appr)
		p.ClosedAt, p.ProducedAt, p.HoldReleased, p.LedgerSeq = fromNS(closed), fromNS(prod), fromNS(rel), uint64(seq)
		out = append(out, p)
	}
	return out, sqlitedb.Err(op, rows.Err())
}
