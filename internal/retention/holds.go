package retention

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/sqlitedb"
	"github.com/gwanje/gwanje/internal/store"
)

// Owner is who owns a hold. Values are stored: never rename one.
type Owner string

// Hold owners.
const (
	OwnerManual    Owner = "manual"    // a person, with a reason (수사 협조, 소송 등)
	OwnerRequest   Owner = "request"   // an open data-subject request (열람등 요구)
	OwnerProvision Owner = "provision" // a provision to a third party in progress (제3자 제공)
)

func (o Owner) valid() bool { return o == OwnerManual || o == OwnerRequest || o == OwnerProvision }

// Hold keeps footage from destruction by retention and capacity until it
// is released. Cameras empty means every camera.
type Hold struct {
	ID         int64
	Owner      Owner
	Ref        string // the owner's reference: request or provision id ("" for manual)
	Reason     string
	Actor      string // who placed it ("" for the system)
	Cameras    []string
	From, To   time.Time // footage period held, [From, To)
	Created    time.Time
	Released   time.Time // zero while active
	ReleasedBy string
}

// Active reports whether the hold still holds.
func (h *Hold) Active() bool { return h.Released.IsZero() }

// covers reports whether the hold holds footage of camera in [start, end)
// (90 kHz).
func (h *Hold) covers(camera string, start, end int64) bool {
	if !h.Active() || end <= media.Time90k(h.From) || start >= media.Time90k(h.To) {
		return false
	}
	if len(h.Cameras) == 0 {
		return true
	}
	for _, c := range h.Cameras {
		if c == camera {
			return true
		}
	}
	return false
}

// dbSchema is version 1 of retention.db. docs/design/retention.md comments
// each column; keep the two in step.
const dbSchema = `
CREATE TABLE meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1), -- exactly one row
  schema_version INTEGER NOT NULL,                   -- 1
  last_run_90k   INTEGER                             -- clock of the last run that was not refused; NULL before the first
);
CREATE TABLE hold (
  id           INTEGER PRIMARY KEY AUTOINCREMENT, -- hold id, never reused
  owner        TEXT NOT NULL,                     -- manual, request, provision
  ref          TEXT NOT NULL,                     -- owner's reference ('' for manual)
  reason       TEXT NOT NULL,                     -- why, free text
  actor        TEXT NOT NULL,                     -- who placed it ('' = system)
  cameras      TEXT NOT NULL,                     -- JSON array of camera ids; [] = every camera
  from_90k     INTEGER NOT NULL,                  -- footage period held [from, to), 90 kHz wall clock
  to_90k       INTEGER NOT NULL,
  created_90k  INTEGER NOT NULL,                  -- when it was placed
  released_90k INTEGER,                           -- when it was released; NULL while active
  released_by  TEXT,                              -- who released it
  CHECK (to_90k > from_90k)
);
CREATE TABLE broken (
  camera    TEXT PRIMARY KEY, -- a camera capacity deletion cut below its promised retention
  until_90k INTEGER NOT NULL  -- end of the latest footage destroyed before it was due
);
INSERT INTO meta (id, schema_version) VALUES (1, 1);
`

// dbMigrations are retention.db's schema, oldest first (the sqlitedb
// convention: PRAGMA user_version counts them; append only). Migration 1
// is the schema of version 1, whose files kept their version in
// meta.schema_version: dbLegacy reads it.
var dbMigrations = []string{dbSchema}

// dbLegacy is the version of a retention.db made before the migration
// convention: meta.schema_version.
func dbLegacy(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v); err != nil {
		return 0, errs.E("retention.dbLegacy", errs.Corrupt, fmt.Errorf("meta.schema_version: %w", err))
	}
	return v, nil
}

// db is retention.db: holds, the clock high-water mark, broken promises.
type db struct{ sql *sql.DB }

// openDB opens (creating it 0600 if needed) data directory dir's
// retention.db through internal/sqlitedb.
func openDB(ctx context.Context, dir string) (*db, error) {
	d, err := sqlitedb.Open(ctx, "retention.openDB", filepath.Join(dir, "retention.db"),
		sqlitedb.Options{Migrations: dbMigrations, Legacy: dbLegacy})
	if err != nil {
		return nil, err
	}
	return &db{sql: d}, nil
}

func (d *db) close() error { return d.sql.Close() }

func (d *db) lastRun(ctx context.Context) (int64, bool, error) {
	var v sql.NullInt64
	err := d.sql.QueryRowContext(ctx, `SELECT last_run_90k FROM meta`).Scan(&v)
	return v.Int64, v.Valid, sqlitedb.Err("retention.lastRun", err)
}

func (d *db) setLastRun(ctx context.Context, t int64) error {
	_, err := d.sql.ExecContext(ctx, `UPDATE meta SET last_run_90k = ?`, t)
	return sqlitedb.Err("retention.setLastRun", err)
}

func (d *db) broken(ctx context.Context) (map[string]int64, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT camera, until_90k FROM broken`)
	if err != nil {
		return nil, sqlitedb.Err("retention.broken", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var u int64
		if err := rows.Scan(&c, &u); err != nil {
			return nil, sqlitedb.Err("retention.broken", err)
		}
		out[c] = u
	}
	return out, sqlitedb.Err("retention.broken", rows.Err())
}

func (d *db) setBroken(ctx context.Context, camera string, until int64) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO broken (camera, until_90k) VALUES (?, ?)
		ON CONFLICT (camera) DO UPDATE SET until_90k = max(until_90k, excluded.until_90k)`, camera, until)
	return sqlitedb.Err("retention.setBroken", err)
}

func (d *db) clearBroken(ctx context.Context, camera string) error {
	_, err := d.sql.ExecContext(ctx, `DELETE FROM broken WHERE camera = ?`, camera)
	return sqlitedb.Err("retention.clearBroken", err)
}

// HoldStore keeps the holds: retention.db's hold table (SQLiteHolds), or
// another database. Placing and releasing a hold is recorded in the
// 관리대장 with it: each change takes a record function, called inside the
// store's transaction with the hold as it is being stored; if it fails,
// nothing changes. internal/retention/holdstest is the conformance suite
// every implementation passes. Times are kept at 90 kHz precision.
type HoldStore interface {
	// Insert stores x as a new hold with a fresh id (never one a stored
	// hold had) and returns it, once record(hold) has succeeded.
	Insert(ctx context.Context, x Hold, record func(Hold) error) (Hold, error)
	// Release releases, at at and by by, the active holds m matches, each
	// after record(hold released) has succeeded, all or none; it returns
	// them, by id.
	Release(ctx context.Context, m HoldMatch, at time.Time, by string, record func(Hold) error) ([]Hold, error)
	// List returns the holds, active ones only unless all, by id.
	List(ctx context.Context, all bool) ([]Hold, error)
	// Get returns hold id, if there is one.
	Get(ctx context.Context, id int64) (Hold, bool, error)
	// Close releases the store.
	Close() error
}

// HoldMatch selects holds to release: hold ID, or (ID 0) every hold of
// Owner with reference Ref.
type HoldMatch struct {
	ID    int64
	Owner Owner
	Ref   string
}

// Holds is the hold list: it validates holds and records each one placed
// or released in the ledger, in the same transaction as the HoldStore's
// change: if the ledger row cannot be written, the hold is not placed (or
// not released). The SQLite store may be opened by a CLI while the
// recorder runs (SQLite serialises the writers).
type Holds struct {
	st  HoldStore
	now func() time.Time
	led ledger.Appender
}

// NewHolds returns the hold list kept in st; led receives a row for every
// hold placed or released (nil: the list is for reading, Add and Release
// fail); now is the clock (nil: time.Now).
func NewHolds(st HoldStore, led ledger.Appender, now func() time.Time) *Holds {
	if now == nil {
		now = time.Now
	}
	return &Holds{st: st, now: now, led: led}
}

// OpenHolds opens the hold list of data directory dir (creating
// retention.db if needed); led receives a row for every hold placed or
// released. With led nil the list is for reading: Add and Release fail.
func OpenHolds(ctx context.Context, dir string, led ledger.Appender, now func() time.Time) (*Holds, error) {
	st, err := OpenSQLiteHolds(ctx, dir)
	if err != nil {
		return nil, err
	}
	return NewHolds(st, led, now), nil
}

// HoldLedgerKind is the ledger kind of the rows recording a hold placed or
// released (보존 조치): a change to what retention may destroy.
const HoldLedgerKind = ledger.Hold

// holdEntry is the ledger row of hold x placed (released false) or
// released by actor.
func holdEntry(x *Hold, released bool, actor string) ledger.Entry {
	what, act := "보존 조치(파기 보류) 설정", "hold placed"
	if released {
		what, act = "보존 조치(파기 보류) 해제", "hold released"
	}
	cams := "every camera"
	if len(x.Cameras) > 0 {
		cams = strings.Join(x.Cameras, ",")
	}
	d := fmt.Sprintf("%s: hold %d, owner %s", act, x.ID, x.Owner)
	if x.Ref != "" {
		d += ", ref " + x.Ref
	}
	d += "; cameras " + cams + "; reason: " + x.Reason
	return ledger.Entry{Kind: HoldLedgerKind, Actor: actor, Cameras: x.Cameras, From: x.From, To: x.To,
		Object: "hold " + strconv.FormatInt(x.ID, 10), PurposeCategory: "hold", Purpose: what, Detail: d}
}

// Close closes the hold list's store.
func (h *Holds) Close() error { return h.st.Close() }

// Add places a hold and returns it with its id and creation time. It
// needs an owner, a reason and a period; a manual hold also needs an actor,
// and a request or provision hold a reference.
func (h *Holds) Add(ctx context.Context, x Hold) (Hold, error) {
	const op = "retention.Holds.Add"
	switch {
	case !x.Owner.valid():
		return Hold{}, errs.Errorf(op, errs.Invalid, "hold owner %q: want manual, request or provision", x.Owner)
	case strings.TrimSpace(x.Reason) == "":
		return Hold{}, errs.Errorf(op, errs.Invalid, "a hold needs a reason")
	case x.Owner == OwnerManual && x.Actor == "":
		return Hold{}, errs.Errorf(op, errs.Invalid, "a manual hold needs the name of who places it")
	case x.Owner != OwnerManual && x.Ref == "":
		return Hold{}, errs.Errorf(op, errs.Invalid, "a %s hold needs the %s's reference", x.Owner, x.Owner)
	case !x.To.After(x.From):
		return Hold{}, errs.Errorf(op, errs.Invalid, "hold period: end %v is not after start %v", x.To, x.From)
	}
	for _, c := range x.Cameras {
		if err := store.ValidCamera(c); err != nil {
			return Hold{}, errs.E(op, err)
		}
	}
	if x.Cameras == nil {
		x.Cameras = []string{}
	}
	if h.led == nil {
		return Hold{}, errs.Errorf(op, errs.Invalid, "hold list opened without a ledger: placing a hold is recorded")
	}
	x.Created = h.now()
	x.Released, x.ReleasedBy = time.Time{}, ""
	out, err := h.st.Insert(ctx, x, func(x Hold) error {
		if _, err := h.led.Append(ctx, holdEntry(&x, false, x.Actor)); err != nil {
			return fmt.Errorf("ledger row for hold %d: %w", x.ID, err)
		}
		return nil
	})
	if err != nil {
		return Hold{}, errs.E(op, err)
	}
	return out, nil
}

// Release ends hold id by hand (the holds page, `gwanje destruction hold
// release`). Releasing a released hold is an errs.Conflict, and so is
// releasing a hold a request or a provision owns (code hold.owned): that
// one is released by its owner (ReleaseOwned) when it closes.
func (h *Holds) Release(ctx context.Context, id int64, actor string) error {
	const op = "retention.Holds.Release"
	if x, ok, err := h.st.Get(ctx, id); err != nil {
		return errs.E(op, err)
	} else if ok && x.Owner != OwnerManual && x.Active() {
		return errs.E(op, errs.Conflict, errs.Code("hold.owned"),
			fmt.Errorf("hold %d belongs to %s %s: it is released when that closes", id, x.Owner, x.Ref))
	}
	n, err := h.release(ctx, HoldMatch{ID: id}, actor)
	if err != nil {
		return errs.E(op, err)
	}
	if n == 1 {
		return nil
	}
	if _, ok, err := h.st.Get(ctx, id); err != nil {
		return errs.E(op, err)
	} else if !ok {
		return errs.Errorf(op, errs.NotExist, "no hold %d", id)
	}
	return errs.Errorf(op, errs.Conflict, "hold %d is already released", id)
}

// ReleaseOwned releases every active hold of owner with reference ref (a
// request closed, a provision done) and returns how many it released.
func (h *Holds) ReleaseOwned(ctx context.Context, owner Owner, ref, actor string) (int, error) {
	if ref == "" {
		return 0, errs.Errorf("retention.Holds.ReleaseOwned", errs.Invalid, "releasing a %s's holds needs its reference", owner)
	}
	n, err := h.release(ctx, HoldMatch{Owner: owner, Ref: ref}, actor)
	if err != nil {
		return 0, errs.E("retention.Holds.ReleaseOwned", err)
	}
	return n, nil
}

// release releases the active holds m matches, each with its ledger row,
// all or none, and returns how many.
func (h *Holds) release(ctx context.Context, m HoldMatch, actor string) (int, error) {
	const op = "retention.Holds.release"
	if h.led == nil {
		return 0, errs.Errorf(op, errs.Invalid, "hold list opened without a ledger: releasing a hold is recorded")
	}
	hs, err := h.st.Release(ctx, m, h.now(), actor, func(x Hold) error {
		if _, err := h.led.Append(ctx, holdEntry(&x, true, actor)); err != nil {
			return fmt.Errorf("ledger row for hold %d: %w", x.ID, err)
		}
		return nil
	})
	return len(hs), err
}

// List returns the holds, active ones only unless all, by id.
func (h *Holds) List(ctx context.Context, all bool) ([]Hold, error) {
	return h.st.List(ctx, all)
}

// SQLiteHolds is the HoldStore in a data directory's retention.db.
type SQLiteHolds struct {
	db  *sql.DB
	own bool // Close closes db (not when the Engine shares it)
}

// OpenSQLiteHolds opens the hold store of data directory dir, creating
// retention.db (0600, through internal/sqlitedb) if needed.
func OpenSQLiteHolds(ctx context.Context, dir string) (*SQLiteHolds, error) {
	d, err := openDB(ctx, dir)
	if err != nil {
		return nil, err
	}
	return &SQLiteHolds{db: d.sql, own: true}, nil
}

// Close implements HoldStore.
func (s *SQLiteHolds) Close() error {
	if !s.own {
		return nil
	}
	return s.db.Close()
}

// Insert implements HoldStore.
func (s *SQLiteHolds) Insert(ctx context.Context, x Hold, record func(Hold) error) (Hold, error) {
	const op = "retention.SQLiteHolds.Insert"
	if x.Cameras == nil {
		x.Cameras = []string{}
	}
	cams, err := json.Marshal(x.Cameras)
	if err != nil {
		return Hold{}, errs.E(op, errs.Internal, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return Hold{}, sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	var rel, relBy any
	if !x.Released.IsZero() {
		rel, relBy = media.Time90k(x.Released), x.ReleasedBy
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO hold (owner, ref, reason, actor, cameras, from_90k, to_90k, created_90k,
		released_90k, released_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, string(x.Owner), x.Ref, x.Reason, x.Actor, string(cams),
		media.Time90k(x.From), media.Time90k(x.To), media.Time90k(x.Created), rel, relBy)
	if err != nil {
		return Hold{}, sqlitedb.Err(op, err)
	}
	if x.ID, err = res.LastInsertId(); err != nil {
		return Hold{}, sqlitedb.Err(op, err)
	}
	hs, err := listHolds(ctx, tx, `id = ?`, x.ID) // as stored (90 kHz times)
	if err != nil || len(hs) != 1 {
		return Hold{}, errs.E(op, errs.IO, fmt.Errorf("hold %d not read back: %v", x.ID, err))
	}
	if err := record(hs[0]); err != nil {
		return Hold{}, errs.E(op, err)
	}
	if err := tx.Commit(); err != nil {
		return Hold{}, sqlitedb.Err(op, err)
	}
	return hs[0], nil
}

// Release implements HoldStore.
func (s *SQLiteHolds) Release(ctx context.Context, m HoldMatch, at time.Time, by string, record func(Hold) error) ([]Hold, error) {
	const op = "retention.SQLiteHolds.Release"
	where, args := `id = ?`, []any{m.ID}
	if m.ID == 0 {
		where, args = `owner = ? AND ref = ?`, []any{string(m.Owner), m.Ref}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	hs, err := listHolds(ctx, tx, `released_90k IS NULL AND `+where, args...)
	if err != nil {
		return nil, err
	}
	at90k := media.Time90k(at)
	for i := range hs {
		x := &hs[i]
		if _, err := tx.ExecContext(ctx, `UPDATE hold SET released_90k = ?, released_by = ? WHERE id = ?`,
			at90k, by, x.ID); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		x.Released, x.ReleasedBy = media.FromTime90k(at90k), by
		if err := record(*x); err != nil {
			return nil, errs.E(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	return hs, nil
}

// List implements HoldStore.
func (s *SQLiteHolds) List(ctx context.Context, all bool) ([]Hold, error) {
	if all {
		return listHolds(ctx, s.db, `1`)
	}
	return listHolds(ctx, s.db, `released_90k IS NULL`)
}

// Get implements HoldStore.
func (s *SQLiteHolds) Get(ctx context.Context, id int64) (Hold, bool, error) {
	hs, err := listHolds(ctx, s.db, `id = ?`, id)
	if err != nil || len(hs) == 0 {
		return Hold{}, false, err
	}
	return hs[0], true, nil
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// listHolds returns the holds matching where, by id.
func listHolds(ctx context.Context, q querier, where string, args ...any) ([]Hold, error) {
	const op = "retention.Holds.List"
	rows, err := q.QueryContext(ctx, `SELECT id, owner, ref, reason, actor, cameras, from_90k, to_90k, created_90k,
		released_90k, released_by FROM hold WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer rows.Close()
	var out []Hold
	for rows.Next() {
		var x Hold
		var owner, cams string
		var from, to, created int64
		var rel sql.NullInt64
		var relBy sql.NullString
		if err := rows.Scan(&x.ID, &owner, &x.Ref, &x.Reason, &x.Actor, &cams, &from, &to, &created, &rel, &relBy); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		if err := json.Unmarshal([]byte(cams), &x.Cameras); err != nil {
			return nil, errs.Errorf(op, errs.Corrupt, "hold %d: cameras %q: %v", x.ID, cams, err)
		}
		x.Owner = Owner(owner)
		x.From, x.To, x.Created = media.FromTime90k(from), media.FromTime90k(to), media.FromTime90k(created)
		if rel.Valid {
			x.Released, x.ReleasedBy = media.FromTime90k(rel.Int64), relBy.String
		}
		out = append(out, x)
	}
	return out, sqlitedb.Err(op, rows.Err())
}

// held returns the active holds covering camera's [start, end).
func heldBy(hs []Hold, camera string, start, end int64) bool {
	for i := range hs {
		if hs[i].covers(camera, start, end) {
			return true
		}
	}
	return false
}
