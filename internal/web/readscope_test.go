package web

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/retention"
)

// newReadHarness is the harness with retention and a monthly report over
// both cameras, and three readers of the ledger (감사): of site-a, of
// site-b and of every site.
func newReadHarness(t *testing.T) (*harness, *fakeRetention) {
	h := newHarness(t)
	h.addUser(h.admin, "auditor-a", access.Grant{Role: access.Auditor, Sites: []string{"site-a"}})
	h.addUser(h.admin, "auditor-b", access.Grant{Role: access.Auditor, Sites: []string{"site-b"}})
	h.addUser(h.admin, "auditor-all", access.Grant{Role: access.Auditor, Sites: []string{"*"}})
	t0 := h.t0
	lg, err := ledger.Open(context.Background(), ledger.Options{Dir: t.TempDir(), Clock: clock.NewFake(t0), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	for _, cam := range []string{"cam-a", "cam-b"} {
		if _, err := lg.Append(context.Background(), ledger.Entry{Kind: ledger.DeviceCheck, Cameras: []string{cam},
			Object: cam, Purpose: "점검", Detail: "check of " + cam}); err != nil {
			t.Fatal(err)
		}
	}
	evs := []alarm.Event{
		{Change: alarm.Raised, At: t0, Alarm: alarm.Alarm{ID: 1, Kind: alarm.CameraDown, Subject: "cam-a", Message: "down-a", Raised: t0}},
		{Change: alarm.Raised, At: t0, Alarm: alarm.Alarm{ID: 2, Kind: alarm.CameraDown, Subject: "cam-b", Message: "down-b", Raised: t0}},
		{Change: alarm.Raised, At: t0, Alarm: alarm.Alarm{ID: 3, Kind: alarm.StorageLow, Subject: "data", Message: "low-data", Raised: t0}},
	}
	alarms := alarm.NewMemStore()
	for _, e := range evs {
		alarms.Record(context.Background(), e)
	}
	report := health.ReportHandler(func(ctx context.Context) (health.ReportSources, error) {
		return health.ReportSources{Cameras: []string{"cam-a", "cam-b"}, Ledger: lg, Segments: h.srv.opt.Footage.(*source), Alarms: alarms}, nil
	}, time.UTC, h.srv.clk)
	ret := &fakeRetention{}
	ret.placed = []retention.Hold{{ID: 20, Owner: retention.OwnerManual, Reason: "양쪽 보존", Cameras: []string{"cam-a", "cam-b"}}}
	opt := h.srv.opt
	opt.Retention, opt.Report = ret, report
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(h.ts.Close)
	t.Cleanup(srv.Close)
	return h, ret
}

// TestHoldsScopedToReader: an auditor of site-a sees the holds of cam-a
// only; a hold that also covers cam-b, and cam-b's own, only a reader of
// both sites sees.
func TestHoldsScopedToReader(t *testing.T) {
	h, _ := newReadHarness(t)
	ids := func(user string) string {
		resp := h.do("GET", "/api/holds", user, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("holds as %s: %d", user, resp.StatusCode)
		}
		var out []string
		for _, x := range decode[[]holdJSON](t, resp) {
			out = append(out, x.Reason+"@"+strings.Join(x.Cameras, "+"))
		}
		return strings.Join(out, ",")
	}
	if got, want := ids("auditor-a"), "수사 협조@cam-a,@cam-a"; got != want {
		t.Errorf("auditor of site-a sees holds %q, want %q", got, want)
	}
	if got, want := ids("auditor-b"), "수사 협조@cam-b"; got != want {
		t.Errorf("auditor of site-b sees holds %q, want %q", got, want)
	}
	if got := ids("auditor-all"); !strings.Contains(got, "양쪽 보존@cam-a+cam-b") || strings.Count(got, ",") != 3 {
		t.Errorf("auditor of every site sees holds %q", got)
	}
}

// TestRetentionStatusScopedToReader: the status lists the reader's
// cameras and counts the reader's holds.
func TestRetentionStatusScopedToReader(t *testing.T) {
	h, _ := newReadHarness(t)
	get := func(user string) retention.Status {
		resp := h.do("GET", "/api/retention", user, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("retention as %s: %d", user, resp.StatusCode)
		}
		return decode[retention.Status](t, resp)
	}
	st := get("auditor-a")
	if len(st.Cameras) != 1 || st.Cameras[0].Camera != "cam-a" || st.Holds != 2 {
		t.Errorf("auditor of site-a: cameras %+v, %d holds; want cam-a and 2", st.Cameras, st.Holds)
	}
	st = get("auditor-all")
	if len(st.Cameras) != 2 || st.Holds != 3 {
		t.Errorf("auditor of every site: cameras %+v, %d holds; want both and 3 (the engine's count)", st.Cameras, st.Holds)
	}
}

// TestMonthlyReportScopedToReader: the report of an auditor of site-a
// holds cam-a's uptime, check and alarm and the storage alarm, nothing of
// cam-b.
func TestMonthlyReportScopedToReader(t *testing.T) {
	h, _ := newReadHarness(t)
	body := func(user string) string {
		resp := h.do("GET", "/api/health/report?month=2026-06&format=csv", user, nil)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("report as %s: %d %s", user, resp.StatusCode, b)
		}
		return string(b)
	}
	a := body("auditor-a")
	for _, want := range []string{"cam-a", "down-a", "low-data"} {
		if !strings.Contains(a, want) {
			t.Errorf("site-a report lacks %q:\n%s", want, a)
		}
	}
	if strings.Contains(a, "cam-b") || strings.Contains(a, "down-b") {
		t.Errorf("site-a report shows cam-b:\n%s", a)
	}
	all := body("auditor-all")
	for _, want := range []string{"cam-a", "cam-b", "down-b", "check of cam-b"} {
		if !strings.Contains(all, want) {
			t.Errorf("full report lacks %q:\n%s", want, all)
		}
	}
}
