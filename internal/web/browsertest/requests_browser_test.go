package browsertest

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/requests"
)

// TestRequestsBrowser follows one data-subject request through gwanje, in
// the browser where a person would act (issue 13's acceptance): a public
// submission on /requests/new (no login) naming a place in words, the
// status lookup (a wrong phone reveals nothing); the staff's list, detail,
// naming of the camera (which places the hold) and identity check; a
// second request taken by phone on the intake page; the notice; on the
// fake clock the hold keeping the footage past its retention while the
// footage beside it is destroyed, and the request overdue on the home page
// and in an alarm; the decision, the 존재확인, the on-site viewing played
// in its range and refused outside it; the closing; the 관리대장 rows of
// every step with the request's number; the hold lifting after its grace.
func TestRequestsBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests are not short")
	}
	clk := clock.NewFake(time.Now().Truncate(time.Second))
	g := startGwanjeOn(t, clk)
	b := newBrowser(t, g.url)
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
			b.t, m.t = t, t
			f(t)
			done = true
		})
	}
	// The requested period: cam-1's fixture footage of yesterday,
	// 10:00–10:05 in the institution's zone.
	from, to := g.day.Add(10*time.Hour), g.day.Add(10*time.Hour+5*time.Minute)
	local := func(t time.Time) string { return t.In(seoul).Format("2006-01-02T15:04") }
	var receipt string
	var rid int64

	step("a public submission on /requests/new", func(t *testing.T) {
		b.open("/requests/new")
		b.check("request-form")
		b.do(chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.getElementById("request-form");
			for (const v of ["existence", "view"]) f.querySelector('input[name=type][value="' + v + '"]').checked = true;
		})()`))
		for sel, v := range map[string]string{
			"requester.name": "김민원", "requester.phone": "010-9876-5432", "requester.birth": "1981-05-05",
			"requester.address": "서울특별시 종로구 세종대로 1", "requester.relation": "본인", "subject.name": "김민원",
			"from": local(from), "to": local(to), "place": "1층 정문 출입구 앞",
			"purpose": "정문에서 잃어버린 가방을 찾기 위해 <b>확인</b>하고자 합니다",
		} {
			b.fill(`#request-form [name="`+sel+`"]`, v)
		}
		b.do(chromedp.Click(chromedp.CSS(`#request-form button[type=submit]`)))
		b.wait("the receipt number", `document.getElementById("receipt")`, 10*time.Second)
		b.check("request-received")
		receipt = eval[string](b, `document.getElementById("receipt").textContent.trim()`)
		if !strings.HasPrefix(receipt, clk.Now().In(seoul).Format("2006")+"-") {
			t.Fatalf("receipt number %q", receipt)
		}
		// The status with a wrong phone reveals nothing; with the right
		// one, the state and due date.
		for _, c := range []struct {
			phone string
			found bool
		}{{"010-1111-2222", false}, {"01098765432", true}} {
			b.open("/requests/new")
			b.fill(`#status-form [name=receipt]`, receipt)
			b.fill(`#status-form [name=phone]`, c.phone)
			b.do(chromedp.Click(chromedp.CSS(`#status-form button[type=submit]`)))
			b.wait("the answer", `document.getElementById("request-status") || document.getElementById("request-error")`, 10*time.Second)
			txt := eval[string](b, `document.querySelector("main").innerText`)
			if found := strings.Contains(txt, "처리 중"); found != c.found || strings.Contains(txt, "김민원") {
				t.Fatalf("status with phone %s: found %v, want %v: %q", c.phone, found, c.found, txt)
			}
		}
		b.check("request-status")
	})

	step("the staff's list, detail and identity check", func(t *testing.T) {
		b.login("manager", strongPassword)
		b.open("/")
		b.check("home-with-requests")
		b.open("/requests")
		b.wait("the request in the list", fmt.Sprintf(`document.querySelector('#req-table tr[data-receipt=%q]')`, receipt), 10*time.Second)
		if u := eval[string](b, fmt.Sprintf(`document.querySelector('#req-table tr[data-receipt=%q]').dataset.urgency`, receipt)); u != "on_time" {
			t.Errorf("a new request is %s", u)
		}
		b.check("requests-list")
		b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#req-table tr[data-receipt=%q] a`, receipt))))
		b.wait("the detail page", `document.getElementById("req-detail")`, 10*time.Second)
		rid = int64(eval[float64](b, `Number(document.getElementById("req-detail").dataset.rid)`))
		// What the requester typed is text.
		if html := eval[string](b, `document.getElementById("req-person").innerHTML`); !strings.Contains(html, "&lt;b&gt;확인&lt;/b&gt;") {
			t.Errorf("the purpose is not shown escaped: %s", html)
		}
		b.check("request-detail")
		// The requester described the place: staff name its camera, which
		// places the request's hold on cam-1 × the period.
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#cameras-form input[value="cam-1"]').checked = true`))
		b.do(chromedp.Click(chromedp.CSS(`#cameras-form button[type=submit]`)))
		b.wait("the camera named", `!document.getElementById("cameras-form") && document.querySelector("#req-detail").textContent.includes("1층 정문 출입구")`, 10*time.Second)
		b.fill(`#identity-form [name=method]`, "주민등록증 대조")
		b.do(chromedp.Click(chromedp.CSS(`#identity-form button[type=submit]`)))
		b.wait("the identity recorded", `!document.getElementById("identity-form") && document.getElementById("req-identity").textContent.includes("주민등록증 대조")`, 10*time.Second)
		b.check("request-identity")
	})

	step("a request taken by phone on the intake page", func(t *testing.T) {
		b.open("/requests-intake")
		b.check("requests-intake")
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#intake-form input[name=type][value="existence"]').checked = true`))
		for sel, v := range map[string]string{"requester.name": "박전화", "requester.phone": "02-123-4567", "requester.birth": "1990-01-02",
			"requester.address": "서울 중구 1", "from": local(from.Add(time.Minute)), "to": local(to), "purpose": "전화로 존재 여부 문의"} {
			b.fill(`#intake-form [name="`+sel+`"]`, v)
		}
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('#intake-form input[name=camera][value="cam-3"]').checked = true`))
		// A period longer than a day is refused in the page, by the API's code.
		b.fill(`#intake-form [name="from"]`, local(from.Add(-25*time.Hour)))
		b.do(chromedp.Click(chromedp.CSS(`#intake-form button[type=submit]`)))
		b.wait("the refusal", `!document.getElementById("error").hidden`, 10*time.Second)
		if msg := eval[string](b, `document.getElementById("error").textContent`); !strings.Contains(msg, "24시간") {
			t.Errorf("a 25-hour period: %q", msg)
		}
		b.fill(`#intake-form [name="from"]`, local(from.Add(time.Minute)))
		b.do(chromedp.Click(chromedp.CSS(`#intake-form button[type=submit]`)))
		b.wait("its page", `location.pathname === "/requests-view" && document.getElementById("req-detail")`, 10*time.Second)
		if txt := eval[string](b, `document.getElementById("req-detail").textContent`); !strings.Contains(txt, "방문·전화·우편 접수") ||
			!strings.Contains(txt, "지하 1층 민원실") {
			t.Errorf("the staff's request: %q", txt)
		}
		b.check("requests-intake-done")
	})

	step("the notice as PDF from the detail page", func(t *testing.T) {
		q := url.Values{"kind": {"answer"}, "answer": {"존재확인: 청구하신 기간의 영상정보가 있습니다."}, "when": {"내일 14:00"}, "where": {"본관 총무과"}}
		ct := eval[string](b, fmt.Sprintf(`fetch("/api/requests/%d/notice?%s").then(r => r.status + " " + r.headers.get("content-type"))`, rid, q.Encode()))
		if ct != "200 application/pdf" {
			t.Fatalf("the answer notice: %s", ct)
		}
	})

	type hold struct {
		Owner, Ref string
		Cameras    []string
		Released   time.Time
	}
	requestHold := func() (hold, bool) {
		var hs []hold
		m.call("GET", "/api/holds?all=1", nil, &hs, 200)
		for _, h := range hs {
			if h.Owner == "request" && h.Ref == receipt {
				return h, true
			}
		}
		return hold{}, false
	}
	recorded := func(cam string) bool {
		var runs []struct{ Start, End time.Time }
		m.call("GET", fmt.Sprintf("/api/cameras/%s/recordings?start=%s&end=%s", cam, from.UTC().Format(time.RFC3339),
			to.UTC().Format(time.RFC3339)), nil, &runs, 200)
		return len(runs) > 0
	}
	// advanceTo moves the clock to at in steps within retention's largest
	// (36 h), waiting at each for the retention run at the new time; the
	// sessions are new (the fake days outlive them).
	advanceTo := func(t *testing.T, at time.Time) {
		t.Helper()
		for clk.Now().Before(at) {
			clk.Advance(min(36*time.Hour, at.Sub(clk.Now())))
			m = g.login(t, "manager", strongPassword)
			deadline := time.Now().Add(30 * time.Second)
			for {
				var st struct {
					LastRun time.Time `json:"last_run"`
				}
				m.call("GET", "/api/retention", nil, &st, 200)
				if !st.LastRun.Before(clk.Now()) {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no retention run at %v (last %v)", clk.Now(), st.LastRun)
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
	}

	step("meanwhile the hold keeps the footage past its retention, and the request shows overdue", func(t *testing.T) {
		if h, ok := requestHold(); !ok || !h.Released.IsZero() || len(h.Cameras) != 1 || h.Cameras[0] != "cam-1" {
			t.Fatalf("the request's hold: %+v %v", h, ok)
		}
		if !recorded("cam-1") || !recorded("cam-2") {
			t.Fatal("yesterday's fixture footage is missing")
		}
		// 30 days of retention from yesterday end while the request is open.
		advanceTo(t, clk.Now().Add(32*24*time.Hour))
		if recorded("cam-2") {
			t.Fatal("cam-2's footage outlived its 30 days")
		}
		if !recorded("cam-1") {
			t.Fatal("the request's hold did not keep cam-1's footage")
		}
		var as struct {
			Alarms []struct{ Kind, Subject, Severity string }
		}
		m.call("GET", "/api/alarms?attention=1", nil, &as, 200)
		found := false
		for _, a := range as.Alarms {
			found = found || (a.Kind == "request_due" && a.Subject == receipt && a.Severity == "critical")
		}
		if !found {
			t.Errorf("no critical request_due alarm for %s: %+v", receipt, as.Alarms)
		}
		b.login("manager", strongPassword)
		b.open("/")
		b.wait("the overdue request on the home page", fmt.Sprintf(`document.querySelector('#home-requests li.req-overdue[data-receipt=%q]')`, receipt), 10*time.Second)
		b.check("home-overdue")
	})

	step("decision, 존재확인 and the on-site viewing in the page", func(t *testing.T) {
		b.open(fmt.Sprintf("/requests-view?id=%d", rid))
		b.wait("the decision form", `document.getElementById("decision-form")`, 10*time.Second)
		b.check("request-decision-form")
		// Approved for both types (the form's default).
		b.do(chromedp.Click(chromedp.CSS(`#decision-form button[type=submit]`)))
		b.wait("the decision", `document.querySelectorAll('#req-decision tr[data-outcome="approved"]').length === 2`, 10*time.Second)
		b.do(chromedp.Click(chromedp.CSS("#existence-answer")))
		b.wait("the 존재확인's answer", `document.querySelector('#req-fulfilments li[data-type="existence"]')`, 10*time.Second)
		if txt := eval[string](b, `document.querySelector('#req-fulfilments li[data-type="existence"]').textContent`); !strings.Contains(txt, "영상정보 있음") {
			t.Errorf("the 존재확인 answered %q", txt)
		}
		b.wait("the page after the answer", `document.readyState === "complete" && document.querySelector("#grant-form input[name=minutes]")`, 10*time.Second)
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#grant-form input[name=minutes]").value = "30"`))
		b.do(chromedp.Click(chromedp.CSS(`#grant-form button[type=submit]`)))
		b.wait("the viewing form", `document.getElementById("view-form")`, 10*time.Second)
		b.check("request-viewing")
		// Inside the request's period: the footage plays in the page.
		b.do(chromedp.Click(chromedp.CSS(`#view-form button[type=submit]`)))
		b.wait("the request's footage to play", `(() => { const v = document.getElementById("req-video"); return !v.hidden && v.readyState >= 2; })()`, 30*time.Second)
		b.check("request-viewing-plays")
		// Outside it: refused, in the page, with the catalogue's words.
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const f = document.getElementById("view-form");
			f.elements.start.value = %q; f.elements.end.value = %q; })()`,
			from.Add(-10*time.Minute).In(seoul).Format("2006-01-02T15:04:05"), from.Add(-5*time.Minute).In(seoul).Format("2006-01-02T15:04:05"))))
		b.do(chromedp.Click(chromedp.CSS(`#view-form button[type=submit]`)))
		b.wait("the refusal", `!document.getElementById("error").hidden`, 10*time.Second)
		if msg := eval[string](b, `document.getElementById("error").textContent`); !strings.Contains(msg, "청구한 카메라와 기간 밖") {
			t.Errorf("outside the period: %q", msg)
		}
		if !eval[bool](b, `document.getElementById("req-video").hidden`) {
			t.Error("a refused view left a video in the page")
		}
		b.check("request-viewing-refused")
		// The answer notice is drafted from the decision and the answers.
		if draft := eval[string](b, `document.querySelector("#notice-answer textarea").value`); !strings.Contains(draft, "영상정보가 있습니다") {
			t.Errorf("the answer notice's draft %q", draft)
		}
	})

	step("closing", func(t *testing.T) {
		b.open(fmt.Sprintf("/requests-view?id=%d", rid))
		b.do(chromedp.Click(chromedp.CSS("#close-request")))
		b.wait("the confirmation", `document.getElementById("close-request").dataset.armed === "1"`, 5*time.Second)
		b.do(chromedp.Click(chromedp.CSS("#close-request")))
		b.wait("the request closed", `!document.getElementById("close-request") && document.getElementById("req-state").textContent.includes("처리 완료")`, 10*time.Second)
		b.check("request-closed")
	})

	step("the 관리대장 shows each step with the request's number", func(t *testing.T) {
		b.open("/ledger?ref=" + url.QueryEscape(receipt))
		b.wait("the request's rows", `document.querySelectorAll("tbody tr[data-seq]").length > 0`, 10*time.Second)
		b.check("ledger-request")
		rows := eval[[]string](b, `[...document.querySelectorAll("tbody tr[data-seq]")].map(r => r.className + " | " + r.innerText)`)
		all := strings.Join(rows, "\n")
		for _, want := range []string{"접수", "신원 확인", "결정", "존재확인 회신", "현장 열람 허용", "종결", "kind-playback", "kind-access-refused"} {
			if !strings.Contains(all, want) {
				t.Errorf("no row for %q among the request's rows:\n%s", want, all)
			}
		}
		for _, r := range rows {
			if !strings.Contains(r, receipt) {
				t.Errorf("a row without the request's number: %s", r)
			}
		}
	})

	step("the hold lifts after the grace period", func(t *testing.T) {
		closed := clk.Now()
		advanceTo(t, closed.Add(29*24*time.Hour))
		if !recorded("cam-1") {
			t.Fatal("the request's hold did not keep cam-1's footage during its grace period")
		}
		if h, _ := requestHold(); !h.Released.IsZero() {
			t.Fatalf("the hold was released before its grace period ended: %+v", h)
		}
		// Past the grace period: the daily sweep releases the hold and the
		// next run destroys the footage.
		advanceTo(t, closed.Add(requests.HoldGrace+time.Hour))
		for i := 0; recorded("cam-1") && i < 3; i++ {
			advanceTo(t, clk.Now().Add(24*time.Hour))
		}
		if h, _ := requestHold(); h.Released.IsZero() {
			t.Fatalf("the hold outlived its grace period: %+v", h)
		}
		if recorded("cam-1") {
			t.Fatal("cam-1's footage outlived the released hold")
		}
	})
}
