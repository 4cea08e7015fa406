package health

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/store"
)

type fixedLedger []ledger.Entry

func (l fixedLedger) Query(context.Context, ledger.Filter) ([]ledger.Entry, error) { return l, nil }

// TestReportVisibleAndFormulaSafe: with Visible the report holds only the
// visible cameras' uptime, gaps, checks and alarms; a note typed by a
// person cannot become a formula in the CSV.
func TestReportVisibleAndFormulaSafe(t *testing.T) {
	loc := time.UTC
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
	at := from.Add(48 * time.Hour)
	alarms := alarm.NewMemStore()
	for _, e := range []alarm.Event{
		{Change: alarm.Acked, At: at, Alarm: alarm.Alarm{ID: 1, Kind: alarm.CameraDown, Subject: "cam-a", Raised: at,
			AckedAt: at, AckedBy: "=kim", AckNote: `=HYPERLINK("http://x")`, Message: "@down"}},
		{Change: alarm.Raised, At: at, Alarm: alarm.Alarm{ID: 2, Kind: alarm.CameraDown, Subject: "cam-b", Raised: at}},
	} {
		if err := alarms.Record(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	src := ReportSources{
		Cameras:  []string{"cam-a", "cam-b"},
		Segments: &fakeSegs{segs: map[string][]store.Segment{}},
		Ledger: fixedLedger{
			{Kind: ledger.DeviceCheck, Time: at, Cameras: []string{"cam-a"}, Object: "cam-a", Detail: "정상"},
			{Kind: ledger.DeviceCheck, Time: at, Cameras: []string{"cam-b"}, Object: "cam-b", Detail: "정상"},
			{Kind: ledger.DeviceCheck, Time: at, Site: "hq", Object: "hq recorder", Detail: "정상"},
		},
		Alarms:  alarms,
		Visible: func(s string) bool { return s != "cam-b" && s != "site:hq" },
	}
	rep, err := MonthlyReport(context.Background(), src, 2026, time.March, loc, from.AddDate(0, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Uptime) != 1 || rep.Uptime[0].Camera != "cam-a" || len(rep.Checks) != 1 || len(rep.Alarms) != 1 {
		t.Fatalf("report of cam-a: uptime %+v, checks %+v, alarms %+v", rep.Uptime, rep.Checks, rep.Alarms)
	}
	for _, g := range rep.Gaps {
		if g.Camera != "cam-a" {
			t.Errorf("gap of %s", g.Camera)
		}
	}
	var b bytes.Buffer
	if err := rep.WriteCSV(&b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(b.String(), "\n") {
		for _, cell := range strings.Split(line, ",") {
			if c := strings.TrimPrefix(cell, `"`); c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("cell %q starts a formula in %q", cell, line)
			}
		}
	}
}
