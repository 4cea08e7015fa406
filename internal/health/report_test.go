package health

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// queryLedger is fakeLedger with Query, filtering like the real one.
type queryLedger struct{ fakeLedger }

func (q *queryLedger) Query(_ context.Context, f ledger.Filter) ([]ledger.Entry, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []ledger.Entry
	for _, e := range q.e {
		if (!f.From.IsZero() && e.Time.Before(f.From)) || (!f.To.IsZero() && !e.Time.Before(f.To)) {
			continue
		}
		if len(f.Kinds) > 0 && e.Kind != f.Kinds[0] {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing on CI: install %s", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s)", name, pkg)
	}
	if _, err := os.Stat(FontPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s missing on CI: install fonts-nanum", FontPath)
		}
		t.Skip("fonts-nanum not installed")
	}
}

// TestMonthlyReport: a scheduled check writes its ledger entries, and the
// month's report (CSV and PDF) contains them with uptime, gaps and alarms.
func TestMonthlyReport(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-03-01 00:00 KST is 2026-02-28 15:00 UTC: the month boundary is
	// the institution's, not UTC's.
	mar := time.Date(2026, 3, 1, 0, 0, 0, 0, seoul)
	apr := mar.AddDate(0, 1, 0)
	at := func(t time.Time) int64 { return media.Time90k(t) }
	fs := &fakeSegs{segs: map[string][]store.Segment{
		"cam1": {
			{Start: at(mar.Add(-time.Hour)), End: at(mar.Add(10 * 24 * time.Hour))},
			{Start: at(mar.Add(10*24*time.Hour + 30*time.Minute)), End: at(apr.Add(time.Hour))},
		},
		"cam2": {{Start: at(mar), End: at(apr)}},
	}}

	// A day in the month: the check runs; cam2 is down.
	day := mar.Add(15*24*time.Hour + 9*time.Hour)
	clk := clock.NewFake(day)
	dir := t.TempDir()
	jr, err := alarm.OpenSQLite(context.Background(), filepath.Join(dir, "alarms.db"), "")
	if err != nil {
		t.Fatal(err)
	}
	defer jr.Close()
	am := alarm.New(alarm.Options{Clock: clk, Store: jr})
	led := &queryLedger{}
	ok := &fakeCam{st: ingest.State{Status: ingest.Recording}}
	down := &fakeCam{st: ingest.State{Status: ingest.Down, LastError: "DESCRIBE: 503"}}
	m, err := NewMonitor(Options{Clock: clk, Alarms: am, Ledger: led, Cameras: []Camera{
		{ID: "cam1", State: ok.State, ExpectedFPS: 25}, {ID: "cam2", State: down.State, ExpectedFPS: 25}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		clk.Advance(time.Second)
		ok.stream(25)
		m.Step(context.Background())
	}
	if _, err := m.RunCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	a, _ := am.ActiveFor(alarm.CameraDown, "cam2")
	am.Ack(a.ID, "박관리", "전원 재투입")
	// The real ledger stamps entries with its clock.
	for i := range led.e {
		led.e[i].Time = day
	}
	// An entry of another month must not appear.
	led.e = append(led.e, ledger.Entry{Seq: 99, Kind: ledger.DeviceCheck, Time: apr.Add(time.Hour), Object: "cam9", Detail: "정상"})

	rep, err := MonthlyReport(context.Background(), ReportSources{Cameras: []string{"cam1", "cam2"}, Ledger: led, Segments: fs, Alarms: jr},
		2026, time.March, seoul, apr.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Checks) != 2 || len(rep.Gaps) != 1 || len(rep.Alarms) != 1 {
		t.Fatalf("checks %d gaps %+v alarms %d", len(rep.Checks), rep.Gaps, len(rep.Alarms))
	}
	if u := rep.Uptime[0]; u.Gaps != 1 || u.GapTime != 30*time.Minute || u.Recorded != 31*24*time.Hour-30*time.Minute {
		t.Fatalf("cam1 uptime %+v", u)
	}
	if u := rep.Uptime[1]; u.Uptime() != 1 {
		t.Fatalf("cam2 uptime %+v", u)
	}

	var cb bytes.Buffer
	if err := rep.WriteCSV(&cb); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(cb.String(), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var sawCheck, sawGap, sawAlarm bool
	for _, r := range rows {
		switch {
		case r[0] == "점검" && r[1] == "cam2" && r[4] == "이상" && strings.Contains(r[5], "카메라 연결 끊김"):
			sawCheck = true
		case r[0] == "녹화 공백" && r[1] == "cam1" && r[2] == "2026-03-11 00:00:00" && r[3] == "2026-03-11 00:30:00":
			sawGap = true
		case r[0] == "경보 카메라 연결 끊김" && strings.Contains(r[4], "박관리") && strings.Contains(r[5], "DESCRIBE: 503"):
			sawAlarm = true
		}
	}
	if !sawCheck || !sawGap || !sawAlarm {
		t.Fatalf("CSV lacks check %v gap %v alarm %v:\n%s", sawCheck, sawGap, sawAlarm, cb.String())
	}

	needTool(t, "pdftotext", "poppler-utils")
	path := filepath.Join(dir, "report.pdf")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WritePDF(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	text := string(out)
	for _, want := range []string{"월간 점검 보고서 2026-03", "가동률", "99.933%", "2026-03-11 00:00:00", "정기 점검 기록", "이상: ", "카메라 연결 끊김", "박관리", "Asia/Seoul"} {
		if !strings.Contains(text, want) {
			t.Errorf("PDF lacks %q:\n%s", want, text)
		}
	}
}

func TestReportHandler(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	clk := clock.NewFake(time.Date(2026, 4, 2, 0, 0, 0, 0, seoul))
	fs := &fakeSegs{segs: map[string][]store.Segment{}}
	h := ReportHandler(func(context.Context) (ReportSources, error) {
		return ReportSources{Cameras: []string{"cam1"}, Segments: fs, Ledger: &queryLedger{}}, nil
	}, seoul, clk)
	for q, want := range map[string]int{"?month=2026-03&format=csv": 200, "?month=2026-13&format=csv": 400,
		"?month=2026-03&format=xls": 400, "?month=2026-05&format=csv": 400} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+q, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d: %s", q, rec.Code, want, rec.Body)
		}
		if want == 200 && !strings.Contains(rec.Body.String(), "가동률,cam1,2026-03-01 00:00:00,2026-04-01 00:00:00,0.000%") {
			t.Errorf("csv body: %s", rec.Body)
		}
	}
}
