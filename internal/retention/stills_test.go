package retention

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/stills"
)

// TestStillsFollowFootageRetention: the still frames kept by device
// checks are destroyed when footage of the same day would be (the 30-day
// default here), never while a hold covers them, each run writing one 파기
// row per camera that names the stills destroyed.
func TestStillsFollowFootageRetention(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 1, 12, 0, 0, 0, seoul)
	e := newEnv(t, day0, rules{}, Config{})
	st, err := stills.Open(ctx, stills.Config{Dir: e.dir + "/stills", Keys: testKeys, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cams := []string{"demo-1"}

	first, err := st.Put(ctx, "demo-1", day0, []byte("jpeg of day 0"), nil)
	if err != nil {
		t.Fatal(err)
	}
	held, err := st.Put(ctx, "demo-1", day0.AddDate(0, 0, 5), []byte("jpeg of day 5"), []string{"black"})
	if err != nil {
		t.Fatal(err)
	}
	// Day 7 is after the hold's end: due on 8 April like any other.
	after, err := st.Put(ctx, "demo-1", day0.AddDate(0, 0, 7), []byte("jpeg of day 7"), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A hold on another camera covers nothing of demo-1.
	if _, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerManual, Reason: "다른 카메라", Actor: "kim",
		Cameras: []string{"demo-2"}, From: day0, To: day0.AddDate(0, 1, 0)}); err != nil {
		t.Fatal(err)
	}
	h, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerManual, Reason: "수사 협조", Actor: "kim",
		Cameras: []string{"demo-1"}, From: day0.AddDate(0, 0, 5), To: day0.AddDate(0, 0, 6)})
	if err != nil {
		t.Fatal(err)
	}
	present := func() []int64 {
		t.Helper()
		ss, err := st.List(ctx, "demo-1", day0.AddDate(-1, 0, 0), day0.AddDate(1, 0, 0))
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, s := range ss {
			ids = append(ids, s.ID)
		}
		return ids
	}
	run := func(at time.Time) {
		t.Helper()
		e.clk.Set(at)
		if err := e.eng.ExpireStills(ctx, st, cams); err != nil {
			t.Fatal(err)
		}
	}

	// 30d: footage of 1 March is kept through 31 March, due at 00:00 of
	// 1 April (Seoul).
	run(time.Date(2026, 3, 31, 23, 59, 0, 0, seoul))
	if got := present(); len(got) != 3 {
		t.Fatalf("a minute before due: stills %v, want all three", got)
	}
	run(time.Date(2026, 4, 1, 0, 0, 0, 0, seoul))
	if got := present(); len(got) != 2 || got[0] != held.ID || got[1] != after.ID {
		t.Fatalf("at due time: stills %v, want %d and %d", got, held.ID, after.ID)
	}
	run(time.Date(2026, 4, 20, 0, 0, 0, 0, seoul)) // days 5 and 7 are due; only day 5 is held
	if got := present(); len(got) != 1 || got[0] != held.ID {
		t.Fatalf("after day 7's due time: stills %v, want only the held %d", got, held.ID)
	}
	if err := e.eng.Holds().Release(ctx, h.ID, "kim"); err != nil {
		t.Fatal(err)
	}
	run(time.Date(2026, 4, 20, 0, 1, 0, 0, seoul))
	if got := present(); len(got) != 0 {
		t.Fatalf("after the hold: stills %v, want none", got)
	}

	ents := e.led.destructions()
	if len(ents) != 3 {
		t.Fatalf("%d 파기 rows, want 3 (one per run that destroyed)", len(ents))
	}
	for i, want := range []int64{first.ID, after.ID, held.ID} {
		en := ents[i]
		if en.Object != "점검 정지화상 1건" || len(en.Cameras) != 1 || en.Cameras[0] != "demo-1" || en.Site != "site-demo-1" ||
			!strings.Contains(en.Detail, "still "+strconv.FormatInt(want, 10)+" ") || !strings.Contains(en.Detail, "sha256:") {
			t.Errorf("파기 row %d: %+v", i, en)
		}
	}
}

// RunStills runs at once (and then every retention interval) until its
// context ends.
func TestRunStillsRunsAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	day0 := time.Date(2026, 3, 1, 12, 0, 0, 0, seoul)
	e := newEnv(t, day0.AddDate(0, 2, 0), rules{}, Config{})
	st, err := stills.Open(ctx, stills.Config{Dir: e.dir + "/stills", Keys: testKeys, Clock: e.clk})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Put(ctx, "demo-1", day0, []byte("jpeg"), nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- e.eng.RunStills(ctx, st, []string{"demo-1"}) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(e.led.destructions()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the due still was not destroyed by the first run")
		}
		time.Sleep(10 * time.Millisecond) // polling, not waiting for an event
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("RunStills returned %v", err)
	}
}
