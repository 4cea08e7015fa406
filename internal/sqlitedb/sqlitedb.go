// Package sqlitedb is the one way gwanje opens a SQLite database: the file
// is created 0600 before SQLite touches it, the connection runs in WAL mode
// with synchronous=FULL, foreign keys, secure_delete and a busy timeout, and
// the schema follows one migration convention.
//
// The migration convention: a store lists its migrations, oldest first, as
// SQL scripts. PRAGMA user_version holds how many of them the file has
// applied. Opening applies the missing ones, each with its version bump in
// one transaction, and refuses a file whose version is newer than the list
// (a newer gwanje wrote it). A store that kept its version elsewhere before
// this convention gives a Legacy function that reads that version once.
//
// Every store of gwanje (segment index, ledger, accounts, holds, alarms,
// stills, requests, provisions) opens through here, so a PostgreSQL
// implementation of a store interface only has to replace this one layer.
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"

	"github.com/gwanje/gwanje/internal/errs"

	_ "modernc.org/sqlite" // driver "sqlite"
)

// Options say how to open a database.
type Options struct {
	// Migrations are the schema scripts, oldest first; Migrations[i] takes
	// the file from user_version i to i+1. Append only: never edit or
	// reorder one that has shipped.
	Migrations []string
	// Legacy, when set, is called on a file whose user_version is 0 but
	// which already has tables, to learn how many Migrations it has in
	// effect applied (a store's version kept in a table of its own before
	// this convention). It runs in the migration's transaction.
	Legacy func(ctx context.Context, tx *sql.Tx) (int, error)
	// ReadOnly opens the file for reading only (query_only), creating and
	// migrating nothing; the file must exist.
	ReadOnly bool
	// Synchronous is SQLite's synchronous pragma; "" means FULL.
	Synchronous string
	// MaxOpenConns limits the pool; 0 means 1 for a writer (writes are
	// serialised anyway, and one connection keeps the pragmas in force) and
	// 2 for a reader.
	MaxOpenConns int
}

// Open opens (creating if needed, mode 0600) the database at path and
// brings its schema up to date. op names the caller's operation in errors.
func Open(ctx context.Context, op, path string, o Options) (*sql.DB, error) {
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, errs.E(op, errs.NotExist, err)
		}
	} else if err := create(path); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	db, err := sql.Open("sqlite", DSN(path, o))
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	n := o.MaxOpenConns
	if n == 0 {
		n = 1
		if o.ReadOnly {
			n = 2
		}
	}
	db.SetMaxOpenConns(n)
	if o.ReadOnly {
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, errs.E(op, errs.IO, err)
		}
		return db, nil
	}
	if err := Migrate(ctx, db, o.Migrations, o.Legacy); err != nil {
		db.Close()
		return nil, errs.E(op, fmt.Errorf("%s: %w", path, err))
	}
	return db, nil
}

// DSN is the modernc.org/sqlite data source name Open uses.
func DSN(path string, o Options) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if o.ReadOnly {
		q.Add("_pragma", "query_only(1)")
		return "file:" + path + "?" + q.Encode()
	}
	sync := o.Synchronous
	if sync == "" {
		sync = "FULL"
	}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "secure_delete(1)")
	q.Add("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// create makes the file 0600 before SQLite does, so it and its -wal and
// -shm files (which SQLite creates with the main file's mode) are readable
// by the service account only. An existing file's mode is tightened.
func create(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return f.Chmod(0o600)
	}
	return nil
}

// ErrTooNew is returned (wrapped) when a file was written by a newer schema.
var ErrTooNew = errors.New("schema is newer than this gwanje knows")

// Migrate applies the migrations db lacks, each in its own transaction with
// the user_version bump.
func Migrate(ctx context.Context, db *sql.DB, migrations []string,
	legacy func(context.Context, *sql.Tx) (int, error)) error {
	v, err := Version(ctx, db)
	if err != nil {
		return err
	}
	if v == 0 && legacy != nil {
		var tables int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&tables); err != nil {
			return errs.E("sqlitedb.Migrate", errs.IO, err)
		}
		if tables > 0 {
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				return errs.E("sqlitedb.Migrate", errs.IO, err)
			}
			lv, err := legacy(ctx, tx)
			if err == nil && (lv < 0 || lv > len(migrations)) {
				err = errs.Errorf("sqlitedb.Migrate", errs.Invalid, "legacy schema version %d; this gwanje knows %d: %v",
					lv, len(migrations), ErrTooNew)
			}
			if err == nil {
				_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", lv))
			}
			if err == nil {
				err = tx.Commit()
			} else {
				tx.Rollback()
			}
			if err != nil {
				return errs.E("sqlitedb.Migrate", err)
			}
			v = lv
		}
	}
	if v > len(migrations) {
		return errs.Errorf("sqlitedb.Migrate", errs.Invalid, "schema version %d; this gwanje knows %d: %w",
			v, len(migrations), ErrTooNew)
	}
	for i := v; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return errs.E("sqlitedb.Migrate", errs.IO, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return errs.Errorf("sqlitedb.Migrate", errs.IO, "migration %d: %v", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return errs.E("sqlitedb.Migrate", errs.IO, err)
		}
		if err := tx.Commit(); err != nil {
			return errs.E("sqlitedb.Migrate", errs.IO, err)
		}
	}
	return nil
}

// Version is the file's user_version: how many migrations it has applied.
func Version(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&v); err != nil {
		return 0, errs.E("sqlitedb.Version", errs.IO, err)
	}
	return v, nil
}

// Err wraps a failed database call of op in gwanje's vocabulary: a
// cancelled or timed-out context is errs.Canceled, anything else errs.IO.
// nil stays nil.
func Err(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errs.E(op, errs.Canceled, err)
	}
	return errs.E(op, errs.IO, err)
}
