package browsertest

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
)

// TestProvisionsBrowser drives a provision to the police through the
// provisions page as two 관리책임자 would: the first requests it with the
// legal basis chosen from the Act's items, cannot approve it, the second
// approves and produces it, the 관리대장 holds one 제공 row with the
// letter's number and the package verifies. Every step is screenshot.
func TestProvisionsBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	g := startGwanje(t)
	m := g.login(t, "manager", g.oneTime["manager"])
	m.call("POST", "/api/password", map[string]string{"old": g.oneTime["manager"], "new": strongPassword}, nil, 204)
	admin := g.login(t, "admin", g.admin)
	var ans struct {
		Password string `json:"one_time_password"`
	}
	admin.call("POST", "/api/users", map[string]any{"name": "deputy", "display": "부관리책임자",
		"grants": []map[string]any{{"role": "manager", "sites": []string{"*"}}}}, &ans, 201)
	d := g.login(t, "deputy", ans.Password)
	d.call("POST", "/api/password", map[string]string{"old": ans.Password, "new": strongPassword}, nil, 204)

	b := newBrowser(t, g.url)
	run := g.runs["cam-1"][0]
	from := run.from.Add(10 * time.Second).In(seoul)
	to := from.Add(20 * time.Second)
	const letter = "형사과-2026-0921"

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
	row := `document.querySelector('#prov-table tr[data-provision="1"]')`

	step("request with a legal basis", func(t *testing.T) {
		b.login("manager", strongPassword)
		b.open("/provisions")
		b.check("provisions")
		b.fill("#prov-form input[name=recipient]", "서울○○경찰서 형사과 경위 김○○")
		b.fill("#prov-form input[name=letter]", letter)
		b.fill("#prov-form input[name=period]", "수사 종결 시까지")
		b.fill("#prov-form input[name=purpose]", "폭행 사건 수사")
		b.fill("#prov-form input[name=from]", from.Format("2006-01-02T15:04:05"))
		b.fill("#prov-form input[name=to]", to.Format("2006-01-02T15:04:05"))
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#prov-form input[name=camera][value="cam-1"]').checked = true`))
		// Without a legal basis the form does not go (the server refuses
		// it too: provision.basis, web and provision tests).
		if eval[bool](b, `document.getElementById("prov-form").checkValidity()`) ||
			!eval[bool](b, `document.querySelector('#prov-form select[name=basis]').matches(":invalid")`) {
			t.Error("the form may be sent without a legal basis")
		}
		b.do(chromedp.Click(chromedp.CSS(`#prov-form button[type=submit]`)))
		b.check("provisions-no-basis")
		if eval[bool](b, row+` !== null`) {
			t.Fatal("a provision was requested without a legal basis")
		}
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#prov-form select[name=basis]').value = "7"`))
		b.do(chromedp.Click(chromedp.CSS(`#prov-form button[type=submit]`)))
		b.wait("the request's row", row, 10*time.Second)
		b.check("provisions-requested")
		if eval[bool](b, row+`.querySelector("button.approve") !== null`) {
			t.Error("the requester is offered to approve their own request")
		}
		if txt := eval[string](b, row+`.innerText`); !strings.Contains(txt, "범죄의 수사와 공소의 제기 및 유지를 위하여 필요한 경우") ||
			!strings.Contains(txt, letter) {
			t.Errorf("the row %q lacks the basis or the letter", txt)
		}
		b.logout()
	})

	step("another manager approves and produces", func(t *testing.T) {
		b.login("deputy", strongPassword)
		b.open("/provisions")
		b.wait("the request's row", row+`.querySelector("button.approve")`, 10*time.Second)
		b.do(chromedp.Click(chromedp.CSS(`#prov-table tr[data-provision="1"] button.approve`)))
		b.wait("the produce button", `document.querySelector('#prov-table tr[data-provision="1"] button.produce')`, 10*time.Second)
		b.check("provisions-approved")
		b.do(chromedp.Click(chromedp.CSS(`#prov-table tr[data-provision="1"] button.produce`)))
		b.wait("the package link", `document.querySelector('#prov-table tr[data-provision="1"] a.download')`, 20*time.Second)
		b.check("provisions-produced")
	})

	step("one 제공 row and a package that verifies", func(t *testing.T) {
		rows := g.rowsOf(t, ledger.Provision, ledger.Use, ledger.Export)
		if len(rows) != 1 || rows[0].Ref != letter || rows[0].Actor != "deputy" || rows[0].Kind.Category() != "제공" ||
			rows[0].Form != "사본 제공" || rows[0].Period != "수사 종결 시까지" || !strings.Contains(rows[0].LegalBasis, "제7호") {
			t.Fatalf("rows %+v", rows)
		}
		req, _ := http.NewRequest("GET", g.url+"/api/provisions/1/package", nil)
		resp, err := m.hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("download: %d %s", resp.StatusCode, body)
		}
		v, err := export.Verify(bytes.NewReader(body), int64(len(body)), export.Trust{})
		if err != nil || !v.OK() || v.Manifest.RequestedBy != "manager" || v.Manifest.ApprovedBy != "deputy" ||
			v.Manifest.LedgerSeq != rows[0].Seq {
			t.Fatalf("package: %v %+v", err, v)
		}
	})
}
