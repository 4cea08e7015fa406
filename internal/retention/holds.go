package retention

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
	_ "modernc.org/sqlite" // driver "sqlite"
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

// db is retention.db: holds, the clock high-water mark, broken promises.
type db struct{ sql *sql.DB }

func openDB(ctx context.Context, dir string) (*db, error) {
	const op = "retention.openDB"
	path := filepath.Join(dir, "retention.db")
	d, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	d.SetMaxOpenConns(1)
	var n int
	if err := d.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).Scan(&n); err != nil {
		d.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	if n == 0 {
		tx, err := d.BeginTx(ctx, nil)
		if err != nil {
			d.Close()
			return nil, errs.E(op, errs.IO, err)
		}
		_, err = tx.ExecContext(ctx, dbSchema)
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			d.Close()
			return nil, errs.E(op, errs.IO, err)
		}
	}
	var v int
	if err := d.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v); err != nil || v != 1 {
		d.Close()
		return nil, errs.Errorf(op, errs.Invalid, "%s: schema version %d (%v); this gwanje knows 1", path, v, err)
	}
	return &db{sql: d}, nil
}

func (d *db) close() error { return d.sql.Close() }

func ioErr(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.E(op, errs.Canceled, err)
	}
	return errs.E(op, errs.IO, err)
}

func (d *db) lastRun(ctx context.Context) (int64, bool, error) {
	var v sql.NullInt64
	err := d.sql.QueryRowContext(ctx, `SELECT last_run_90k FROM meta`).Scan(&v)
	return v.Int64, v.Valid, ioErr("retention.lastRun", err)
}

func (d *db) setLastRun(ctx context.Context, t int64) error {
	_, err := d.sql.ExecContext(ctx, `UPDATE meta SET last_run_90k = ?`, t)
	return ioErr("retention.setLastRun", err)
}

func (d *db) broken(ctx context.Context) (map[string]int64, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT camera, until_90k FROM broken`)
	if err != nil {
		return nil, ioErr("retention.broken", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var c string
		var u int64
		if err := rows.Scan(&c, &u); err != nil {
			return nil, ioErr("retention.broken", err)
		}
		out[c] = u
	}
	return out, ioErr("retention.broken", rows.Err())
}

func (d *db) setBroken(ctx context.Context, camera string, until int64) error {
	_, err := d.sql.ExecContext(ctx, `INSERT INTO broken (camera, until_90k) VALUES (?, ?)
		ON CONFLICT (camera) DO UPDATE SET until_90k = max(until_90k, excluded.until_90k)`, camera, until)
	return ioErr("retention.setBroken", err)
}

func (d *db) clearBroken(ctx context.Context, camera string) error {
	_, err := d.sql.ExecContext(ctx, `DELETE FROM broken WHERE camera = ?`, camera)
	return ioErr("retention.clearBroken", err)
}

// Holds is the hold list in a data directory's retention.db. It may be
// opened by a CLI while the recorder runs (SQLite serialises the writers).
// Placing and releasing a hold is recorded in the ledger, in the same
// retention.db transaction: if the ledger row cannot be written, the hold
// is not placed (or not released).
type Holds struct {
	db  *db
	now func() time.Time
	led ledger.Appender
}

// OpenHolds opens the hold list of data directory dir (creating
// retention.db if needed); led receives a row for every hold placed or
// released. With led nil the list is for reading: Add and Release fail.
func OpenHolds(ctx context.Context, dir string, led ledger.Appender, now func() time.Time) (*Holds, error) {
	d, err := openDB(ctx, dir)
	if err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	return &Holds{db: d, now: now, led: led}, nil
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

// Close closes the hold list.
func (h *Holds) Close() error { return h.db.close() }

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
	cams, _ := json.Marshal(x.Cameras)
	x.Created = h.now()
	tx, err := h.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return Hold{}, ioErr(op, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `INSERT INTO hold (owner, ref, reason, actor, cameras, from_90k, to_90k, created_90k)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, string(x.Owner), x.Ref, x.Reason, x.Actor, string(cams),
		media.Time90k(x.From), media.Time90k(x.To), media.Time90k(x.Created))
	if err != nil {
		return Hold{}, ioErr(op, err)
	}
	x.ID, _ = res.LastInsertId()
	x.Released, x.ReleasedBy = time.Time{}, ""
	if _, err := h.led.Append(ctx, holdEntry(&x, false, x.Actor)); err != nil {
		return Hold{}, errs.E(op, fmt.Errorf("ledger row for hold %d: %w", x.ID, err))
	}
	if err := tx.Commit(); err != nil {
		return Hold{}, ioErr(op, err)
	}
	return x, nil
}

// Release ends hold id. Releasing a released hold is an errs.Conflict.
func (h *Holds) Release(ctx context.Context, id int64, actor string) error {
	const op = "retention.Holds.Release"
	n, err := h.release(ctx, `id = ?`, []any{id}, actor)
	if err != nil {
		return errs.E(op, err)
	}
	if n == 1 {
		return nil
	}
	var x int
	if err := h.db.sql.QueryRowContext(ctx, `SELECT count(*) FROM hold WHERE id = ?`, id).Scan(&x); err != nil {
		return ioErr(op, err)
	}
	if x == 0 {
		return errs.Errorf(op, errs.NotExist, "no hold %d", id)
	}
	return errs.Errorf(op, errs.Conflict, "hold %d is already released", id)
}

// ReleaseOwned releases every active hold of owner with reference ref (a
// request closed, a provision done) and returns how many it released.
func (h *Holds) ReleaseOwned(ctx context.Context, owner Owner, ref, actor string) (int, error) {
	n, err := h.release(ctx, `owner = ? AND ref = ?`, []any{string(owner), ref}, actor)
	if err != nil {
		return 0, errs.E("retention.Holds.ReleaseOwned", err)
	}
	return n, nil
}

// release releases the active holds matching where, each with its ledger
// row, in one transaction, and returns how many.
func (h *Holds) release(ctx context.Context, where string, args []any, actor string) (int, error) {
	const op = "retention.Holds.release"
	if h.led == nil {
		return 0, errs.Errorf(op, errs.Invalid, "hold list opened without a ledger: releasing a hold is recorded")
	}
	tx, err := h.db.sql.BeginTx(ctx, nil)
	if err != nil {
		return 0, ioErr(op, err)
	}
	defer tx.Rollback()
	hs, err := listHolds(ctx, tx, `released_90k IS NULL AND `+where, args...)
	if err != nil {
		return 0, err
	}
	now := h.now()
	for i := range hs {
		x := &hs[i]
		if _, err := tx.ExecContext(ctx, `UPDATE hold SET released_90k = ?, released_by = ? WHERE id = ?`,
			media.Time90k(now), actor, x.ID); err != nil {
			return 0, ioErr(op, err)
		}
		if _, err := h.led.Append(ctx, holdEntry(x, true, actor)); err != nil {
			return 0, errs.E(op, fmt.Errorf("ledger row for hold %d: %w", x.ID, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, ioErr(op, err)
	}
	return len(hs), nil
}

// List returns the holds, active ones only unless all, by id.
func (h *Holds) List(ctx context.Context, all bool) ([]Hold, error) {
	if all {
		return listHolds(ctx, h.db.sql, `1`)
	}
	return listHolds(ctx, h.db.sql, `released_90k IS NULL`)
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
		return nil, ioErr(op, err)
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
			return nil, ioErr(op, err)
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
	return out, ioErr(op, rows.Err())
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
