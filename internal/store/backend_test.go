package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

func TestSQLiteIndexConformance(t *testing.T) {
	storetest.TestIndex(t, func(t *testing.T) store.Index {
		x, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "index.db"))
		if err != nil {
			t.Fatal(err)
		}
		return x
	})
}

func TestDiskConformance(t *testing.T) {
	storetest.TestFiles(t, func(t *testing.T) store.Files {
		d, err := store.NewDisk(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestMemIndexConformance(t *testing.T) {
	storetest.TestIndex(t, func(t *testing.T) store.Index { return store.NewMemIndex() })
}
