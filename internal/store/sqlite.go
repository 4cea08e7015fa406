package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// schema is version 1 of index.db. docs/design/storage.md comments each
// column; keep the two in step.
const schema = `
CREATE TABLE meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1), -- exactly one row
  schema_version INTEGER NOT NULL                    -- migrations are numbered and append-only
);
CREATE TABLE segment (
  id            INTEGER PRIMARY KEY AUTOINCREMENT, -- segment id; never reused (receipts, AADs)
  camera        TEXT NOT NULL,                     -- camera id
  state         INTEGER NOT NULL,                  -- 1 open, 2 closed
  start_90k     INTEGER NOT NULL,                  -- wall-clock start, 90 kHz since the epoch
  end_90k       INTEGER NOT NULL,                  -- start + durations; = start while open
  discontinuity INTEGER NOT NULL,                  -- 1 if not continuing the camera's previous segment
  codec         INTEGER NOT NULL,                  -- media.Codec
  params_sealed BLOB NOT NULL,                     -- codec parameters sealed under the data key
  key_id        TEXT NOT NULL,                     -- master key wrapping the data key
  wrapped_key   BLOB NOT NULL,                     -- wrapped data key
  frames        INTEGER NOT NULL DEFAULT 0,        -- closed: frame count
  key_frames    INTEGER NOT NULL DEFAULT 0,        -- closed: key frame count
  media_bytes   INTEGER NOT NULL DEFAULT 0,        -- closed: sum of frame sizes
  file_bytes    INTEGER NOT NULL DEFAULT 0,        -- closed: .gws file size
  sha256        BLOB,                              -- closed: SHA-256 of the .gws file
  frame_index   BLOB,                              -- closed: varint frame index
  CHECK (end_90k >= start_90k)
);
CREATE INDEX segment_camera_start ON segment (camera, start_90k);
CREATE TABLE garbage (
  segment_id    INTEGER PRIMARY KEY,               -- former segment.id
  camera        TEXT NOT NULL,                     -- camera id
  start_90k     INTEGER NOT NULL,                  -- period covered
  end_90k       INTEGER NOT NULL,
  file_bytes    INTEGER NOT NULL,                  -- ciphertext size
  sha256        BLOB,                              -- ciphertext hash, NULL if never closed
  key_id        TEXT NOT NULL,                     -- master key of the destroyed wrapped key
  destroyed_90k INTEGER NOT NULL                   -- when the key was destroyed
);
INSERT INTO meta (id, schema_version) VALUES (1, 1);
`

// indexMigrations are index.db's schema, oldest first (the sqlitedb
// convention: PRAGMA user_version counts them; append only). Migration 1
// is the schema of version 1, whose files kept their version in
// meta.schema_version: indexLegacy reads it. A later migration also sets
// meta.schema_version, so a gwanje of before the convention refuses the
// file rather than misread it.
var indexMigrations = []string{schema, summarySchema, spanIndex}

// spanIndex is migration 3: the (camera, start_90k) index becomes one that
// also holds what ListSpans returns, so listing a day's recorded spans
// reads only the index. A closed segment's row holds its frame index
// (about 7.8 KiB for a minute at 25 fps), so SQLite keeps about one row
// per 4 KiB page: the home page's 240 listings of a day read a gigabyte of
// pages before (docs/benchmarks.md).
const spanIndex = `
CREATE INDEX segment_camera_span ON segment (camera, start_90k, end_90k, state, discontinuity, codec, frames, file_bytes, key_id);
DROP INDEX segment_camera_start;
UPDATE meta SET schema_version = 3;
`

// summarySchema is migration 2: camera_summary keeps each camera's row
// count, bytes and newest end in step with the segment table by triggers,
// so Cameras reads one row per camera (and two index lookups) instead of
// scanning every segment row (seconds on a month of 240 cameras:
// docs/benchmarks.md, "Home page with 240 cameras"). By invariant 8 a
// camera's newest end is the end of its last-starting row, which the
// delete trigger looks up when the newest row goes.
const summarySchema = `
CREATE TABLE camera_summary (
  camera   TEXT PRIMARY KEY,  -- a camera with at least one segment row
  segments INTEGER NOT NULL,  -- its segment rows
  bytes    INTEGER NOT NULL,  -- sum of their file_bytes
  newest   INTEGER NOT NULL   -- max of their end_90k
) WITHOUT ROWID;
INSERT INTO camera_summary (camera, segments, bytes, newest)
  SELECT camera, count(*), sum(file_bytes), max(end_90k) FROM segment GROUP BY camera;
CREATE TRIGGER segment_summary_insert AFTER INSERT ON segment BEGIN
  INSERT INTO camera_summary (camera, segments, bytes, newest) VALUES (NEW.camera, 1, NEW.file_bytes, NEW.end_90k)
    ON CONFLICT (camera) DO UPDATE SET segments = segments + 1, bytes = bytes + excluded.bytes,
      newest = max(newest, excluded.newest);
END;
CREATE TRIGGER segment_summary_update AFTER UPDATE OF file_bytes, end_90k ON segment BEGIN
  UPDATE camera_summary SET bytes = bytes - OLD.file_bytes + NEW.file_bytes, newest = max(newest, NEW.end_90k)
    WHERE camera = NEW.camera;
END;
CREATE TRIGGER segment_summary_delete AFTER DELETE ON segment BEGIN
  DELETE FROM camera_summary WHERE camera = OLD.camera AND segments = 1;
  UPDATE camera_summary SET segments = segments - 1, bytes = bytes - OLD.file_bytes WHERE camera = OLD.camera;
  UPDATE camera_summary SET newest = (SELECT end_90k FROM segment WHERE camera = OLD.camera ORDER BY start_90k DESC LIMIT 1)
    WHERE camera = OLD.camera AND newest <= OLD.end_90k;
END;
UPDATE meta SET schema_version = 2;
`

// indexLegacy is the version of an index.db made before the migration
// convention: meta.schema_version.
func indexLegacy(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v); err != nil {
		return 0, errs.E("store.indexLegacy", errs.Corrupt, fmt.Errorf("meta.schema_version: %w", err))
	}
	return v, nil
}

// SegmentColumns are the columns the segment table must have, in order.
// Check compares the live schema with it (invariant 11).
var SegmentColumns = []string{"id", "camera", "state", "start_90k", "end_90k", "discontinuity", "codec",
	"params_sealed", "key_id", "wrapped_key", "frames", "key_frames", "media_bytes", "file_bytes", "sha256", "frame_index"}

// SQLiteIndex is the Index on a SQLite file.
type SQLiteIndex struct {
	db *sql.DB // the one connection that writes (and most reads)
	// rdb serves the long read-only scans (Cameras, Briefs) on their own
	// connections: under WAL they read a snapshot beside the writer, so a
	// writer's Create or Finish never waits for a scan of the whole table.
	rdb *sql.DB
}

// OpenSQLite opens (creating it 0600 if needed) the index at path through
// internal/sqlitedb (WAL, synchronous=FULL, foreign keys, secure_delete)
// and migrates it.
func OpenSQLite(ctx context.Context, path string) (*SQLiteIndex, error) {
	return openSQLite(ctx, path, "FULL")
}

func openSQLite(ctx context.Context, path, synchronous string) (*SQLiteIndex, error) {
	const op = "store.OpenSQLite"
	// One writing connection: writes are serialised anyway, and it keeps
	// the pragmas in force on the only connection there is.
	db, err := sqlitedb.Open(ctx, op, path, sqlitedb.Options{Migrations: indexMigrations, Legacy: indexLegacy,
		Synchronous: synchronous})
	if err != nil {
		return nil, err
	}
	// Opened after the migration, so the database is in WAL mode and has
	// its schema; query_only guards against a write slipping onto it.
	rdb, err := sqlitedb.Open(ctx, op, path, sqlitedb.Options{ReadOnly: true, MaxOpenConns: 2})
	if err != nil {
		db.Close()
		return nil, err
	}
	return &SQLiteIndex{db: db, rdb: rdb}, nil
}

// Columns returns the segment table's columns as the database has them.
func (x *SQLiteIndex) Columns(ctx context.Context) ([]string, error) {
	rows, err := x.db.QueryContext(ctx, `SELECT name FROM pragma_table_info('segment') ORDER BY cid`)
	if err != nil {
		return nil, errs.E("store.Columns", errs.IO, err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, errs.E("store.Columns", errs.IO, err)
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// checkpointTries is how many times Checkpoint tries before giving up on
// a reader that keeps the WAL busy; each try waits up to busy_timeout.
const checkpointTries = 3

// Checkpoint moves the WAL into the database and truncates it, so page
// images holding destroyed keys leave the WAL file. It fails (errs.IO)
// unless the WAL is then empty: a reader in another process (gwanje check,
// destruction verify) can keep it from being reset for a while, and
// destruction must not claim a key gone while an old page still holds it.
func (x *SQLiteIndex) Checkpoint(ctx context.Context) error {
	const op = "store.Checkpoint"
	var busy, log, done int
	for range checkpointTries {
		if err := x.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &done); err != nil {
			return wrapIO(op, err)
		}
		if busy == 0 && log <= 0 {
			return nil
		}
	}
	return errs.Errorf(op, errs.IO, "the index WAL still holds %d frames (%d checkpointed) after %d tries: a reader keeps it busy",
		log, done, checkpointTries)
}

func wrapIO(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.E(op, errs.Canceled, err)
	}
	return errs.E(op, errs.IO, err)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Create implements Index.
func (x *SQLiteIndex) Create(ctx context.Context, r *Row, fill func(id int64) error) error {
	const op = "store.Index.Create"
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapIO(op, err)
	}
	defer tx.Rollback()
	state := StateOpen
	if r.State == StateReplacing {
		state = StateReplacing
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec,
		params_sealed, key_id, wrapped_key) VALUES (?, ?, ?, ?, ?, ?, x'', '', x'')`,
		r.Camera, int(state), r.Start, r.Start, b2i(r.Discontinuity), int(r.Codec))
	if err != nil {
		return wrapIO(op, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return wrapIO(op, err)
	}
	if err := fill(id); err != nil {
		return errs.E(op, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE segment SET params_sealed = ?, key_id = ?, wrapped_key = ? WHERE id = ?`,
		r.ParamsSealed, r.KeyID, r.WrappedKey, id); err != nil {
		return wrapIO(op, err)
	}
	if err := tx.Commit(); err != nil {
		return wrapIO(op, err)
	}
	r.ID, r.State, r.End = id, state, r.Start
	return nil
}

// Finish implements Index.
func (x *SQLiteIndex) Finish(ctx context.Context, r *Row) error {
	const op = "store.Index.Finish"
	res, err := x.db.ExecContext(ctx, `UPDATE segment SET state = 2, end_90k = ?, frames = ?, key_frames = ?,
		media_bytes = ?, file_bytes = ?, sha256 = ?, frame_index = ? WHERE id = ? AND state = 1`,
		r.End, r.Frames, r.KeyFrames, r.MediaBytes, r.FileBytes, r.SHA256, r.FrameIndex, r.ID)
	if err != nil {
		return wrapIO(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.Errorf(op, errs.Conflict, "segment %d is not open", r.ID)
	}
	r.State = StateClosed
	return nil
}

const rowCols = `id, camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key,
	frames, key_frames, media_bytes, file_bytes, sha256, frame_index`

type scanner interface{ Scan(...any) error }

func scanRow(s scanner) (Row, error) {
	var r Row
	var disc, codec, state int
	err := s.Scan(&r.ID, &r.Camera, &state, &r.Start, &r.End, &disc, &codec, &r.ParamsSealed, &r.KeyID,
		&r.WrappedKey, &r.Frames, &r.KeyFrames, &r.MediaBytes, &r.FileBytes, &r.SHA256, &r.FrameIndex)
	r.State, r.Discontinuity, r.Codec = State(state), disc != 0, media.Codec(codec)
	return r, err
}

func (x *SQLiteIndex) query(ctx context.Context, op, q string, args ...any) ([]Row, error) {
	rows, err := x.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer rows.Close()
	var out []Row
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, wrapIO(op, err)
		}
		out = append(out, r)
	}
	return out, wrapIO(op, rows.Err())
}

// Get implements Index.
func (x *SQLiteIndex) Get(ctx context.Context, id int64) (*Row, error) {
	const op = "store.Index.Get"
	r, err := scanRow(x.db.QueryRowContext(ctx, `SELECT `+rowCols+` FROM segment WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.Errorf(op, errs.NotExist, "segment %d", id)
	}
	if err != nil {
		return nil, wrapIO(op, err)
	}
	return &r, nil
}

// listCamera is List of one camera (?1) over [?3, ?2).
const listCamera = `SELECT ` + rowCols + ` FROM segment
	WHERE camera = ?1 AND start_90k < ?2 AND (end_90k > ?3 OR state = 1)
	AND start_90k >= coalesce((SELECT max(start_90k) FROM segment WHERE camera = ?1 AND start_90k <= ?3), ?3)
	ORDER BY camera, start_90k`

// spanCols are the columns a listing of recorded spans needs, not what it
// never needs (sealed parameters, wrapped key, hash, frame index: about
// 7.8 KiB a minute of 25 fps video; key frame and media byte counts; the
// camera, which it knows): columns of the segment_camera_span index, so a
// listing reads
// the index alone.
const spanCols = `id, state, start_90k, end_90k, discontinuity, codec, key_id, frames, file_bytes`

// spanRange selects listCamera's rows: camera ?1 over [?3, ?2).
const spanRange = `camera = ?1 AND start_90k < ?2 AND (end_90k > ?3 OR state = 1)
	AND start_90k >= coalesce((SELECT max(start_90k) FROM segment WHERE camera = ?1 AND start_90k <= ?3), ?3)`

// listSpans is ListSpans: listCamera's rows with spanCols.
const listSpans = `SELECT ` + spanCols + ` FROM segment WHERE ` + spanRange + ` ORDER BY camera, start_90k`

// ListSpans is List of one camera without the rows' sealed parameters,
// wrapped keys, hashes and frame indexes (nil), key frame counts and media
// byte counts (0): what Store.Segments needs, from the index alone.
// The home page lists a day of every camera through it: with the frame
// indexes that was 1.8 GB read per page at 240 cameras (docs/benchmarks.md).
func (x *SQLiteIndex) ListSpans(ctx context.Context, camera string, start, end int64) ([]Row, error) {
	const op = "store.Index.ListSpans"
	rows, err := x.db.QueryContext(ctx, listSpans, camera, end, start)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer rows.Close()
	// A day of 240 cameras is 260,000 rows: nine columns scanned each
	// (not sixteen), and one key id string shared by the rows naming the
	// same key.
	var out []Row
	var keyID sql.RawBytes
	var key string
	for rows.Next() {
		r := Row{Camera: camera}
		var state, disc, codec int
		if err := rows.Scan(&r.ID, &state, &r.Start, &r.End, &disc, &codec, &keyID, &r.Frames, &r.FileBytes); err != nil {
			return nil, wrapIO(op, err)
		}
		if string(keyID) != key {
			key = string(keyID)
		}
		r.KeyID, r.State, r.Discontinuity, r.Codec = key, State(state), disc != 0, media.Codec(codec)
		out = append(out, r)
	}
	return out, wrapIO(op, rows.Err())
}

// Coverage queries: the first row and the last two, and every row's span
// in order (two columns of the covering index: SQLite's window functions
// took 2.5 times as long here as handing the spans to Go).
const (
	coverageFirst = `SELECT ` + spanCols + ` FROM segment WHERE ` + spanRange + ` ORDER BY camera, start_90k LIMIT 1`
	coverageTail  = `SELECT ` + spanCols + ` FROM segment WHERE ` + spanRange + ` ORDER BY camera DESC, start_90k DESC LIMIT 2`
	coverageSpans = `SELECT start_90k, end_90k FROM segment WHERE ` + spanRange + ` ORDER BY camera, start_90k`
)

// Coverage summarises camera's rows over [start, end) as ListSpans lists
// them, in one read transaction: how many, the first, the last two
// (ascending, without repeats) and the gaps of at least minGap between
// consecutive rows. Only two columns of each row cross into Go and nothing
// is kept of them: a day of 240 cameras was 260,000 rows of nine columns
// listed for the home page (docs/benchmarks.md).
func (x *SQLiteIndex) Coverage(ctx context.Context, camera string, start, end, minGap int64) (int, []Row, []Gap, error) {
	const op = "store.Index.Coverage"
	tx, err := x.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return 0, nil, nil, wrapIO(op, err)
	}
	defer tx.Rollback()
	rowsOf := func(q string) ([]Row, error) {
		rows, err := tx.QueryContext(ctx, q, camera, end, start)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []Row
		for rows.Next() {
			r := Row{Camera: camera}
			var state, disc, codec int
			if err := rows.Scan(&r.ID, &state, &r.Start, &r.End, &disc, &codec, &r.KeyID, &r.Frames, &r.FileBytes); err != nil {
				return nil, err
			}
			r.State, r.Discontinuity, r.Codec = State(state), disc != 0, media.Codec(codec)
			out = append(out, r)
		}
		return out, rows.Err()
	}
	first, err := rowsOf(coverageFirst)
	if err != nil || len(first) == 0 {
		return 0, nil, nil, wrapIO(op, err)
	}
	tail, err := rowsOf(coverageTail)
	if err != nil {
		return 0, nil, nil, wrapIO(op, err)
	}
	slices.Reverse(tail)
	rows, err := tx.QueryContext(ctx, coverageSpans, camera, end, start)
	if err != nil {
		return 0, nil, nil, wrapIO(op, err)
	}
	defer rows.Close()
	var (
		gaps []Gap
		n    int
		last int64
	)
	for rows.Next() {
		var s, e int64
		if err := rows.Scan(&s, &e); err != nil {
			return 0, nil, nil, wrapIO(op, err)
		}
		if n > 0 && s-last >= minGap {
			gaps = append(gaps, Gap{last, s})
		}
		if n == 0 || e > last {
			last = e
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, nil, nil, wrapIO(op, err)
	}
	ends := first
	for _, r := range tail {
		if r.ID != first[0].ID {
			ends = append(ends, r)
		}
	}
	return n, ends, gaps, nil
}

// camerasQuery is Cameras: one row per camera from camera_summary.
const camerasQuery = `SELECT s.camera, (SELECT min(start_90k) FROM segment WHERE camera = s.camera),
	s.newest, s.segments, s.bytes FROM camera_summary s ORDER BY s.camera`

// List implements Index. One camera's rows are a range of the (camera,
// start_90k) index: one query for both cases (camera = ? unless the
// camera is empty) made SQLite scan the whole table for every playback view and
// every timeline (docs/benchmarks.md, "Playback seek on a 30-day archive").
func (x *SQLiteIndex) List(ctx context.Context, camera string, start, end int64) ([]Row, error) {
	if camera != "" {
		// By invariant 8 (a camera's segments do not overlap) only the
		// last row starting at or before start can reach into the range
		// from before it: the index range begins there, not at the
		// camera's oldest row.
		return x.query(ctx, "store.Index.List", listCamera, camera, end, start)
	}
	return x.query(ctx, "store.Index.List", `SELECT `+rowCols+` FROM segment
		WHERE start_90k < ? AND (end_90k > ? OR state = 1)
		ORDER BY camera, start_90k`, end, start)
}

// Open implements Index.
func (x *SQLiteIndex) Open(ctx context.Context) ([]Row, error) {
	return x.query(ctx, "store.Index.Open", `SELECT `+rowCols+` FROM segment WHERE state IN (1, 3) ORDER BY id`)
}

// Delete implements Index.
func (x *SQLiteIndex) Delete(ctx context.Context, id int64) error {
	_, err := x.db.ExecContext(ctx, `DELETE FROM segment WHERE id = ?`, id)
	return wrapIO("store.Index.Delete", err)
}

// Trash implements Index. It works on the whole set at once (one INSERT
// ... SELECT ... RETURNING, one DELETE, one UPDATE), so a batch of thousands of rows
// holds the write lock for milliseconds, not seconds.
func (x *SQLiteIndex) Trash(ctx context.Context, ids []int64, now int64) ([]GarbageRow, error) {
	const op = "store.Index.Trash"
	if len(ids) == 0 {
		return nil, nil
	}
	set, err := idSet(ids)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer tx.Rollback()
	// RETURNING hands back the garbage rows as they are inserted: the
	// trashed rows are read once.
	rows, err := tx.QueryContext(ctx, `INSERT INTO garbage (segment_id, camera, start_90k, end_90k, file_bytes, sha256,
		key_id, destroyed_90k) SELECT id, camera, start_90k, end_90k, file_bytes, sha256, key_id, ?
		FROM segment WHERE id IN (SELECT value FROM json_each(?)) AND state = 2
		RETURNING segment_id, camera, start_90k, end_90k, file_bytes, sha256, key_id, destroyed_90k`, now, set)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	byID := make(map[int64]GarbageRow, len(ids))
	for rows.Next() {
		var g GarbageRow
		if err := rows.Scan(&g.SegmentID, &g.Camera, &g.Start, &g.End, &g.FileBytes, &g.SHA256, &g.KeyID, &g.Destroyed); err != nil {
			rows.Close()
			return nil, wrapIO(op, err)
		}
		byID[g.SegmentID] = g
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrapIO(op, err)
	}
	if len(byID) != len(ids) {
		return nil, errs.E(op, x.missing(ctx, tx, ids))
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM segment WHERE id IN (SELECT value FROM json_each(?))`, set); err != nil {
		return nil, wrapIO(op, err)
	}
	// The segments that continued the trashed ones now follow a gap.
	if _, err := tx.ExecContext(ctx, `UPDATE segment SET discontinuity = 1 WHERE id IN (
		SELECT s.id FROM garbage g JOIN segment s ON s.camera = g.camera AND s.start_90k = g.end_90k
		WHERE g.segment_id IN (SELECT value FROM json_each(?)))`, set); err != nil {
		return nil, wrapIO(op, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, wrapIO(op, err)
	}
	out := make([]GarbageRow, 0, len(ids))
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out, nil
}

// idSet encodes ids as a JSON array for json_each; a repeated id is an
// error (the row count would not match).
func idSet(ids []int64) (string, error) {
	seen := make(map[int64]bool, len(ids))
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if seen[id] {
			return "", fmt.Errorf("segment %d listed twice", id)
		}
		seen[id] = true
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']')), nil
}

// missing explains why Trash did not find every id closed: the first id
// without a row (errs.NotExist) or still being written (errs.Conflict).
func (x *SQLiteIndex) missing(ctx context.Context, tx *sql.Tx, ids []int64) error {
	for _, id := range ids {
		var state int
		err := tx.QueryRowContext(ctx, `SELECT state FROM segment WHERE id = ?`, id).Scan(&state)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.Errorf("store.Index.Trash", errs.NotExist, "segment %d", id)
		}
		if err != nil {
			return wrapIO("store.Index.Trash", err)
		}
		if State(state) != StateClosed {
			return errs.Errorf("store.Index.Trash", errs.Conflict, "segment %d is %v, not closed", id, State(state))
		}
	}
	return errs.Errorf("store.Index.Trash", errs.Internal, "row count mismatch with every segment closed")
}

// trashRow moves one row to the garbage list inside tx; if gap, the
// segment that continued it is marked as following a discontinuity.
func trashRow(ctx context.Context, tx *sql.Tx, id, now int64, gap bool) (GarbageRow, error) {
	const op = "store.Index.Trash"
	g := GarbageRow{SegmentID: id, Destroyed: now}
	err := tx.QueryRowContext(ctx, `SELECT camera, start_90k, end_90k, file_bytes, sha256, key_id FROM segment WHERE id = ?`, id).
		Scan(&g.Camera, &g.Start, &g.End, &g.FileBytes, &g.SHA256, &g.KeyID)
	if errors.Is(err, sql.ErrNoRows) {
		return g, errs.Errorf(op, errs.NotExist, "segment %d", id)
	}
	if err != nil {
		return g, wrapIO(op, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO garbage (segment_id, camera, start_90k, end_90k, file_bytes, sha256,
		key_id, destroyed_90k) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		id, g.Camera, g.Start, g.End, g.FileBytes, g.SHA256, g.KeyID, now); err != nil {
		return g, wrapIO(op, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM segment WHERE id = ?`, id); err != nil {
		return g, wrapIO(op, err)
	}
	if gap {
		// The segment that continued this one now follows a gap.
		if _, err := tx.ExecContext(ctx, `UPDATE segment SET discontinuity = 1 WHERE camera = ? AND start_90k = ?`,
			g.Camera, g.End); err != nil {
			return g, wrapIO(op, err)
		}
	}
	return g, nil
}

// Replace implements Index.
func (x *SQLiteIndex) Replace(ctx context.Context, old int64, news []*Row, now int64) (GarbageRow, error) {
	const op = "store.Index.Replace"
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return GarbageRow{}, wrapIO(op, err)
	}
	defer tx.Rollback()
	var oldEnd int64
	if err := tx.QueryRowContext(ctx, `SELECT end_90k FROM segment WHERE id = ?`, old).Scan(&oldEnd); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return GarbageRow{}, errs.Errorf(op, errs.NotExist, "segment %d", old)
		}
		return GarbageRow{}, wrapIO(op, err)
	}
	gap := true
	for _, r := range news {
		res, err := tx.ExecContext(ctx, `UPDATE segment SET state = 2, end_90k = ?, frames = ?, key_frames = ?,
			media_bytes = ?, file_bytes = ?, sha256 = ?, frame_index = ? WHERE id = ? AND state = 3`,
			r.End, r.Frames, r.KeyFrames, r.MediaBytes, r.FileBytes, r.SHA256, r.FrameIndex, r.ID)
		if err != nil {
			return GarbageRow{}, wrapIO(op, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return GarbageRow{}, errs.Errorf(op, errs.Conflict, "segment %d is not a replacement being written", r.ID)
		}
		if r.End == oldEnd {
			gap = false
		}
	}
	g, err := trashRow(ctx, tx, old, now, gap)
	if err != nil {
		return GarbageRow{}, errs.E(op, err)
	}
	if err := tx.Commit(); err != nil {
		return GarbageRow{}, wrapIO(op, err)
	}
	for _, r := range news {
		r.State = StateClosed
	}
	return g, nil
}

// Garbage implements Index.
func (x *SQLiteIndex) Garbage(ctx context.Context) ([]GarbageRow, error) {
	const op = "store.Index.Garbage"
	rows, err := x.db.QueryContext(ctx, `SELECT segment_id, camera, start_90k, end_90k, file_bytes, sha256, key_id,
		destroyed_90k FROM garbage ORDER BY segment_id`)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer rows.Close()
	var out []GarbageRow
	for rows.Next() {
		var g GarbageRow
		if err := rows.Scan(&g.SegmentID, &g.Camera, &g.Start, &g.End, &g.FileBytes, &g.SHA256, &g.KeyID, &g.Destroyed); err != nil {
			return nil, wrapIO(op, err)
		}
		out = append(out, g)
	}
	return out, wrapIO(op, rows.Err())
}

// Forget implements Index.
func (x *SQLiteIndex) Forget(ctx context.Context, ids []int64) error {
	const op = "store.Index.Forget"
	if len(ids) == 0 {
		return nil
	}
	set, err := idSet(ids)
	if err != nil {
		return errs.E(op, errs.Invalid, err)
	}
	_, err = x.db.ExecContext(ctx, `DELETE FROM garbage WHERE segment_id IN (SELECT value FROM json_each(?))`, set)
	return wrapIO(op, err)
}

// NotUnder implements Index.
func (x *SQLiteIndex) NotUnder(ctx context.Context, keyID string, limit int) ([]Row, error) {
	return x.query(ctx, "store.Index.NotUnder", `SELECT `+rowCols+` FROM segment WHERE key_id != ? ORDER BY id LIMIT ?`, keyID, limit)
}

// Rewrap implements Index.
func (x *SQLiteIndex) Rewrap(ctx context.Context, us []KeyUpdate) error {
	const op = "store.Index.Rewrap"
	tx, err := x.db.BeginTx(ctx, nil)
	if err != nil {
		return wrapIO(op, err)
	}
	defer tx.Rollback()
	for _, u := range us {
		if _, err := tx.ExecContext(ctx, `UPDATE segment SET key_id = ?, wrapped_key = ? WHERE id = ? AND key_id = ?`,
			u.KeyID, u.WrappedKey, u.ID, u.OldKeyID); err != nil {
			return wrapIO(op, err)
		}
	}
	return wrapIO(op, tx.Commit())
}

// Cameras implements Index.
func (x *SQLiteIndex) Cameras(ctx context.Context) ([]CameraSummary, error) {
	const op = "store.Index.Cameras"
	rows, err := x.rdb.QueryContext(ctx, camerasQuery)
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer rows.Close()
	var out []CameraSummary
	for rows.Next() {
		var c CameraSummary
		if err := rows.Scan(&c.Camera, &c.Oldest, &c.Newest, &c.Segments, &c.Bytes); err != nil {
			return nil, wrapIO(op, err)
		}
		out = append(out, c)
	}
	return out, wrapIO(op, rows.Err())
}

// Briefs implements Index.
func (x *SQLiteIndex) Briefs(ctx context.Context, camera string, endBefore int64, limit int) ([]Brief, error) {
	const op = "store.Index.Briefs"
	if limit <= 0 {
		limit = -1
	}
	const cols = `SELECT id, camera, start_90k, end_90k, file_bytes, sha256, key_id, wrapped_key FROM segment `
	var rows *sql.Rows
	var err error
	if camera != "" {
		// One camera: a range of the (camera, start_90k) index, never a
		// scan of the table (a segment ending by endBefore starts by it).
		rows, err = x.rdb.QueryContext(ctx, cols+`WHERE camera = ? AND start_90k <= ? AND state = 2 AND end_90k <= ?
			ORDER BY start_90k, id LIMIT ?`, camera, endBefore, endBefore, limit)
	} else {
		rows, err = x.rdb.QueryContext(ctx, cols+`WHERE state = 2 AND end_90k <= ? ORDER BY start_90k, id LIMIT ?`,
			endBefore, limit)
	}
	if err != nil {
		return nil, wrapIO(op, err)
	}
	defer rows.Close()
	var out []Brief
	for rows.Next() {
		var b Brief
		if err := rows.Scan(&b.ID, &b.Camera, &b.Start, &b.End, &b.Bytes, &b.SHA256, &b.KeyID, &b.WrappedKey); err != nil {
			return nil, wrapIO(op, err)
		}
		out = append(out, b)
	}
	return out, wrapIO(op, rows.Err())
}

// Close implements Index.
func (x *SQLiteIndex) Close() error {
	// The readers close first: the writer's close then checkpoints the WAL
	// and removes it, which it cannot while a reader holds it open.
	rerr := x.rdb.Close()
	if err := x.db.Close(); err != nil {
		return wrapIO("store.Index.Close", err)
	}
	return wrapIO("store.Index.Close", rerr)
}

var _ Index = (*SQLiteIndex)(nil)
