package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/metrics"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/stills"
)

// monitoring is the health side of a test server: alarms (1: storage
// "data", 2: camera cam-a, 3: camera cam-b), a snapshot naming both
// cameras, a report, a still store with still 1 of cam-a, and metrics.
type monitoring struct {
	src     *source
	am      *alarm.Manager
	stills  *stills.SQLite
	report  http.Handler
	metrics http.Handler
}

func (m *monitoring) snapshot() health.Snapshot {
	return health.Snapshot{Cameras: []health.CameraHealth{{Camera: "cam-a"}, {Camera: "cam-b"}},
		Volumes: []health.VolumeHealth{{Volume: "data"}},
		Gaps:    []health.Gap{{Camera: "cam-a"}, {Camera: "cam-b"}}}
}

var stillJPEG = []byte("\xff\xd8 a still of the lobby")

func newMonitoring(t *testing.T, dir string, clk clock.Clock, lg *ledger.Ledger, t0 time.Time) *monitoring {
	t.Helper()
	m := &monitoring{src: newSource(t, &events{}, media.Time90k(t0)), am: alarm.New(alarm.Options{Clock: clk})}
	m.am.Raise(alarm.StorageLow, "data", alarm.Critical, "3% free")
	m.am.Raise(alarm.CameraDown, "cam-a", alarm.Critical, "no video")
	m.am.Raise(alarm.CameraDown, "cam-b", alarm.Critical, "no video")
	keys, err := seal.NewKeyring(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if m.stills, err = stills.Open(context.Background(), stills.Config{Dir: dir + "/stills", Keys: keys, Clock: clk}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.stills.Close() })
	if _, err := m.stills.Put(context.Background(), "cam-a", t0, stillJPEG, nil); err != nil {
		t.Fatal(err)
	}
	m.report = health.ReportHandler(func(ctx context.Context) (health.ReportSources, error) {
		return health.ReportSources{Cameras: []string{"cam-a"}, Ledger: lg, Segments: m.src}, nil
	}, time.UTC, clk)
	if m.metrics, err = metrics.Handler(metrics.NewRegistry(metrics.Sources{Alarms: m.am}), metrics.Access{Behind: true}); err != nil {
		t.Fatal(err)
	}
	return m
}

// newHealthHarness is the harness with monitoring options.
func newHealthHarness(t *testing.T) (*harness, *monitoring) {
	h := newHarness(t)
	t0 := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	lg, err := ledger.Open(context.Background(), ledger.Options{Dir: t.TempDir(), Clock: clock.NewFake(t0), Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	mon := newMonitoring(t, t.TempDir(), h.srv.clk, lg, t0)
	opt := h.srv.opt
	opt.Alarms, opt.Health, opt.Report, opt.Stills = mon.am, mon.snapshot, mon.report, mon.stills
	srv, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	h.ts = httptest.NewServer(srv)
	t.Cleanup(h.ts.Close)
	t.Cleanup(srv.Close)
	return h, mon
}

func decode[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A user sees the alarms and health of cameras of their sites and of the
// storage, never another site's camera.
func TestAlarmsAndHealthScopedToSites(t *testing.T) {
	h, mon := newHealthHarness(t)
	resp := h.do("GET", "/api/alarms", "viewer", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("alarms: %d", resp.StatusCode)
	}
	got := decode[struct{ Alarms []alarm.Alarm }](t, resp)
	var subjects []string
	for _, a := range got.Alarms {
		subjects = append(subjects, a.Subject)
	}
	if strings.Join(subjects, ",") != "cam-a,data" {
		t.Fatalf("viewer of site-a sees alarms of %v, want cam-a and data", subjects)
	}
	snap := decode[health.Snapshot](t, h.do("GET", "/api/health", "viewer", nil))
	if len(snap.Cameras) != 1 || snap.Cameras[0].Camera != "cam-a" || len(snap.Gaps) != 1 || len(snap.Volumes) != 1 {
		t.Fatalf("snapshot for site-a: %+v", snap)
	}
	// Acknowledging another site's camera alarm: not found, not recorded.
	if resp := h.do("POST", "/api/alarms/3/ack", "viewer", map[string]string{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("ack of another site's alarm: %d", resp.StatusCode)
	}
	if a, _ := mon.am.Get(3); a.Acked() {
		t.Fatal("another site's alarm was acknowledged")
	}
}

// Acknowledging writes the ledger entry (who, when, which alarm, the
// note) and the journal; a second acknowledgement is a conflict and
// writes nothing.
func TestAckRecordedInLedger(t *testing.T) {
	h, mon := newHealthHarness(t)
	resp := h.do("POST", "/api/alarms/2/ack", "viewer", map[string]string{"note": "케이블 재연결"})
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("ack: %d %s", resp.StatusCode, b)
	}
	a, _ := mon.am.Get(2)
	if a.AckedBy != "viewer" || a.AckNote != "케이블 재연결" {
		t.Fatalf("alarm after ack: %+v", a)
	}
	es := h.ledger()
	if len(es) != 1 {
		t.Fatalf("ledger entries %+v", es)
	}
	e := es[0]
	if e.Kind != ledger.DeviceCheck || e.Actor != "viewer" || e.Purpose != AckPurpose || e.Site != "site-a" ||
		len(e.Cameras) != 1 || e.Cameras[0] != "cam-a" || !strings.Contains(e.Object, "알람 2") || !strings.Contains(e.Detail, "케이블 재연결") {
		t.Fatalf("ledger entry %+v", e)
	}
	if resp := h.do("POST", "/api/alarms/2/ack", "viewer", nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second ack: %d", resp.StatusCode)
	}
	if len(h.ledger()) != 1 {
		t.Fatal("a refused acknowledgement was recorded")
	}
	// Without the ledger, no acknowledgement.
	h.setFail(true)
	if resp := h.do("POST", "/api/alarms/1/ack", "viewer", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("ack with the ledger down: %d", resp.StatusCode)
	}
	if a, _ := mon.am.Get(1); a.Acked() {
		t.Fatal("acknowledged without its ledger entry")
	}
}

// A still is viewed like footage: a purpose, the ledger entry, then the
// picture through the granted URL only.
func TestStillViewLedgeredFirst(t *testing.T) {
	h, _ := newHealthHarness(t)
	list := decode[[]stills.Still](t, h.do("GET", "/api/cameras/cam-a/stills?start=2026-06-01T00:00:00Z&end=2026-06-02T00:00:00Z", "viewer", nil))
	if len(list) != 1 || list[0].ID != 1 {
		t.Fatalf("stills %+v", list)
	}
	if n := len(h.ledger()); n != 0 {
		t.Fatalf("listing stills wrote %d ledger entries", n)
	}
	if resp := h.do("POST", "/api/cameras/cam-a/stills/1/views", "viewer", map[string]string{"purpose": "시스템점검"}); resp.StatusCode != 400 {
		t.Fatalf("still view without a reason: %d", resp.StatusCode)
	}
	// A still of cam-a asked for through another camera the user may see.
	if resp := h.do("POST", "/api/cameras/cam-a/stills/99/views", "viewer", h.viewBody()); resp.StatusCode != 404 {
		t.Fatalf("unknown still: %d", resp.StatusCode)
	}
	resp := h.do("POST", "/api/cameras/cam-a/stills/1/views", "viewer", h.viewBody())
	if resp.StatusCode != 201 {
		t.Fatalf("still view: %d", resp.StatusCode)
	}
	v := decode[viewResponse](t, resp)
	es := h.ledger(ledger.Playback)
	if len(es) != 1 || es[0].Kind != ledger.Playback || es[0].Form != "정지화상 열람" || es[0].Cameras[0] != "cam-a" {
		t.Fatalf("ledger %+v", es)
	}
	resp = h.do("GET", v.URL, "viewer", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(b, stillJPEG) || resp.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("still: %d %q", resp.StatusCode, b)
	}
}

// A data-subject request's alarm names only a receipt number, yet it is
// the requests' business: those who handle requests see and acknowledge
// it; a viewer of the same site neither sees it nor can acknowledge it.
func TestRequestAlarmOnlyForThoseWhoHandleRequests(t *testing.T) {
	h, mon := newHealthHarness(t)
	h.addUser(h.admin, "handler", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	a, _ := mon.am.Raise(alarm.RequestDue, "2026-0007", alarm.Warning, "due in 2 days")
	seen := func(user string) bool {
		got := decode[struct{ Alarms []alarm.Alarm }](t, h.do("GET", "/api/alarms", user, nil))
		for _, x := range got.Alarms {
			if x.Kind == alarm.RequestDue {
				return true
			}
		}
		return false
	}
	if seen("viewer") {
		t.Error("a viewer without handle-requests sees the request's alarm")
	}
	if !seen("handler") {
		t.Error("a manager who handles requests does not see the request's alarm")
	}
	path := fmt.Sprintf("/api/alarms/%d/ack", a.ID)
	if resp := h.do("POST", path, "viewer", map[string]string{}); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("the viewer's acknowledgement: %d, want 404", resp.StatusCode)
	}
	if resp := h.do("POST", path, "handler", map[string]string{}); resp.StatusCode != http.StatusOK {
		t.Fatalf("the handler's acknowledgement: %d", resp.StatusCode)
	}
}
