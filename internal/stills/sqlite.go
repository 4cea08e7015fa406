package stills

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// Still file format, version 1:
//
//	magic "GWJSTL\r\n" (8) | version (1) | reserved, zero (3) | still id, big-endian int64 (8)
//	sealed blob (seal.DataKey.SealBlob): the JPEG image
//
// The blob is sealed for id -ID (stills' ids are negated in every AAD so
// they never meet a segment's) with purpose "still v1 <camera> <recorded
// unix ns>", so a row whose camera or time was changed does not open.

// opStills names the still store in errors of its helpers.
const opStills = "stills.SQLite"

const (
	stillHeaderSize = 20
	stillVersion    = 1
	stillExt        = ".gst"
)

var stillMagic = [8]byte{'G', 'W', 'J', 'S', 'T', 'L', '\r', '\n'}

// migrations are the schema of index.db (sqlitedb's convention: append
// only). docs/design/health.md comments each column; keep the two in step.
// The meta table's schema_version is the version files written before the
// convention kept (legacyVersion reads it); it stays 1.
var migrations = []string{`
CREATE TABLE meta (
  id             INTEGER PRIMARY KEY CHECK (id = 1), -- exactly one row
  schema_version INTEGER NOT NULL,                   -- 1; superseded by PRAGMA user_version
  next_id        INTEGER NOT NULL                    -- next still id; ids are never reused
);
CREATE TABLE still (
  id          INTEGER PRIMARY KEY,  -- still id (file name, AAD)
  camera      TEXT NOT NULL,        -- camera id
  recorded_ns INTEGER NOT NULL,     -- when the frame was recorded (its wall clock), Unix ns: retention counts from here
  stored_ns   INTEGER NOT NULL,     -- when the still was stored, Unix ns
  key_id      TEXT NOT NULL,        -- master key wrapping the data key
  wrapped_key BLOB NOT NULL,        -- the still's data key, wrapped; deleting the row destroys it
  file_bytes  INTEGER NOT NULL,     -- size of the .gst file
  sha256      BLOB NOT NULL,        -- SHA-256 of the .gst file
  findings    TEXT NOT NULL         -- JSON array of the check's findings on this picture
);
CREATE INDEX still_camera_time ON still (camera, recorded_ns);
INSERT INTO meta (id, schema_version, next_id) VALUES (1, 1, 1);
`}

// legacyVersion reads the version an index.db written before sqlitedb's
// convention kept in its meta table.
func legacyVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v); err != nil {
		return 0, errs.E(opStills, errs.Corrupt, err)
	}
	return v, nil
}

// Config configures a SQLite still store.
type Config struct {
	Dir    string // e.g. <data>/stills; created with mode 0700
	Keys   *seal.Keyring
	Clock  clock.Clock
	Logger *slog.Logger
}

// SQLite is the still store on a local directory: index.db (through
// sqlitedb, mode 0600) and one sealed .gst file per still.
type SQLite struct {
	dir  string
	keys *seal.Keyring
	clk  clock.Clock
	log  *slog.Logger
	db   *sql.DB
	mu   sync.Mutex // one Put or destruction at a time
}

var _ Store = (*SQLite)(nil)

// Open opens (creating if needed) the still store in cfg.Dir and finishes
// whatever a crash interrupted: temporary files and files no row points to
// (written but never indexed, or indexed and then destroyed) are removed.
func Open(ctx context.Context, cfg Config) (*SQLite, error) {
	const op = "stills.Open"
	if cfg.Dir == "" || cfg.Keys == nil {
		return nil, errs.E(op, errs.Invalid, "a directory and the master keyring are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	db, err := sqlitedb.Open(ctx, op, filepath.Join(cfg.Dir, "index.db"),
		sqlitedb.Options{Migrations: migrations, Legacy: legacyVersion})
	if err != nil {
		return nil, err
	}
	s := &SQLite{dir: cfg.Dir, keys: cfg.Keys, clk: cfg.Clock, log: cfg.Logger, db: db}
	if err := s.recover(ctx); err != nil {
		db.Close()
		return nil, errs.E(op, err)
	}
	return s, nil
}

// recover removes temporary files and files without a row.
func (s *SQLite) recover(ctx context.Context) error {
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		return errs.E(opStills, errs.IO, err)
	}
	removed := 0
	for _, e := range ents {
		name := e.Name()
		var drop bool
		switch {
		case strings.HasSuffix(name, ".tmp"):
			drop = true
		case strings.HasSuffix(name, stillExt):
			id, err := strconv.ParseInt(strings.TrimSuffix(name, stillExt), 16, 64)
			if err != nil {
				continue // not ours
			}
			var one int
			err = s.db.QueryRowContext(ctx, `SELECT 1 FROM still WHERE id = ?`, id).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				drop = true
			} else if err != nil {
				return errs.E(opStills, errs.IO, err)
			}
		}
		if drop {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil {
				return errs.E(opStills, errs.IO, err)
			}
			removed++
		}
	}
	if removed > 0 {
		s.log.Info("still store: removed files left by an interrupted write or destruction", "files", removed)
		return syncDir(s.dir)
	}
	return nil
}

// Close closes the index.
func (s *SQLite) Close() error { return s.db.Close() }

func (s *SQLite) path(id int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x%s", id, stillExt))
}

func stillPurpose(camera string, recorded time.Time) string {
	return "still v1 " + camera + " " + strconv.FormatInt(recorded.UnixNano(), 10)
}

// Put seals and stores a JPEG still of camera recorded at recordedAt,
// with the findings of its check. The file is durable (fsynced, renamed,
// directory fsynced) before the index row that points to it is committed.
func (s *SQLite) Put(ctx context.Context, camera string, recordedAt time.Time, jpeg []byte, findings []string) (Still, error) {
	const op = "stills.SQLite.Put"
	if camera == "" || recordedAt.IsZero() || len(jpeg) == 0 {
		return Still{}, errs.E(op, errs.Invalid, "a camera, a recording time and an image are required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Reserve an id first: it is bound into the file's AAD. An id whose
	// write then fails is simply never used.
	var id int64
	if err := s.db.QueryRowContext(ctx, `UPDATE meta SET next_id = next_id + 1 RETURNING next_id - 1`).Scan(&id); err != nil {
		return Still{}, errs.E(op, errs.IO, err)
	}
	dk := seal.NewDataKey()
	wrapped, keyID, err := s.keys.Wrap(dk, -id)
	if err != nil {
		return Still{}, errs.E(op, errs.Internal, err)
	}
	var b bytes.Buffer
	b.Write(stillMagic[:])
	b.Write([]byte{stillVersion, 0, 0, 0})
	binary.Write(&b, binary.BigEndian, id)
	b.Write(dk.SealBlob(-id, stillPurpose(camera, recordedAt), jpeg))
	sum := sha256.Sum256(b.Bytes())

	if err := durable.WriteFile(s.path(id), b.Bytes(), 0o600); err != nil {
		return Still{}, errs.E(op, errs.IO, err)
	}
	if findings == nil {
		findings = []string{}
	}
	fj, _ := json.Marshal(findings)
	now := s.clk.Now()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO still (id, camera, recorded_ns, stored_ns, key_id, wrapped_key, file_bytes, sha256, findings)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, camera, recordedAt.UnixNano(), now.UnixNano(), keyID, wrapped,
		b.Len(), sum[:], string(fj)); err != nil {
		// The file has no row: the next Open removes it.
		return Still{}, errs.E(op, errs.IO, err)
	}
	return Still{ID: id, Camera: camera, RecordedAt: recordedAt, StoredAt: now, Findings: findings,
		Bytes: int64(b.Len()), SHA256: sum[:], KeyID: keyID}, nil
}

func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return errs.E(opStills, errs.IO, err)
	}
	return nil
}

const stillCols = `id, camera, recorded_ns, stored_ns, key_id, file_bytes, sha256, findings`

type rowScanner interface{ Scan(dest ...any) error }

func scanStill(r rowScanner) (Still, error) {
	var st Still
	var rec, stored int64
	var fj string
	if err := r.Scan(&st.ID, &st.Camera, &rec, &stored, &st.KeyID, &st.Bytes, &st.SHA256, &fj); err != nil {
		return Still{}, err
	}
	st.RecordedAt, st.StoredAt = time.Unix(0, rec).UTC(), time.Unix(0, stored).UTC()
	if err := json.Unmarshal([]byte(fj), &st.Findings); err != nil {
		return Still{}, errs.E(opStills, errs.Corrupt, fmt.Errorf("still %d: findings: %v", st.ID, err))
	}
	return st, nil
}

// List returns the stills of camera recorded in [from, to), oldest first.
func (s *SQLite) List(ctx context.Context, camera string, from, to time.Time) ([]Still, error) {
	const op = "stills.SQLite.List"
	rows, err := s.db.QueryContext(ctx, `SELECT `+stillCols+` FROM still WHERE camera = ? AND recorded_ns >= ? AND recorded_ns < ?
		ORDER BY recorded_ns, id`, camera, from.UnixNano(), to.UnixNano())
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer rows.Close()
	out := []Still{}
	for rows.Next() {
		st, err := scanStill(rows)
		if err != nil {
			return nil, errs.E(op, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return out, nil
}

// Get returns one still's description; errs.NotExist if there is none.
func (s *SQLite) Get(ctx context.Context, id int64) (Still, error) {
	const op = "stills.SQLite.Get"
	st, err := scanStill(s.db.QueryRowContext(ctx, `SELECT `+stillCols+` FROM still WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Still{}, errs.Errorf(op, errs.NotExist, "no still %d", id)
	}
	if err != nil {
		return Still{}, errs.E(op, errs.IO, err)
	}
	return st, nil
}

// Image decrypts and returns still id's JPEG. Call it only after the
// viewing is recorded in the ledger.
func (s *SQLite) Image(ctx context.Context, id int64) (Still, []byte, error) {
	const op = "stills.SQLite.Image"
	var wrapped []byte
	row := s.db.QueryRowContext(ctx, `SELECT `+stillCols+`, wrapped_key FROM still WHERE id = ?`, id)
	var st Still
	var rec, stored int64
	var fj string
	err := row.Scan(&st.ID, &st.Camera, &rec, &stored, &st.KeyID, &st.Bytes, &st.SHA256, &fj, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return Still{}, nil, errs.Errorf(op, errs.NotExist, "no still %d", id)
	}
	if err != nil {
		return Still{}, nil, errs.E(op, errs.IO, err)
	}
	st.RecordedAt, st.StoredAt = time.Unix(0, rec).UTC(), time.Unix(0, stored).UTC()
	_ = json.Unmarshal([]byte(fj), &st.Findings)
	b, err := os.ReadFile(s.path(id))
	if err != nil {
		return Still{}, nil, errs.E(op, errs.IO, err)
	}
	if len(b) < stillHeaderSize || [8]byte(b[:8]) != stillMagic || b[8] != stillVersion ||
		int64(binary.BigEndian.Uint64(b[12:20])) != id {
		return Still{}, nil, errs.Errorf(op, errs.Corrupt, "still %d: bad header", id)
	}
	if sum := sha256.Sum256(b); !bytes.Equal(sum[:], st.SHA256) {
		return Still{}, nil, errs.Errorf(op, errs.Corrupt, "still %d: the file does not match its recorded hash", id)
	}
	dk, err := s.keys.Unwrap(wrapped, -id, st.KeyID)
	if err != nil {
		return Still{}, nil, errs.E(op, errs.Corrupt, err)
	}
	img, err := dk.OpenBlob(-id, stillPurpose(st.Camera, time.Unix(0, rec)), b[stillHeaderSize:])
	if err != nil {
		return Still{}, nil, errs.E(op, errs.Corrupt, err)
	}
	return st, img, nil
}

// Delete destroys one still (unrecoverable: its wrapped data key is
// deleted with its row) and returns what it was, for the destruction
// record; errs.NotExist if there is none.
func (s *SQLite) Delete(ctx context.Context, id int64) (Still, error) {
	const op = "stills.SQLite.Delete"
	got, err := s.destroy(ctx, `SELECT `+stillCols+` FROM still WHERE id = ?`, id)
	if err != nil {
		return Still{}, errs.E(op, err)
	}
	if len(got) == 0 {
		return Still{}, errs.Errorf(op, errs.NotExist, "no still %d", id)
	}
	return got[0], nil
}

// DestroyBefore destroys every still of camera recorded before t (the
// retention engine calls it with the camera's retention cut-off) and
// returns them, oldest first, for the destruction record (파기 기록).
func (s *SQLite) DestroyBefore(ctx context.Context, camera string, t time.Time) ([]Still, error) {
	const op = "stills.SQLite.DestroyBefore"
	got, err := s.destroy(ctx, `SELECT `+stillCols+` FROM still WHERE camera = ? AND recorded_ns < ? ORDER BY recorded_ns, id`,
		camera, t.UnixNano())
	if err != nil {
		return nil, errs.E(op, err)
	}
	return got, nil
}

// destroy deletes the rows the query selects in one transaction (the
// wrapped keys with them; secure_delete overwrites them in the database
// file, and a WAL checkpoint removes them from the log), then unlinks the
// files and fsyncs the directory. Once the transaction has committed the
// stills are gone; an interrupted unlink is finished by the next Open.
func (s *SQLite) destroy(ctx context.Context, query string, args ...any) ([]Still, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, errs.E(opStills, errs.IO, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, errs.E(opStills, errs.IO, err)
	}
	var got []Still
	for rows.Next() {
		st, err := scanStill(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		got = append(got, st)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, errs.E(opStills, errs.IO, err)
	}
	if len(got) == 0 {
		return nil, nil
	}
	for _, st := range got {
		if _, err := tx.ExecContext(ctx, `DELETE FROM still WHERE id = ?`, st.ID); err != nil {
			return nil, errs.E(opStills, errs.IO, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, errs.E(opStills, errs.IO, err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		s.log.Warn("still store: checkpointing after destruction", "err", err)
	}
	for _, st := range got {
		if err := os.Remove(s.path(st.ID)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return got, errs.E(opStills, errs.IO, err)
		}
	}
	return got, syncDir(s.dir)
}
