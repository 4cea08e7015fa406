package alarm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// sqliteMigrations are alarms.db's schema, oldest first (the sqlitedb
// convention: append only). docs/design/health.md comments each column;
// keep the two in step.
var sqliteMigrations = []string{`
CREATE TABLE alarm (
  id         INTEGER PRIMARY KEY, -- Alarm.ID, given by the Manager, never reused
  key        TEXT UNIQUE,         -- Alarm.Key: an event's identity (kind/subject/start ns); NULL for a condition
  kind       TEXT NOT NULL,       -- Kind
  subject    TEXT NOT NULL,       -- camera id or volume name
  start_ns   INTEGER NOT NULL,    -- From for an event, else Raised (Unix ns)
  end_ns     INTEGER,             -- To for an event, else Cleared; NULL while active
  cleared    INTEGER NOT NULL,    -- 1 once cleared
  acked      INTEGER NOT NULL,    -- 1 once acknowledged
  body       TEXT NOT NULL        -- the Alarm in its latest state, as JSON
);
CREATE INDEX alarm_attention ON alarm (id) WHERE cleared = 0 OR acked = 0;
CREATE INDEX alarm_period ON alarm (start_ns);
CREATE TABLE event (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT, -- order of the changes
  alarm  INTEGER NOT NULL REFERENCES alarm (id),
  change TEXT NOT NULL,                     -- raised, updated, cleared, acked
  at_ns  INTEGER NOT NULL,                  -- when (Unix ns)
  body   TEXT NOT NULL                      -- the Event as JSON
);
CREATE INDEX event_alarm ON event (alarm, seq);
`}

// SQLiteStore is the Store in a SQLite file (alarms.db), opened through
// internal/sqlitedb: mode 0600, WAL, synchronous FULL, so a change is on
// disk before it is notified.
type SQLiteStore struct {
	db *sql.DB
}

// OpenSQLite opens (creating if needed) the alarm store at path. If the
// store is new and legacyJournal names an existing JSON-lines journal (the
// alarms.jsonl of gwanje before alarms.db), its events are imported in one
// transaction and the file is then renamed to legacyJournal + ".imported".
func OpenSQLite(ctx context.Context, path, legacyJournal string) (*SQLiteStore, error) {
	const op = "alarm.OpenSQLite"
	db, err := sqlitedb.Open(ctx, op, path, sqlitedb.Options{Migrations: sqliteMigrations})
	if err != nil {
		return nil, err
	}
	s := &SQLiteStore{db: db}
	if legacyJournal != "" {
		if err := s.importJournal(ctx, legacyJournal); err != nil {
			db.Close()
			return nil, errs.E(op, err)
		}
	}
	return s, nil
}

func (s *SQLiteStore) importJournal(ctx context.Context, path string) error {
	const op = "alarm.importJournal"
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM alarm`).Scan(&n); err != nil {
		return sqlitedb.Err(op, err)
	}
	if n == 0 {
		events, err := ReadJournal(path)
		if err != nil {
			return err
		}
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return sqlitedb.Err(op, err)
		}
		defer tx.Rollback()
		for _, e := range events {
			// The journal of old raised a gap again after every restart:
			// each copy keeps its own row, without a key but the first's.
			if e.Alarm.Key == "" && !e.Alarm.From.IsZero() {
				k := EventKey(e.Alarm.Kind, e.Alarm.Subject, e.Alarm.From)
				var other sql.NullInt64
				err := tx.QueryRowContext(ctx, `SELECT id FROM alarm WHERE key = ?`, k).Scan(&other)
				if errors.Is(err, sql.ErrNoRows) || other.Int64 == int64(e.Alarm.ID) {
					e.Alarm.Key = k
				} else if err != nil {
					return sqlitedb.Err(op, err)
				}
			}
			if err := record(ctx, tx, e); err != nil {
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return sqlitedb.Err(op, err)
		}
	}
	// Imported (now or by a run that stopped before the rename).
	if err := os.Rename(path, path+".imported"); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return errs.E("alarm.syncDir", errs.IO, err)
	}
	defer d.Close()
	return sqlitedb.Err("alarm.syncDir", d.Sync())
}

// ioErr wraps a database error for op; nil stays nil.

func nsOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

// Record implements Store.
func (s *SQLiteStore) Record(ctx context.Context, e Event) error {
	const op = "alarm.SQLiteStore.Record"
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sqlitedb.Err(op, err)
	}
	defer tx.Rollback()
	if err := record(ctx, tx, e); err != nil {
		return errs.E(op, err)
	}
	return sqlitedb.Err(op, tx.Commit())
}

func record(ctx context.Context, tx *sql.Tx, e Event) error {
	const op = "alarm.record"
	a := &e.Alarm
	body, err := json.Marshal(a)
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	ev, err := json.Marshal(e)
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	start, end := a.Raised, a.Cleared
	if !a.From.IsZero() {
		start, end = a.From, a.To
	}
	var k any
	if a.Key != "" {
		k = a.Key
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alarm (id, key, kind, subject, start_ns, end_ns, cleared, acked, body)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET key = excluded.key, kind = excluded.kind, subject = excluded.subject,
		  start_ns = excluded.start_ns, end_ns = excluded.end_ns, cleared = excluded.cleared, acked = excluded.acked,
		  body = excluded.body`,
		int64(a.ID), k, string(a.Kind), a.Subject, start.UnixNano(), nsOrNull(end), b2i(!a.Active()), b2i(a.Acked()),
		string(body)); err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return errs.Errorf(op, errs.Exist, "alarm %d: another alarm has key %s", a.ID, a.Key)
		}
		return sqlitedb.Err(op, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO event (alarm, change, at_ns, body) VALUES (?, ?, ?, ?)`,
		int64(a.ID), string(e.Change), e.At.UnixNano(), string(ev))
	return sqlitedb.Err(op, err)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *SQLiteStore) alarms(ctx context.Context, op, query string, args ...any) ([]Alarm, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, sqlitedb.Err(op, err)
	}
	defer rows.Close()
	var out []Alarm
	for rows.Next() {
		var id int64
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			return nil, sqlitedb.Err(op, err)
		}
		var a Alarm
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, errs.Errorf(op, errs.Corrupt, "alarm %d: %v", id, err)
		}
		out = append(out, a)
	}
	return out, sqlitedb.Err(op, rows.Err())
}

// Load implements Store.
func (s *SQLiteStore) Load(ctx context.Context, keep int) ([]Alarm, uint64, error) {
	const op = "alarm.SQLiteStore.Load"
	out, err := s.alarms(ctx, op, `SELECT id, body FROM (
		  SELECT id, body FROM alarm WHERE cleared = 0 OR acked = 0
		  UNION ALL
		  SELECT * FROM (SELECT id, body FROM alarm WHERE cleared = 1 AND acked = 1 ORDER BY id DESC LIMIT ?)
		) ORDER BY id`, max(keep, 0))
	if err != nil {
		return nil, 0, err
	}
	var last sql.NullInt64
	if err := s.db.QueryRowContext(ctx, `SELECT max(id) FROM alarm`).Scan(&last); err != nil {
		return nil, 0, sqlitedb.Err(op, err)
	}
	return out, uint64(last.Int64) + 1, nil
}

// Find implements Store.
func (s *SQLiteStore) Find(ctx context.Context, key string) (Alarm, bool, error) {
	as, err := s.alarms(ctx, "alarm.SQLiteStore.Find", `SELECT id, body FROM alarm WHERE key = ?`, key)
	if err != nil || len(as) == 0 {
		return Alarm{}, false, err
	}
	return as[0], true, nil
}

// Get implements Store.
func (s *SQLiteStore) Get(ctx context.Context, id uint64) (Alarm, bool, error) {
	as, err := s.alarms(ctx, "alarm.SQLiteStore.Get", `SELECT id, body FROM alarm WHERE id = ?`, int64(id))
	if err != nil || len(as) == 0 {
		return Alarm{}, false, err
	}
	return as[0], true, nil
}

// Between implements Store.
func (s *SQLiteStore) Between(ctx context.Context, from, to time.Time) ([]Alarm, error) {
	return s.alarms(ctx, "alarm.SQLiteStore.Between", `SELECT id, body FROM alarm
		WHERE start_ns < ? AND (end_ns IS NULL OR end_ns >= ?) ORDER BY id`, to.UnixNano(), from.UnixNano())
}

// Close implements Store.
func (s *SQLiteStore) Close() error { return s.db.Close() }
