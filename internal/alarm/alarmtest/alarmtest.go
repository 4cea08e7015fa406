// Package alarmtest is the conformance suite of alarm.Store: every
// implementation (SQLite now, PostgreSQL later) runs Run in its tests.
package alarmtest

import (
	"context"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns an empty store; the suite closes it.
	New func(t *testing.T) alarm.Store
	// Reopen closes s and opens the same data again (a restart). For a
	// store that keeps nothing across a close, return s.
	Reopen func(t *testing.T, s alarm.Store) alarm.Store
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

func rec(t *testing.T, s alarm.Store, c alarm.Change, at time.Time, a alarm.Alarm) {
	t.Helper()
	if err := s.Record(context.Background(), alarm.Event{Change: c, At: at, Alarm: a}); err != nil {
		t.Fatalf("record %s of alarm %d: %v", c, a.ID, err)
	}
}

// Run runs the suite.
func Run(t *testing.T, f Factory) {
	ctx := context.Background()
	open := func(t *testing.T) alarm.Store {
		s := f.New(t)
		t.Cleanup(func() { s.Close() })
		return s
	}

	t.Run("Empty", func(t *testing.T) {
		s := open(t)
		as, next, err := s.Load(ctx, 10)
		if err != nil || len(as) != 0 || next != 1 {
			t.Fatalf("empty store loads %v, next %d, %v", as, next, err)
		}
		if _, ok, err := s.Find(ctx, "gap/cam/1"); ok || err != nil {
			t.Fatalf("find in an empty store: %v %v", ok, err)
		}
		if _, ok, err := s.Get(ctx, 1); ok || err != nil {
			t.Fatalf("get in an empty store: %v %v", ok, err)
		}
	})

	t.Run("LatestStateAndRestart", func(t *testing.T) {
		s := open(t)
		a := alarm.Alarm{ID: 1, Kind: alarm.StorageLow, Subject: "data", Severity: alarm.Critical,
			Code: "alarm.msg.free_bytes", Params: map[string]string{"free": "1 GiB", "threshold": "2 GiB"},
			Message: "여유 공간", Raised: t0, Updated: t0}
		rec(t, s, alarm.Raised, t0, a)
		a.Severity, a.Updated = alarm.Warning, t0.Add(time.Second)
		rec(t, s, alarm.Updated, a.Updated, a)
		b := alarm.Alarm{ID: 2, Kind: alarm.CameraDown, Subject: "cam", Severity: alarm.Critical, Raised: t0, Updated: t0}
		rec(t, s, alarm.Raised, t0, b)
		b.Cleared = t0.Add(time.Minute)
		rec(t, s, alarm.Cleared, b.Cleared, b)
		b.AckedAt, b.AckedBy, b.AckNote = t0.Add(2*time.Minute), "kim", "케이블 교체"
		rec(t, s, alarm.Acked, b.AckedAt, b)
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		got, ok, err := s.Get(ctx, 1)
		if err != nil || !ok || got.Severity != alarm.Warning || got.Params["free"] != "1 GiB" || got.Code != a.Code ||
			got.Message != a.Message || !got.Raised.Equal(t0) || !got.Active() {
			t.Fatalf("alarm 1 after reopen: %+v %v %v", got, ok, err)
		}
		as, next, err := s.Load(ctx, 0)
		if err != nil || len(as) != 1 || as[0].ID != 1 || next != 3 {
			t.Fatalf("load keeping none: %+v next %d %v; want only the active alarm 1 and next 3", as, next, err)
		}
		as, _, _ = s.Load(ctx, 10)
		if len(as) != 2 || as[0].ID != 1 || as[1].ID != 2 || as[1].AckedBy != "kim" || as[1].AckNote != "케이블 교체" {
			t.Fatalf("load keeping 10: %+v", as)
		}
	})

	t.Run("LoadKeepsAttentionAndRecent", func(t *testing.T) {
		s := open(t)
		for id := uint64(1); id <= 6; id++ {
			a := alarm.Alarm{ID: id, Kind: alarm.Frozen, Subject: "cam", Severity: alarm.Warning, Raised: t0, Updated: t0,
				Cleared: t0.Add(time.Second)}
			if id != 2 { // alarm 2 is cleared but not acknowledged
				a.AckedAt, a.AckedBy = t0.Add(time.Minute), "kim"
			}
			rec(t, s, alarm.Raised, t0, a)
		}
		as, next, err := s.Load(ctx, 2)
		if err != nil || next != 7 {
			t.Fatal(next, err)
		}
		var ids []uint64
		for _, a := range as {
			ids = append(ids, a.ID)
		}
		if len(ids) != 3 || ids[0] != 2 || ids[1] != 5 || ids[2] != 6 {
			t.Fatalf("loaded %v; want 2 (needs attention), then the 2 most recent others 5, 6", ids)
		}
	})

	t.Run("EventIdentity", func(t *testing.T) {
		s := open(t)
		from := t0.Add(-time.Hour)
		k := alarm.EventKey(alarm.Gap, "cam", from)
		g := alarm.Alarm{ID: 7, Key: k, Kind: alarm.Gap, Subject: "cam", Severity: alarm.Warning, Raised: t0, Updated: t0,
			Cleared: t0, From: from, To: from.Add(12 * time.Second)}
		rec(t, s, alarm.Raised, t0, g)
		g.AckedAt, g.AckedBy = t0.Add(time.Minute), "lee"
		rec(t, s, alarm.Acked, g.AckedAt, g) // a later change of the same alarm keeps its key
		s = f.Reopen(t, s)
		t.Cleanup(func() { s.Close() })
		got, ok, err := s.Find(ctx, k)
		if err != nil || !ok || got.ID != 7 || got.AckedBy != "lee" || !got.From.Equal(from) {
			t.Fatalf("find %s: %+v %v %v", k, got, ok, err)
		}
		dup := g
		dup.ID, dup.AckedAt, dup.AckedBy = 8, time.Time{}, ""
		if err := s.Record(ctx, alarm.Event{Change: alarm.Raised, At: t0, Alarm: dup}); !errs.Is(err, errs.Exist) {
			t.Fatalf("a second alarm with the same key: %v, want errs.Exist", err)
		}
		if _, ok, _ := s.Get(ctx, 8); ok {
			t.Fatal("the refused alarm was stored")
		}
		if _, ok, _ := s.Find(ctx, alarm.EventKey(alarm.Gap, "cam", from.Add(time.Second))); ok {
			t.Fatal("another start is another event")
		}
	})

	t.Run("Between", func(t *testing.T) {
		s := open(t)
		// A condition active from t0+1h to t0+2h; one still active since
		// t0+3h; a gap event over [t0, t0+10m) raised at t0+4h.
		c := alarm.Alarm{ID: 1, Kind: alarm.CameraDown, Subject: "a", Raised: t0.Add(time.Hour), Updated: t0.Add(time.Hour)}
		rec(t, s, alarm.Raised, c.Raised, c)
		c.Cleared = t0.Add(2 * time.Hour)
		rec(t, s, alarm.Cleared, c.Cleared, c)
		d := alarm.Alarm{ID: 2, Kind: alarm.StorageLow, Subject: "data", Raised: t0.Add(3 * time.Hour), Updated: t0.Add(3 * time.Hour)}
		rec(t, s, alarm.Raised, d.Raised, d)
		g := alarm.Alarm{ID: 3, Key: alarm.EventKey(alarm.Gap, "a", t0), Kind: alarm.Gap, Subject: "a",
			Raised: t0.Add(4 * time.Hour), Cleared: t0.Add(4 * time.Hour), From: t0, To: t0.Add(10 * time.Minute)}
		rec(t, s, alarm.Raised, g.Raised, g)
		for _, c := range []struct {
			from, to time.Duration
			want     []uint64
		}{
			{0, 30 * time.Minute, []uint64{3}},                // the gap's period, not when it was raised
			{30 * time.Minute, 90 * time.Minute, []uint64{1}}, // the condition
			{2 * time.Hour, 150 * time.Minute, []uint64{1}},   // ends at the window's start: still in it
			{150 * time.Minute, 3 * time.Hour, nil},           // before the active one was raised
			{5 * time.Hour, 6 * time.Hour, []uint64{2}},       // still active
			{-time.Hour, 0, nil},                              // before everything
		} {
			as, err := s.Between(ctx, t0.Add(c.from), t0.Add(c.to))
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			for _, a := range as {
				ids = append(ids, a.ID)
			}
			if len(ids) != len(c.want) || (len(ids) > 0 && ids[0] != c.want[0]) {
				t.Errorf("between %v and %v: %v, want %v", c.from, c.to, ids, c.want)
			}
		}
	})
}
