package retention

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/registry"
)

func TestKeepSinceEdges(t *testing.T) {
	for _, tc := range []struct {
		ret       registry.Retention
		now, want string
	}{
		// 10d: footage of 1 March is due at 12 March 00:00.
		{registry.Retention{Days: 10}, "2026-03-11 23:59:59", "2026-03-01 00:00:00"},
		{registry.Retention{Days: 10}, "2026-03-12 00:00:00", "2026-03-02 00:00:00"},
		{registry.Retention{Days: 60}, "2024-03-25 00:00:00", "2024-01-25 00:00:00"},
		// 6mo: 31 August is kept through the last day of February.
		{registry.Retention{Months: 6}, "2027-02-28 23:59:59", "2026-08-28 00:00:00"},
		{registry.Retention{Months: 6}, "2027-03-01 00:00:00", "2026-09-01 00:00:00"},
	} {
		if got := KeepSince(tc.ret, kst(tc.now), seoul); !got.Equal(kst(tc.want)) {
			t.Errorf("%v at %s: keep since %s, want %s", tc.ret, tc.now, got.In(seoul), tc.want)
		}
	}
}

// TestClockJumps: the clock going back destroys nothing early and refuses
// runs while it is behind the footage; a jump forward beyond
// max_clock_step is refused with an alarm until the clock is accepted.
func TestClockJumps(t *testing.T) {
	day0 := kst("2026-03-01 12:00:00")
	e := newEnv(t, day0, rules{"cam": {Days: 10}}, Config{})
	old := e.record("cam", kst("2026-03-01 09:00:00"), 3)
	e.run()
	// Ten days on, recording each day: the footage of 1 March is due on
	// 12 March.
	for d := 1; d <= 10; d++ {
		e.clk.Set(day0.AddDate(0, 0, d))
		e.record("cam", day0.AddDate(0, 0, d).Add(-time.Hour), 1)
		e.run()
	}
	// The clock jumps back two days: behind the footage, refused.
	e.clk.Set(day0.AddDate(0, 0, 8))
	rep := e.run()
	if rep.Refused == "" || !strings.Contains(rep.Refused, "behind the newest recorded footage") {
		t.Fatalf("run with the clock behind the footage: %q", rep.Refused)
	}
	if _, ok := e.alarms.get(clockSubject); !ok {
		t.Error("no alarm for the refused run")
	}
	// Back to the right time, one minute before 1 March is due: nothing
	// early.
	e.clk.Set(kst("2026-03-11 23:59:00"))
	if rep := e.run(); rep.Refused != "" || rep.Expired != 0 || !e.has(old[0].ID) {
		t.Fatalf("after the clock came back: refused %q, destroyed %d", rep.Refused, rep.Expired)
	}
	if _, ok := e.alarms.get(clockSubject); ok {
		t.Error("clock alarm not cleared")
	}
	// A jump of a year forward is refused: nothing destroyed.
	e.clk.Set(kst("2027-03-12 00:00:00"))
	rep = e.run()
	if !strings.Contains(rep.Refused, "past the last retention run") || rep.Expired != 0 || !e.has(old[0].ID) {
		t.Fatalf("year jump: refused %q, destroyed %d", rep.Refused, rep.Expired)
	}
	st, _ := e.eng.Status(context.Background())
	if st.ClockProblem == "" {
		t.Error("status shows no clock problem")
	}
	// Accepted by an operator, the run proceeds.
	if err := e.eng.AcceptClock(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	if rep := e.run(); rep.Refused != "" || rep.Expired != 13 || e.has(old[0].ID) {
		t.Errorf("after accept: refused %q, destroyed %d", rep.Refused, rep.Expired)
	}
}

// TestDestroyRange: a data-subject deletion cuts at chunk boundaries,
// writes a receipt naming the replacements and a 파기 row with the actor
// and request, and refuses held footage.
func TestDestroyRange(t *testing.T) {
	start := kst("2026-03-01 09:00:00")
	e := newEnv(t, start.Add(time.Hour), rules{}, Config{})
	ctx := context.Background()
	segs := e.record("cam", start, 4)
	h, _ := e.eng.Holds().Add(ctx, Hold{Owner: OwnerRequest, Ref: "req-9", Reason: "삭제 요구 검토", Cameras: []string{"cam"},
		From: start, To: start.Add(time.Hour)})
	from, to := start.Add(90*time.Second), start.Add(150*time.Second)
	if _, err := e.eng.DestroyRange(ctx, "cam", from, to, "park", "request req-9"); !errs.Is(err, errs.Conflict) ||
		!strings.Contains(err.Error(), "req-9") {
		t.Fatalf("held range: %v", err)
	}
	e.eng.Holds().ReleaseOwned(ctx, OwnerRequest, "req-9", "park")
	_ = h
	r, err := e.eng.DestroyRange(ctx, "cam", from, to, "park", "request req-9")
	if err != nil {
		t.Fatal(err)
	}
	if r == nil || r.Reason != ReasonDataSubject || r.Actor != "park" || len(r.Segments) != 2 {
		t.Fatalf("receipt %+v", r)
	}
	for _, s := range r.Segments {
		if s.ID != segs[1].ID && s.ID != segs[2].ID {
			t.Errorf("destroyed segment %d, want %d and %d", s.ID, segs[1].ID, segs[2].ID)
		}
		// Segment 2's first chunk [60 s, 90 s) lies before the range and
		// is kept; segment 3's part after the range has no key frame.
		if (s.ID == segs[1].ID) != (len(s.Replacements) == 1) {
			t.Errorf("segment %d: replacements %v", s.ID, s.Replacements)
		}
	}
	// The footage of the range is gone; what lies outside it remains.
	left, _ := e.st.Segments(ctx, "cam", media.Time90k(from), media.Time90k(to))
	if len(left) != 0 {
		t.Errorf("footage left in the range: %+v", left)
	}
	if got, _ := e.st.Segments(ctx, "cam", media.Time90k(start.Add(60*time.Second)), media.Time90k(start.Add(61*time.Second))); len(got) != 1 {
		t.Errorf("the part of segment 2 before the range is gone")
	}
	e.verifyAll()
	ents := e.led.destructions()
	if len(ents) != 1 || ents[0].Actor != "park" || ents[0].Purpose != "정보주체 삭제 요구" || !strings.Contains(ents[0].Detail, "req-9") {
		t.Errorf("ledger %+v", ents)
	}
	if s, _ := storeCheck(e); s != "" {
		t.Error(s)
	}
}

// TestInterruptedDestruction: keys destroyed by a run that crashed before
// its receipt get a receipt marked recovered, and a ledger row, at the next
// start.
func TestInterruptedDestruction(t *testing.T) {
	start := kst("2026-03-01 09:00:00")
	e := newEnv(t, start.Add(time.Hour), rules{}, Config{})
	ctx := context.Background()
	segs := e.record("cam", start, 5)
	var bs []plan
	p := plan{camera: "cam"}
	for _, s := range segs[:3] {
		b, _ := e.st.Brief(ctx, s.ID)
		p.segs = append(p.segs, *b)
	}
	bs = append(bs, p)
	// The run: intent written, keys of the first two destroyed, crash.
	in := &intent{Format: intentFormat, Run: "20260301T100000.000000000Z-retention", Created: e.clk.Now()}
	r := Receipt{Format: ReceiptFormat, ID: in.Run + "-cam", Camera: "cam", Reason: ReasonRetention}
	for i := range p.segs {
		r.Segments = append(r.Segments, destroyedOf(&p.segs[i], seoul))
	}
	in.Receipts = []Receipt{r}
	if err := e.eng.writeIntent(in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Destroy(ctx, []int64{segs[0].ID, segs[1].ID}); err != nil {
		t.Fatal(err)
	}
	e.eng.Close()
	var err error
	if e.eng, err = New(ctx, e.opt); err != nil {
		t.Fatal(err)
	}
	rs := e.verifyAll()
	if len(rs) != 1 || !rs[0].Recovered || len(rs[0].Segments) != 2 {
		t.Fatalf("recovered receipts %+v", rs)
	}
	if ents := e.led.entries(); len(ents) != 1 || !strings.Contains(ents[0].Detail, "interrupted") {
		t.Errorf("ledger %+v", ents)
	}
	if left, _ := filepath.Glob(filepath.Join(e.dir, "receipts", "pending", "*")); len(left) != 0 {
		t.Errorf("intent left: %v", left)
	}
	if !e.has(segs[2].ID) {
		t.Error("a planned segment whose key was not destroyed is gone")
	}
	// A key file readable by others is refused.
	os.Chmod(DefaultKeyPath(e.dir), 0o644)
	if _, err := LoadKey(DefaultKeyPath(e.dir)); err == nil {
		t.Error("a world-readable receipt key was loaded")
	}
}
