package retention_test

import (
	"context"
	"testing"

	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/retention/holdstest"
)

func TestHoldStoreConformance(t *testing.T) {
	dirs := map[retention.HoldStore]string{}
	open := func(t *testing.T, dir string) retention.HoldStore {
		s, err := retention.OpenSQLiteHolds(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		dirs[s] = dir
		return s
	}
	holdstest.Run(t, holdstest.Factory{
		New: func(t *testing.T) retention.HoldStore { return open(t, t.TempDir()) },
		Reopen: func(t *testing.T, s retention.HoldStore) retention.HoldStore {
			s.Close()
			return open(t, dirs[s])
		},
	})
}
