package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/stills"
)

// Every permission metrics.permission accepts is one the access service
// knows.
func TestMetricsPermissionsAreAccessPerms(t *testing.T) {
	for _, p := range config.MetricsPermissions {
		if _, err := access.ParsePerm(p); err != nil {
			t.Errorf("metrics permission %q: %v", p, err)
		}
	}
}

// healthApp starts gwanje on a camera simulator with thresholds shortened
// (each names its production value) and returns the app, the simulator
// and a 관리책임자's client.
func healthApp(t *testing.T, n int) (*App, *camsim.Server, *client) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: n})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var cams []DemoCamera
	for i := 1; i <= n; i++ {
		cams = append(cams, DemoCamera{ID: fmt.Sprintf("cam-%d", i), URL: sim.URL(i)})
	}
	reg, err := RenderDemoRegistry(cams, time.Now().In(seoul()).Format("2006-01-02"))
	if err != nil {
		t.Fatal(err)
	}
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, []byte(reg), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir, cfg.Registry, cfg.Listen = filepath.Join(dir, "data"), regPath, "127.0.0.1:0"
	cfg.Recording.SegmentDuration = config.Duration(10 * time.Second) // production 60 s
	// production 10 s; above no_video plus two 1 s ticks, so a stall is
	// seen while the session is still open.
	cfg.Ingest.ReadTimeout = config.Duration(5 * time.Second)
	cfg.Ingest.BackoffMin = config.Duration(200 * time.Millisecond) // production 1 s
	cfg.Ingest.BackoffMax = config.Duration(500 * time.Millisecond) // production 60 s
	cfg.Health.NoVideo = config.Duration(1500 * time.Millisecond)   // production 5 s
	cfg.Health.RateWindow = config.Duration(5 * time.Second)        // production 10 s
	cfg.Health.FrozenWindow = config.Duration(2 * time.Second)      // production 10 s
	cfg.Metrics = config.Metrics{Access: config.MetricsNetwork, Networks: []string{"127.0.0.0/8"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	lw := &lockedWriter{w: &logs}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		a.Close()
		sim.Close()
		cancel()
		if t.Failed() {
			lw.mu.Lock()
			t.Log(logs.String())
			lw.mu.Unlock()
		}
	})
	pw, err := demoUsers(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: strings.TrimSuffix(a.URL(), "/"), hc: &http.Client{Jar: jar}}
	c.loginChanging("manager", pw)
	return a, sim, c
}

// client is a browser-like HTTP client: cookies and the CSRF token of its
// session.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (c *client) do(method, path string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// lockedWriter serialises log writes from many goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// loginChanging logs in with a one-time password and changes it.
func (c *client) loginChanging(name, pw string) {
	c.t.Helper()
	resp, b := c.do("POST", "/api/login", map[string]string{"name": name, "password": pw})
	if resp.StatusCode != 200 {
		c.t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	var l struct{ CSRF string }
	json.Unmarshal(b, &l)
	c.csrf = l.CSRF
	const next = "health-Passw0rd-e2e"
	if resp, b := c.do("POST", "/api/password", map[string]string{"old": pw, "new": next}); resp.StatusCode/100 != 2 {
		c.t.Fatalf("password change: %d %s", resp.StatusCode, b)
	}
	resp, b = c.do("POST", "/api/login", map[string]string{"name": name, "password": next})
	if resp.StatusCode != 200 {
		c.t.Fatalf("login after change: %d %s", resp.StatusCode, b)
	}
	json.Unmarshal(b, &l)
	c.csrf = l.CSRF
}

// getJSON GETs path and decodes the answer into v.
func (c *client) getJSON(path string, v any) {
	c.t.Helper()
	resp, b := c.do("GET", path, nil)
	if resp.StatusCode != 200 {
		c.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}

func (c *client) alarms() []alarm.Alarm {
	var r struct{ Alarms []alarm.Alarm }
	c.getJSON("/api/alarms", &r)
	return r.Alarms
}

// findAlarm returns the newest alarm of kind for subject as the API lists it.
func (c *client) findAlarm(kind alarm.Kind, subject string) (alarm.Alarm, bool) {
	for _, a := range c.alarms() {
		if a.Kind == kind && a.Subject == subject {
			return a, true
		}
	}
	return alarm.Alarm{}, false
}

// waitUntil polls cond until it holds, failing after limit.
func waitUntil(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(100 * time.Millisecond) // polling interval, not a wait for an event
	}
	return time.Since(start)
}

// TestServeHealthEndToEnd runs `gwanje serve`'s app on two simulated
// cameras: one stopped, one whose connection is cut without closing it.
// Each raises its alarm over HTTP within 30 s and clears it on recovery;
// the outage is a gap on the timeline (GET /api/cameras/{id}/recordings)
// and a gap alarm; the acknowledgement goes to the ledger; the scheduled
// check writes its ledger entries and keeps a viewable still; the monthly
// report contains the check, the gap and the acknowledgement; /metrics
// answers on the allowed network.
func TestServeHealthEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("records simulated cameras for ~20 s")
	}
	t.Parallel()
	a, sim, c := healthApp(t, 2)
	waitUntil(t, "both cameras recording with a learned frame rate", 20*time.Second, func() bool {
		var snap health.Snapshot
		c.getJSON("/api/health", &snap)
		ok := len(snap.Cameras) == 2
		for _, h := range snap.Cameras {
			ok = ok && h.Connected && h.ExpectedFPS >= 24 && h.FPS >= 20
		}
		return ok
	})
	faultAt := time.Now()
	sim.SetFault(1, camsim.Fault{Stop: true})
	sim.SetFault(2, camsim.Fault{Stall: true}) // the connection stays open, nothing arrives
	for _, w := range []struct {
		kind alarm.Kind
		cam  string
	}{{alarm.CameraDown, "cam-1"}, {alarm.CameraStalled, "cam-2"}} {
		waitUntil(t, string(w.kind)+" on "+w.cam, 30*time.Second, func() bool {
			a, ok := c.findAlarm(w.kind, w.cam)
			return ok && a.Active()
		})
		t.Logf("%s %s seen over HTTP %v after the fault", w.cam, w.kind, time.Since(faultAt).Round(time.Millisecond))
	}
	// Let ingest time the stalled session out (a real reconnect), then heal.
	waitUntil(t, "cam-2 session timed out", 15*time.Second, func() bool {
		st, _ := a.rec.Supervisor("cam-2")
		return st.State().Reconnects > 0
	})
	healAt := time.Now()
	sim.SetFault(1, camsim.Fault{})
	sim.SetFault(2, camsim.Fault{})
	for _, w := range []struct {
		kind alarm.Kind
		cam  string
	}{{alarm.CameraDown, "cam-1"}, {alarm.CameraStalled, "cam-2"}} {
		waitUntil(t, string(w.kind)+" cleared on "+w.cam, 30*time.Second, func() bool {
			a, ok := c.findAlarm(w.kind, w.cam)
			return ok && !a.Active()
		})
	}
	t.Logf("both cleared %v after healing", time.Since(healAt).Round(time.Millisecond))

	// The outage is a gap on the timeline: two runs of recordings with
	// the fault between them.
	type run struct{ Start, End time.Time }
	span := fmt.Sprintf("start=%s&end=%s", faultAt.Add(-time.Minute).UTC().Format(time.RFC3339),
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	var runs []run
	waitUntil(t, "cam-1's gap on the timeline", 20*time.Second, func() bool {
		c.getJSON("/api/cameras/cam-1/recordings?"+span, &runs)
		for i := 1; i < len(runs); i++ {
			gap := runs[i].Start.Sub(runs[i-1].End)
			if gap >= time.Second && runs[i-1].End.After(faultAt.Add(-2*time.Second)) && runs[i].Start.After(faultAt) {
				return true
			}
		}
		return false
	})
	t.Logf("cam-1 timeline: %+v", runs)

	// Acknowledge the outage over HTTP: in the ledger and the journal.
	down, _ := c.findAlarm(alarm.CameraDown, "cam-1")
	if resp, b := c.do("POST", fmt.Sprintf("/api/alarms/%d/ack", down.ID), map[string]string{"note": "전원 복구"}); resp.StatusCode != 200 {
		t.Fatalf("ack: %d %s", resp.StatusCode, b)
	}
	if resp, _ := c.do("POST", fmt.Sprintf("/api/alarms/%d/ack", down.ID), nil); resp.StatusCode != http.StatusConflict {
		t.Fatalf("second ack: %d", resp.StatusCode)
	}
	ctx := context.Background()
	// The scheduled check, run now rather than in 24 h.
	res, err := a.health.monitor.RunCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("check results %+v, want two cameras and the volume", res)
	}
	checks, err := a.ledger.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.DeviceCheck}})
	if err != nil {
		t.Fatal(err)
	}
	var acked bool
	objects := map[string]bool{}
	for _, e := range checks {
		if e.Actor == "manager" && strings.Contains(e.Object, fmt.Sprintf("알람 %d", down.ID)) && strings.Contains(e.Detail, "전원 복구") {
			acked = true
		}
		if e.Purpose == health.CheckPurpose {
			objects[e.Object] = true
		}
	}
	if !acked || !objects["cam-1"] || !objects["cam-2"] || !objects["storage:data"] {
		t.Fatalf("ledger device-check entries %+v", checks)
	}

	// The check kept each camera's still (with ffmpeg); it is viewed with a
	// purpose, ledgered first.
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		if res[0].Still == 0 {
			t.Fatalf("no still kept: %+v", res[0])
		}
		var stills []stills.Still
		c.getJSON("/api/cameras/cam-1/stills?"+span, &stills)
		if len(stills) != 1 {
			t.Fatalf("stills %+v", stills)
		}
		resp, b := c.do("POST", fmt.Sprintf("/api/cameras/cam-1/stills/%d/views", stills[0].ID),
			map[string]string{"purpose": "시스템점검", "reason": "정기 점검 화면 확인"})
		if resp.StatusCode != 201 {
			t.Fatalf("still view: %d %s", resp.StatusCode, b)
		}
		var v struct{ URL string }
		json.Unmarshal(b, &v)
		resp, img := c.do("GET", v.URL, nil)
		if resp.StatusCode != 200 || len(img) < 1000 || img[0] != 0xFF || img[1] != 0xD8 {
			t.Fatalf("still picture: %d, %d bytes", resp.StatusCode, len(img))
		}
	} else if os.Getenv("CI") != "" {
		t.Fatal("ffmpeg missing on CI")
	}

	// The gap alarm (the index is scanned every 10 s).
	waitUntil(t, "gap alarm for cam-1", 30*time.Second, func() bool {
		_, ok := c.findAlarm(alarm.Gap, "cam-1")
		return ok
	})

	// The monthly report has the checks, the gap and the acknowledgement.
	month := time.Now().In(a.cfg.Location()).Format("2006-01")
	resp, csv := c.do("GET", "/api/health/report?format=csv&month="+month, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("report: %d %s", resp.StatusCode, csv)
	}
	for _, want := range []string{"점검,cam-1", "점검,storage:data", "녹화 공백,cam-1", "경보 카메라 연결 끊김,cam-1", "확인 manager"} {
		if !strings.Contains(string(csv), want) {
			t.Errorf("report lacks %q:\n%s", want, csv)
		}
	}

	// /metrics from the allowed network, without a session.
	mr, err := http.Get(c.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mr.Body)
	mr.Body.Close()
	if mr.StatusCode != 200 || !strings.Contains(string(mb), `gwanje_camera_up{camera="cam-1"} 1`) {
		t.Fatalf("metrics: %d\n%.2000s", mr.StatusCode, mb)
	}
}
