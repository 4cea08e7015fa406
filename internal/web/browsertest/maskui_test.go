package browsertest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestMaskEditorBrowser: a request whose 열람 is granted and whose
// viewing runs; on its masking editor the reviewer loads cam-1's footage
// (the viewing grant's playback, through the gate), asks for face
// proposals, draws a rectangle over
// the picture with the mouse, sets its end with "to here", and submits.
// The package the page offers verifies with export.Verify, its clip is
// masked with the drawn region (relative to the picture, as drawn) and
// the reviewer, and the copy is ledgered as the request's 사본 교부.
func TestMaskEditorBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI")
		}
		t.Skip("ffmpeg not installed")
	}
	g := startGwanje(t)
	b := newBrowser(t, g.url)
	m := g.login(t, "manager", g.oneTime["manager"])
	m.call("POST", "/api/password", map[string]string{"old": g.oneTime["manager"], "new": strongPassword}, nil, 204)

	// A request taken at a visit for 20 s of cam-1's fixture footage,
	// identity checked, 열람 granted, a viewing running.
	from, to := g.day.Add(10*time.Hour), g.day.Add(10*time.Hour+20*time.Second)
	var req struct {
		ID      int64  `json:"id"`
		Receipt string `json:"receipt"`
	}
	m.call("POST", "/api/requests/intake", map[string]any{
		"types":     []string{"view"},
		"requester": map[string]string{"name": "이열람", "phone": "010-2222-3333", "birth": "1985-03-03", "address": "서울 종로구", "relation": "본인"},
		"subject":   map[string]string{"name": "이열람"},
		"from":      from.Format(time.RFC3339), "to": to.Format(time.RFC3339),
		"cameras": []string{"cam-1"}, "purpose": "주차장 접촉 사고 확인",
	}, &req, 201)
	base := fmt.Sprintf("/api/requests/%d", req.ID)
	m.call("POST", base+"/identity", map[string]string{"method": "신분증 대조"}, nil, 200)
	m.call("POST", base+"/decision", map[string]any{"types": []map[string]string{{"type": "view", "outcome": "approved"}}}, nil, 200)
	m.call("POST", base+"/view-grant", map[string]int{"minutes": 30}, nil, 200)

	b.login("manager", strongPassword)
	b.open(fmt.Sprintf("/requests-view?id=%d", req.ID))
	b.do(chromedp.Click(chromedp.CSS("#maskui-link")))
	b.wait("the masking editor", `location.pathname === "/maskui" && document.getElementById("maskui-form")`, 10*time.Second)
	b.check("maskui-open")

	// The footage, through the viewing grant.
	b.do(chromedp.Click(chromedp.CSS(`fieldset[data-camera="cam-1"] .mask-load`)))
	b.wait("the footage", `document.querySelector('fieldset[data-camera="cam-1"] video').readyState >= 2`, 30*time.Second)

	// Face proposals (the fixture's test pattern has none to speak of):
	// the page says how many and that they are only a start; any proposal
	// is deleted here, so that the copy holds the drawn region alone.
	b.do(chromedp.Click(chromedp.CSS(`fieldset[data-camera="cam-1"] .mask-faces`)))
	b.wait("the proposals", `document.querySelector('fieldset[data-camera="cam-1"] .mask-faces-note') || !document.getElementById("error").hidden`, 60*time.Second)
	if msg := eval[string](b, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`); msg != "" {
		t.Fatalf("face proposals refused: %s", msg)
	}
	b.check("maskui-faces")
	b.do(chromedp.Evaluate[chromedp.Void](`(() => { let d; while ((d = document.querySelector('tr.mask-region.proposed .delete'))) d.click(); })()`))

	// Drag from 20 %, 30 % to 50 %, 70 % of the picture.
	pos := eval[[]float64](b, `(() => {
		const o = document.querySelector('fieldset[data-camera="cam-1"] .mask-overlay');
		o.scrollIntoView({block: "center"});
		const r = o.getBoundingClientRect();
		return [r.left + r.width * 0.2, r.top + r.height * 0.3, r.left + r.width * 0.5, r.top + r.height * 0.7];
	})()`)
	b.do(chromedp.MouseEvent("mousePressed", pos[0], pos[1], chromedp.ButtonLeft, chromedp.ClickCount(1)),
		chromedp.MouseEvent("mouseMoved", (pos[0]+pos[2])/2, (pos[1]+pos[3])/2, chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseMoved", pos[2], pos[3], chromedp.ButtonLeft),
		chromedp.MouseEvent("mouseReleased", pos[2], pos[3], chromedp.ButtonLeft, chromedp.ClickCount(1)))
	b.wait("the drawn region", `document.querySelectorAll('fieldset[data-camera="cam-1"] tr.mask-region').length === 1`, 5*time.Second)
	// Its end: "to here" at 3 s.
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('fieldset[data-camera="cam-1"] video').currentTime = 3`))
	b.wait("the player at 3 s", `Math.abs(document.querySelector('fieldset[data-camera="cam-1"] video').currentTime - 3) < 0.01`, 5*time.Second)
	b.do(chromedp.Click(chromedp.CSS(`fieldset[data-camera="cam-1"] tr.mask-region .to-here`)))
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#maskui-form select[name=style]').value = "fill"`))
	b.check("maskui-drawn")

	b.do(chromedp.Click(chromedp.CSS("#maskui-submit")))
	b.wait("the package", `!document.getElementById("maskui-done").hidden || !document.getElementById("error").hidden`, 120*time.Second)
	if msg := eval[string](b, `document.getElementById("error").hidden ? "" : document.getElementById("error").textContent`); msg != "" {
		t.Fatalf("the copy was refused: %s", msg)
	}
	b.check("maskui-done")
	// The link offers the package the API answered (a blob the page's
	// policy lets a link download but not a fetch read: the test reads the
	// same blob).
	if l := eval[string](b, `(() => { const a = document.getElementById("maskui-download"); return a.href.slice(0, 5) + " " + a.download; })()`); !strings.HasPrefix(l, "blob: ") || !strings.HasSuffix(l, ".zip") {
		t.Errorf("the download link: %q", l)
	}
	b64 := eval[string](b, `(async () => {
		const u = await new Promise((ok) => { const f = new FileReader(); f.onload = () => ok(f.result); f.readAsDataURL(window.gw.maskui.package); });
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
	mf := v.Manifest
	if mf.Letter != req.Receipt || len(mf.Clips) != 1 || mf.Clips[0].Camera != "cam-1" || mf.Clips[0].Masked == nil {
		t.Fatalf("manifest: letter %q, clips %+v", mf.Letter, mf.Clips)
	}
	mk := mf.Clips[0].Masked
	if mk.Reviewer != "manager" || mk.Style != "fill" || len(mk.Regions) != 1 {
		t.Fatalf("masking recorded: %+v", mk)
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 0.01 }
	if r := mk.Regions[0]; !near(r.X, 0.2) || !near(r.Y, 0.3) || !near(r.W, 0.3) || !near(r.H, 0.4) || r.From != 0 || !near(r.To, 3) {
		t.Errorf("the region in the manifest is not the one drawn: %+v", r)
	}
	if rows := g.rowsOf(t, ledger.Playback); len(rows) != 2 || rows[0].Ref != req.Receipt || rows[1].Ref != req.Receipt {
		t.Errorf("the viewing's and the proposals' rows: %+v", rows)
	}
	if rows := g.rowsOf(t, ledger.SubjectCopy); len(rows) != 1 || rows[0].Ref != req.Receipt || rows[0].Seq != mf.LedgerSeq {
		t.Errorf("the copy's 관리대장 rows: %+v (manifest seq %d)", rows, mf.LedgerSeq)
	}
}
