package browsertest

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserFigures measures, in the browser, live view's delay behind
// the newest video received and playback's seek-to-first-frame
// (docs/benchmarks.md). It runs only with GWANJE_BENCH=1.
func TestBrowserFigures(t *testing.T) {
	if os.Getenv("GWANJE_BENCH") != "1" {
		t.Skip("set GWANJE_BENCH=1 to measure")
	}
	g := startGwanje(t)
	b := newBrowser(t, g.url)
	b.login("manager", g.oneTime["manager"])
	b.fill("#password-form input[name=old]", g.oneTime["manager"])
	b.fill("#password-form input[name=new]", strongPassword)
	b.fill("#password-form input[name=again]", strongPassword)
	b.do(chromedp.Click(chromedp.CSS(`#password-form button[type=submit]`)))
	b.wait("the home page", `location.pathname === "/"`, 10*time.Second)

	// Live: one camera; sample how far the playhead is behind the newest
	// buffered video, once a second for 20 s after it plays.
	b.open("/live")
	b.do(chromedp.Click(chromedp.CSS(`button.layout[data-n="1"]`)), chromedp.Click(chromedp.CSS("#live-start")))
	b.givePurpose("측정")
	b.wait("video to play", `(() => { const v = document.querySelector("#grid video"); return v && v.readyState >= 3 && v.currentTime > 0; })()`, 30*time.Second)
	var lags, e2e []float64
	for range 30 {
		time.Sleep(time.Second)
		v := eval[[]float64](b, `(() => { const v = document.querySelector("#grid video"); return [(v.buffered.end(v.buffered.length-1) - v.currentTime) * 1000, Date.now() - (Number(v.dataset.start) + v.currentTime * 1000)]; })()`)
		lags, e2e = append(lags, v[0]), append(e2e, v[1])
	}
	t.Logf("live: picture shown behind its capture (frame's wall clock at gwanje): min %.0f, p50 %.0f, max %.0f ms; playhead behind the newest received frame: p50 %.0f ms (30 samples, 1 s apart)",
		pct(e2e, 0), pct(e2e, 50), pct(e2e, 100), pct(lags, 50))

	// Playback: seeks to random times of yesterday's runs on cam-1, each
	// timed from the seek to the first frame at the new time (seeked, or
	// loadeddata and then seeked for a new view).
	b.open("/playback")
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const d = document.getElementById("pb-date"); d.value = %q; d.dispatchEvent(new Event("change")); })()`, g.day.Format("2006-01-02"))))
	b.wait("the timeline", `document.querySelectorAll("#timelines .run").length >= 2`, 10*time.Second)
	b.do(chromedp.Evaluate[chromedp.Void](`window.gwPlayback.seek(window.gwPlayback.shown()[0].runs[0].start + 1000, false)`))
	b.givePurpose("측정")
	b.wait("the first view", `document.querySelector(".player video").readyState >= 2`, 20*time.Second)
	rng := rand.New(rand.NewPCG(1, 2))
	runs := g.runs["cam-1"]
	var seekMs, newViewMs, serverMs []float64
	for i := range 40 {
		r := runs[rng.IntN(len(runs))]
		at := r.from.Add(time.Duration(rng.Int64N(int64(r.to.Sub(r.from) - 2*time.Second))))
		if i%5 == 4 {
			// Every fifth seek leaves the current view: a new view, its
			// ledger row and a new file.
			at = r.from.Add(time.Second)
			b.do(chromedp.Evaluate[chromedp.Void](`(() => { const p = window.gwPlayback.shown()[0]; p.view = null; })()`))
		}
		v := eval[[]float64](b, fmt.Sprintf(`new Promise((resolve) => {
			const p = window.gwPlayback.shown()[0], v = p.video, t0 = performance.now(), fresh = !p.view;
			const before = performance.getEntriesByType("resource").length;
			const done = () => {
				const rs = performance.getEntriesByType("resource").slice(before).filter(e => e.name.includes("/api/"));
				const server = rs.reduce((s, e) => s + (e.responseStart - e.requestStart), 0);
				resolve([performance.now() - t0, fresh ? 1 : 0, server]);
			};
			v.addEventListener("seeked", () => requestAnimationFrame(done), { once: true });
			window.gwPlayback.seek(%d, false);
		})`, at.UnixMilli()))
		if v[1] == 1 {
			newViewMs = append(newViewMs, v[0])
			serverMs = append(serverMs, v[2])
		} else {
			seekMs = append(seekMs, v[0])
		}
	}
	t.Logf("playback: seek within a view to first frame: p50 %.0f ms, p99 %.0f ms (%d seeks)", pct(seekMs, 50), pct(seekMs, 99), len(seekMs))
	t.Logf("playback: seek to a new view (ledger row, new file) to first frame: p50 %.0f ms, p99 %.0f ms, server part p50 %.0f ms (%d seeks)",
		pct(newViewMs, 50), pct(newViewMs, 99), pct(serverMs, 50), len(newViewMs))
}

func pct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}
