package access

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// TestSQLiteOpensUnversionedAccessDB: an access.db written before
// versioning (today's schema, user_version 0) is recognised as migration 1
// and brought to the current version with its accounts intact.
func TestSQLiteOpensUnversionedAccessDB(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "access.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(migrations[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO account(name, display, pw, must_change, active, created_ns) VALUES ('Kim', '김', 'h', 0, 1, 1)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	os.Chmod(path, 0o644)

	st, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db := st.(*sqliteStore).db
	if v, err := sqlitedb.Version(ctx, db); err != nil || v != len(migrations) {
		t.Fatalf("user_version %d (%v), want %d", v, err, len(migrations))
	}
	if a, err := st.AccountByName(ctx, "Kim"); err != nil || a.Display != "김" || a.Lang != "" {
		t.Fatalf("legacy account (migration 3 leaves its language unchosen): %+v %v", a, err)
	}
	if err := st.SetLang(ctx, 1, "en"); err != nil {
		t.Fatalf("migration 3's column: %v", err)
	}
	if err := st.SetClientFailures(ctx, 1, "192.0.2.1", Failures{Count: 1, WindowStart: t0}); err != nil {
		t.Fatalf("migration 2's table: %v", err)
	}
	st.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("access.db mode %v, want 0600", fi.Mode().Perm())
	}
	// Reopening applies nothing more.
	st, err = OpenSQLite(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
}

// TestLegacyMixedCaseNameStillLogsIn: an account stored before names were
// normalized ("Kim") logs in, and its normalized twin cannot be created.
func TestLegacyMixedCaseNameStillLogsIn(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	h, _ := hashPassword("Blue-river-42", fast)
	if _, err := e.s.st.InsertAccount(ctx, "Kim", "김", h, t0, []Grant{{Role: Staff, Sites: []string{"main"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.s.Login(ctx, "Kim", "Blue-river-42", "", addrA); err != nil {
		t.Fatalf("legacy name: %v", err)
	}
	if _, _, err := e.s.CreateUser(ctx, e.admin, "kim", "", []Grant{{Role: Staff, Sites: []string{"main"}}}); err == nil {
		t.Fatal("kim created beside legacy Kim")
	}
}
