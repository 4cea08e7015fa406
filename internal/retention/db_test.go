package retention

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// retention.db holds who placed which hold and why (free text): readable
// by the service account only. It was created 0644.
func TestRetentionDBMode0600(t *testing.T) {
	dir := t.TempDir()
	h, err := OpenHolds(context.Background(), dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := h.List(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	ms, _ := filepath.Glob(filepath.Join(dir, "retention.db*"))
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
}

// A retention.db of before the migration convention (its version in
// meta.schema_version, user_version 0, mode 0644) opens with its holds,
// takes user_version 1 and mode 0600; one of a newer schema is refused.
func TestRetentionDBLegacy(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "retention.db")
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(dbSchema); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`INSERT INTO hold (owner, ref, reason, actor, cameras, from_90k, to_90k, created_90k)
		VALUES ('manual', '', '소송', 'kim', '["cam"]', 90000, 180000, 90000)`); err != nil {
		t.Fatal(err)
	}
	old.Close()
	os.Chmod(path, 0o644)
	h, err := OpenHolds(ctx, dir, nil, func() time.Time { return time.Unix(5, 0) })
	if err != nil {
		t.Fatal(err)
	}
	hs, err := h.List(ctx, true)
	if err != nil || len(hs) != 1 || hs[0].Reason != "소송" || hs[0].Cameras[0] != "cam" {
		t.Fatalf("legacy holds: %+v %v", hs, err)
	}
	v, err := sqlitedb.Version(ctx, h.st.(*SQLiteHolds).db)
	if err != nil || v != 1 {
		t.Fatalf("user_version %d %v, want 1", v, err)
	}
	h.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v after opening, want 0600", fi.Mode().Perm())
	}

	newer := t.TempDir()
	n, _ := sql.Open("sqlite", "file:"+filepath.Join(newer, "retention.db"))
	n.Exec(dbSchema)
	n.Exec(`UPDATE meta SET schema_version = 2`)
	n.Close()
	if _, err := OpenHolds(ctx, newer, nil, nil); err == nil {
		t.Fatal("a retention.db of a newer schema was opened")
	}
}
