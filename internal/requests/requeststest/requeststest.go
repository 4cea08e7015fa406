// Package requeststest is the conformance suite of requests.Store: every
// implementation (SQLite now, PostgreSQL later) runs Run in its tests.
package requeststest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/requests"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) requests.Store
	// Reopen closes s and opens the same data again (a restart).
	Reopen func(t *testing.T, s requests.Store) requests.Store
}

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Sample returns a request and its personal data as the suite stores them.
func Sample() (requests.Request, requests.Personal) {
	r := requests.Request{Types: []requests.Type{requests.Existence, requests.View}, From: t0.Add(-2 * time.Hour),
		To: t0.Add(-time.Hour), Site: "hq", Cameras: []string{"gate", "lobby"}, Channel: "web", Received: t0,
		Due: t0.AddDate(0, 0, 11), State: requests.Received}
	p := requests.Personal{
		Requester: requests.Person{Name: "홍길동", Phone: "010-1234-5678", Birth: "1980-01-02", Address: "서울 종로구 1",
			Relation: "본인"},
		Subject: requests.Person{Name: "홍길동", Relation: "본인"}, Purpose: "주차 접촉 사고 확인"}
	return r, p
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	ctx := context.Background()
	open := func(t *testing.T) requests.Store {
		s := f.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("CreateGetRestart", func(t *testing.T) {
		s := open(t)
		r, p := Sample()
		var seen requests.Request
		got, err := s.Create(ctx, r, 2026, "K7QF", p, func(x requests.Request) error { seen = x; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if got.ID == 0 || got.Receipt != "2026-0001-K7QF" || seen.Receipt != got.Receipt {
			t.Fatalf("created %+v (record saw %q); want an id and receipt 2026-0001-K7QF", got, seen.Receipt)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		back, ok, err := s.ByReceipt(ctx, "2026-0001-k7qf")
		if err != nil || !ok || back.ID != got.ID || !slices.Equal(back.Types, r.Types) || !slices.Equal(back.Cameras, r.Cameras) ||
			!back.From.Equal(r.From) || !back.To.Equal(r.To) || !back.Due.Equal(r.Due) || back.State != requests.Received ||
			back.Site != "hq" || back.Channel != "web" {
			t.Fatalf("after reopen: %+v %v %v; want %+v", back, ok, err, r)
		}
		pp, ok, err := s.Personal(ctx, got.ID)
		if err != nil || !ok || pp != p {
			t.Fatalf("personal after reopen: %+v %v %v", pp, ok, err)
		}
		if _, ok, err := s.Get(ctx, got.ID+100); ok || err != nil {
			t.Fatalf("get of no request: %v %v", ok, err)
		}
		if _, ok, err := s.Personal(ctx, got.ID+100); ok || err != nil {
			t.Fatalf("personal of no request: %v %v", ok, err)
		}
	})

	t.Run("NumberedPerYear", func(t *testing.T) {
		s := open(t)
		r, p := Sample()
		var got []string
		for _, y := range []int{2026, 2026, 2027, 2026} {
			x, err := s.Create(ctx, r, y, "ABCD", p, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, x.Receipt)
		}
		want := []string{"2026-0001-ABCD", "2026-0002-ABCD", "2027-0001-ABCD", "2026-0003-ABCD"}
		if !slices.Equal(got, want) {
			t.Fatalf("receipts %v, want %v", got, want)
		}
	})

	t.Run("RecordFailureStoresNothing", func(t *testing.T) {
		s := open(t)
		r, p := Sample()
		boom := errors.New("hold refused")
		if _, err := s.Create(ctx, r, 2026, "ABCD", p, func(requests.Request) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("create with a failing record: %v, want its error", err)
		}
		if rs, err := s.List(ctx, true); err != nil || len(rs) != 0 {
			t.Fatalf("after a failed create the store lists %v %v", rs, err)
		}
	})

	t.Run("UpdateListForget", func(t *testing.T) {
		s := open(t)
		r, p := Sample()
		a, _ := s.Create(ctx, r, 2026, "AAAA", p, nil)
		b, _ := s.Create(ctx, r, 2026, "BBBB", p, nil)
		a.State, a.ClosedAt = requests.Closed, t0.Add(time.Hour)
		a.Due, a.PostponeReason, a.Postponed = t0.AddDate(0, 0, 20), "자료 확인", t0.Add(time.Minute)
		a.Cameras = []string{"gate"}
		a.IdentityMethod, a.IdentityProxy, a.IdentityBy, a.IdentityAt = "신분증 대조", "위임장", "kim", t0.Add(30*time.Minute)
		a.Decision = &requests.Decision{Types: []requests.TypeDecision{{Type: requests.Existence, Outcome: requests.Approved},
			{Type: requests.View, Outcome: requests.Partly, Ground: requests.GroundThirdParty, Note: "일부만",
				Cameras: []string{"gate"}, From: r.From.Add(time.Minute)}}, Note: "결정", By: "lee", At: t0.Add(40 * time.Minute)}
		a.Fulfilments = []requests.Fulfilment{{Type: requests.Existence, By: "lee", At: t0.Add(41 * time.Minute), Exists: true},
			{Type: requests.View, By: "lee", At: t0.Add(42 * time.Minute), Until: t0.Add(2 * time.Hour)},
			{Type: requests.Deletion, By: "lee", At: t0.Add(43 * time.Minute), Receipts: []string{"r1", "r2"}}}
		a.ClosedBy, a.Withdrawn = "lee", true
		if err := s.Update(ctx, a); err != nil {
			t.Fatal(err)
		}
		open, _ := s.List(ctx, false)
		all, _ := s.List(ctx, true)
		if len(open) != 1 || open[0].ID != b.ID || len(all) != 2 {
			t.Fatalf("open %v all %v; want only %d open of two", open, all, b.ID)
		}
		got, _, _ := s.Get(ctx, a.ID)
		if got.State != requests.Closed || !got.ClosedAt.Equal(a.ClosedAt) || got.PostponeReason != "자료 확인" ||
			!got.Due.Equal(a.Due) || !slices.Equal(got.Cameras, []string{"gate"}) || got.IdentityMethod != "신분증 대조" ||
			got.IdentityProxy != "위임장" || got.IdentityBy != "kim" || !got.IdentityAt.Equal(a.IdentityAt) ||
			got.ClosedBy != "lee" || !got.Withdrawn {
			t.Fatalf("updated %+v", got)
		}
		if d := got.Decision; d == nil || d.By != "lee" || !d.At.Equal(a.Decision.At) || d.Note != "결정" || len(d.Types) != 2 ||
			d.Types[1].Ground != requests.GroundThirdParty || !d.Types[1].From.Equal(a.Decision.Types[1].From) ||
			!slices.Equal(d.Types[1].Cameras, []string{"gate"}) || d.Types[1].Note != "일부만" {
			t.Fatalf("decision read back %+v", got.Decision)
		}
		if f := got.Fulfilments; len(f) != 3 || !f[0].Exists || !f[1].Until.Equal(a.Fulfilments[1].Until) ||
			!slices.Equal(f[2].Receipts, []string{"r1", "r2"}) || f[2].By != "lee" || !f[2].At.Equal(a.Fulfilments[2].At) {
			t.Fatalf("fulfilments read back %+v", got.Fulfilments)
		}
		if b, _, _ := s.Get(ctx, b.ID); b.Decision != nil || len(b.Fulfilments) != 0 || b.ClosedBy != "" || b.Withdrawn {
			t.Fatalf("an undecided request reads %+v", b)
		}
		if err := s.Update(ctx, requests.Request{ID: 999}); err == nil {
			t.Fatal("update of no request succeeded")
		}
		ids, err := s.Forget(ctx, a.ClosedAt, t0.AddDate(3, 0, 0))
		if err != nil || len(ids) != 0 {
			t.Fatalf("forget before it closed: %v %v, want none", ids, err)
		}
		ids, err = s.Forget(ctx, a.ClosedAt.Add(time.Nanosecond), t0.AddDate(3, 0, 0))
		if err != nil || !slices.Equal(ids, []int64{a.ID}) {
			t.Fatalf("forget: %v %v, want [%d] (the open one kept)", ids, err, a.ID)
		}
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		if _, ok, err := s.Personal(ctx, a.ID); ok || err != nil {
			t.Fatalf("forgotten personal data still reads: %v %v", ok, err)
		}
		if _, ok, _ := s.Personal(ctx, b.ID); !ok {
			t.Fatal("the open request's personal data was forgotten too")
		}
		got, _, _ = s.Get(ctx, a.ID)
		if got.Forgotten.IsZero() || got.Receipt != a.Receipt {
			t.Fatalf("forgotten request %+v: want the request kept with its forgetting time", got)
		}
	})
}
