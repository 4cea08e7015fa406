package metrics

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/health"
	"github.com/gwanje/gwanje/internal/ingest"
)

func TestMetricsExposition(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	am := alarm.New(alarm.Options{Clock: clk})
	st := ingest.State{Camera: "lobby-1", Status: ingest.Recording}
	mon, err := health.NewMonitor(health.Options{Clock: clk, Alarms: am,
		Cameras: []health.Camera{
			{ID: "lobby-1", State: func() ingest.State { return st }, ExpectedFPS: 25},
			{ID: "gate-2", State: func() ingest.State { return ingest.State{Status: ingest.Down} }, ExpectedFPS: 25},
		},
		Volumes: []health.Volume{{Name: "data", Dir: t.TempDir(),
			Statfs: func(string) (uint64, uint64, error) { return 40 << 30, 100 << 30, nil }}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		clk.Advance(time.Second)
		st.Frames += 25
		st.KeyFrames++
		st.Bytes += 250000
		mon.Step(context.Background())
	}
	hooks, _ := alarm.NewWebhooks([]alarm.Webhook{{URL: "https://example.invalid/hook?token=secret"}}, alarm.WebhookOptions{})
	reg := NewRegistry(Sources{Monitor: mon, Alarms: am, Webhooks: hooks})

	if _, err := Handler(reg, Access{}); err == nil {
		t.Fatal("a handler with no access decision was built")
	}
	h, err := Handler(reg, Access{Token: "t0ken"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("no token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer t0ken")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	for _, want := range []string{
		`gwanje_camera_up{camera="lobby-1"} 1`,
		`gwanje_camera_up{camera="gate-2"} 0`,
		`gwanje_camera_frames_per_second{camera="lobby-1"} 25`,
		`gwanje_camera_bitrate_bits_per_second{camera="lobby-1"} 2e+06`,
		`gwanje_camera_frames_total{camera="lobby-1"} 300`,
		`gwanje_volume_free_bytes{volume="data"} 4.294967296e+10`,
		`gwanje_volume_writable{volume="data"} 1`,
		`gwanje_alarms_active{kind="camera_down",severity="critical"} 1`,
		`gwanje_webhook_queued{webhook="1"} 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "secret") {
		t.Error("a webhook token leaked into the metrics")
	}

	// Every gwanje_ metric is documented in docs/ref/metrics.md.
	doc, err := os.ReadFile("../../docs/ref/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^# HELP (gwanje_\w+)`).FindAllStringSubmatch(body, -1) {
		if !strings.Contains(string(doc), "`"+m[1]+"`") {
			t.Errorf("%s is not documented in docs/ref/metrics.md", m[1])
		}
	}
}

// The network allowlist serves only peers inside it, whatever headers
// claim; a handler with no access rule at all does not build.
func TestMetricsNetworkAllowlist(t *testing.T) {
	reg := NewRegistry(Sources{})
	if _, err := Handler(reg, Access{}); err == nil {
		t.Fatal("an open metrics handler was built")
	}
	for _, tc := range []struct {
		nets   string
		remote string
		want   int
	}{
		{"127.0.0.0/8", "127.0.0.1:4000", http.StatusOK},
		{"10.0.0.0/8", "127.0.0.1:4000", http.StatusForbidden},
		{"::1/128", "[::1]:4000", http.StatusOK},
		{"10.0.0.0/8", "[::ffff:10.1.2.3]:4000", http.StatusOK},
	} {
		h, err := Handler(reg, Access{Networks: []netip.Prefix{netip.MustParsePrefix(tc.nets)}})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest("GET", "/metrics", nil)
		req.RemoteAddr = tc.remote
		req.Header.Set("X-Forwarded-For", "10.9.9.9")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != tc.want {
			t.Errorf("%s from %s: %d, want %d", tc.nets, tc.remote, w.Code, tc.want)
		}
	}
}
