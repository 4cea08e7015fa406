package access_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/access/accesstest"
)

func TestSQLiteConformance(t *testing.T) {
	accesstest.Run(t, func(t *testing.T) access.Store {
		s, err := access.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "access.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
