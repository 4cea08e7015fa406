package ledger

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// schema is the ledger's SQLite schema. The body column is the source of
// truth; time_ns is a copy for range queries that Verify checks against
// the body. Site and kind filters run on the decoded body.
const schema = `
CREATE TABLE IF NOT EXISTS entry (
  seq     INTEGER PRIMARY KEY, -- 1, 2, 3...: contiguous, equals the seq inside body
  time_ns INTEGER NOT NULL,    -- append time, unix ns (copy of body)
  body    BLOB NOT NULL,       -- canonical encoding v1 (ledger.Encode)
  hash    BLOB NOT NULL        -- SHA-256(body); the next entry's body holds it as prev
);
CREATE INDEX IF NOT EXISTS entry_time ON entry(time_ns);
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
	seq    uint64
	timeNS int64
	body   []byte
	hash   [32]byte
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
	var h []byte
	var ns int64
	err := st.r.QueryRowContext(ctx, `SELECT seq, hash, time_ns FROM entry ORDER BY seq DESC LIMIT 1`).Scan(&seq, &h, &ns)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, [32]byte{}, time.Time{}, nil
	}
	if err != nil {
		return 0, [32]byte{}, time.Time{}, errs.E("ledger.last", errs.IO, err)
	}
	var hh [32]byte
	copy(hh[:], h)
	return seq, hh, time.Unix(0, ns).UTC(), nil
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
	var h []byte
	var head [32]byte
	err = tx.QueryRowContext(ctx, `SELECT seq, hash FROM entry ORDER BY seq DESC LIMIT 1`).Scan(&seq, &h)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	copy(head[:], h)
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
		args := make([]any, 0, 4*n)
		for i := range rows[:n] {
			r := &rows[i]
			args = append(args, int64(r.seq), r.timeNS, r.body, r.hash[:])
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
	b.WriteString(`INSERT INTO entry(seq, time_ns, body, hash) VALUES (?, ?, ?, ?)`)
	for i := 1; i < n; i++ {
		b.WriteString(`, (?, ?, ?, ?)`)
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
// end) in seq order. The slices passed to fn are only valid during the call.
func (st *sqliteStore) scan(ctx context.Context, from, to uint64, fn func(r *row) error) error {
	const op = "ledger.scan"
	if to == 0 {
		to = math.MaxInt64
	}
	rows, err := st.r.QueryContext(ctx, `SELECT seq, time_ns, body, hash FROM entry WHERE seq >= ? AND seq < ? ORDER BY seq`, int64(from), int64(to))
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer rows.Close()
	var r row
	var body, hash sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&r.seq, &r.timeNS, &body, &hash); err != nil {
			return errs.E(op, errs.IO, err)
		}
		r.body = body
		if len(hash) != 32 {
			r.hash = [32]byte{}
			r.hash[0] = ^r.hash[0] // never matches a real hash of body
		} else {
			copy(r.hash[:], hash)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// hashAt returns the stored hash of entry seq.
func (st *sqliteStore) hashAt(ctx context.Context, seq uint64) ([32]byte, bool, error) {
	var h []byte
	var out [32]byte
	err := st.r.QueryRowContext(ctx, `SELECT hash FROM entry WHERE seq = ?`, int64(seq)).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return out, false, nil
	}
	if err != nil {
		return out, false, errs.E("ledger.hashAt", errs.IO, err)
	}
	copy(out[:], h)
	return out, true, nil
}

// seqOfHash returns the seq of a stored entry whose hash is h.
func (st *sqliteStore) seqOfHash(ctx context.Context, h [32]byte) (uint64, bool, error) {
	var seq uint64
	err := st.r.QueryRowContext(ctx, `SELECT seq FROM entry WHERE hash = ? LIMIT 1`, h[:]).Scan(&seq)
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
	q := `SELECT body FROM entry WHERE 1=1`
	var args []any
	if !f.From.IsZero() {
		q += ` AND time_ns >= ?`
		args = append(args, f.From.UnixNano())
	}
	if !f.To.IsZero() {
		q += ` AND time_ns < ?`
		args = append(args, f.To.UnixNano())
	}
	q += ` ORDER BY seq`
	rows, err := st.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		e, err := Decode(b)
		if err != nil {
			return nil, errs.E(op, err)
		}
		// Filter on the decoded body: the time column is only a copy.
		if f.match(&e) {
			out = append(out, e)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return out, nil
}
