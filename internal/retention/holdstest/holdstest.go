// Package holdstest is the conformance suite of retention.HoldStore: every
// implementation (retention.db now, PostgreSQL later) runs Run in its
// tests.
package holdstest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/retention"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) retention.HoldStore
	// Reopen closes s and opens the same data again (a restart).
	Reopen func(t *testing.T, s retention.HoldStore) retention.HoldStore
}

var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func hold(owner retention.Owner, ref string, cams ...string) retention.Hold {
	return retention.Hold{Owner: owner, Ref: ref, Reason: "수사기관 협조 요청", Actor: "kim", Cameras: cams,
		From: t0, To: t0.Add(24 * time.Hour), Created: t0.Add(time.Hour)}
}

func ok(retention.Hold) error { return nil }

func ids(hs []retention.Hold) []int64 {
	var out []int64
	for _, h := range hs {
		out = append(out, h.ID)
	}
	return out
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	ctx := context.Background()
	open := func(t *testing.T) retention.HoldStore {
		s := f.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	insert := func(t *testing.T, s retention.HoldStore, x retention.Hold) retention.Hold {
		t.Helper()
		h, err := s.Insert(ctx, x, ok)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}

	t.Run("InsertListGet", func(t *testing.T) {
		s := open(t)
		var seen retention.Hold
		a, err := s.Insert(ctx, hold(retention.OwnerManual, "", "cam1", "cam2"), func(h retention.Hold) error {
			seen = h
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID <= 0 || seen.ID != a.ID {
			t.Fatalf("inserted %+v; record saw id %d", a, seen.ID)
		}
		b := insert(t, s, hold(retention.OwnerRequest, "req-1")) // every camera
		if b.ID <= a.ID {
			t.Fatalf("ids %d then %d: want increasing", a.ID, b.ID)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		got, found, err := s.Get(ctx, a.ID)
		if err != nil || !found || got.Owner != retention.OwnerManual || got.Reason != "수사기관 협조 요청" || got.Actor != "kim" ||
			!slices.Equal(got.Cameras, []string{"cam1", "cam2"}) || !got.From.Equal(t0) || !got.To.Equal(t0.Add(24*time.Hour)) ||
			!got.Created.Equal(t0.Add(time.Hour)) || !got.Active() {
			t.Fatalf("hold %d after reopen: %+v %v %v", a.ID, got, found, err)
		}
		if got, _, _ := s.Get(ctx, b.ID); got.Cameras == nil || len(got.Cameras) != 0 || got.Ref != "req-1" {
			t.Fatalf("a hold of every camera: %+v (cameras must be empty, not nil)", got)
		}
		if _, found, err := s.Get(ctx, b.ID+100); found || err != nil {
			t.Fatalf("a missing hold: %v %v", found, err)
		}
		hs, err := s.List(ctx, false)
		if err != nil || !slices.Equal(ids(hs), []int64{a.ID, b.ID}) {
			t.Fatalf("list: %v %v", ids(hs), err)
		}
	})

	t.Run("RecordFailsNothingStored", func(t *testing.T) {
		s := open(t)
		a := insert(t, s, hold(retention.OwnerManual, ""))
		boom := errors.New("ledger disk full")
		if _, err := s.Insert(ctx, hold(retention.OwnerManual, ""), func(retention.Hold) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("insert with a failing record: %v", err)
		}
		if hs, _ := s.List(ctx, true); !slices.Equal(ids(hs), []int64{a.ID}) {
			t.Fatalf("holds after a refused insert: %v", ids(hs))
		}
		if _, err := s.Release(ctx, retention.HoldMatch{ID: a.ID}, t0.Add(2*time.Hour), "lee",
			func(retention.Hold) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("release with a failing record: %v", err)
		}
		if got, _, _ := s.Get(ctx, a.ID); !got.Active() {
			t.Fatalf("released although its record failed: %+v", got)
		}
		c := insert(t, s, hold(retention.OwnerManual, ""))
		if c.ID <= a.ID {
			t.Fatalf("id %d after %d", c.ID, a.ID)
		}
	})

	t.Run("Release", func(t *testing.T) {
		s := open(t)
		a := insert(t, s, hold(retention.OwnerManual, "", "cam1"))
		r1 := insert(t, s, hold(retention.OwnerRequest, "req-7"))
		r2 := insert(t, s, hold(retention.OwnerRequest, "req-7", "cam2"))
		p := insert(t, s, hold(retention.OwnerProvision, "req-7")) // same ref, other owner
		at := t0.Add(3 * time.Hour)
		var recorded []int64
		rel, err := s.Release(ctx, retention.HoldMatch{Owner: retention.OwnerRequest, Ref: "req-7"}, at, "park",
			func(h retention.Hold) error {
				if h.Active() || h.ReleasedBy != "park" || !h.Released.Equal(at) {
					t.Errorf("record saw %+v; want it released by park at %v", h, at)
				}
				recorded = append(recorded, h.ID)
				return nil
			})
		if err != nil || !slices.Equal(ids(rel), []int64{r1.ID, r2.ID}) || !slices.Equal(recorded, ids(rel)) {
			t.Fatalf("released %v (recorded %v): %v", ids(rel), recorded, err)
		}
		if rel, err := s.Release(ctx, retention.HoldMatch{Owner: retention.OwnerRequest, Ref: "req-7"}, at, "park", ok); err != nil || len(rel) != 0 {
			t.Fatalf("releasing again: %v %v", ids(rel), err)
		}
		if rel, err := s.Release(ctx, retention.HoldMatch{ID: a.ID}, at, "lee", ok); err != nil || !slices.Equal(ids(rel), []int64{a.ID}) {
			t.Fatalf("release by id: %v %v", ids(rel), err)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		if hs, _ := s.List(ctx, false); !slices.Equal(ids(hs), []int64{p.ID}) {
			t.Fatalf("active after releases: %v", ids(hs))
		}
		all, _ := s.List(ctx, true)
		if !slices.Equal(ids(all), []int64{a.ID, r1.ID, r2.ID, p.ID}) {
			t.Fatalf("all: %v", ids(all))
		}
		if all[0].ReleasedBy != "lee" || !all[0].Released.Equal(at) || all[1].ReleasedBy != "park" {
			t.Fatalf("released holds: %+v", all[:2])
		}
	})
}
