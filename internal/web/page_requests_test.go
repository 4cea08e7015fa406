package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/i18n"
)

// intake takes h.body() (plus changes) at the staff's intake as user and
// returns the request's id and receipt number.
func (h *requestHarness) intake(user string, change func(map[string]any)) (int64, string) {
	h.t.Helper()
	b := h.body()
	if change != nil {
		change(b)
	}
	resp := h.do("POST", "/api/requests/intake", user, b)
	if resp.StatusCode != http.StatusCreated {
		h.t.Fatalf("intake: %d %s", resp.StatusCode, readAll(h.t, resp))
	}
	var ans struct {
		ID      int64  `json:"id"`
		Receipt string `json:"receipt"`
	}
	if err := json.Unmarshal([]byte(readAll(h.t, resp)), &ans); err != nil {
		h.t.Fatal(err)
	}
	return ans.ID, ans.Receipt
}

// The staff's pages show the requests of the sites the reader handles
// requests for, and no other: the list, the detail with the person, the
// home page's due-soon list; a request of another site does not exist for
// them. Urgency follows the clock.
func TestRequestPagesScopeAndUrgency(t *testing.T) {
	h := newRequestHarness(t)
	id, receipt := h.intake("mgr", nil)
	idB, receiptB := h.intake("mgrb", func(b map[string]any) { b["cameras"] = []string{"cam-b"} })
	rid := jsonInt

	code, body := getPage(t, h.harness, "/requests", "mgr", i18n.Ko)
	if code != 200 || !strings.Contains(body, receipt) || strings.Contains(body, receiptB) {
		t.Fatalf("list as mgr: %d, has own %v, has site-b's %v", code, strings.Contains(body, receipt), strings.Contains(body, receiptB))
	}
	if !strings.Contains(body, `data-urgency="on_time"`) || !strings.Contains(body, "기한 내") {
		t.Fatalf("a new request is not on time in the list")
	}
	code, body = getPage(t, h.harness, "/requests-view?id="+rid(id), "mgr", i18n.Ko)
	if code != 200 || !strings.Contains(body, receipt) || !strings.Contains(body, "강감찬") || !strings.Contains(body, "identity-form") {
		t.Fatalf("detail as mgr: %d %v", code, strings.Contains(body, receipt))
	}
	for _, path := range []string{"/requests-view?id=" + rid(id), "/requests-view?id=999", "/requests-view?id=x"} {
		if code, body := getPage(t, h.harness, path, "mgrb", i18n.Ko); code != http.StatusNotFound || strings.Contains(body, "강감찬") {
			t.Errorf("%s as mgrb: %d", path, code)
		}
	}
	if code, _ := getPage(t, h.harness, "/requests-view?id="+rid(idB), "mgrb", i18n.Ko); code != 200 {
		t.Errorf("own request as mgrb: %d", code)
	}
	if code, _ := getPage(t, h.harness, "/requests", "viewer", i18n.Ko); code != http.StatusForbidden {
		t.Errorf("list as a viewer without handle-requests: %d", code)
	}
	_, home := getPage(t, h.harness, "/", "mgr", i18n.Ko)
	if !strings.Contains(home, `id="home-requests"`) || strings.Contains(home, receipt) {
		t.Fatalf("home page before due soon: section %v, lists the request %v", strings.Contains(home, `id="home-requests"`),
			strings.Contains(home, receipt))
	}
	if _, home := getPage(t, h.harness, "/", "viewer", i18n.Ko); strings.Contains(home, `id="home-requests"`) {
		t.Fatal("home page shows requests to who handles none")
	}

	// Eight days on (UTC calendar here): due soon; eleven: overdue.
	h.clk.Advance(8 * 24 * time.Hour)
	h.relogin("mgr")
	_, body = getPage(t, h.harness, "/requests", "mgr", i18n.Ko)
	if !strings.Contains(body, `data-urgency="due_soon"`) {
		t.Fatalf("not due soon after 8 days")
	}
	_, home = getPage(t, h.harness, "/", "mgr", i18n.En)
	if !strings.Contains(home, receipt) || !strings.Contains(home, "Due soon") || strings.Contains(home, receiptB) {
		t.Fatalf("home page when due soon: lists it %v", strings.Contains(home, receipt))
	}
	h.clk.Advance(3 * 24 * time.Hour)
	h.relogin("mgr")
	_, body = getPage(t, h.harness, "/requests", "mgr", i18n.Ko)
	if !strings.Contains(body, `data-urgency="overdue"`) || !strings.Contains(body, "기한 경과") {
		t.Fatalf("not overdue after 11 days")
	}
	// Closed: off the open list and the home page.
	if resp := h.do("POST", "/api/requests/"+rid(id)+"/close", "mgr", map[string]bool{"withdrawn": true}); resp.StatusCode != 200 {
		t.Fatalf("close: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if _, body = getPage(t, h.harness, "/requests", "mgr", i18n.Ko); strings.Contains(body, receipt) {
		t.Fatal("a closed request in the open list")
	}
	if _, body = getPage(t, h.harness, "/requests?all=1", "mgr", i18n.Ko); !strings.Contains(body, `data-urgency="closed"`) {
		t.Fatal("a closed request missing from the list of all")
	}
	if _, home = getPage(t, h.harness, "/", "mgr", i18n.Ko); strings.Contains(home, receipt) {
		t.Fatal("a closed request on the home page")
	}
	if _, body = getPage(t, h.harness, "/requests-view?id="+rid(id), "mgr", i18n.Ko); strings.Contains(body, "close-request") ||
		strings.Contains(body, "identity-form") {
		t.Fatal("a closed request offers its workflow")
	}
}

// relogin gives the users fresh sessions after the clock moved past
// their lifetime.
func (h *requestHarness) relogin(names ...string) {
	h.t.Helper()
	for _, n := range names {
		s, err := h.svc.Login(context.Background(), n, testPassword, "", netip.MustParseAddr("127.0.0.1"))
		if err != nil {
			h.t.Fatal(err)
		}
		h.users[n] = &userSession{token: s.Token, csrf: s.CSRF}
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// What a requester typed is text on the staff's pages, never markup.
func TestRequestPagesEscapeMarkup(t *testing.T) {
	h := newRequestHarness(t)
	id, _ := h.intake("mgr", func(b map[string]any) {
		b["purpose"] = `<script>alert(1)</script>`
		b["requester"].(map[string]string)["address"] = `<img src=x onerror=alert(2)>`
	})
	_, body := getPage(t, h.harness, "/requests-view?id="+jsonInt(id), "mgr", i18n.Ko)
	if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
		t.Fatal("markup from a request printed as markup")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("the purpose is not shown escaped")
	}
}

// The notices: the answer and, once postponed, the postponement, as PDFs
// addressed to the requester; for the request's handlers only; a
// refusal notice of a request neither postponed nor refused is refused.
func TestRequestNoticeRoute(t *testing.T) {
	h := newRequestHarness(t)
	id, receipt := h.intake("mgr", nil)
	path := "/api/requests/" + jsonInt(id) + "/notice"
	pdf := func(user, q string, want int) string {
		t.Helper()
		resp := h.do("GET", path+q, user, nil)
		b := readAll(t, resp)
		if resp.StatusCode != want {
			t.Fatalf("GET %s%s as %s: %d %s", path, q, user, resp.StatusCode, b)
		}
		if want != 200 {
			return b
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/pdf" {
			t.Fatalf("content type %q", ct)
		}
		bin, err := exec.LookPath("pdftotext")
		if err != nil {
			t.Skip("pdftotext not installed")
		}
		p := filepath.Join(t.TempDir(), "n.pdf")
		os.WriteFile(p, []byte(b), 0o600)
		out, err := exec.Command(bin, p, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(strings.Fields(string(out)), " ")
	}
	txt := pdf("mgr", "?kind=answer&answer=존재확인:+영상정보가+있습니다&when=2026-06-05+14:00&where=본관+열람실", 200)
	for _, w := range []string{"개인영상정보 열람 등 통지서", "강감찬 귀하", receipt, "영상정보가 있습니다", "본관 열람실"} {
		if !strings.Contains(txt, w) {
			t.Errorf("answer notice lacks %q: %s", w, txt)
		}
	}
	if e := errBody(t, h.do("GET", path+"?kind=answer&answer=x", "mgr", nil)); e.Code != "requests.missing" || e.Params["field"] != "when" {
		t.Errorf("a viewing's answer without when: %+v", e)
	}
	if e := errBody(t, h.do("GET", path+"?kind=refusal", "mgr", nil)); e.Code != "requests.notice_none" {
		t.Errorf("refusal notice of a request neither postponed nor refused: %+v", e)
	}
	if e := errBody(t, h.do("GET", path+"?kind=other", "mgr", nil)); e.Code != "requests.notice_kind" {
		t.Errorf("unknown kind: %+v", e)
	}
	pdf("mgrb", "?kind=answer&answer=x&when=a&where=b", http.StatusNotFound)
	pdf("viewer", "?kind=answer&answer=x&when=a&where=b", http.StatusForbidden)
	if resp := h.do("POST", "/api/requests/"+jsonInt(id)+"/postpone", "mgr",
		map[string]string{"date": "2026-06-30", "reason": "관련 수사기관 협의 중"}); resp.StatusCode != 200 {
		t.Fatalf("postpone: %d %s", resp.StatusCode, readAll(t, resp))
	}
	txt = pdf("mgr", "?kind=refusal", 200)
	for _, w := range []string{"연기·거절 통지서", "관련 수사기관 협의 중", "2026년 6월 30일까지", "이의신청", "행정심판", "행정소송"} {
		if !strings.Contains(txt, w) {
			t.Errorf("postponement notice lacks %q: %s", w, txt)
		}
	}
	if strings.Contains(h.log.String(), "강감찬") {
		t.Fatal("the requester's name is in the log")
	}
}

// The public form posts without script: its page must let the browser send
// its Origin (a no-referrer page sends "Origin: null", which the
// same-origin check refuses: TestRequestsBrowser found it).
func TestRequestFormSendsOrigin(t *testing.T) {
	h := newRequestHarness(t)
	resp := h.do("GET", "/requests/new", "", nil)
	readAll(t, resp)
	if p := resp.Header.Get("Referrer-Policy"); p != "same-origin" {
		t.Fatalf("the public form's Referrer-Policy is %q: its POST would carry Origin: null", p)
	}
}

// A decision that refuses a type: the detail page shows it and offers the
// 연기·거절 통지서, which states the ground and the note and how to object.
func TestRequestRefusalNoticeFromDecision(t *testing.T) {
	h := newRequestHarness(t)
	id, _ := h.intake("mgr", nil)
	path := "/api/requests/" + jsonInt(id)
	if resp := h.do("POST", path+"/identity", "mgr", map[string]string{"method": "신분증 대조"}); resp.StatusCode != 200 {
		t.Fatalf("identity: %d %s", resp.StatusCode, readAll(t, resp))
	}
	_, body := getPage(t, h.harness, "/requests-view?id="+jsonInt(id), "mgr", i18n.Ko)
	if !strings.Contains(body, `id="decision-form"`) || strings.Contains(body, `id="notice-refusal"`) {
		t.Fatal("an undecided request: no decision form, or a refusal notice offered")
	}
	if resp := h.do("POST", path+"/decision", "mgr", map[string]any{"types": []map[string]string{
		{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "refused", "ground": "investigation", "note": "경찰 수사 중인 사건의 영상"}}}); resp.StatusCode != 200 {
		t.Fatalf("decision: %d %s", resp.StatusCode, readAll(t, resp))
	}
	_, body = getPage(t, h.harness, "/requests-view?id="+jsonInt(id), "mgr", i18n.Ko)
	for _, w := range []string{`id="req-decision"`, `data-outcome="refused"`, "범죄 수사", `id="notice-refusal"`, `id="existence-answer"`} {
		if !strings.Contains(body, w) {
			t.Errorf("the decided request's page lacks %q", w)
		}
	}
	if strings.Contains(body, `id="grant-form"`) {
		t.Error("a refused viewing offers a viewing grant")
	}
	resp := h.do("GET", path+"/notice?kind=refusal", "mgr", nil)
	b := readAll(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("refusal notice: %d %s", resp.StatusCode, b)
	}
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext not installed")
	}
	p := filepath.Join(t.TempDir(), "n.pdf")
	os.WriteFile(p, []byte(b), 0o600)
	out, err := exec.Command(bin, p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	txt := strings.Join(strings.Fields(string(out)), " ")
	for _, w := range []string{"처리를 거절함을", "□ 연기 ■ 거절", "열람 거절", "범죄의 수사", "경찰 수사 중인 사건의 영상", "행정심판"} {
		if !strings.Contains(txt, w) {
			t.Errorf("the refusal notice lacks %q: %s", w, txt)
		}
	}
}

// Every request page, with a request decided and a viewing granted, in both
// languages: no key missing from the catalogue.
func TestRequestPagesInBothLanguages(t *testing.T) {
	h := newRequestHarness(t)
	id, _ := h.intake("mgr", nil)
	path := "/api/requests/" + jsonInt(id)
	for _, c := range []struct {
		path string
		body any
	}{{"/identity", map[string]string{"method": "신분증 대조"}},
		{"/decision", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
			{"type": "view", "outcome": "partly", "ground": "third_party"}}}},
		{"/view-grant", map[string]int{"minutes": 10}},
		{"/postpone", map[string]string{"date": "2026-06-30", "reason": "마스킹 준비"}}} {
		if resp := h.do("POST", path+c.path, "mgr", c.body); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, readAll(t, resp))
		}
	}
	for _, lang := range i18n.Langs {
		for _, p := range []string{"/requests", "/requests?all=1", "/requests-intake", "/requests-view?id=" + jsonInt(id), "/"} {
			code, body := getPage(t, h.harness, p, "mgr", lang)
			if code != 200 {
				t.Errorf("%s in %s: %d", p, lang, code)
			}
			if i := strings.Index(body, i18n.Missing); i >= 0 {
				t.Errorf("%s in %s: a key missing from the catalogue: %q", p, lang, body[i:min(len(body), i+60)])
			}
		}
	}
	_, body := getPage(t, h.harness, "/requests-view?id="+jsonInt(id), "mgr", i18n.En)
	for _, w := range []string{"Partly approved", "Other people in it cannot be masked", "Answer the existence", `id="view-form"`, `id="notice-refusal"`} {
		if !strings.Contains(body, w) {
			t.Errorf("the English detail page lacks %q", w)
		}
	}
}
