package provision_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/provision/provisiontest"
)

func openSQLite(t *testing.T, dir string) *provision.SQLiteStore {
	t.Helper()
	s, err := provision.OpenSQLite(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	dirs := map[provision.Store]string{}
	provisiontest.Run(t, provisiontest.Factory{
		New: func(t *testing.T) provision.Store {
			dir := t.TempDir()
			s := openSQLite(t, dir)
			dirs[s] = dir
			return s
		},
		Reopen: func(t *testing.T, s provision.Store) provision.Store {
			dir := dirs[s]
			s.Close()
			n := openSQLite(t, dir)
			dirs[n] = dir
			return n
		},
	})
}

// provisions.db is the owner's only (it names recipients and letters).
func TestSQLiteFileMode(t *testing.T) {
	dir := t.TempDir()
	openSQLite(t, dir).Close()
	fi, err := os.Stat(filepath.Join(dir, provision.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}
