package alarm_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/alarm/alarmtest"
)

func TestStoreConformance(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		paths := map[alarm.Store]string{}
		open := func(t *testing.T, path string) alarm.Store {
			s, err := alarm.OpenSQLite(context.Background(), path, "")
			if err != nil {
				t.Fatal(err)
			}
			paths[s] = path
			return s
		}
		alarmtest.Run(t, alarmtest.Factory{
			New: func(t *testing.T) alarm.Store { return open(t, filepath.Join(t.TempDir(), "alarms.db")) },
			Reopen: func(t *testing.T, s alarm.Store) alarm.Store {
				s.Close()
				return open(t, paths[s])
			},
		})
	})
	t.Run("Mem", func(t *testing.T) {
		alarmtest.Run(t, alarmtest.Factory{
			New:    func(t *testing.T) alarm.Store { return alarm.NewMemStore() },
			Reopen: func(t *testing.T, s alarm.Store) alarm.Store { return s },
		})
	})
}
