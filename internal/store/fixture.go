package store

import (
	"context"
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/errs"
)

// OpenFixture opens a data directory like Open but never fsyncs: the index
// runs with synchronous=OFF and segment files and directories are not
// synced. It exists to build large test and benchmark fixtures (hundreds of
// thousands of segments) in seconds rather than hours; a crash can lose
// anything written through it. Close it, then Open the directory normally:
// the result is an ordinary data directory. cfg.Index and cfg.Files must
// be nil.
func OpenFixture(ctx context.Context, cfg Config) (*Store, error) {
	const op = "store.OpenFixture"
	if cfg.Index != nil || cfg.Files != nil {
		return nil, errs.Errorf(op, errs.Invalid, "a fixture store uses the SQLite index and local disk")
	}
	if cfg.Dir == "" {
		return nil, errs.Errorf(op, errs.Invalid, "no data directory")
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	idx, err := openSQLite(ctx, filepath.Join(cfg.Dir, "index.db"), "OFF")
	if err != nil {
		return nil, errs.E(op, err)
	}
	d, err := NewDisk(filepath.Join(cfg.Dir, "segments"))
	if err != nil {
		idx.Close()
		return nil, errs.E(op, err)
	}
	d.noSync = true
	cfg.Index, cfg.Files = idx, d
	s, err := Open(ctx, cfg)
	if err != nil {
		idx.Close()
		return nil, errs.E(op, err)
	}
	return s, nil
}

// Has reports whether segment id has an index row (closed, open or being
// replaced). A destroyed segment has none.
func (s *Store) Has(ctx context.Context, id int64) (bool, error) {
	_, err := s.idx.Get(ctx, id)
	if errs.Is(err, errs.NotExist) {
		return false, nil
	}
	if err != nil {
		return false, errs.E("store.Has", err)
	}
	return true, nil
}

// Brief returns the brief of segment id, whatever its state, or an
// errs.NotExist error.
func (s *Store) Brief(ctx context.Context, id int64) (*Brief, error) {
	r, err := s.idx.Get(ctx, id)
	if err != nil {
		return nil, errs.E("store.Brief", err)
	}
	return &Brief{ID: r.ID, Camera: r.Camera, Start: r.Start, End: r.End, Bytes: r.FileBytes, SHA256: r.SHA256,
		KeyID: r.KeyID, WrappedKey: r.WrappedKey}, nil
}
