package retention

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// TestDestroyRangeFor: a request's deletion is not blocked by the
// request's own hold, but is by another request's and by a manual hold;
// the receipt and its 파기 row carry the request's number, and the own
// hold stays (released after the request's grace, by its owner).
func TestDestroyRangeFor(t *testing.T) {
	start := kst("2026-03-01 09:00:00")
	e := newEnv(t, start.Add(time.Hour), rules{}, Config{})
	ctx := context.Background()
	e.record("cam", start, 4)
	from, to := start.Add(90*time.Second), start.Add(150*time.Second)
	own, err := e.eng.Holds().Add(ctx, Hold{Owner: OwnerRequest, Ref: "2026-0001-ABCD", Reason: "열람등 요구",
		Cameras: []string{"cam"}, From: start, To: start.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.DestroyRangeFor(ctx, "cam", from, to, "park", "", "", "x"); !errs.Is(err, errs.Invalid) {
		t.Fatalf("no owner: %v, want Invalid", err)
	}
	e.eng.Holds().Add(ctx, Hold{Owner: OwnerRequest, Ref: "2026-0002-EFGH", Reason: "다른 요구",
		Cameras: []string{"cam"}, From: start, To: start.Add(time.Hour)})
	if _, err := e.eng.DestroyRangeFor(ctx, "cam", from, to, "park", "", OwnerRequest, "2026-0001-ABCD"); !errs.Is(err, errs.Conflict) ||
		!strings.Contains(err.Error(), "2026-0002-EFGH") || strings.Contains(err.Error(), "2026-0001-ABCD") {
		t.Fatalf("another request's hold: %v, want a Conflict naming it only", err)
	}
	e.eng.Holds().ReleaseOwned(ctx, OwnerRequest, "2026-0002-EFGH", "park") // a request's hold is its own to release
	man, _ := e.eng.Holds().Add(ctx, Hold{Owner: OwnerManual, Reason: "수사 협조", Actor: "kim", Cameras: []string{"cam"},
		From: from, To: to})
	if _, err := e.eng.DestroyRangeFor(ctx, "cam", from, to, "park", "", OwnerRequest, "2026-0001-ABCD"); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a manual hold: %v, want Conflict", err)
	}
	e.eng.Holds().Release(ctx, man.ID, "kim")
	r, err := e.eng.DestroyRangeFor(ctx, "cam", from, to, "park", "request 2026-0001-ABCD", OwnerRequest, "2026-0001-ABCD")
	if err != nil || r == nil {
		t.Fatalf("own hold only: %v %v", r, err)
	}
	if r.Ref != "2026-0001-ABCD" || r.Reason != ReasonDataSubject {
		t.Errorf("receipt ref %q reason %q", r.Ref, r.Reason)
	}
	if left, _ := e.st.Segments(ctx, "cam", media.Time90k(from), media.Time90k(to)); len(left) != 0 {
		t.Errorf("footage left in the range: %d segments", len(left))
	}
	vs := e.verifyAll()
	if len(vs) != 1 || vs[0].Ref != "2026-0001-ABCD" {
		t.Errorf("the receipt on disk: %+v", vs)
	}
	ents := e.led.destructions()
	if len(ents) != 1 || ents[0].Ref != "2026-0001-ABCD" {
		t.Errorf("파기 rows %+v, want one with the request's Ref", ents)
	}
	if h, ok, _ := e.eng.Holds().st.Get(ctx, own.ID); !ok || !h.Active() {
		t.Errorf("the request's own hold was released by the deletion: %+v", h)
	}
}
