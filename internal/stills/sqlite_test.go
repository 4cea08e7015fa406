package stills

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

var t0 = time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)

// fakeJPEG is recognisable plaintext: the sealed file must not contain it.
var fakeJPEG = append([]byte{0xFF, 0xD8}, []byte(strings.Repeat("PLAINTEXT-PICTURE-", 50))...)

func testKeys(t *testing.T, b byte) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openSQLite(t *testing.T, dir string, keys *seal.Keyring) *SQLite {
	t.Helper()
	s, err := Open(context.Background(), Config{Dir: dir, Keys: keys, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The picture is sealed on disk, index.db and the files are the service
// account's only, and another master key cannot open it.
func TestSQLiteSealsAndRestricts(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "stills")
	s := openSQLite(t, dir, testKeys(t, 7))
	st, err := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{s.path(st.ID), filepath.Join(dir, "index.db")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(s.path(st.ID))
	if bytes.Contains(raw, []byte("PLAINTEXT-PICTURE")) {
		t.Fatal("the still is stored in the clear")
	}
	s.Close()
	other := openSQLite(t, dir, testKeys(t, 8))
	defer other.Close()
	if _, _, err := other.Image(ctx, st.ID); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("opened under the wrong master key: %v", err)
	}
}

// A still whose index row was moved to another camera or time does not
// open: both are bound into the sealing.
func TestSQLiteStillBoundToCameraAndTime(t *testing.T) {
	ctx := context.Background()
	s := openSQLite(t, t.TempDir(), testKeys(t, 7))
	defer s.Close()
	st, err := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE still SET recorded_ns = recorded_ns + 86400000000000 WHERE id = ?`, st.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Image(ctx, st.ID); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("a still whose recording time was moved opened: %v", err)
	}
}

// Destruction removes the file and the wrapped key from index.db and its
// WAL: what is left cannot be opened with any key.
func TestSQLiteDestructionLeavesNoKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSQLite(t, dir, testKeys(t, 7))
	defer s.Close()
	old, _ := s.Put(ctx, "cam1", t0.Add(-48*time.Hour), fakeJPEG, nil)
	var wrapped []byte
	if err := s.db.QueryRow(`SELECT wrapped_key FROM still WHERE id = ?`, old.ID).Scan(&wrapped); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DestroyBefore(ctx, "cam1", t0.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.path(old.ID)); !os.IsNotExist(err) {
		t.Fatalf("destroyed still's file remains: %v", err)
	}
	for _, name := range []string{"index.db", "index.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(b, wrapped) {
			t.Fatalf("the destroyed still's wrapped key is still in %s", name)
		}
	}
}

// Open removes what a crash left: a temporary file, and a file written
// but never indexed.
func TestSQLiteRecovery(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSQLite(t, dir, testKeys(t, 7))
	st, _ := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	s.Close()
	orphan := filepath.Join(dir, "00000000000000ff"+stillExt)
	tmp := filepath.Join(dir, "0000000000000100"+stillExt+".tmp")
	for _, p := range []string{orphan, tmp} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = openSQLite(t, dir, testKeys(t, 7))
	defer s.Close()
	for _, p := range []string{orphan, tmp} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived recovery", filepath.Base(p))
		}
	}
	if _, _, err := s.Image(ctx, st.ID); err != nil {
		t.Fatalf("indexed still lost in recovery: %v", err)
	}
}

// An index.db written before sqlitedb's convention (version in
// meta.schema_version, user_version 0, created 0644) opens: its stills
// are kept, it is at user_version 1, and it is tightened to 0600.
func TestSQLiteOpensLegacyIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := testKeys(t, 7)
	// The old store's exact schema and its first still, written as it did.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	os.Chmod(filepath.Join(dir, "index.db"), 0o644)
	s := openSQLite(t, dir, keys)
	st, err := s.Put(ctx, "cam1", t0, fakeJPEG, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := sqlitedb.Version(ctx, s.db); v != 1 {
		t.Fatalf("user_version %d after opening a legacy index, want 1", v)
	}
	// Simulate the legacy state again with a still in it, then reopen.
	if _, err := s.db.Exec(`PRAGMA user_version = 0`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	os.Chmod(filepath.Join(dir, "index.db"), 0o644)
	s = openSQLite(t, dir, keys)
	defer s.Close()
	if _, img, err := s.Image(ctx, st.ID); err != nil || !bytes.Equal(img, fakeJPEG) {
		t.Fatalf("legacy still: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "index.db")); fi.Mode().Perm() != 0o600 {
		t.Errorf("legacy index.db mode %v, want 0600", fi.Mode().Perm())
	}
	// A file from a newer gwanje is refused, naming the file.
	if _, err := s.db.Exec(`PRAGMA user_version = 7`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, Config{Dir: dir, Keys: keys}); err == nil || !bytes.Contains([]byte(err.Error()), []byte("index.db")) {
		t.Fatalf("opening a newer index: %v", err)
	}
}
