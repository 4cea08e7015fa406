package requests_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/requests"
)

var seoul = func() *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return l
}()

func kst(y int, m time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, m, d, h, mi, s, 0, seoul)
}

func TestDue(t *testing.T) {
	cal := requests.Calendar{Zone: seoul}
	for _, c := range []struct {
		name     string
		cal      requests.Calendar
		received time.Time
		want     time.Time
	}{
		// The day of receipt does not count; the 10th day ends at 24:00.
		{"weekday", cal, kst(2026, 3, 2, 10, 0, 0), kst(2026, 3, 13, 0, 0, 0)},
		// The 10th day (2026-12-13) is a Sunday: the period ends with Monday.
		{"last day a Sunday", cal, kst(2026, 12, 3, 14, 0, 0), kst(2026, 12, 15, 0, 0, 0)},
		// Across a month end: 2026-01-25 + 10 days = 2026-02-04 (Wednesday).
		{"month end", cal, kst(2026, 1, 25, 9, 0, 0), kst(2026, 2, 5, 0, 0, 0)},
		// A public holiday on the last day moves the end to the next day.
		{"holiday", requests.Calendar{Zone: seoul, Holidays: map[string]bool{"2026-03-12": true}},
			kst(2026, 3, 2, 10, 0, 0), kst(2026, 3, 14, 0, 0, 0)},
		// The institution's midnight, not UTC's: 23:59:59 and 00:00 KST of
		// the next day are both 2026-03-02 in UTC, a day apart in Seoul.
		{"before the institution's midnight", cal, kst(2026, 3, 2, 23, 59, 59), kst(2026, 3, 13, 0, 0, 0)},
		{"at the institution's midnight", cal, kst(2026, 3, 3, 0, 0, 0), kst(2026, 3, 14, 0, 0, 0)},
	} {
		if got := c.cal.Due(c.received.UTC()); !got.Equal(c.want) {
			t.Errorf("%s: received %v, due %v; want %v", c.name, c.received, got.In(seoul), c.want)
		}
	}
}

func TestUrgency(t *testing.T) {
	cal := requests.Calendar{Zone: seoul}
	recv := kst(2026, 3, 2, 10, 0, 0)
	r := requests.Request{Received: recv, Due: cal.Due(recv), State: requests.Received} // due 2026-03-13 00:00
	for _, c := range []struct {
		at   time.Time
		want requests.Urgency
	}{
		{recv, requests.OnTime},
		{kst(2026, 3, 9, 23, 59, 59), requests.OnTime},
		{kst(2026, 3, 10, 0, 0, 0), requests.DueSoon},
		{kst(2026, 3, 12, 23, 59, 59), requests.DueSoon},
		{kst(2026, 3, 13, 0, 0, 0), requests.Overdue},
		{kst(2026, 4, 1, 0, 0, 0), requests.Overdue},
	} {
		if got := cal.Urgency(r, c.at); got != c.want {
			t.Errorf("at %v: %s, want %s", c.at, got, c.want)
		}
	}
	closed := r
	closed.State = requests.Closed
	if got := cal.Urgency(closed, kst(2026, 4, 1, 0, 0, 0)); got != requests.Done {
		t.Errorf("a closed request is %s, want closed", got)
	}
}

func TestPostpone(t *testing.T) {
	cal := requests.Calendar{Zone: seoul}
	recv := kst(2026, 3, 2, 10, 0, 0)
	r := requests.Request{Received: recv, Due: cal.Due(recv), State: requests.Received}
	now := kst(2026, 3, 12, 9, 0, 0)
	if cal.Urgency(r, now) != requests.DueSoon {
		t.Fatal("setup: not due soon")
	}
	p, err := cal.Postpone(r, kst(2026, 3, 31, 0, 0, 0), "수사기관 협조 여부 확인 중", now)
	if err != nil {
		t.Fatal(err)
	}
	if want := kst(2026, 4, 1, 0, 0, 0); !p.Due.Equal(want) || p.PostponeReason == "" || !p.Postponed.Equal(now) {
		t.Fatalf("postponed: due %v reason %q at %v; want due %v", p.Due, p.PostponeReason, p.Postponed, want)
	}
	if got := cal.Urgency(p, now); got != requests.OnTime {
		t.Fatalf("postponed request is %s, want on time", got)
	}
	if got := cal.Urgency(p, kst(2026, 4, 1, 0, 0, 0)); got != requests.Overdue {
		t.Fatalf("postponed request at its new due time is %s, want overdue", got)
	}
	// Postponed to a Saturday: the end moves to Monday's end.
	if p, _ := cal.Postpone(r, kst(2026, 3, 14, 12, 0, 0), "사유", now); !p.Due.Equal(kst(2026, 3, 17, 0, 0, 0)) {
		t.Fatalf("postponed to a Saturday: due %v, want the end of Monday", p.Due)
	}
	if _, err := cal.Postpone(r, kst(2026, 3, 31, 0, 0, 0), "  ", now); errs.CodeOf(err) != "requests.missing" {
		t.Fatalf("postponement without a reason: %v", err)
	}
	if _, err := cal.Postpone(r, kst(2026, 3, 11, 0, 0, 0), "사유", now); errs.CodeOf(err) != "requests.postpone_date" {
		t.Fatalf("postponement to an earlier day: %v", err)
	}
	closed := r
	closed.State = requests.Closed
	if _, err := cal.Postpone(closed, kst(2026, 3, 31, 0, 0, 0), "사유", now); !errs.Is(err, errs.Conflict) {
		t.Fatalf("postponing a closed request: %v", err)
	}
}

// events records the alarm changes a Manager emits.
type events struct{ got []alarm.Event }

func (e *events) Notify(ev alarm.Event) { e.got = append(e.got, ev) }

func (e *events) changes() []string {
	var out []string
	for _, ev := range e.got {
		out = append(out, string(ev.Change)+" "+string(ev.Alarm.Severity)+" "+ev.Alarm.Subject)
	}
	e.got = nil
	return out
}

// TestCheckDueAlarm follows a request's alarm on the injected clock across
// a month end and the institution's midnight (not UTC's), through a
// restart, to its closing: raised once as a warning when due soon,
// raised to critical when overdue, never twice, cleared when closed.
func TestCheckDueAlarm(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	// Received Friday 23 January 2026, 15:00 KST: the tenth day is Monday
	// 2 February, due 3 February 00:00 KST; due soon from 31 January
	// 00:00 KST, which is still 30 January in UTC.
	e.clk.Set(kst(2026, 1, 23, 15, 0, 0))
	in := input()
	in.From, in.To = kst(2026, 1, 22, 18, 30, 0), kst(2026, 1, 22, 19, 0, 0)
	r, err := e.svc.Submit(ctx, in, client, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := kst(2026, 2, 3, 0, 0, 0); !r.Due.Equal(want) {
		t.Fatalf("due %v, want %v", r.Due, want)
	}
	store := alarm.NewMemStore()
	seen := &events{}
	start := func() *alarm.Manager {
		m := alarm.New(alarm.Options{Clock: e.clk, Store: store, Notify: []alarm.Notifier{seen}})
		if err := m.Load(ctx); err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := start()
	check := func(at time.Time, want ...string) {
		t.Helper()
		e.clk.Set(at)
		if err := e.svc.CheckDue(ctx, m); err != nil {
			t.Fatal(err)
		}
		if got := seen.changes(); !slices.Equal(got, want) {
			t.Fatalf("at %v (%v UTC): alarm changes %q, want %q", at, at.UTC(), got, want)
		}
	}
	check(kst(2026, 1, 30, 23, 59, 59))
	check(kst(2026, 1, 31, 0, 0, 0), "raised warning "+r.Receipt)
	check(kst(2026, 2, 1, 12, 0, 0)) // still due soon: nothing new
	a, ok := m.ActiveFor(alarm.RequestDue, r.Receipt)
	if !ok || a.Code != "alarm.msg.request_due_soon" || a.Params["due"] != "2026-02-02" {
		t.Fatalf("due-soon alarm: %+v %v", a, ok)
	}
	if strings.Contains(a.Message, "이순신") || strings.Contains(a.Message, "010") {
		t.Fatalf("the alarm names the person: %q", a.Message)
	}
	// A restart: the active alarm is restored and not raised again.
	m = start()
	check(kst(2026, 2, 2, 23, 59, 59))
	check(kst(2026, 2, 3, 0, 0, 0), "updated critical "+r.Receipt)
	m = start()
	check(kst(2026, 2, 3, 0, 1, 0))
	if a, _ := m.ActiveFor(alarm.RequestDue, r.Receipt); a.Code != "alarm.msg.request_overdue" || a.ID != 1 {
		t.Fatalf("overdue alarm: %+v", a)
	}
	if _, err := e.svc.Withdraw(ctx, r.ID, requests.Actor{User: "담당자"}); err != nil {
		t.Fatal(err)
	}
	check(kst(2026, 2, 3, 0, 2, 0), "cleared critical "+r.Receipt)
	m = start()
	check(kst(2026, 2, 4, 0, 0, 0))
}

// TestCheckDuePostponed: a postponement puts a due-soon request back on
// time, which clears its alarm; it is raised again when the new date
// nears.
func TestCheckDuePostponed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	r, err := e.svc.Submit(ctx, input(), client, "") // 2026-03-02 10:00 KST: due 2026-03-13 00:00
	if err != nil {
		t.Fatal(err)
	}
	seen := &events{}
	m := alarm.New(alarm.Options{Clock: e.clk, Notify: []alarm.Notifier{seen}})
	e.clk.Set(kst(2026, 3, 11, 9, 0, 0))
	if err := e.svc.CheckDue(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := seen.changes(); len(got) != 1 || got[0] != "raised warning "+r.Receipt {
		t.Fatalf("due soon: %q", got)
	}
	if _, err := e.svc.Postpone(ctx, r.ID, kst(2026, 3, 31, 0, 0, 0), "수사기관 협조 확인", requests.Actor{User: "담당자"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckDue(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := seen.changes(); len(got) != 1 || got[0] != "cleared warning "+r.Receipt {
		t.Fatalf("postponed: %q", got)
	}
	e.clk.Set(kst(2026, 3, 29, 0, 0, 0)) // three days before the end of 31 March
	if err := e.svc.CheckDue(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got := seen.changes(); len(got) != 1 || got[0] != "raised warning "+r.Receipt {
		t.Fatalf("postponed, due soon again: %q", got)
	}
}
