package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger/report"
)

// browser is one headless Chromium with one tab, and where its
// screenshots go.
type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
	base      string
	cancel    context.CancelFunc // a tab's; nil for the first
}

const chromium = "/usr/bin/chromium"

func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (scripts/test-deps installs it): %v", chromium, err)
		}
		t.Skipf("no %s: the browser tests need Debian's chromium (scripts/test-deps)", chromium)
	}
	dir := os.Getenv("GWANJE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "gwanje-browsertest")
	}
	dir = filepath.Join(dir, time.Now().UTC().Format("20060102-150405"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", dir)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"), chromedp.Flag("lang", "ko-KR"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1366, 768),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{t: t, ctx: ctx, artifacts: dir, base: base}
	// The first action starts the browser: without a deadline, which would
	// end the browser with it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return b
}

// tab opens a second tab of the same browser (same session); close it
// when done.
func (b *browser) tab() *browser {
	b.t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	nb := &browser{t: b.t, ctx: ctx, artifacts: b.artifacts, base: b.base, cancel: cancel}
	// The first action opens the tab: without a deadline, which would
	// close the tab with it.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1366, 768)); err != nil {
		cancel()
		b.t.Fatalf("opening a tab: %v", err)
	}
	return nb
}

// close closes a tab opened by tab.
func (b *browser) close() {
	if b.cancel != nil {
		b.cancel()
	}
}

// do runs actions with a deadline.
func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.shot("failed")
		b.t.Fatalf("browser: %v", err)
	}
}

func eval[T any](b *browser, js string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

// wait evaluates a JavaScript condition every 100 ms until it is true or
// the timeout passes. An evaluation that fails (the page is navigating)
// counts as false.
func (b *browser) wait(what, js string, timeout time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("!!("+js+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
			b.t.Fatalf("waiting for %s (%v): %s", what, err, js)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base+path), chromedp.WaitReady(chromedp.CSS("body")))
}

// shot writes a screenshot of the whole page. A page still being laid
// out (no width yet) is tried again a few times.
func (b *browser) shot(name string) {
	var err error
	for try := 0; try < 5; try++ {
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		var png []byte
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
		cancel()
		if err == nil {
			os.WriteFile(filepath.Join(b.artifacts, name+".png"), png, 0o644)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.t.Logf("screenshot %s: %v", name, err)
}

// check fails on a key missing from the catalogue anywhere on the page and
// on an API error that reached the page without a code, then screenshots.
func (b *browser) check(name string) {
	b.t.Helper()
	b.shot(name)
	if txt := eval[string](b, `(() => { const t = document.body.innerText + " " + [...document.querySelectorAll("[title],[aria-label],option,input[placeholder]")].map(e => (e.title||"")+(e.getAttribute("aria-label")||"")+(e.textContent||"")).join(" "); const i = t.indexOf("\u27e6"); return i < 0 ? "" : t.slice(i, i + 60); })()`); txt != "" {
		b.t.Errorf("%s: a string missing from the catalogue: %q", name, txt)
	}
	if errs := eval[[]string](b, `window.gw ? window.gw.errorsWithoutCode : []`); len(errs) > 0 {
		b.t.Errorf("%s: API errors without a code reached the page: %v", name, errs)
	}
}

func (b *browser) fill(sel, v string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), v), chromedp.Evaluate[chromedp.Void](
		fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("input", {bubbles: true}))`, sel)))
}

// givePurpose answers the in-page purpose dialog.
func (b *browser) givePurpose(reason string) {
	b.t.Helper()
	b.wait("the purpose dialog", `document.getElementById("purpose-dialog").open`, 10*time.Second)
	b.check("purpose-dialog")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#purpose-form select").selectedIndex = 1`))
	b.fill("#purpose-form input[name=reason]", reason)
	b.do(chromedp.Click(chromedp.CSS(`#purpose-form button[type=submit]`)))
	b.wait("the dialog to close", `!document.getElementById("purpose-dialog").open`, 5*time.Second)
}

func (b *browser) login(name, pw string) {
	b.t.Helper()
	b.open("/login")
	b.fill("#login-form input[name=name]", name)
	b.fill("#login-form input[name=password]", pw)
	b.do(chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)))
	b.wait("leaving the login page", `location.pathname !== "/login" && document.readyState === "complete"`, 10*time.Second)
}

func (b *browser) logout() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS("#logout")))
	b.wait("the login page", `location.pathname === "/login" && document.readyState === "complete"`, 10*time.Second)
}

// clickTimeline clicks camera's playback timeline at wall time t.
func (b *browser) clickTimeline(camera string, t time.Time) {
	b.t.Helper()
	xy := eval[[]float64](b, fmt.Sprintf(`(() => {
		const i = window.gwPlayback.shown().findIndex(p => p.cam.id === %q);
		const tl = document.querySelectorAll("#timelines .timeline")[i];
		tl.scrollIntoView({block: "center"});
		const r = tl.getBoundingClientRect(), [d0, d1] = window.gwPlayback.day();
		return [r.left + r.width * (%d - d0) / (d1 - d0) + 0.5, r.top + r.height / 2];
	})()`, camera, t.UnixMilli()))
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
}

// clickZoom clicks the playback page's zoom bar (the hour around the
// cursor) at wall time t, which must be inside that hour.
func (b *browser) clickZoom(t time.Time) {
	b.t.Helper()
	xy := eval[[]float64](b, fmt.Sprintf(`(() => {
		const z = document.getElementById("tl-zoom"), [z0, z1] = window.gwPlayback.zoom();
		if (%d < z0 || %d >= z1) return [];
		z.scrollIntoView({block: "center"});
		const r = z.getBoundingClientRect();
		return [r.left + r.width * (%d - z0) / (z1 - z0) + 0.5, r.top + r.height / 2];
	})()`, t.UnixMilli(), t.UnixMilli(), t.UnixMilli()))
	if len(xy) != 2 {
		b.t.Fatalf("%s is outside the zoom bar", t.In(seoul))
	}
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
}

// sought is the time the page sought after a click meant for want: a
// pixel of a 24-hour timeline is about a minute and a half, so it must be
// within two pixels of want.
func (b *browser) sought(want time.Time) time.Time {
	b.t.Helper()
	v := eval[[]float64](b, `[window.gwPlayback.lastSeek(), (window.gwPlayback.day()[1] - window.gwPlayback.day()[0]) / document.querySelector("#timelines .timeline").getBoundingClientRect().width]`)
	got := time.UnixMilli(int64(v[0]))
	if d := got.Sub(want).Abs(); d > time.Duration(2*v[1])*time.Millisecond {
		b.t.Errorf("a click meant for %s sought %s (a pixel is %.0f ms)", want.In(seoul), got.In(seoul), v[1])
	}
	return got
}

// wallOf is the wall-clock time a player's label shows (ms), 0 if none.
func (b *browser) wallOf(camera string) time.Time {
	ms := eval[float64](b, fmt.Sprintf(`Number((document.querySelector('.player[data-id=%q] .clock') || {dataset: {}}).dataset.wall || 0)`, camera))
	return time.UnixMilli(int64(ms))
}

var kstLabel = regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} KST`)

// step runs one step of a browser session; a failed step ends the session,
// since the later ones build on it.
func step(t *testing.T, name string, f func(t *testing.T)) {
	t.Helper()
	if stopped {
		return
	}
	t.Run(name, func(t *testing.T) {
		done := false
		defer func() { stopped = stopped || !done }() // a Fatal (Goexit) skips done
		f(t)
		done = true
	})
}

var stopped bool

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	// gwanje runs on a fake clock, stopped at the test's start: what it
	// calls yesterday is the fixture's day whatever the minute the steps
	// take, and the ledger's times are the clock's. The simulated cameras
	// record in real time; the step that plays today's live recording
	// moves the clock to the real time first.
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	g := startGwanjeOn(t, clk)
	b := newBrowser(t, g.url)

	step(t, "login and change the one-time password", func(t *testing.T) {
		b.t = t
		b.open("/")
		b.wait("the login page", `location.pathname === "/login"`, 5*time.Second)
		b.check("login")
		b.fill("#login-form input[name=name]", "manager")
		b.fill("#login-form input[name=password]", "wrong password")
		b.do(chromedp.Click(chromedp.CSS(`#login-form button[type=submit]`)))
		b.wait("the refusal", `!document.getElementById("error").hidden`, 10*time.Second)
		b.check("login-refused")
		b.login("manager", g.oneTime["manager"])
		b.wait("the password page", `location.pathname === "/password"`, 5*time.Second)
		b.check("password-change")
		b.fill("#password-form input[name=old]", g.oneTime["manager"])
		b.fill("#password-form input[name=new]", strongPassword)
		b.fill("#password-form input[name=again]", strongPassword)
		b.do(chromedp.Click(chromedp.CSS(`#password-form button[type=submit]`)))
		b.wait("the home page", `location.pathname === "/" && document.querySelector(".cards")`, 10*time.Second)
		b.check("home")
		// Every time the home page prints is in the institution's zone.
		times := eval[[]string](b, `[...document.querySelectorAll("main dd, main .since, main .when")].map(e => e.textContent).filter(s => /\d{2}:\d{2}/.test(s))`)
		if len(times) == 0 {
			t.Error("no time on the home page")
		}
		for _, s := range times {
			for _, m := range regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T][0-9:]+\S*( \S+)?`).FindAllString(s, -1) {
				if !kstLabel.MatchString(m) {
					t.Errorf("home page time %q is not in the institution's zone", m)
				}
			}
		}
		b.do(chromedp.Click(chromedp.CSS("#lang")))
		b.wait("English", `document.documentElement.lang === "en"`, 10*time.Second)
		b.check("home-en")
		b.open("/totp")
		b.check("totp-en")
		b.do(chromedp.Click(chromedp.CSS("#lang")))
		b.wait("Korean", `document.documentElement.lang === "ko"`, 10*time.Second)
		b.open("/totp")
		b.check("totp")
		b.do(chromedp.EmulateViewport(390, 844))
		b.open("/")
		b.check("home-phone")
		b.do(chromedp.EmulateViewport(1366, 768))
	})

	step(t, "live view plays", func(t *testing.T) {
		b.t = t
		b.open("/live")
		b.do(chromedp.Click(chromedp.CSS("#live-start")))
		b.givePurpose("브라우저 시험: 실시간 영상 확인")
		b.wait("video to play", `(() => { const v = document.querySelector("#grid video"); return v && v.readyState >= 3 && v.currentTime > 0; })()`, 30*time.Second)
		t0 := eval[float64](b, `document.querySelector("#grid video").currentTime`)
		b.wait("currentTime to advance", fmt.Sprintf(`document.querySelector("#grid video").currentTime > %f + 1`, t0), 15*time.Second)
		// cam-4 is H.265: converted to H.264 through ffmpeg, it plays too.
		b.wait("the H.265 camera to play", `(() => { const v = document.querySelectorAll("#grid video")[3]; return v && v.readyState >= 3 && v.currentTime > 0; })()`, 30*time.Second)
		b.check("live")
	})

	day := g.day.Format("2006-01-02")
	at := func(h, m, s int) time.Time {
		return g.day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	step(t, "playback of yesterday from the timeline", func(t *testing.T) {
		b.t = t
		b.open("/playback")
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const d = document.getElementById("pb-date"); d.value = %q; d.dispatchEvent(new Event("change")); })()`, day)))
		b.wait("the timeline", `document.querySelectorAll("#timelines .run").length >= 2`, 10*time.Second)
		b.check("playback-day")
		rows := g.footageRows(t, "cam-1")
		b.clickTimeline("cam-1", at(10, 0, 30))
		b.givePurpose("브라우저 시험: 어제 영상 재생")
		b.wait("video to play", `(() => { const v = document.querySelector(".player video"); return v.readyState >= 3; })()`, 20*time.Second)
		sought := b.sought(at(10, 0, 30))
		if start := b.wallOf("cam-1"); start.Sub(sought).Abs() > 2*time.Second {
			t.Errorf("after seeking to %s the label says %s", sought.In(seoul), start.In(seoul))
		}
		// A minute at 8×: the click started playback.
		b.do(chromedp.Click(chromedp.CSS(`button.speed[data-rate="8"]`)))
		b.wait("a minute played", fmt.Sprintf(`Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) >= %d`, sought.Add(time.Minute).UnixMilli()), 20*time.Second)
		label := eval[string](b, `document.querySelector('.player[data-id="cam-1"] .clock').textContent`)
		if !kstLabel.MatchString(label) {
			t.Errorf("wall-clock label %q is not the institution's time", label)
		}
		b.check("playback-playing")
		if n := g.footageRows(t, "cam-1") - rows; n != 1 {
			t.Errorf("one seek wrote %d ledger rows for cam-1, want 1", n)
		}
		// The ledger row names the footage in the institution's zone.
		es := g.playbackEntries(t)
		if len(es) == 0 {
			t.Fatal("no playback row in the ledger")
		}
		for _, e := range es {
			row := strings.Join(report.Row(e), " | ")
			if regexp.MustCompile(`\d{2}:\d{2}(:\d{2})?(Z|\+00:00)|T\d{2}:`).MatchString(row) {
				t.Errorf("ledger export row has a UTC time: %s", row)
			}
		}

		// The 열람 row is on the 관리대장 page: filtered by kind and
		// camera through the page's own form, it names the camera,
		// yesterday's footage and the purpose given. The page opens in a
		// second tab, so the player's sitting goes on for the steps that
		// follow.
		lb := b.tab()
		defer lb.close()
		lb.open("/ledger")
		lb.do(chromedp.Evaluate[chromedp.Void](`(() => {
			document.querySelector('form.filters select[name=kind]').value = "playback";
			document.querySelector('form.filters select[name=camera]').value = "cam-1";
		})()`))
		lb.do(chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		lb.wait("the filtered 관리대장", `location.search.includes("kind=playback") && location.search.includes("camera=cam-1") && document.readyState === "complete"`, 10*time.Second)
		lb.check("ledger-playback")
		trs := eval[[]string](lb, `[...document.querySelectorAll("table.ledger tbody tr.kind-playback")].map(r => r.textContent)`)
		// The row was written at the fake clock's time.
		when := clk.Now().In(seoul).Format("2006-01-02 15:04:05")
		found := false
		for _, r := range trs {
			if strings.Contains(r, when) && strings.Contains(r, "재생 열람") && strings.Contains(r, "cam-1") && strings.Contains(r, day) && strings.Contains(r, "브라우저 시험: 어제 영상 재생") {
				found = true
			}
		}
		if !found {
			t.Errorf("no 열람 row of cam-1 at %s for yesterday (%s) with the purpose on the 관리대장 page; rows: %q", when, day, trs)
		}
		if n := eval[int](lb, `document.querySelectorAll("table.ledger tbody tr:not(.kind-playback)").length`); n != 0 {
			t.Errorf("the 관리대장 filtered to 재생 열람 shows %d rows of another kind", n)
		}
	})

	step(t, "seek by clicking the timeline", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Click(chromedp.CSS(`button.speed[data-rate="1"]`)))
		b.clickTimeline("cam-1", at(10, 4, 0))
		target := b.sought(at(10, 4, 0))
		b.wait("the seek", fmt.Sprintf(`Math.abs(Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) - %d) < 3000 && document.querySelector(".player video").readyState >= 2`, target.UnixMilli()), 20*time.Second)
		// The label is the footage's own time: the clip's timeline is
		// wall-clock from its first frame (X-Gwanje-Start).
		got := eval[[]float64](b, `(() => { const p = window.gwPlayback.shown()[0]; return [p.view.clipStart + p.video.currentTime * 1000, Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall)]; })()`)
		if d := got[0] - got[1]; d < -500 || d > 500 {
			t.Errorf("label %v ms, footage at %v ms", got[1], got[0])
		}
		want := target.In(seoul).Format("2006-01-02 15:04")
		if label := eval[string](b, `document.querySelector('.player[data-id="cam-1"] .clock').textContent`); !strings.HasPrefix(label, want) {
			t.Errorf("label %q after seeking to %s", label, want)
		}
		b.check("playback-seek")

		// The zoom bar seeks to within seconds.
		b.clickZoom(at(10, 4, 30))
		b.wait("the zoomed seek", `window.gwPlayback.lastSeek() > 0`, 5*time.Second)
		zoomed := time.UnixMilli(int64(eval[float64](b, `window.gwPlayback.lastSeek()`)))
		if d := zoomed.Sub(at(10, 4, 30)).Abs(); d > 10*time.Second {
			t.Errorf("a click on the zoom bar at 10:04:30 sought %s", zoomed.In(seoul))
		}
		b.wait("the label", fmt.Sprintf(`Math.abs(Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) - %d) < 1500`, zoomed.UnixMilli()), 10*time.Second)
		b.check("playback-zoom")
	})

	step(t, "play across a recording gap", func(t *testing.T) {
		b.t = t
		b.clickTimeline("cam-1", at(10, 1, 0))
		b.wait("the seek", fmt.Sprintf(`Math.abs(Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) - %d) < 3000`, b.sought(at(10, 1, 0)).UnixMilli()), 20*time.Second)
		b.do(chromedp.Click(chromedp.CSS(`button.speed[data-rate="8"]`)))
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector(".player video").play()`))
		b.wait("the gap", `document.querySelector('.player[data-id="cam-1"] .clock').textContent.includes("녹화 공백")`, 20*time.Second)
		b.check("playback-gap")
		b.wait("footage after the gap", fmt.Sprintf(`Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) >= %d`, at(10, 3, 10).UnixMilli()), 25*time.Second)
	})

	step(t, "a range with no footage", func(t *testing.T) {
		b.t = t
		before := g.footageRows(t, "cam-1")
		b.clickTimeline("cam-1", at(15, 0, 0))
		b.wait("the message", `(() => { const m = document.querySelector('.player[data-id="cam-1"] .msg'); return !m.hidden && m.textContent.length > 0; })()`, 10*time.Second)
		msg := eval[string](b, `document.querySelector('.player[data-id="cam-1"] .msg').textContent`)
		if !strings.Contains(msg, "녹화된 영상이 없습니다") {
			t.Errorf("no-footage message %q", msg)
		}
		b.check("playback-no-footage")
		if after := g.footageRows(t, "cam-1"); after != before {
			t.Errorf("ledger rows for cam-1: %d before, %d after a range with no footage", before, after)
		}
	})

	step(t, "two cameras side by side in step", func(t *testing.T) {
		b.t = t
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => {
			for (const cb of document.querySelectorAll("#pb-cameras input")) cb.checked = cb.value === "cam-1" || cb.value === "cam-2";
			const d = document.getElementById("pb-date"); d.value = %q; d.dispatchEvent(new Event("change"));
		})()`, day)))
		b.wait("two timelines", `window.gwPlayback.shown().length === 2 && document.querySelectorAll("#timelines .run").length >= 3`, 10*time.Second)
		b.clickTimeline("cam-2", at(10, 0, 40))
		inStep := `(() => { const w = [...document.querySelectorAll(".player .clock")].map(c => Number(c.dataset.wall)); return w.length === 2 && w[0] > 0 && w[1] > 0 && Math.abs(w[0] - w[1]) < 1000; })()`
		b.wait("both cameras at the same time", inStep, 20*time.Second)
		b.do(chromedp.Click(chromedp.CSS(`button.speed[data-rate="2"]`)))
		start := b.wallOf("cam-1")
		b.wait("playing on", fmt.Sprintf(`Number(document.querySelector('.player[data-id="cam-1"] .clock').dataset.wall) > %d`, start.Add(4*time.Second).UnixMilli()), 15*time.Second)
		b.wait("still in step", inStep, 5*time.Second)
		b.check("playback-two-cameras")
	})

	step(t, "an H.265 camera plays converted to H.264", func(t *testing.T) {
		b.t = t
		// Today's recording is the recorder's, in real time.
		clk.Set(time.Now())
		b.do(chromedp.Evaluate[chromedp.Void](`(() => {
			for (const cb of document.querySelectorAll("#pb-cameras input")) cb.checked = cb.value === "cam-4";
			const d = document.getElementById("pb-date"); d.value = window.gw.today; d.dispatchEvent(new Event("change"));
		})()`))
		b.wait("today's timeline of cam-4", `document.querySelectorAll("#timelines .run").length >= 1 && window.gwPlayback.shown()[0].cam.id === "cam-4"`, 10*time.Second)
		// A view asks for ten minutes from the time clicked: two minutes
		// before the run started today holds its footage, whatever pixel
		// the click lands on.
		start := eval[float64](b, `window.gwPlayback.shown()[0].runs[0].start`)
		b.clickTimeline("cam-4", time.UnixMilli(int64(start)).Add(-2*time.Minute))
		b.wait("the converted video to play", `(() => { const p = window.gwPlayback.shown()[0]; return p.view && p.video.readyState >= 2 && Number(p.clock.dataset.wall) > 0; })()`, 30*time.Second)
		b.check("playback-h265")
		es := g.playbackEntries(t)
		if last := es[len(es)-1]; !strings.Contains(last.Form, "H.264") || last.Cameras[0] != "cam-4" {
			t.Errorf("the converted view's ledger row: %s form %q", last.Cameras, last.Form)
		}
	})

	step(t, "an authorized person of one site sees no camera of another", func(t *testing.T) {
		b.t = t
		b.logout()
		b.login("guard-hq", strongPassword)
		b.check("home-guard-hq")
		for _, path := range []string{"/", "/live", "/playback"} {
			b.open(path)
			html := eval[string](b, `document.documentElement.outerHTML`)
			for _, other := range []string{"cam-3", "cam-4", "지하 1층 민원실"} {
				if strings.Contains(html, other) {
					t.Errorf("%s shows %q of the other site to guard-hq", path, other)
				}
			}
			if !strings.Contains(html, "cam-1") {
				t.Errorf("%s does not show cam-1 to guard-hq", path)
			}
		}
		b.check("playback-guard-hq")
		// The API agrees.
		ids := eval[[]string](b, `fetch("/api/cameras").then(r => r.json()).then(cs => cs.map(c => c.id))`)
		for _, id := range ids {
			if id == "cam-3" || id == "cam-4" {
				t.Errorf("/api/cameras lists %s to guard-hq", id)
			}
		}
	})

	step(t, "the auditor sees no footage page", func(t *testing.T) {
		b.t = t
		b.logout()
		b.login("auditor", strongPassword)
		b.check("home-auditor")
		if n := eval[int](b, `document.querySelectorAll('nav a[href="/live"], nav a[href="/playback"]').length`); n != 0 {
			t.Errorf("the auditor's menu offers %d footage pages", n)
		}
		b.open("/playback")
		b.check("playback-refused-auditor")
		if code := eval[string](b, `document.querySelector("main .message").textContent`); !strings.Contains(code, "권한") {
			t.Errorf("the auditor opening /playback sees %q", code)
		}
	})
}
