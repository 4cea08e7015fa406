package store

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// index.db lists every camera's recording times and holds the wrapped data
// keys: readable by the service account only. It was created 0644.
func TestIndexMode0600(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	w, _ := s.Writer("cam")
	write(t, w, frames(t, media.CodecH264, t0, 30))
	w.Close()
	ms, _ := filepath.Glob(filepath.Join(e.dir, "index.db*"))
	if len(ms) < 2 {
		t.Fatalf("files %v", ms)
	}
	for _, p := range ms {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	s.Close()
}

// An index.db of before the migration convention (its version in
// meta.schema_version, user_version 0, mode 0644) opens with its rows and
// takes user_version 1 and mode 0600; one of a newer schema is refused.
func TestIndexLegacyVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "index.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(schema); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key)
		VALUES ('cam', 2, 0, 90000, 1, 1, x'00', 'k', x'00')`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	os.Chmod(path, 0o644)
	x, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.List(ctx, "cam", 0, 1<<40)
	if err != nil || len(rows) != 1 {
		t.Fatalf("legacy rows %v %v", rows, err)
	}
	if v, err := sqlitedb.Version(ctx, x.db); err != nil || v != len(indexMigrations) {
		t.Fatalf("user_version %d %v, want %d", v, err, len(indexMigrations))
	}
	x.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after opening, want 0600", fi.Mode().Perm())
	}

	newer := filepath.Join(t.TempDir(), "index.db")
	n, _ := sql.Open("sqlite", "file:"+newer)
	n.Exec(schema)
	n.Exec(`UPDATE meta SET schema_version = 99`)
	n.Close()
	if _, err := OpenSQLite(ctx, newer); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("an index of a newer schema: %v, want it refused as newer", err)
	}
}
