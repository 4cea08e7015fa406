package browsertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/config"
)

// TestLiveClockFigures measures live view's end-to-end latency with a
// clock picture (docs/benchmarks.md): a camera (camsim.StartClock) whose
// frames show, as bars, the wall clock at which ffmpeg made them, encoded
// live as H.264; gwanje records it and serves live view to Chromium, and
// the page reads the bars of every frame it presents (the <video> drawn
// into a canvas) and compares them with its own clock (same machine). It
// runs only with GWANJE_BENCH=1 and ffmpeg installed.
func TestLiveClockFigures(t *testing.T) {
	if os.Getenv("GWANJE_BENCH") != "1" {
		t.Skip("set GWANJE_BENCH=1 to measure")
	}
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cam, err := camsim.StartClock("127.0.0.1:0", ffmpeg, log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })

	dir := t.TempDir()
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, []byte(clockRegistry(cam.URL())), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Registry = regPath
	cfg.Listen = "127.0.0.1:0"
	cfg.Health.StillCheck = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.StartWith(context.Background(), cfg, log, app.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	g := &gwanje{dir: dir, app: a, url: strings.TrimSuffix(a.URL(), "/"), runs: map[string][]run{}, oneTime: map[string]string{}}
	g.users(t)

	b := newBrowser(t, g.url)
	b.login("manager", g.oneTime["manager"])
	b.fill("#password-form input[name=old]", g.oneTime["manager"])
	b.fill("#password-form input[name=new]", strongPassword)
	b.fill("#password-form input[name=again]", strongPassword)
	b.do(chromedp.Click(chromedp.CSS(`#password-form button[type=submit]`)))
	b.wait("the home page", `location.pathname === "/"`, 30*time.Second)
	b.open("/live")
	b.do(chromedp.Click(chromedp.CSS(`button.layout[data-n="1"]`)), chromedp.Click(chromedp.CSS("#live-start")))
	b.givePurpose("측정")
	b.wait("video to play", `(() => { const v = document.querySelector("#grid video"); return v && v.readyState >= 3 && v.currentTime > 0; })()`, 60*time.Second)
	// Let the player settle at the live edge, then read two windows of
	// 15 s of frames (an evaluation is limited to 20 s).
	time.Sleep(5 * time.Second)
	read := `new Promise((resolve, reject) => {
		const v = document.querySelector("#grid video");
		const bits = %d, bar = %d, mod = 2 ** bits;
		const c = document.createElement("canvas");
		c.width = v.videoWidth; c.height = v.videoHeight;
		const g = c.getContext("2d", { willReadFrequently: true });
		const out = [];
		let bad = 0;
		const end = performance.now() + 15000;
		const frame = (now, meta) => {
			g.drawImage(v, 0, 0);
			const px = g.getImageData(0, Math.floor(c.height / 2), c.width, 1).data;
			let code = 0;
			for (let i = 0; i < bits; i++) {
				const x = Math.floor((i + 0.5) * bar * c.width / (bits * bar));
				code = code * 2 + (px[4 * x] > 128 ? 1 : 0);
			}
			// The frame is on screen at expectedDisplayTime.
			const shown = performance.timeOrigin + meta.expectedDisplayTime;
			const lat = ((Math.floor(shown) - code) %% mod + mod) %% mod;
			if (lat < 10000) out.push(lat); else bad++;
			if (performance.now() < end) v.requestVideoFrameCallback(frame);
			else resolve([bad, c.width, c.height].concat(out));
		};
		if (!v.requestVideoFrameCallback) reject(new Error("no requestVideoFrameCallback"));
		v.requestVideoFrameCallback(frame);
	})`
	var lat []float64
	var v []float64
	bad := 0.0
	for range 2 {
		v = eval[[]float64](b, fmt.Sprintf(read, camsim.ClockBits, camsim.ClockBarWidth))
		bad, lat = bad+v[0], append(lat, v[3:]...)
	}
	t.Logf("live, clock picture: %d frames read over 30 s (%d unreadable; picture %.0fx%.0f); %s", len(lat), int(bad), v[1], v[2], loadNow())
	t.Logf("live, camera's clock to frame on screen: p50 %.0f ms, p99 %.0f ms, min %.0f ms, max %.0f ms",
		pct(lat, 50), pct(lat, 99), pct(lat, 0), pct(lat, 100))
	if len(lat) < 100 {
		t.Errorf("only %d frames read", len(lat))
	}
}

// clockRegistry is one site with the clock camera.
func clockRegistry(url string) string {
	var b strings.Builder
	head, _, _ := strings.Cut(registryYAML, "sites:\n")
	_, tail, _ := strings.Cut(registryYAML, "personnel:\n")
	b.WriteString(head)
	fmt.Fprintf(&b, "sites:\n  - id: hq\n    name: 본관\n    kind: 본점\n    retention: 30d\n    storage: 전산실\n    groups:\n      - id: lobby\n        location: 1층\n        radius_m: 10\n        cameras:\n          - id: clock\n            name: 시계 카메라\n            stream: {url: %q}\n", url)
	b.WriteString("personnel:\n")
	b.WriteString(tail)
	return b.String()
}
