// Package provisiontest is the conformance suite of provision.Store: every
// implementation (SQLite now, PostgreSQL later) runs Run in its tests.
package provisiontest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/provision"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) provision.Store
	// Reopen closes s and opens the same data again (a restart).
	Reopen func(t *testing.T, s provision.Store) provision.Store
}

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// Sample returns a requested provision as the suite stores it.
func Sample() provision.Provision {
	return provision.Provision{Kind: provision.Provide, Recipient: "서울○○경찰서 수사과 경위 김○○", Letter: "수사과-2026-0412",
		Purpose: "절도 사건 수사", Basis: 7, Form: provision.Copy, Period: "수사 종결 시까지",
		Cameras: []string{"gate", "lobby"}, From: t0, To: t0.Add(10 * time.Minute), State: provision.Requested,
		RequestedBy: "kim", RequestedAt: t0.Add(time.Hour + 123456789)}
}

func same(a, b provision.Provision) bool {
	return a.ID == b.ID && a.Kind == b.Kind && a.Recipient == b.Recipient && a.Letter == b.Letter && a.Purpose == b.Purpose &&
		a.Basis == b.Basis && a.Statute == b.Statute && a.Form == b.Form && a.Period == b.Period &&
		slices.Equal(a.Cameras, b.Cameras) && a.From.Equal(b.From) && a.To.Equal(b.To) && a.State == b.State &&
		a.RequestedBy == b.RequestedBy && a.RequestedAt.Equal(b.RequestedAt) && a.ApprovedBy == b.ApprovedBy &&
		a.ApprovedAt.Equal(b.ApprovedAt) && a.ClosedBy == b.ClosedBy && a.ClosedAt.Equal(b.ClosedAt) &&
		a.CloseReason == b.CloseReason && a.ProducedBy == b.ProducedBy && a.ProducedAt.Equal(b.ProducedAt) &&
		a.LedgerSeq == b.LedgerSeq && a.Package == b.Package && a.HoldReleased.Equal(b.HoldReleased)
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	ctx := context.Background()
	open := func(t *testing.T) provision.Store {
		s := f.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}
	none := func(provision.Provision) error { return nil }

	t.Run("CreateGetRestart", func(t *testing.T) {
		s := open(t)
		var seen provision.Provision
		got, err := s.Create(ctx, Sample(), func(x provision.Provision) error { seen = x; return nil })
		if err != nil {
			t.Fatal(err)
		}
		want := Sample()
		want.ID = got.ID
		if got.ID == 0 || seen.ID != got.ID || !same(got, want) {
			t.Fatalf("created %+v (record saw id %d); want %+v", got, seen.ID, want)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		back, ok, err := s.Get(ctx, got.ID)
		if err != nil || !ok || !same(back, want) {
			t.Fatalf("after reopen: %+v %v %v; want %+v", back, ok, err, want)
		}
		if _, ok, err := s.Get(ctx, got.ID+100); ok || err != nil {
			t.Fatalf("get of no provision: %v %v", ok, err)
		}
	})

	t.Run("NoLegalBasisNoProvision", func(t *testing.T) {
		s := open(t)
		for _, b := range []provision.Basis{0, 4, 11, -1} {
			x := Sample()
			x.Basis = b
			called := false
			if _, err := s.Create(ctx, x, func(provision.Provision) error { called = true; return nil }); !errs.Is(err, errs.Invalid) ||
				errs.CodeOf(err) != "provision.basis" || called {
				t.Errorf("basis %d: %v (record called %v); want provision.basis", b, err, called)
			}
		}
		if xs, err := s.List(ctx, true); err != nil || len(xs) != 0 {
			t.Fatalf("stored without a basis: %+v %v", xs, err)
		}
	})

	t.Run("RecordFailureStoresNothing", func(t *testing.T) {
		s := open(t)
		boom := errors.New("hold refused")
		if _, err := s.Create(ctx, Sample(), func(provision.Provision) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("create with a failing record: %v", err)
		}
		if xs, err := s.List(ctx, true); err != nil || len(xs) != 0 {
			t.Fatalf("stored after a failed record: %+v %v", xs, err)
		}
		a, err := s.Create(ctx, Sample(), none)
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Create(ctx, Sample(), none)
		if err != nil || b.ID <= a.ID {
			t.Fatalf("ids %d then %d (%v): want increasing", a.ID, b.ID, err)
		}
	})

	t.Run("UpdateFromState", func(t *testing.T) {
		s := open(t)
		x, err := s.Create(ctx, Sample(), none)
		if err != nil {
			t.Fatal(err)
		}
		x.State, x.ApprovedBy, x.ApprovedAt = provision.Approved, "lee", t0.Add(2*time.Hour+7)
		if err := s.Update(ctx, x, provision.Requested, nil); err != nil {
			t.Fatal(err)
		}
		// A second approval (or any step from a state it has left) changes
		// nothing: two people cannot both move it.
		y := x
		y.ApprovedBy = "choi"
		if err := s.Update(ctx, y, provision.Requested, nil); !errs.Is(err, errs.Conflict) || errs.CodeOf(err) != "provision.state" {
			t.Fatalf("update from a state it left: %v", err)
		}
		boom := errors.New("ledger down")
		z := x
		z.State, z.ProducedBy, z.ProducedAt, z.LedgerSeq, z.Package = provision.Produced, "kim", t0.Add(3*time.Hour), 42, "export-42-x"
		if err := s.Update(ctx, z, provision.Approved, func(provision.Provision) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("update with a failing record: %v", err)
		}
		if got, _, _ := s.Get(ctx, x.ID); !same(got, x) {
			t.Fatalf("after a failed update: %+v; want %+v", got, x)
		}
		var seen provision.Provision
		if err := s.Update(ctx, z, provision.Approved, func(p provision.Provision) error { seen = p; return nil }); err != nil {
			t.Fatal(err)
		}
		if !same(seen, z) {
			t.Errorf("record saw %+v; want %+v", seen, z)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		if got, ok, err := s.Get(ctx, x.ID); err != nil || !ok || !same(got, z) {
			t.Fatalf("after reopen: %+v %v %v; want %+v", got, ok, err, z)
		}
		if err := s.Update(ctx, provision.Provision{ID: x.ID + 50, State: provision.Approved}, provision.Requested, nil); !errs.Is(err, errs.NotExist) {
			t.Errorf("update of no provision: %v", err)
		}
	})

	t.Run("ListOpenNewestFirst", func(t *testing.T) {
		s := open(t)
		var ids []int64
		for i := 0; i < 3; i++ {
			x, err := s.Create(ctx, Sample(), none)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, x.ID)
		}
		x, _, _ := s.Get(ctx, ids[1])
		x.State, x.ClosedBy, x.ClosedAt, x.CloseReason = provision.Refused, "lee", t0, "근거 부족"
		if err := s.Update(ctx, x, provision.Requested, nil); err != nil {
			t.Fatal(err)
		}
		ids64 := func(xs []provision.Provision) []int64 {
			var out []int64
			for _, x := range xs {
				out = append(out, x.ID)
			}
			return out
		}
		open, err := s.List(ctx, false)
		if err != nil || !slices.Equal(ids64(open), []int64{ids[2], ids[0]}) {
			t.Errorf("open: %v %v; want %v", ids64(open), err, []int64{ids[2], ids[0]})
		}
		all, err := s.List(ctx, true)
		if err != nil || !slices.Equal(ids64(all), []int64{ids[2], ids[1], ids[0]}) {
			t.Errorf("all: %v %v", ids64(all), err)
		}
	})
}
