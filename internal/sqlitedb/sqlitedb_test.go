package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

var migrations = []string{
	`CREATE TABLE a (x INTEGER)`,
	`ALTER TABLE a ADD COLUMN y TEXT`,
}

func TestOpenCreates0600AndMigrates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(ctx, "test.Open", path, Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO a (x, y) VALUES (1, 'one')`); err != nil {
		t.Fatal(err)
	}
	if v, _ := Version(ctx, db); v != 2 {
		t.Fatalf("user_version %d, want 2", v)
	}
	db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(p), st.Mode().Perm())
		}
	}
	// Reopening applies nothing twice; a third migration is applied once.
	db, err = Open(ctx, "test.Open", path, Options{Migrations: append(migrations[:2:2], `CREATE TABLE b (z INTEGER)`)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM a`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows %d (%v), want the one row kept", n, err)
	}
	if v, _ := Version(ctx, db); v != 3 {
		t.Fatalf("user_version %d, want 3", v)
	}
}

func TestOpenTightensLooseMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), "test.Open", path, Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(ctx, "test.Open", path, Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, "test.Open", path, Options{Migrations: migrations[:1]})
	if !errors.Is(err, ErrTooNew) {
		t.Fatalf("err %v, want ErrTooNew", err)
	}
}

func TestFailedMigrationLeavesVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	_, err := Open(ctx, "test.Open", path, Options{Migrations: []string{migrations[0], `NOT SQL`}})
	if err == nil {
		t.Fatal("a broken migration opened")
	}
	db, err := Open(ctx, "test.Open", path, Options{Migrations: migrations[:1]})
	if err != nil {
		t.Fatalf("the first migration did not stay applied: %v", err)
	}
	db.Close()
}

func TestLegacyVersion(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`CREATE TABLE a (x INTEGER); CREATE TABLE meta (schema_version INTEGER); INSERT INTO meta VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	legacy := func(ctx context.Context, tx *sql.Tx) (int, error) {
		var v int
		err := tx.QueryRowContext(ctx, `SELECT schema_version FROM meta`).Scan(&v)
		return v, err
	}
	db, err := Open(ctx, "test.Open", path, Options{Migrations: migrations, Legacy: legacy})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Migration 1 was not run again (it would fail: table a exists); 2 was.
	if _, err := db.Exec(`INSERT INTO a (x, y) VALUES (1, 'y')`); err != nil {
		t.Fatal(err)
	}
	if v, _ := Version(ctx, db); v != 2 {
		t.Fatalf("user_version %d, want 2", v)
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	if _, err := Open(ctx, "test.Open", path, Options{ReadOnly: true}); err == nil {
		t.Fatal("read-only open of a missing file succeeded")
	}
	db, err := Open(ctx, "test.Open", path, Options{Migrations: migrations})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := Open(ctx, "test.Open", path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ro.Exec(`INSERT INTO a (x) VALUES (1)`); err == nil {
		t.Fatal("a read-only connection wrote")
	}
}

// Err is every store's mapping of a database error: nil stays nil, a
// cancelled or timed-out context is Canceled, anything else IO.
func TestErr(t *testing.T) {
	if Err("op", nil) != nil {
		t.Fatal("nil became an error")
	}
	for err, want := range map[error]errs.Kind{
		context.Canceled: errs.Canceled,
		fmt.Errorf("q: %w", context.DeadlineExceeded): errs.Canceled,
		errors.New("disk I/O error"):                  errs.IO,
	} {
		if got := errs.KindOf(Err("op", err)); got != want {
			t.Errorf("%v: kind %v, want %v", err, got, want)
		}
	}
}
