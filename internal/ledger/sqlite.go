package ledger

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// schema is the ledger's SQLite schema. An entry is one row of two
// columns: nothing outside the hashed record decides what a query or an
// export shows, and Verify reads as little as possible per entry.
const schema = `
CREATE TABLE IF NOT EXISTS entry (
  seq INTEGER PRIMARY KEY, -- 1, 2, 3...: contiguous, equals the seq inside the body
  rec BLOB NOT NULL         -- body ‖ hash: the canonical encoding v1 (ledger.Encode) followed by its
                            -- 32-byte SHA-256, which the next entry's body holds as prev
);
CREATE TRIGGER IF NOT EXISTS entry_no_update BEFORE UPDATE ON entry
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS entry_no_delete BEFORE DELETE ON entry
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;
CREATE TABLE IF NOT EXISTS checkpoint (
  seq     INTEGER PRIMARY KEY, -- the entry this checkpoint seals (and every one before it)
  hash    BLOB NOT NULL,       -- that entry's hash
  time_ns INTEGER NOT NULL,    -- signing time, unix ns
  key_id  TEXT NOT NULL,       -- first 8 bytes of SHA-256(public key), hex
  sig     BLOB NOT NULL        -- Ed25519 over checkpointMessage(seq, hash, time)
);
CREATE TRIGGER IF NOT EXISTS checkpoint_no_update BEFORE UPDATE ON checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS checkpoint_no_delete BEFORE DELETE ON checkpoint
  BEGIN SELECT RAISE(ABORT, 'ledger checkpoints are append-only: DELETE refused'); END;
`

// sqliteStore keeps every SQL statement of the ledger in one place, so a
// PostgreSQL store can replace it with the same methods.
type sqliteStore struct {
	w *sql.DB // one writer connection
	r *sql.DB // readers
}

type row struct {
	seq  uint64
	body []byte
	hash [32]byte // stored hash (last 32 bytes of rec)
}

func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	// Memory-mapped reads spare Verify a read system call per page.
	q.Add("_pragma", "mmap_size(1073741824)")
	q.Add("_pragma", "cache_size(-16384)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		// Take the write lock at BEGIN, so the head read inside a write
		// transaction cannot change before the commit.
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string, readOnly bool) (*sqliteStore, error) {
	const op = "ledger.openSQLite"
	st := &sqliteStore{}
	var err error
	if !readOnly {
		// Create the file 0600 before SQLite does (it would use 0644);
		// its -wal and -shm files take the same mode.
		if err := createPrivate(path); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		if st.w, err = sql.Open("sqlite", dsn(path, false)); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		st.w.SetMaxOpenConns(1)
		if _, err := st.w.ExecContext(ctx, schema); err != nil {
			st.w.Close()
			return nil, errs.Errorf(op, errs.IO, "create schema in %s: %v", path, err)
		}
	}
	if st.r, err = sql.Open("sqlite", dsn(path, readOnly)); err != nil {
		st.close()
		return nil, errs.E(op, errs.IO, err)
	}
	st.r.SetMaxOpenConns(4)
	if readOnly {
		var n int
		if err := st.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name='entry'`).Scan(&n); err != nil || n == 0 {
			st.close()
			return nil, errs.Errorf(op, errs.NotExist, "%s is not a gwanje ledger (no entry table)", path)
		}
	}
	return st, nil
}

// splitRec splits a stored record into body and hash. A record too short
// to hold a hash gets one that matches no body.
func splitRec(seq uint64, rec []byte) row {
	r := row{seq: seq}
	if len(rec) < 32 {
		r.body = rec
		r.hash[0] = 1
		return r
	}
	r.body = rec[:len(rec)-32]
	copy(r.hash[:], rec[len(rec)-32:])
	return r
}

func createPrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	return f.Close()
}

func (st *sqliteStore) close() error {
	var err error
	if st.w != nil {
		err = st.w.Close()
	}
	if st.r != nil {
		if e := st.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

func (st *sqliteStore) last(ctx context.Context) (uint64, [32]byte, time.Time, error) {
	var seq uint64
	var ns int64
	var rec []byte
	err := st.r.QueryRowContext(ctx, `SELECT seq, rec FROM entry ORDER BY seq DESC LIMIT 1`).Scan(&seq, &rec)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, [32]byte{}, time.Time{}, nil
	}
	if err != nil {
		return 0, [32]byte{}, time.Time{}, errs.E("ledger.last", errs.IO, err)
	}
	r := splitRec(seq, rec)
	if len(r.body) >= offKind {
		ns = int64(binary.BigEndian.Uint64(r.body[offTime:]))
	}
	return seq, r.hash, time.Unix(0, ns).UTC(), nil
}

// appendBatch runs build with the stored head (last seq and hash, read
// inside the write transaction, so another process that appended meanwhile
// — the CLI while the server runs — is seen) and inserts the rows and
// checkpoint it returns, in one transaction: one fsync.
func (st *sqliteStore) appendBatch(ctx context.Context, build func(seq uint64, hash [32]byte) ([]row, *Checkpoint)) error {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var seq uint64
	var rec []byte
	err = tx.QueryRowContext(ctx, `SELECT seq, rec FROM entry ORDER BY seq DESC LIMIT 1`).Scan(&seq, &rec)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var head [32]byte
	if rec != nil {
		head = splitRec(seq, rec).hash
	}
	rows, cp := build(seq, head)
	if err := insertRows(ctx, tx, rows); err != nil {
		return err
	}
	if cp != nil {
		if err := insertCheckpoint(ctx, tx, *cp); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (st *sqliteStore) insert(ctx context.Context, rows []row, cp *Checkpoint) error {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertRows(ctx, tx, rows); err != nil {
		return err
	}
	if cp != nil {
		if err := insertCheckpoint(ctx, tx, *cp); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func insertRows(ctx context.Context, tx *sql.Tx, rows []row) error {
	// Multi-row INSERTs: one statement per insertChunk rows costs far less
	// per row than one statement per row.
	var stmt *sql.Stmt
	for len(rows) > 0 {
		n := min(len(rows), insertChunk)
		var err error
		if n == insertChunk && stmt == nil {
			if stmt, err = tx.PrepareContext(ctx, insertSQL(insertChunk)); err != nil {
				return err
			}
		}
		args := make([]any, 0, 2*n)
		for i := range rows[:n] {
			r := &rows[i]
			rec := make([]byte, 0, len(r.body)+32)
			rec = append(append(rec, r.body...), r.hash[:]...)
			args = append(args, int64(r.seq), rec)
		}
		if n == insertChunk {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(n), args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

const insertChunk = 64

func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO entry(seq, rec) VALUES (?, ?)`)
	for i := 1; i < n; i++ {
		b.WriteString(`, (?, ?)`)
	}
	return b.String()
}

func insertCheckpoint(ctx context.Context, tx *sql.Tx, cp Checkpoint) error {
	_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO checkpoint(seq, hash, time_ns, key_id, sig) VALUES (?, ?, ?, ?, ?)`,
		int64(cp.Seq), cp.Hash[:], cp.Time.UnixNano(), cp.KeyID, cp.Sig)
	return err
}

func (st *sqliteStore) insertCheckpoint(ctx context.Context, cp Checkpoint) error {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := insertCheckpoint(ctx, tx, cp); err != nil {
		return err
	}
	return tx.Commit()
}

func (st *sqliteStore) checkpoints(ctx context.Context) ([]Checkpoint, error) {
	rows, err := st.r.QueryContext(ctx, `SELECT seq, hash, time_ns, key_id, sig FROM checkpoint ORDER BY seq`)
	if err != nil {
		return nil, errs.E("ledger.checkpoints", errs.IO, err)
	}
	defer rows.Close()
	var out []Checkpoint
	for rows.Next() {
		var c Checkpoint
		var h []byte
		var ns int64
		if err := rows.Scan(&c.Seq, &h, &ns, &c.KeyID, &c.Sig); err != nil {
			return nil, errs.E("ledger.checkpoints", errs.IO, err)
		}
		copy(c.Hash[:], h)
		c.Time = time.Unix(0, ns).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

func (st *sqliteStore) lastCheckpoint(ctx context.Context) (Checkpoint, bool, error) {
	cps, err := st.checkpoints(ctx)
	if err != nil || len(cps) == 0 {
		return Checkpoint{}, false, err
	}
	return cps[len(cps)-1], true, nil
}

// scan calls fn for every entry row with from <= seq < to (to == 0: no
// end) in seq order. The slices passed to fn are only valid during the
// call. It talks to the driver directly: database/sql's per-row locking
// and conversions cost Verify about a sixth of its time.
func (st *sqliteStore) scan(ctx context.Context, from, to uint64, fn func(r *row) error) error {
	const op = "ledger.scan"
	if to == 0 {
		to = math.MaxInt64
	}
	c, err := st.r.Conn(ctx)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer c.Close()
	var fnErr error
	err = c.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver %T cannot query", dc)
		}
		rows, err := q.QueryContext(ctx, `SELECT seq, rec FROM entry WHERE seq >= ? AND seq < ? ORDER BY seq`,
			[]driver.NamedValue{{Ordinal: 1, Value: int64(from)}, {Ordinal: 2, Value: int64(to)}})
		if err != nil {
			return err
		}
		defer rows.Close()
		dest := make([]driver.Value, 2)
		for {
			if err := rows.Next(dest); err == io.EOF {
				return nil
			} else if err != nil {
				return err
			}
			seq, ok := dest[0].(int64)
			if !ok {
				return fmt.Errorf("entry row has a %T seq", dest[0])
			}
			// A record that is not a blob was tampered with; it fails
			// its hash check like any other edit.
			var rec []byte
			switch v := dest[1].(type) {
			case []byte:
				rec = v
			case string:
				rec = []byte(v)
			}
			r := splitRec(uint64(seq), rec)
			if fnErr = fn(&r); fnErr != nil {
				return nil
			}
		}
	})
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	return fnErr
}

// hashAt returns the stored hash of entry seq.
func (st *sqliteStore) hashAt(ctx context.Context, seq uint64) ([32]byte, bool, error) {
	var rec []byte
	var out [32]byte
	err := st.r.QueryRowContext(ctx, `SELECT rec FROM entry WHERE seq = ?`, int64(seq)).Scan(&rec)
	if errors.Is(err, sql.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, errs.E("ledger.hashAt", errs.IO, err)
	}
	return splitRec(seq, rec).hash, true, nil
}

// seqOfHash returns the seq of a stored entry whose hash is h.
func (st *sqliteStore) seqOfHash(ctx context.Context, h [32]byte) (uint64, bool, error) {
	var seq uint64
	// A full scan, run only once damage was found.
	err := st.r.QueryRowContext(ctx, `SELECT seq FROM entry WHERE length(rec) >= 32 AND substr(rec, length(rec) - 31) = ? LIMIT 1`, h[:]).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, errs.E("ledger.seqOfHash", errs.IO, err)
	}
	return seq, true, nil
}

func (st *sqliteStore) query(ctx context.Context, f Filter) ([]Entry, error) {
	const op = "ledger.Query"
	// Every filter runs on the decoded, hashed body: no unhashed column
	// can hide a row from an export. A year of a large site is a few
	// million entries, read in seconds.
	q := `SELECT seq, rec FROM entry ORDER BY seq`
	var args []any
	rows, err := st.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var seq uint64
		var rec sql.RawBytes
		if err := rows.Scan(&seq, &rec); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		e, err := Decode(splitRec(seq, rec).body)
		if err != nil {
			return nil, errs.E(op, err)
		}
		if f.match(&e) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return out, nil
}
