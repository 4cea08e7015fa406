package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/ledger"
)

// rowsOf are the ledger's rows of the given kinds.
func (g *gwanje) rowsOf(t *testing.T, kinds ...ledger.Kind) []ledger.Entry {
	t.Helper()
	es, err := ledger.QueryDir(context.Background(), g.dir, ledger.Filter{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// TestAdminPagesBrowser drives the administrative pages as their users
// would: the administrator adds and deactivates a user, previews and
// applies a registry file and compares policy versions; the 관리책임자
// places and releases a hold, acknowledges an alarm with a note and signs
// off the 관리대장; the 감사 reads the 관리대장 and sees no footage. Every
// page is screenshot, in Korean and English and on a phone.
func TestAdminPagesBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	g := startGwanje(t)
	b := newBrowser(t, g.url)
	// The manager's one-time password is changed here; the other test
	// does it in the browser.
	m := g.login(t, "manager", g.oneTime["manager"])
	m.call("POST", "/api/password", map[string]string{"old": g.oneTime["manager"], "new": strongPassword}, nil, 204)

	stop := false
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if stop {
			return
		}
		t.Run(name, func(t *testing.T) {
			done := false
			defer func() { stop = stop || !done }()
			b.t = t
			f(t)
			done = true
		})
	}

	step("users: add, one-time password once, deactivate", func(t *testing.T) {
		b.login("admin", g.admin)
		b.open("/users")
		b.wait("the user list", `document.querySelector('#user-table tr[data-user="auditor"]')`, 10*time.Second)
		b.check("users")
		b.fill("#new-user input[name=name]", "clerk")
		b.fill("#new-user input[name=display]", "민원 담당 김")
		b.do(chromedp.Evaluate[chromedp.Void](`(() => {
			document.querySelector('#new-user select[name=role]').value = "staff";
			document.querySelector('#new-user input[name=sites][value=hq]').checked = true; })()`))
		b.do(chromedp.Click(chromedp.CSS(`#new-user button[type=submit]`)))
		b.wait("the one-time password", `!document.getElementById("otp").hidden && document.getElementById("otp-value").textContent.length >= 8`, 10*time.Second)
		b.wait("the new row", `document.querySelector('#user-table tr[data-user="clerk"]')`, 10*time.Second)
		b.check("users-created")
		// The password is shown once: a reload no longer shows it.
		b.open("/users")
		b.wait("the user list", `document.querySelector('#user-table tr[data-user="clerk"]')`, 10*time.Second)
		if shown := eval[bool](b, `!document.getElementById("otp").hidden`); shown {
			t.Error("the one-time password is shown again after a reload")
		}
		// A grant the server refuses: the coded error in the page.
		b.do(chromedp.Click(chromedp.CSS(`#user-table tr[data-user="clerk"] .actions button`)))
		b.wait("the grant dialog", `document.getElementById("grants-dialog").open`, 5*time.Second)
		b.do(chromedp.Click(chromedp.CSS(`#grants-form button[type=submit]`)))
		b.wait("a refusal in the dialog", `!document.querySelector("#grants-form .error").hidden`, 10*time.Second)
		b.check("users-grant-refused")
		b.do(chromedp.Click(chromedp.CSS(`#grants-form .cancel`)))
		// A new one-time password, after a confirming second click.
		b.do(chromedp.Click(chromedp.CSS(`#user-table tr[data-user="clerk"] button.reset`)))
		if shown := eval[bool](b, `!document.getElementById("otp").hidden`); shown {
			t.Error("one click reset the password: it should ask first")
		}
		b.do(chromedp.Click(chromedp.CSS(`#user-table tr[data-user="clerk"] button.reset`)))
		b.wait("the new one-time password", `!document.getElementById("otp").hidden && document.getElementById("otp-value").textContent.length >= 8`, 10*time.Second)
		b.check("users-reset")
		// Deactivate with a reason, in the page.
		b.do(chromedp.Evaluate[chromedp.Void](`[...document.querySelectorAll('#user-table tr[data-user="clerk"] .actions button')].pop().click()`))
		b.wait("the deactivation dialog", `document.getElementById("deactivate-dialog").open`, 5*time.Second)
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#deactivate-form select[name=reason]').value = "retirement"`))
		b.fill("#deactivate-form input[name=note]", "2026년 정년퇴직")
		b.check("users-deactivate")
		b.do(chromedp.Click(chromedp.CSS(`#deactivate-form button[type=submit]`)))
		b.wait("the deactivated row", `document.querySelector('#user-table tr[data-user="clerk"].inactive')`, 10*time.Second)
		if txt := eval[string](b, `document.querySelector('#user-table tr[data-user="clerk"]').textContent`); !strings.Contains(txt, "퇴직") {
			t.Errorf("deactivated row %q does not say why", txt)
		}
		b.check("users-deactivated")
	})

	step("registry: view, preview an import, apply it", func(t *testing.T) {
		b.open("/registry")
		b.check("registry")
		if html := eval[string](b, `document.querySelector("main").innerText`); !strings.Contains(html, "1층 정문 출입구") {
			t.Error("the registry page does not list cam-1")
		}
		// One more camera group at the branch: 2 → 3 cameras.
		y, err := os.ReadFile(filepath.Join(g.dir, "registry.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		newer := strings.Replace(string(y), "      - id: hall\n", "      - {id: door, location: 후문, radius_m: 5, count: 1}\n      - id: hall\n", 1)
		// and a revision of the policy that says so, announced today for
		// the earliest day the 7-day notice allows.
		today := time.Now().In(seoul)
		newer += fmt.Sprintf("    - announced: %s\n      effective: %s\n      summary: 민원실 후문 카메라 추가\n",
			today.Format("2006-01-02"), today.AddDate(0, 0, 7).Format("2006-01-02"))
		bad := strings.Replace(newer, "retention: 30d", "retention: 삼십일", 1)
		file := filepath.Join(t.TempDir(), "registry.yaml")
		os.WriteFile(file, []byte(bad), 0o600)
		b.do(chromedp.SetUploadFiles(`#registry-file`, []string{file}))
		b.do(chromedp.Click(chromedp.CSS("#preview")))
		b.wait("the problems", `!document.getElementById("problems").hidden`, 10*time.Second)
		if p := eval[string](b, `document.getElementById("problems").textContent`); !strings.Contains(p, "삼십일") {
			t.Errorf("problems %q do not name the bad value", p)
		}
		b.check("registry-problems")
		os.WriteFile(file, []byte(newer), 0o600)
		b.do(chromedp.SetUploadFiles(`#registry-file`, []string{file}))
		b.do(chromedp.Click(chromedp.CSS("#preview")))
		b.wait("the preview", `!document.getElementById("preview-result").hidden`, 10*time.Second)
		if c := eval[string](b, `document.querySelector("#changes tbody").textContent`); !strings.Contains(c, "sites[branch].cameras") {
			t.Errorf("changes %q do not name the branch's cameras", c)
		}
		b.check("registry-preview")
		before := len(g.rowsOf(t, ledger.RegistryChange))
		b.do(chromedp.Click(chromedp.CSS("#apply")))
		b.wait("applied", `!document.getElementById("applied").hidden`, 10*time.Second)
		if got, _ := os.ReadFile(filepath.Join(g.dir, "registry.yaml")); string(got) != newer {
			t.Error("the registry file is not the one applied, byte for byte")
		}
		if n := len(g.rowsOf(t, ledger.RegistryChange)); n != before+1 {
			t.Errorf("registry-change rows: %d before, %d after", before, n)
		}
		b.open("/registry")
		b.wait("the restart notice", `document.getElementById("pending")`, 5*time.Second)
		b.check("registry-pending")
	})

	step("policy: publish the revision, versions, diff, signs", func(t *testing.T) {
		b.open("/policy-admin")
		b.check("policy-admin")
		// The registry applied above revises the policy: publish it (a
		// second click confirms), then compare it with the draft.
		before := len(g.rowsOf(t, ledger.RegistryChange))
		b.do(chromedp.Click(chromedp.CSS("#publish")))
		if n := len(g.rowsOf(t, ledger.RegistryChange)); n != before {
			t.Fatal("one click published the policy: it should ask first")
		}
		b.check("policy-confirm")
		b.do(chromedp.Click(chromedp.CSS("#publish")))
		b.wait("the published version", `document.readyState === "complete" && document.querySelector("#h-versions + .scroll tbody tr")`, 15*time.Second)
		if n := len(g.rowsOf(t, ledger.RegistryChange)); n != before+1 {
			t.Errorf("registry-change rows: %d before publishing, %d after", before, n)
		}
		if p := eval[string](b, `(document.getElementById("publish-problem") || {}).textContent || ""`); !strings.Contains(p, "달라진 내용이 없습니다") {
			t.Errorf("after publishing, the draft's problem says %q, want unchanged", p)
		}
		b.do(chromedp.Click(chromedp.CSS(`#diff-form button[type=submit]`)))
		b.wait("the diff", `!document.getElementById("policy-diff").hidden`, 10*time.Second)
		b.check("policy-diff")
		if n := eval[int](b, `document.querySelectorAll('a[href^="/api/policy/sign?site="]').length`); n != 2 {
			t.Errorf("%d sign downloads, want one per site (2)", n)
		}
		b.do(chromedp.Click(chromedp.CSS("#lang")))
		b.wait("English", `document.documentElement.lang === "en"`, 10*time.Second)
		b.check("policy-admin-en")
		for _, p := range []string{"/users", "/registry"} {
			b.open(p)
			b.check(strings.TrimPrefix(p, "/") + "-en")
		}
		b.do(chromedp.Click(chromedp.CSS("#lang")))
		b.wait("Korean", `document.documentElement.lang === "ko"`, 10*time.Second)
	})

	from := time.Now().In(seoul).Add(-2 * time.Hour).Truncate(time.Minute)
	step("holds: place and release", func(t *testing.T) {
		b.logout()
		b.login("manager", strongPassword)
		b.open("/holds")
		b.check("holds")
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#hold-form input[name=camera][value="cam-1"]').checked = true`))
		b.fill("#hold-form input[name=from]", from.Format("2006-01-02T15:04"))
		b.fill("#hold-form input[name=to]", from.Add(time.Hour).Format("2006-01-02T15:04"))
		b.fill("#hold-form input[name=reason]", "경찰서 수사 협조 요청(공문 제2026-123호)")
		b.do(chromedp.Click(chromedp.CSS(`#hold-form button[type=submit]`)))
		b.wait("the hold in the list", `[...document.querySelectorAll("#hold-table td")].some(td => td.textContent.includes("제2026-123호"))`, 15*time.Second)
		b.check("holds-placed")
		rows := g.rowsOf(t, ledger.Hold)
		if len(rows) != 1 || !rows[0].From.Equal(from) || !rows[0].To.Equal(from.Add(time.Hour)) {
			t.Fatalf("hold rows %+v, want one over [%s, %s) in the institution's time", rows, from, from.Add(time.Hour))
		}
		b.do(chromedp.Click(chromedp.CSS(`#hold-table button.release`)))
		if n := len(g.rowsOf(t, ledger.Hold)); n != 1 {
			t.Errorf("one click released the hold (%d rows): it should ask first", n)
		}
		b.check("holds-confirm-release")
		b.do(chromedp.Click(chromedp.CSS(`#hold-table button.release`)))
		b.wait("the hold gone from the active list", `!document.querySelector("#hold-table button.release") && document.readyState === "complete"`, 15*time.Second)
		if n := len(g.rowsOf(t, ledger.Hold)); n != 2 {
			t.Errorf("%d hold rows after release, want 2", n)
		}
		b.open("/holds?all=1")
		b.check("holds-released")
		if txt := eval[string](b, `document.querySelector("#hold-table").innerText`); !strings.Contains(txt, "manager") {
			t.Errorf("released hold does not say who released it: %q", txt)
		}
	})

	step("alarms: acknowledge with a note in the page", func(t *testing.T) {
		// cam-2 keeps its session but sends nothing: camera_stalled.
		if err := g.sim.SetFault(2, camsim.Fault{Stall: true}); err != nil {
			t.Fatal(err)
		}
		defer g.sim.SetFault(2, camsim.Fault{})
		deadline := time.Now().Add(40 * time.Second)
		for {
			b.open("/alarms?attention=1")
			if eval[bool](b, `!!document.querySelector("#alarm-list form.ack")`) {
				break
			}
			if time.Now().After(deadline) {
				b.shot("failed-no-alarm")
				t.Fatal("no alarm to acknowledge after 40 s of a stalled camera")
			}
			time.Sleep(time.Second)
		}
		b.check("alarms")
		before := len(g.rowsOf(t, ledger.DeviceCheck))
		id := eval[string](b, `document.querySelector("#alarm-list form.ack").closest("li").dataset.id`)
		b.fill("#alarm-list form.ack input[name=note]", "현장 확인: 전원 재투입")
		b.do(chromedp.Click(chromedp.CSS(`#alarm-list form.ack button`)))
		// The page reloads; an acknowledged alarm that has cleared no
		// longer needs attention, so it is looked for in the full list.
		b.wait("the reload", fmt.Sprintf(`document.readyState === "complete" && !document.querySelector('#alarm-list li[data-id=%q] form.ack')`, id), 15*time.Second)
		b.open("/alarms")
		sel := fmt.Sprintf(`#alarm-list li[data-id=%q] span.acked`, id)
		b.wait("the acknowledgement", fmt.Sprintf(`document.querySelector(%q)`, sel), 5*time.Second)
		txt := eval[string](b, fmt.Sprintf(`document.querySelector(%q).textContent`, sel))
		if !strings.Contains(txt, "manager") || !strings.Contains(txt, "현장 확인") || !kstLabel.MatchString(strings.TrimSpace(txt[strings.Index(txt, "(")+1:])) {
			t.Errorf("acknowledged alarm says %q: want who, when (KST) and the note", txt)
		}
		if n := len(g.rowsOf(t, ledger.DeviceCheck)); n != before+1 {
			t.Errorf("device-check rows: %d before, %d after the acknowledgement", before, n)
		}
		b.check("alarms-acked")
	})

	step("health page", func(t *testing.T) {
		b.open("/health")
		b.check("health")
		if n := eval[int](b, `document.querySelectorAll('form[action="/api/health/report"] button').length`); n != 2 {
			t.Errorf("the manager's health page offers %d report downloads, want PDF and CSV", n)
		}
	})

	step("ledger: rows, verification, sign-off", func(t *testing.T) {
		b.open("/ledger")
		b.check("ledger")
		if ok := eval[string](b, `(document.getElementById("chain-state") || {}).className || ""`); ok != "ok" {
			t.Errorf("chain state %q, want ok", ok)
		}
		if n := eval[int](b, `document.querySelectorAll("table.ledger tr.kind-hold").length`); n != 2 {
			t.Errorf("%d hold rows on the 관리대장 page, want 2", n)
		}
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('select[name=kind]').value = "hold"`))
		b.do(chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
		b.wait("the filtered page", `location.search.includes("kind=hold") && document.readyState === "complete"`, 10*time.Second)
		if n := eval[int](b, `document.querySelectorAll("table.ledger tbody tr").length`); n != 2 {
			t.Errorf("kind=hold shows %d rows, want 2", n)
		}
		b.check("ledger-filtered")
		b.do(chromedp.Click(chromedp.CSS(`#signoff-form button[type=submit]`)))
		b.wait("the sign-off", `document.querySelector(".signoffs li")`, 15*time.Second)
		so := g.rowsOf(t, ledger.SignOff)
		if len(so) != 1 || so[0].Actor != "manager" || so[0].Role != "관리책임자" {
			t.Errorf("sign-off rows %+v", so)
		}
		b.check("ledger-signed")
		b.do(chromedp.EmulateViewport(390, 844))
		b.open("/ledger")
		b.check("ledger-phone")
		b.open("/holds")
		b.check("holds-phone")
		b.do(chromedp.EmulateViewport(1366, 768))
	})

	step("the auditor reads the 관리대장 and sees no footage", func(t *testing.T) {
		b.logout()
		b.login("auditor", strongPassword)
		b.open("/ledger")
		b.check("ledger-auditor")
		if n := eval[int](b, `document.querySelectorAll("table.ledger tbody tr").length`); n == 0 {
			t.Error("the auditor's 관리대장 is empty")
		}
		if n := eval[int](b, `document.querySelectorAll("#signoff-form").length`); n != 0 {
			t.Error("the auditor is offered the sign-off")
		}
		if n := eval[int](b, `document.querySelectorAll('nav a[href="/live"], nav a[href="/playback"]').length`); n != 0 {
			t.Errorf("the auditor's menu offers %d footage pages", n)
		}
		if n := eval[int](b, `document.querySelectorAll('nav a[href="/ledger"]').length`); n != 1 {
			t.Error("the auditor's menu has no 관리대장")
		}
		// No footage through the API either.
		status := eval[float64](b, fmt.Sprintf(`fetch("/api/cameras/cam-1/views", {method: "POST", headers: {"Content-Type": "application/json", "X-CSRF-Token": document.body.dataset.csrf}, body: JSON.stringify({start: %q, end: %q, purpose: "시스템점검", reason: "감사 확인"})}).then(r => r.status)`,
			g.day.Add(10*time.Hour).Format(time.RFC3339), g.day.Add(10*time.Hour+time.Minute).Format(time.RFC3339)))
		if status != 403 {
			t.Errorf("the auditor asking for footage: %v, want 403", status)
		}
		b.open("/live")
		b.check("live-refused-auditor")
	})
}
