package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/sqlitedb"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// migrations are the ledger's SQLite schema, oldest first, in the
// internal/sqlitedb convention: PRAGMA user_version is how many have been
// applied. Append only. An entry is stored as one record, body ‖ hash:
// nothing outside the hashed record decides what a query or an export
// shows. Each commit stores its new entries as one row of tail (split where
// a pack will end); once more than packEntries entries are unpacked, the
// oldest packEntries of them are moved, in one transaction, into one row of
// pack. Verify and Query step one SQLite row per pack (and per tail row)
// instead of one per entry. entry rows are version 1's storage, one entry
// each: a migrated ledger packs them and keeps only the newest.
//
// The versions are the ones the ledger kept in user_version before
// sqlitedb: 1 (or 0 in a file of the first release, which Legacy maps to
// 1) entry rows only, every DELETE refused; 2 packs and tail rows; 3 the
// rotation table. IF NOT EXISTS keeps each script harmless on a file
// that already has its tables.
var migrations = []string{
	// 1: entry rows and checkpoints.
	`
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
`,
	// 2: packs and tail rows. entry_no_delete, which refused every
	// DELETE, is replaced by one that lets only packing remove an entry
	// row: a row whose seq a pack already covers (packs are contiguous
	// from 1, so the last pack's last seq bounds them all).
	`
CREATE TABLE IF NOT EXISTS pack (
  first INTEGER PRIMARY KEY, -- seq of the pack's first entry; packs are contiguous from 1, entry and tail rows follow
  last  INTEGER NOT NULL,    -- seq of its last entry (first + count - 1): lets the delete triggers check a row is
                             -- packed; Verify checks it against the count
  recs  BLOB NOT NULL        -- pack encoding v1: u8 1, then per entry uvarint length ‖ rec (the entry row's bytes)
);
CREATE TRIGGER IF NOT EXISTS pack_no_update BEFORE UPDATE ON pack
  BEGIN SELECT RAISE(ABORT, 'ledger packs are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS pack_no_delete BEFORE DELETE ON pack
  BEGIN SELECT RAISE(ABORT, 'ledger packs are append-only: DELETE refused'); END;
CREATE TABLE IF NOT EXISTS tail (
  first INTEGER PRIMARY KEY, -- seq of the row's first entry; tail rows are contiguous, after the packs and entry rows
  last  INTEGER NOT NULL,    -- seq of its last entry; a tail row never spans the end of a pack to come
  recs  BLOB NOT NULL        -- pack encoding v1, as pack.recs
);
CREATE TRIGGER IF NOT EXISTS tail_no_update BEFORE UPDATE ON tail
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS tail_no_delete BEFORE DELETE ON tail
  WHEN OLD.last > coalesce((SELECT last FROM pack ORDER BY first DESC LIMIT 1), 0)
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;
DROP TRIGGER IF EXISTS entry_no_delete;
CREATE TRIGGER entry_no_delete BEFORE DELETE ON entry
  WHEN OLD.seq > coalesce((SELECT last FROM pack ORDER BY first DESC LIMIT 1), 0)
  BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: DELETE refused'); END;
`,
	// 3: the copies of key rotation entries (docs/design/ledger.md, "Key rotation").
	`
CREATE TABLE IF NOT EXISTS rotation (
  seq INTEGER PRIMARY KEY, -- the key rotation entry's seq
  rec BLOB NOT NULL         -- a copy of that entry's record (body ‖ hash): its Detail is the rotation statement, signed
                            -- by the old and the new key; Verify checks the chain holds the same record at seq
);
CREATE TRIGGER IF NOT EXISTS rotation_no_update BEFORE UPDATE ON rotation
  BEGIN SELECT RAISE(ABORT, 'ledger key rotations are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS rotation_no_delete BEFORE DELETE ON rotation
  BEGIN SELECT RAISE(ABORT, 'ledger key rotations are append-only: DELETE refused'); END;
`,
}

// schemaVersion is the PRAGMA user_version of the current schema.
var schemaVersion = len(migrations)

// legacyVersion reads the version of a file written before sqlitedb whose
// user_version is 0: the first release never set it, and had only entry
// rows and checkpoints (version 1).
func legacyVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type='table' AND name='entry'`).Scan(&n); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, fmt.Errorf("not a gwanje ledger (no entry table)")
	}
	return 1, nil
}

// sqliteStore is the ledger's Store in SQLite. It keeps every SQL
// statement of the ledger in this file.
type sqliteStore struct {
	w *sql.DB // the writer: one connection (nil when read-only)
	r *sql.DB // readers, query_only
}

var _ Store = (*sqliteStore)(nil)

// OpenSQLite opens the ledger database at path through internal/sqlitedb:
// a writer connection (created 0600, migrated, its backlog packed) and a
// pool of readers; read-only, only the readers, and the file is neither
// created nor migrated (a version 1 ledger is read as it is).
func OpenSQLite(ctx context.Context, path string, readOnly bool) (Store, error) {
	return openSQLite(ctx, path, readOnly)
}

func openSQLite(ctx context.Context, path string, readOnly bool) (*sqliteStore, error) {
	const op = "ledger.openSQLite"
	st := &sqliteStore{}
	var err error
	if !readOnly {
		if st.w, err = sqlitedb.Open(ctx, op, path, sqlitedb.Options{Migrations: migrations, Legacy: legacyVersion}); err != nil {
			return nil, err
		}
		if err := st.packAll(ctx, path); err != nil {
			st.Close()
			return nil, errs.E(op, err)
		}
	}
	if st.r, err = sqlitedb.Open(ctx, op, path, sqlitedb.Options{ReadOnly: true, MaxOpenConns: 4}); err != nil {
		st.Close()
		return nil, err
	}
	if readOnly {
		var n int
		if err := st.r.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name='entry'`).Scan(&n); err != nil || n == 0 {
			st.Close()
			return nil, errs.Errorf(op, errs.NotExist, "%s is not a gwanje ledger (no entry table)", path)
		}
		v, err := sqlitedb.Version(ctx, st.r)
		if err != nil {
			st.Close()
			return nil, err
		}
		if v > schemaVersion {
			st.Close()
			return nil, errs.Errorf(op, errs.Invalid, "%s has ledger schema version %d; this gwanje reads up to %d", path, v, schemaVersion)
		}
	}
	return st, nil
}

// packAll packs any backlog of unpacked entries (a ledger written before
// packs existed) in transactions of 64 packs.
func (st *sqliteStore) packAll(ctx context.Context, path string) error {
	for {
		n, err := st.packBacklog(ctx)
		if err != nil {
			return errs.Errorf("ledger.packAll", errs.IO, "pack entries of %s: %v", path, err)
		}
		if n == 0 {
			return nil
		}
	}
}

// packBacklog writes up to 64 packs in one transaction and reports how many.
func (st *sqliteStore) packBacklog(ctx context.Context) (int, error) {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	seq, _, err := headTx(ctx, tx)
	if err != nil {
		return 0, err
	}
	_, n, _, err := packTail(ctx, tx, seq, nil, 64)
	if err != nil || n == 0 {
		return 0, err
	}
	return n, tx.Commit()
}

// splitRec splits a stored record into body and hash. A record too short
// to hold a hash gets one that matches no body.
func splitRec(seq uint64, rec []byte) Record {
	r := Record{Seq: seq}
	if len(rec) < 32 {
		r.Body = rec
		r.Hash[0] = 1
		return r
	}
	r.Body = rec[:len(rec)-32]
	copy(r.Hash[:], rec[len(rec)-32:])
	return r
}

// Close closes the connections.
func (st *sqliteStore) Close() error {
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

// queryer is a *sql.Tx, *sql.Conn or *sql.DB.
type queryer interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// headTx returns the stored head: the last record of whichever of the last
// pack, entry row and tail row ends highest.
func headTx(ctx context.Context, q queryer) (uint64, Record, error) {
	var best Record
	var bestSeq uint64
	var seq uint64
	var rec []byte
	err := q.QueryRowContext(ctx, `SELECT seq, rec FROM entry ORDER BY seq DESC LIMIT 1`).Scan(&seq, &rec)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, Record{}, err
	}
	if err == nil {
		best, bestSeq = splitRec(seq, rec), seq
	}
	for _, table := range []string{"pack", "tail"} {
		var first, last uint64
		var recs []byte
		err := q.QueryRowContext(ctx, `SELECT first, last, recs FROM `+table+` ORDER BY first DESC LIMIT 1`).Scan(&first, &last, &recs)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return 0, Record{}, err
		}
		if last > bestSeq {
			rows, _ := parsePack(first, recs, nil)
			if len(rows) > 0 {
				best, bestSeq = rows[len(rows)-1], last
			}
		}
	}
	return best.Seq, best, nil
}

// Head returns the last stored record.
func (st *sqliteStore) Head(ctx context.Context) (Record, error) {
	_, r, err := headTx(ctx, st.r)
	if err != nil {
		return Record{}, errs.E("ledger.Head", errs.IO, err)
	}
	return r, nil
}

// appendBatch runs build with the stored head (last seq and hash, read
// inside the write transaction, so another process that appended meanwhile
// — the CLI while the server runs — is seen), writes the rows and
// checkpoint it returns, packing what is due, in one transaction: one
// fsync. An error from build aborts the transaction.
func (st *sqliteStore) Append(ctx context.Context, build func(h Head) (Batch, error)) error {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	seq, h, err := headTx(ctx, tx)
	if err != nil {
		return err
	}
	b, err := build(Head{Seq: seq, Hash: h.Hash, KeyID: func() (string, error) { return currentKeyID(ctx, tx) }})
	if err != nil {
		return err
	}
	if b.Rotation {
		r := &b.Records[0]
		if _, err := tx.ExecContext(ctx, `INSERT INTO rotation(seq, rec) VALUES (?, ?)`, int64(r.Seq), append(bytes.Clone(r.Body), r.Hash[:]...)); err != nil {
			return err
		}
	}
	if err := writeRows(ctx, tx, seq, b.Records, b.Checkpoint, packsPerCommit); err != nil {
		return err
	}
	return tx.Commit()
}

// currentKeyID is storeHead.keyID.
func currentKeyID(ctx context.Context, q queryer) (string, error) {
	var rec []byte
	err := q.QueryRowContext(ctx, `SELECT rec FROM rotation ORDER BY seq DESC LIMIT 1`).Scan(&rec)
	if err == nil {
		r, err := rotationOfRec(rec)
		if err != nil {
			return "", err
		}
		return keyID(r.New), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	var id string
	err = q.QueryRowContext(ctx, `SELECT key_id FROM checkpoint ORDER BY seq DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// rotationOfRec parses a rotation table record.
func rotationOfRec(rec []byte) (Rotation, error) {
	if len(rec) < 32 {
		return Rotation{}, fmt.Errorf("rotation record of %d bytes", len(rec))
	}
	e, err := Decode(rec[:len(rec)-32])
	if err != nil {
		return Rotation{}, err
	}
	return ParseRotation(&e)
}

// currentKeyID returns the id of the key due to sign the next checkpoint
// (storeHead.keyID), outside a write transaction.
func (st *sqliteStore) CurrentKeyID(ctx context.Context) (string, error) {
	return currentKeyID(ctx, st.r)
}

// insert writes rows that follow entry seq and a checkpoint without
// reading the head (tests and benchmarks build chains with it), packing
// like appendBatch.
func (st *sqliteStore) insert(ctx context.Context, seq uint64, rows []Record, cp *Checkpoint) error {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := writeRows(ctx, tx, seq, rows, cp, 1<<30); err != nil {
		return err
	}
	return tx.Commit()
}

// writeRows stores fresh rows seq+1, seq+2... and cp in tx. Fresh rows
// that fall into a pack due now go straight into it; the others become
// tail rows.
func writeRows(ctx context.Context, tx *sql.Tx, seq uint64, rows []Record, cp *Checkpoint, maxPacks int) error {
	lastPacked, _, packed, err := packTail(ctx, tx, seq, rows, maxPacks)
	if err != nil {
		return err
	}
	if err := insertTail(ctx, tx, lastPacked, rows[packed:]); err != nil {
		return err
	}
	if cp != nil {
		_, err := insertCheckpoint(ctx, tx, *cp)
		return err
	}
	return nil
}

// insertTail stores rows as tail rows, one per run that ends where a pack
// will end (lastPacked + k·packEntries), so packing never splits a row.
func insertTail(ctx context.Context, tx *sql.Tx, lastPacked uint64, rows []Record) error {
	size := uint64(packEntries)
	for len(rows) > 0 {
		first := rows[0].Seq
		n := len(rows)
		if first > lastPacked {
			end := lastPacked + ((first-lastPacked-1)/size+1)*size // the pack that will hold first ends here
			n = int(min(uint64(n), end-first+1))
		}
		blob := []byte{packV1}
		for i := range rows[:n] {
			blob = appendRow(blob, &rows[i])
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tail(first, last, recs) VALUES (?, ?, ?)`, int64(first), int64(rows[n-1].Seq), blob); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// appendRow appends a row's record (body ‖ hash) to a pack encoding.
func appendRow(b []byte, r *Record) []byte {
	b = binary.AppendUvarint(b, uint64(len(r.Body)+32))
	return append(append(b, r.Body...), r.Hash[:]...)
}

// packTail writes packs of packEntries entries while more than
// packEntries entries would be unpacked (so the newest entry always stays
// unpacked), at most maxPacks. The stored entries end at seq; fresh rows
// (seq+1...) are not stored yet. A pack takes stored entries first (entry
// rows, then tail rows), which it moves — insert the pack, then delete the
// rows, which the triggers allow once a pack covers them — then fresh
// rows. Records are copied byte for byte, in seq order; a stored run that
// is not contiguous, or a tail row that spans the pack's end (a damaged
// ledger), is left unpacked for Verify to report. It returns the last
// packed seq, how many packs it wrote and how many fresh rows went into
// them.
func packTail(ctx context.Context, tx *sql.Tx, seq uint64, fresh []Record, maxPacks int) (lastPacked uint64, packs, used int, err error) {
	err = tx.QueryRowContext(ctx, `SELECT last FROM pack ORDER BY first DESC LIMIT 1`).Scan(&lastPacked)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, 0, err
	}
	head := seq + uint64(len(fresh))
	size := uint64(packEntries)
	for ; packs < maxPacks && lastPacked <= seq && head-lastPacked > size; packs++ {
		first, last := lastPacked+1, lastPacked+size
		blob := make([]byte, 1, int(size)*200)
		blob[0] = packV1
		if first <= seq {
			var ok bool
			if ok, blob, err = readStored(ctx, tx, first, min(last, seq), blob); err != nil || !ok {
				return lastPacked, packs, used, err
			}
		}
		for s := max(first, seq+1); s <= last; s++ {
			blob = appendRow(blob, &fresh[s-seq-1])
			used++
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pack(first, last, recs) VALUES (?, ?, ?)`, int64(first), int64(last), blob); err != nil {
			return lastPacked, packs, used, err
		}
		if first <= seq {
			for _, q := range []string{`DELETE FROM entry WHERE seq >= ? AND seq <= ?`, `DELETE FROM tail WHERE first >= ? AND first <= ?`} {
				if _, err := tx.ExecContext(ctx, q, int64(first), int64(min(last, seq))); err != nil {
					return lastPacked, packs, used, err
				}
			}
		}
		lastPacked = last
	}
	return lastPacked, packs, used, nil
}

// readStored appends the stored entries first..last (entry rows, then tail
// rows) to a pack encoding, or reports false when they are not exactly
// those entries, contiguous.
func readStored(ctx context.Context, tx *sql.Tx, first, last uint64, blob []byte) (bool, []byte, error) {
	expect := first
	rows, err := tx.QueryContext(ctx, `SELECT seq, rec FROM entry WHERE seq >= ? AND seq <= ? ORDER BY seq`, int64(first), int64(last))
	if err != nil {
		return false, nil, err
	}
	for rows.Next() {
		var seq uint64
		var rec sql.RawBytes
		if err := rows.Scan(&seq, &rec); err != nil {
			rows.Close()
			return false, nil, err
		}
		if seq != expect {
			rows.Close()
			return false, nil, nil
		}
		blob = appendPackRecord(blob, rec)
		expect++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, nil, err
	}
	rows, err = tx.QueryContext(ctx, `SELECT first, last, recs FROM tail WHERE first >= ? AND first <= ? ORDER BY first`, int64(first), int64(last))
	if err != nil {
		return false, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var tf, tl uint64
		var recs sql.RawBytes
		if err := rows.Scan(&tf, &tl, &recs); err != nil {
			return false, nil, err
		}
		n, perr := countPack(recs)
		if tf != expect || tl > last || perr != nil || tl != tf+uint64(n)-1 {
			return false, nil, nil
		}
		blob = append(blob, recs[1:]...)
		expect = tl + 1
	}
	if err := rows.Err(); err != nil {
		return false, nil, err
	}
	return expect == last+1, blob, nil
}

func insertCheckpoint(ctx context.Context, tx *sql.Tx, cp Checkpoint) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO checkpoint(seq, hash, time_ns, key_id, sig) VALUES (?, ?, ?, ?, ?)`,
		int64(cp.Seq), cp.Hash[:], cp.Time.UnixNano(), cp.KeyID, cp.Sig)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// insertCheckpoint stores cp and reports whether it was new: another
// process may have sealed the same entry first (its checkpoint stays, and
// only that one goes to the witnesses).
func (st *sqliteStore) AddCheckpoint(ctx context.Context, cp Checkpoint) (bool, error) {
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	ok, err := insertCheckpoint(ctx, tx, cp)
	if err != nil {
		return false, err
	}
	return ok, tx.Commit()
}

type queryContexter interface {
	QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error)
}

func checkpoints(ctx context.Context, q queryContexter) ([]Checkpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, hash, time_ns, key_id, sig FROM checkpoint ORDER BY seq`)
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

func (st *sqliteStore) LastCheckpoint(ctx context.Context) (Checkpoint, bool, error) {
	var c Checkpoint
	var h []byte
	var ns int64
	err := st.r.QueryRowContext(ctx, `SELECT seq, hash, time_ns, key_id, sig FROM checkpoint ORDER BY seq DESC LIMIT 1`).Scan(&c.Seq, &h, &ns, &c.KeyID, &c.Sig)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, errs.E("ledger.lastCheckpoint", errs.IO, err)
	}
	copy(c.Hash[:], h)
	c.Time = time.Unix(0, ns).UTC()
	return c, true, nil
}

// snapshot is one read transaction on one connection: every read through
// it sees the same state of the database, whatever a writer commits (and
// packs) meanwhile.
type sqliteSnapshot struct {
	c       *sql.Conn
	hasPack bool // false for a ledger written before packs, opened read-only
	hasTail bool
	hasRot  bool // false before schema version 3, opened read-only
}

// Snapshot opens one read transaction on one reader connection.
func (st *sqliteStore) Snapshot(ctx context.Context) (Snapshot, error) { return st.snapshot(ctx) }

func (st *sqliteStore) snapshot(ctx context.Context) (*sqliteSnapshot, error) {
	const op = "ledger.snapshot"
	c, err := st.r.Conn(ctx)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	s := &sqliteSnapshot{c: c}
	// Memory-mapped reads spare Verify a read system call per page; a
	// larger page cache helps the walk. Per connection, so set here.
	if _, err := c.ExecContext(ctx, `PRAGMA mmap_size = 1073741824; PRAGMA cache_size = -16384`); err != nil {
		c.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	if _, err := c.ExecContext(ctx, `BEGIN`); err != nil {
		c.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	// The first read starts the read transaction (fixes the snapshot).
	var packs, tails, rots int
	if err := c.QueryRowContext(ctx, `SELECT coalesce(sum(name='pack'), 0), coalesce(sum(name='tail'), 0), coalesce(sum(name='rotation'), 0) FROM sqlite_master WHERE type='table' AND name IN ('pack', 'tail', 'rotation')`).Scan(&packs, &tails, &rots); err != nil {
		s.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	s.hasPack, s.hasTail, s.hasRot = packs > 0, tails > 0, rots > 0
	return s, nil
}

func (s *sqliteSnapshot) Close() {
	s.c.ExecContext(context.Background(), `ROLLBACK`)
	s.c.Close()
}

func (s *sqliteSnapshot) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	return checkpoints(ctx, s.c)
}

// rotations returns the rotation table's records in seq order.
func (s *sqliteSnapshot) Rotations(ctx context.Context) ([]Record, error) {
	if !s.hasRot {
		return nil, nil
	}
	rows, err := s.c.QueryContext(ctx, `SELECT seq, rec FROM rotation ORDER BY seq`)
	if err != nil {
		return nil, errs.E("ledger.rotations", errs.IO, err)
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var seq uint64
		var rec []byte
		if err := rows.Scan(&seq, &rec); err != nil {
			return nil, errs.E("ledger.rotations", errs.IO, err)
		}
		out = append(out, splitRec(seq, rec))
	}
	return out, rows.Err()
}

// lastSeq is the highest entry seq stored, packed or not.
func (s *sqliteSnapshot) LastSeq(ctx context.Context) (uint64, error) {
	q := `SELECT coalesce(max(seq), 0) FROM entry`
	if s.hasPack && s.hasTail {
		q = `SELECT max((SELECT coalesce(max(seq), 0) FROM entry), (SELECT coalesce(max(last), 0) FROM pack),
		  (SELECT coalesce(max(last), 0) FROM tail))`
	} else if s.hasPack {
		q = `SELECT max((SELECT coalesce(max(seq), 0) FROM entry), (SELECT coalesce(max(last), 0) FROM pack))`
	}
	var seq uint64
	if err := s.c.QueryRowContext(ctx, q).Scan(&seq); err != nil {
		return 0, errs.E("ledger.lastSeq", errs.IO, err)
	}
	return seq, nil
}

// walk calls fn with every pack in order of first, then every entry row
// and tail row in order of seq (first): the stored ledger as Verify and
// Query read it. It talks to the driver directly: database/sql's
// per-row locking and conversions cost Verify about a sixth of its time on
// entry rows. u.data stays valid after fn returns: modernc.org/sqlite
// copies every blob into a new slice (conn.columnBlob), which
// TestWalkDataOutlivesTheCall pins.
func (s *sqliteSnapshot) Walk(ctx context.Context, fn func(u Unit) error) error {
	const op = "ledger.walk"
	var fnErr error
	err := s.c.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver %T cannot query", dc)
		}
		if s.hasPack {
			err := rawRows(ctx, q, `SELECT first, last, recs FROM pack ORDER BY first`, 3, func(dest []driver.Value) bool {
				first, _ := dest[0].(int64)
				last, _ := dest[1].(int64)
				fnErr = fn(Unit{Table: "pack", Packed: true, First: uint64(first), Last: uint64(last), Data: blob(dest[2])})
				return fnErr == nil
			})
			if err != nil || fnErr != nil {
				return err
			}
		}
		// Entry rows and tail rows in one seq order (entry rows first on
		// a tie), so a row of one slipped among the other is seen where
		// it sits.
		query := `SELECT seq, seq, rec, 0 FROM entry ORDER BY seq`
		if s.hasTail {
			query = `SELECT first, last, recs, 1 FROM tail UNION ALL SELECT seq, seq, rec, 0 FROM entry ORDER BY 1, 4`
		}
		return rawRows(ctx, q, query, 4, func(dest []driver.Value) bool {
			first, _ := dest[0].(int64)
			last, _ := dest[1].(int64)
			u := Unit{Table: "entry", First: uint64(first), Last: uint64(last), Data: blob(dest[2])}
			if t, _ := dest[3].(int64); t == 1 {
				u.Table, u.Packed = "tail", true
			}
			fnErr = fn(u)
			return fnErr == nil
		})
	})
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	return fnErr
}

// blob returns a column value as bytes. A record that is not a blob was
// tampered with; it fails its checks like any other edit.
func blob(v driver.Value) []byte {
	switch v := v.(type) {
	case []byte:
		return v
	case string:
		return []byte(v)
	}
	return nil
}

// rawRows runs a query on a driver connection and calls fn per row until
// it returns false.
func rawRows(ctx context.Context, q driver.QueryerContext, query string, cols int, fn func([]driver.Value) bool) error {
	rows, err := q.QueryContext(ctx, query, nil)
	if err != nil {
		return err
	}
	defer rows.Close()
	dest := make([]driver.Value, cols)
	for {
		if err := rows.Next(dest); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		if !fn(dest) {
			return nil
		}
	}
}
