package ledger_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/ledger/ledgertest"
	"github.com/gwanje/gwanje/internal/sqlitedb"
)

// The SQLite store passes the conformance suite every ledger store must.
func TestSQLiteStore(t *testing.T) {
	ledgertest.TestStore(t, func(t *testing.T) ledgertest.Instance {
		path := filepath.Join(t.TempDir(), ledger.DBName)
		st, err := ledger.OpenSQLite(context.Background(), path, false)
		if err != nil {
			t.Fatal(err)
		}
		return ledgertest.Instance{Store: st, Exec: func(q string) error {
			db, err := sql.Open("sqlite", sqlitedb.DSN(path, sqlitedb.Options{}))
			if err != nil {
				return err
			}
			defer db.Close()
			_, err = db.Exec(q)
			return err
		}}
	})
}
