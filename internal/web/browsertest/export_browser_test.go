package browsertest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestExportDialogBrowser: the 관리책임자 opens yesterday on the playback
// page, selects a range by dragging on the zoom bar with Shift held, opens
// the export dialog (the range already set, the shown cameras ticked),
// gives the purpose and the recipient, and starts the export. The dialog
// follows the job to 100 % and offers the package; the ZIP the page
// downloads verifies with export.Verify and names the 반출 row the gate
// wrote, whose range is the selection.
func TestExportDialogBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	g := startGwanje(t)
	b := newBrowser(t, g.url)
	m := g.login(t, "manager", g.oneTime["manager"])
	m.call("POST", "/api/password", map[string]string{"old": g.oneTime["manager"], "new": strongPassword}, nil, 204)
	b.login("manager", strongPassword)
	at := func(h, mi, s int) time.Time {
		return g.day.Add(time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(s)*time.Second)
	}

	b.open("/playback")
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const d = document.getElementById("pb-date"); d.value = %q; d.dispatchEvent(new Event("change")); })()`,
		g.day.Format("2006-01-02"))))
	b.wait("the timeline", `document.querySelectorAll("#timelines .run").length >= 2`, 10*time.Second)
	b.wait("the zoom bar", `document.querySelectorAll("#tl-zoom .run").length >= 1`, 10*time.Second)

	// Shift and drag on the zoom bar from 10:00:20 to 10:00:50.
	from, to := at(10, 0, 20), at(10, 0, 50)
	pos := eval[[]float64](b, fmt.Sprintf(`(() => {
		const z = document.getElementById("tl-zoom"), [z0, z1] = window.gwPlayback.zoom();
		z.scrollIntoView({block: "center"});
		const r = z.getBoundingClientRect(), x = (t) => r.left + r.width * (t - z0) / (z1 - z0) + 0.5;
		return [x(%d), x(%d), r.top + r.height / 2];
	})()`, from.UnixMilli(), to.UnixMilli()))
	shift := chromedp.ButtonModifiers(chromedp.ModifierShift)
	b.do(chromedp.MouseEvent("mousePressed", pos[0], pos[2], chromedp.ButtonLeft, shift, chromedp.ClickCount(1)),
		chromedp.MouseEvent("mouseMoved", (pos[0]+pos[1])/2, pos[2], chromedp.ButtonLeft, shift),
		chromedp.MouseEvent("mouseMoved", pos[1], pos[2], chromedp.ButtonLeft, shift),
		chromedp.MouseEvent("mouseReleased", pos[1], pos[2], chromedp.ButtonLeft, shift, chromedp.ClickCount(1)))
	sel := eval[map[string]float64](b, `window.gwPlayback.selection() || {}`)
	pixel := eval[float64](b, `3600000 / document.getElementById("tl-zoom").getBoundingClientRect().width`)
	if d := time.Duration(sel["from"]-float64(from.UnixMilli())) * time.Millisecond; d.Abs() > time.Duration(2*pixel)*time.Millisecond {
		t.Fatalf("selection starts %v from 10:00:20 (%v)", d, sel)
	}
	if d := time.Duration(sel["to"]-float64(to.UnixMilli())) * time.Millisecond; d.Abs() > time.Duration(2*pixel)*time.Millisecond {
		t.Fatalf("selection ends %v from 10:00:50 (%v)", d, sel)
	}
	if sought := eval[float64](b, `window.gwPlayback.lastSeek()`); sought != 0 {
		t.Errorf("selecting sought %v: a Shift drag must not play", sought)
	}
	if n := eval[int](b, `document.querySelectorAll("#tl-zoom .export-sel").length`); n != 1 {
		t.Errorf("%d selection marks on the zoom bar", n)
	}
	b.check("export-selection")

	b.do(chromedp.Click(chromedp.CSS("#pb-export")))
	b.wait("the export dialog", `document.getElementById("export-dialog").open`, 5*time.Second)
	if cams := eval[[]string](b, `[...document.querySelectorAll("#export-cameras input:checked")].map(c => c.value)`); len(cams) != 1 || cams[0] != "cam-1" {
		t.Errorf("cameras ticked: %v", cams)
	}
	if r := eval[string](b, `document.getElementById("export-range").textContent`); !strings.HasPrefix(r, at(10, 0, 0).In(seoul).Format("2006-01-02 15:04")) {
		t.Errorf("range shown %q", r)
	}
	b.check("export-dialog")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#export-form select[name=purpose]').value = "incident"`))
	b.fill("#export-form input[name=reason]", "주차 차량 접촉 사고 확인")
	b.fill("#export-form input[name=recipient]", "구로경찰서 교통과")
	b.fill("#export-form input[name=letter]", "교통-2026-77")
	b.do(chromedp.Click(chromedp.CSS("#export-start")))
	b.wait("the package", `!document.getElementById("export-download").hidden`, 30*time.Second)
	if v := eval[float64](b, `document.querySelector("#export-progress progress").value`); v != 100 {
		t.Errorf("progress at the end: %v", v)
	}
	b.check("export-done")

	// The package as the page downloads it, in its session.
	b64 := eval[string](b, `(async () => {
		const r = await fetch(document.getElementById("export-download").href, {credentials: "same-origin"});
		if (!r.ok || r.headers.get("Content-Type") !== "application/zip") return "";
		const buf = await r.arrayBuffer();
		const u = await new Promise((ok) => { const f = new FileReader(); f.onload = () => ok(f.result); f.readAsDataURL(new Blob([buf])); });
		return u.slice(u.indexOf(",") + 1);
	})()`)
	zip, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(zip) == 0 {
		t.Fatalf("download: %d bytes, %v", len(zip), err)
	}
	v, err := export.Verify(bytes.NewReader(zip), int64(len(zip)), export.Trust{})
	if err != nil || !v.OK() {
		t.Fatalf("the downloaded package: %v %v", err, v)
	}
	rows := g.rowsOf(t, ledger.Export)
	if len(rows) != 1 || rows[0].Seq != v.Manifest.LedgerSeq || rows[0].Actor != "manager" || rows[0].Party != "구로경찰서 교통과" ||
		rows[0].From.Sub(from).Abs() > time.Duration(2*pixel)*time.Millisecond || len(v.Manifest.Clips) != 1 {
		t.Errorf("rows %+v, manifest seq %d, %d clips", rows, v.Manifest.LedgerSeq, len(v.Manifest.Clips))
	}
}
