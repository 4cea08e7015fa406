package browsertest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/bench"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
)

// seekArchive is the archive: 64 cameras, 30 days of one-minute
// segments (2,764,800), ending 2026-11-01 00:00 KST, with 40 windows of
// real video to seek into (each 11 minutes: a view of ten minutes from a point 2 s in).
func seekArchive() bench.ArchiveConfig {
	return bench.ArchiveConfig{Cameras: envN("GWANJE_BENCH_CAMERAS", 64), Days: envN("GWANJE_BENCH_DAYS", 30),
		End: time.Date(2026, 11, 1, 0, 0, 0, 0, seoul), Targets: envN("GWANJE_BENCH_SEEKS", 40), Window: 11, Seed: 1}
}

func envN(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// TestSeekArchiveFigures measures playback's seek to first frame in
// Chromium on a 30-day archive of 64 cameras (docs/benchmarks.md). It runs
// only with GWANJE_BENCH_SEEK=DIR, where the archive is built once
// (about 6 minutes) and kept; GWANJE_BENCH_BUILD_ONLY=1 stops after
// building it. GWANJE_BENCH_CPUPROFILE=FILE profiles the process (gwanje's
// server included) over the seeks.
func TestSeekArchiveFigures(t *testing.T) {
	cache := os.Getenv("GWANJE_BENCH_SEEK")
	if cache == "" {
		t.Skip("set GWANJE_BENCH_SEEK=DIR to measure (the archive is built in DIR once)")
	}
	ctx := context.Background()
	acfg := seekArchive()
	keyFile := filepath.Join(cache, "keys", "master.key")
	keys, err := app.LoadKeys(keyFile, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	arch, ok := bench.LoadArchive(cache, acfg)
	if !ok {
		last := time.Now()
		acfg.Progress = func(done, total int) {
			if time.Since(last) > 30*time.Second {
				last = time.Now()
				t.Logf("archive: %d of %d segments", done, total)
			}
		}
		if arch, err = bench.BuildArchive(ctx, cache, keys, acfg); err != nil {
			t.Fatal(err)
		}
		t.Logf("archive: %d segments built in %v", arch.Segments, arch.Built.Round(time.Second))
	}
	if os.Getenv("GWANJE_BENCH_BUILD_ONLY") == "1" {
		return
	}
	g := startArchive(t, cache, keyFile, acfg)
	b := newBrowser(t, g.url)
	b.login("manager", g.oneTime["manager"])
	b.fill("#password-form input[name=old]", g.oneTime["manager"])
	b.fill("#password-form input[name=new]", strongPassword)
	b.fill("#password-form input[name=again]", strongPassword)
	b.do(chromedp.Click(chromedp.CSS(`#password-form button[type=submit]`)))
	b.wait("the home page", `location.pathname === "/"`, 30*time.Second)
	b.open("/playback")
	b.wait("the playback page", `!!window.gwPlayback`, 30*time.Second)

	if f := os.Getenv("GWANJE_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			t.Fatal(err)
		}
		pprof.StartCPUProfile(out)
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	var newViewMs, serverMs, withinMs, postMs, headMs, mediaMs, mediaN, withinServer []float64
	var slowest []string
	purposed := false
	for i, tg := range arch.Targets {
		// Show the target's camera alone on the target's day: the
		// page's own loading, outside the timed part.
		day := tg.Start.In(seoul).Format("2006-01-02")
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			for (const cb of document.querySelectorAll("#pb-cameras input")) cb.checked = cb.value === %q;
			const d = document.getElementById("pb-date"); d.value = %q; d.dispatchEvent(new Event("change"));
		})()`, tg.Camera, day)))
		b.wait("the timeline", fmt.Sprintf(`(() => { const s = window.gwPlayback.shown(); return s.length === 1 && s[0].cam.id === %q && s[0].runs.length > 0 && window.gwPlayback.day()[0] === %d; })()`,
			tg.Camera, dayStartMs(tg.Start)), 30*time.Second)
		at := tg.Start.Add(2 * time.Second)
		if !purposed {
			// The purpose prompt comes once per sitting: give it on a
			// first, untimed seek.
			b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`window.gwPlayback.seek(%d, false)`, at.UnixMilli())))
			b.givePurpose("측정")
			b.wait("the first view", `(() => { const p = window.gwPlayback.shown()[0]; return p.view && p.video.readyState >= 2; })()`, 30*time.Second)
			b.do(chromedp.Evaluate[chromedp.Void](`(() => { const p = window.gwPlayback.shown()[0]; p.view = null; })()`))
			purposed = true
		}
		v := timedSeek(b, at)
		newViewMs, serverMs = append(newViewMs, v[0]), append(serverMs, v[2])
		postMs, headMs, mediaMs, mediaN = append(postMs, v[3]), append(headMs, v[4]), append(mediaMs, v[5]), append(mediaN, v[6])
		if v[0] > 250 || v[2] > 20 {
			slowest = append(slowest, fmt.Sprintf("#%d %s %s: %.0f ms, server %.0f ms", i, tg.Camera, tg.Start.In(seoul).Format("01-02 15:04"), v[0], v[2]))
		}
		// Then two seeks inside the same view (a currentTime set).
		for _, s := range []time.Duration{20 * time.Second, 45 * time.Second} {
			w := timedSeek(b, tg.Start.Add(s))
			if w[1] == 1 {
				t.Fatalf("a seek inside the view made a new view")
			}
			withinMs, withinServer = append(withinMs, w[0]), append(withinServer, w[2])
		}
	}
	t.Logf("archive: %d cameras × %d days, %d segments; %s", acfg.Cameras, acfg.Days, arch.Segments, loadNow())
	t.Logf("seek to a new view (POST view with its ledger row, HEAD, new file) to first frame: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d seeks)",
		pct(newViewMs, 50), pct(newViewMs, 99), pct(newViewMs, 100), len(newViewMs))
	t.Logf("server part of a new view (sum of the API requests' time to first byte): p50 %.1f ms, p99 %.1f ms, max %.1f ms",
		pct(serverMs, 50), pct(serverMs, 99), pct(serverMs, 100))
	t.Logf("  of which POST of the view (gate, durable ledger row): p50 %.1f ms, p99 %.1f ms; HEAD (the clip built): p50 %.1f ms, p99 %.1f ms; the video's GETs: p50 %.1f ms, p99 %.1f ms in %.0f requests (p50)",
		pct(postMs, 50), pct(postMs, 99), pct(headMs, 50), pct(headMs, 99), pct(mediaMs, 50), pct(mediaMs, 99), pct(mediaN, 50))
	t.Logf("seek inside a view (currentTime) to first frame: p50 %.0f ms, p99 %.0f ms, max %.0f ms (%d seeks); its GETs' time to first byte p50 %.1f ms, p99 %.1f ms",
		pct(withinMs, 50), pct(withinMs, 99), pct(withinMs, 100), len(withinMs), pct(withinServer, 50), pct(withinServer, 99))
	for _, s := range slowest {
		t.Logf("slow: %s", s)
	}
}

// timedSeek seeks the shown camera to at and returns the milliseconds from
// the seek to the first frame shown (seeked, then one animation frame),
// 1 if it made a new view, and the API requests' summed time to first
// byte.
func timedSeek(b *browser, at time.Time) []float64 {
	return eval[[]float64](b, fmt.Sprintf(`new Promise((resolve, reject) => {
		const p = window.gwPlayback.shown()[0], v = p.video, t0 = performance.now(), fresh = !p.view || %d >= p.view.end - 500 || %d < p.view.clipStart;
		performance.clearResourceTimings();
		const done = () => {
			const rs = performance.getEntriesByType("resource").filter(e => e.name.includes("/api/"));
			const ttfb = (e) => e.responseStart - e.requestStart;
			const server = rs.reduce((s, e) => s + ttfb(e), 0);
			const post = rs.filter(e => e.name.endsWith("/views")).reduce((s, e) => s + ttfb(e), 0);
			const head = rs.filter(e => e.initiatorType === "fetch" && !e.name.endsWith("/views")).reduce((s, e) => s + ttfb(e), 0);
			const media = rs.filter(e => e.initiatorType !== "fetch");
			resolve([performance.now() - t0, fresh ? 1 : 0, server, post, head, media.reduce((s, e) => s + ttfb(e), 0), media.length]);
		};
		const timer = setTimeout(() => reject(new Error("no frame within 20 s: " + (p.msg.textContent || ""))), 20000);
		v.addEventListener("seeked", () => { clearTimeout(timer); requestAnimationFrame(done); }, { once: true });
		window.gwPlayback.seek(%d, false);
	})`, at.UnixMilli(), at.UnixMilli(), at.UnixMilli()))
}

func dayStartMs(t time.Time) int64 {
	y, m, d := t.In(seoul).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, seoul).UnixMilli()
}

func loadNow() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load unknown"
	}
	return "load average " + strings.Join(strings.Fields(string(b))[:3], " ")
}

// startArchive starts gwanje on a fresh data directory whose index is a
// copy of the archive's and whose segments directory is the archive's own
// (a symbolic link: nothing is recorded or destroyed during the run, see
// archiveRegistry), on a fake clock at noon of the day after the archive.
func startArchive(t *testing.T, cache, keyFile string, acfg bench.ArchiveConfig) *gwanje {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Now()
	for _, f := range []string{"index.db", "index.db-wal"} {
		if err := copyFile(filepath.Join(cache, "data", f), filepath.Join(dir, f)); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(cache, "data", "segments"), filepath.Join(dir, "segments")); err != nil {
		t.Fatal(err)
	}
	t.Logf("archive index copied in %v", time.Since(t0).Round(time.Millisecond))
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, []byte(archiveRegistry(acfg.Cameras)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.MasterKeyFile = keyFile
	cfg.Registry = regPath
	cfg.Listen = "127.0.0.1:0"
	cfg.Health.StillCheck = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	}
	clk := clock.NewFake(acfg.End.Add(12 * time.Hour))
	a, err := app.StartWith(ctx, cfg, log, app.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	g := &gwanje{dir: dir, app: a, url: strings.TrimSuffix(a.URL(), "/"), runs: map[string][]run{}, oneTime: map[string]string{}}
	g.users(t)
	return g
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// archiveRegistry is n cameras on 8 sites. Their streams point at a port
// where nothing listens: no camera records during the run, so the shared
// segments directory gets no new file. Retention is promised for 90 days,
// so no retention run destroys any of the archive.
func archiveRegistry(n int) string {
	var b strings.Builder
	head, _, _ := strings.Cut(registryYAML, "sites:\n")
	_, tail, _ := strings.Cut(registryYAML, "personnel:\n")
	b.WriteString(head)
	b.WriteString("sites:\n")
	for s := 0; s < 8; s++ {
		fmt.Fprintf(&b, "  - id: site-%d\n    name: 제%d 지점 민원실\n    kind: 지점\n    retention: 90d\n    storage: 전산실\n    groups:\n      - id: g%d\n        location: 출입구\n        radius_m: 10\n        cameras:\n", s, s+1, s)
		for i := 1; i <= n; i++ {
			if i%8 != s {
				continue
			}
			fmt.Fprintf(&b, "          - id: %s\n            name: %d번 카메라 정문 출입구 방향\n            stream: {url: \"rtsp://127.0.0.1:9/%d\"}\n", bench.ArchiveCamera(i), i, i)
		}
	}
	b.WriteString("personnel:\n")
	b.WriteString(tail)
	return b.String()
}
