package web

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestReportErrorsAreCatalogued: the monthly report's refusals come from
// the one error writer, with codes, not plain English.
func TestReportErrorsAreCatalogued(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC))
	dir := t.TempDir()
	quiet := slog.New(slog.DiscardHandler)
	lg, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	svc, err := access.Open(context.Background(), access.Config{Dir: dir, Ledger: lg, Clock: clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	report := health.ReportHandler(func(context.Context) (health.ReportSources, error) {
		return health.ReportSources{Cameras: []string{"cam-a"}, Ledger: lg}, nil
	}, time.UTC, clk)
	srv, err := New(Options{Guard: AccessGuard{S: svc, Clock: clk}, Accounts: svc,
		Cameras: fakeCameras{}, Footage: newSource(t, &events{}, 0), Ledger: lg, Report: report, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	a := &accountsServer{t: t, svc: svc, ts: ts}
	a.user("auditor", access.Grant{Role: access.Auditor, Sites: []string{"site-a"}})
	s, _ := a.login("auditor", grantsPW)
	for q, code := range map[string]errs.Code{
		"?month=2026-13&format=csv": "report.month",
		"?month=2026-05&format=xls": "report.format",
		"?month=2026-07&format=csv": "report.not_begun",
	} {
		req, _ := http.NewRequest("GET", ts.URL+"/api/health/report"+q, nil)
		resp, err := s.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var eb ErrorBody
		err = json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != 400 || err != nil || eb.Code != code || eb.Message == "" {
			t.Errorf("%s: %d %+v (%v), want 400 %s", q, resp.StatusCode, eb, err, code)
		}
	}
}
