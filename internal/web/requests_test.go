package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/seal"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type requestHarness struct {
	*harness
	st  *requests.SQLiteStore
	log *syncBuffer
}

func newRequestHarness(t *testing.T) *requestHarness {
	rh := &requestHarness{log: &syncBuffer{}}
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	rh.st, err = requests.OpenSQLite(context.Background(), t.TempDir(), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rh.st.Close() })
	logger := slog.New(slog.NewTextHandler(rh.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rh.harness = newHarnessWith(t, 1, func(o *Options) {
		o.Logger = logger
		o.Requests = requests.New(requests.Config{Store: rh.st, Calendar: requests.Calendar{Zone: time.UTC},
			Camera: func(id string) (string, bool) { c, ok := (fakeCameras{}).Camera(id); return c.Site, ok },
			Clock:  o.Clock, Logger: logger})
	})
	rh.addUser(rh.admin, "mgr", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	rh.addUser(rh.admin, "mgrb", access.Grant{Role: access.Manager, Sites: []string{"site-b"}})
	return rh
}

func (h *requestHarness) body() map[string]any {
	return map[string]any{
		"types":     []string{"existence", "view"},
		"requester": map[string]string{"name": "강감찬", "phone": "010-4444-5555", "birth": "1970-07-07", "address": "서울 관악구 3", "relation": "본인"},
		"subject":   map[string]string{"name": "강감찬", "relation": "본인"},
		"from":      h.t0.Add(-time.Hour).Format(time.RFC3339), "to": h.t0.Add(-30 * time.Minute).Format(time.RFC3339),
		"cameras": []string{"cam-a"}, "purpose": "차량 파손 확인",
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func errBody(t *testing.T, resp *http.Response) ErrorBody {
	t.Helper()
	var e ErrorBody
	if err := json.Unmarshal([]byte(readAll(t, resp)), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRequestsPublicSubmitAndLookup(t *testing.T) {
	h := newRequestHarness(t)
	resp := h.do("POST", "/api/requests", "", h.body())
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submission: %d %s", resp.StatusCode, readAll(t, resp))
	}
	var got struct{ Receipt string }
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if !requests.ValidReceipt(got.Receipt) {
		t.Fatalf("receipt %q", got.Receipt)
	}
	resp = h.do("POST", "/api/requests/status", "", map[string]string{"receipt": got.Receipt, "phone": "01044445555"})
	var st requests.Status
	json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || st.Receipt != got.Receipt || st.State != requests.Received {
		t.Fatalf("status with the right phone: %d %+v", resp.StatusCode, st)
	}
	wrong := h.do("POST", "/api/requests/status", "", map[string]string{"receipt": got.Receipt, "phone": "010-4444-5556"})
	none := h.do("POST", "/api/requests/status", "", map[string]string{"receipt": "2026-0777-ABCD", "phone": "010-4444-5555"})
	wb, nb := readAll(t, wrong), readAll(t, none)
	if wrong.StatusCode != http.StatusNotFound || none.StatusCode != wrong.StatusCode || wb != nb {
		t.Fatalf("wrong phone %d %s; unknown number %d %s: want the same answer", wrong.StatusCode, wb, none.StatusCode, nb)
	}
	// The receipt page on the form.
	form := url.Values{"receipt": {got.Receipt}, "phone": {"010-4444-5555"}}
	page := readAll(t, h.postForm("/requests/status", form))
	if !strings.Contains(page, got.Receipt) || strings.Contains(page, "강감찬") {
		t.Fatalf("status page: %s", page)
	}
}

func (h *requestHarness) postForm(path string, v url.Values) *http.Response {
	h.t.Helper()
	resp, err := http.Post(h.ts.URL+path, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()))
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func TestRequestsPublicValidation(t *testing.T) {
	h := newRequestHarness(t)
	for _, c := range []struct {
		name   string
		change func(b map[string]any)
		status int
		code   string
		field  string
	}{
		{"missing name", func(b map[string]any) {
			b["requester"] = map[string]string{"phone": "010-4444-5555", "birth": "1970-07-07", "address": "a", "relation": "본인"}
		}, 400, "requests.missing", "requester.name"},
		{"missing period", func(b map[string]any) { delete(b, "from") }, 400, "requests.missing", "from"},
		{"future", func(b map[string]any) { b["to"] = h.clk.Now().Add(time.Hour).Format(time.RFC3339) }, 400, "requests.range_future", "to"},
		{"too long", func(b map[string]any) { b["from"] = h.t0.Add(-26 * time.Hour).Format(time.RFC3339) }, 400, "requests.range_long", "to"},
		{"oversized", func(b map[string]any) { b["purpose"] = strings.Repeat("x", 1001) }, 400, "requests.too_long", "purpose"},
		{"bad time", func(b map[string]any) { b["from"] = "yesterday" }, 400, "requests.time", "from"},
		{"unknown field", func(b map[string]any) { b["ssn"] = "800101-1234567" }, 400, "request.json", ""},
		{"body too big", func(b map[string]any) { b["purpose"] = strings.Repeat("x", maxRequestBody) }, 400, "request.json", ""},
	} {
		b := h.body()
		c.change(b)
		resp := h.do("POST", "/api/requests", "", b)
		e := errBody(t, resp)
		if resp.StatusCode != c.status || string(e.Code) != c.code || (c.field != "" && e.Params["field"] != c.field) {
			t.Errorf("%s: %d %+v; want %d %s on %q", c.name, resp.StatusCode, e, c.status, c.code, c.field)
		}
		if strings.Contains(e.Message, "800101") || strings.Contains(e.Message, "xxxx") {
			t.Errorf("%s: the error repeats what was typed: %s", c.name, e.Message)
		}
	}
	if rs, _ := h.st.List(context.Background(), true); len(rs) != 0 {
		t.Fatalf("refused submissions stored %d requests", len(rs))
	}
}

// Markup typed into the form comes back as text when the form is shown
// again with its error.
func TestRequestsFormShowsMarkupEscaped(t *testing.T) {
	h := newRequestHarness(t)
	page := readAll(t, h.get("/requests/new"))
	if !strings.Contains(page, `action="/requests/new"`) {
		t.Fatalf("form page: %s", page)
	}
	v := url.Values{"type": {"view"}, "requester.name": {""}, "requester.phone": {"010-4444-5555"},
		"requester.birth": {"1970-07-07"}, "requester.address": {`"><script>alert(1)</script>`}, "requester.relation": {"본인"},
		"subject.name": {"x"}, "from": {"2026-06-01T10:00"}, "to": {"2026-06-01T10:30"}, "camera": {"cam-a"},
		"purpose": {`</textarea><script>alert(2)</script>`}}
	resp := h.postForm("/requests/new", v)
	page = readAll(t, resp)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, `data-field="requester.name"`) {
		t.Fatalf("form with a missing name: %d %s", resp.StatusCode, page)
	}
	// The message names the box as the form labels it, not by its key.
	if !strings.Contains(page, "청구인 성명 항목을 적어 주십시오") || strings.Contains(page, "requester.name 항목") {
		t.Errorf("the error does not name the field in Korean:\n%s", page)
	}
	if strings.Contains(page, "<script>") || !strings.Contains(page, "&lt;script&gt;alert(2)") ||
		!strings.Contains(page, "&#34;&gt;&lt;script&gt;alert(1)") {
		t.Fatalf("markup not escaped:\n%s", page)
	}
	v.Set("requester.name", "강감찬")
	resp = h.postForm("/requests/new", v)
	page = readAll(t, resp)
	if resp.StatusCode != http.StatusCreated || !strings.Contains(page, `id="receipt"`) {
		t.Fatalf("good form: %d %s", resp.StatusCode, page)
	}
}

func (h *requestHarness) get(path string) *http.Response {
	h.t.Helper()
	resp, err := http.Get(h.ts.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp
}

func TestRequestsRateLimit(t *testing.T) {
	h := newRequestHarness(t)
	for i := range requests.DefaultSubmitPerHour {
		if resp := h.do("POST", "/api/requests", "", h.body()); resp.StatusCode != http.StatusCreated {
			t.Fatalf("submission %d: %d %s", i+1, resp.StatusCode, readAll(t, resp))
		} else {
			resp.Body.Close()
		}
	}
	resp := h.do("POST", "/api/requests", "", h.body())
	if e := errBody(t, resp); resp.StatusCode != http.StatusServiceUnavailable || e.Code != "requests.rate" {
		t.Fatalf("beyond the limit: %d %+v", resp.StatusCode, e)
	}
	h.clk.Advance(time.Hour)
	if resp := h.do("POST", "/api/requests", "", h.body()); resp.StatusCode != http.StatusCreated {
		t.Fatalf("an hour later: %d", resp.StatusCode)
	}
}

func TestRequestsStaffScope(t *testing.T) {
	h := newRequestHarness(t)
	resp := h.do("POST", "/api/requests", "", h.body())
	resp.Body.Close()
	list := func(user string) (int, []requestView) {
		resp := h.do("GET", "/api/requests", user, nil)
		var out []requestView
		json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		return resp.StatusCode, out
	}
	if code, rs := list("mgr"); code != 200 || len(rs) != 1 || rs[0].Urgency != string(requests.OnTime) {
		t.Fatalf("manager of site-a lists %d %+v", code, rs)
	}
	if code, rs := list("mgrb"); code != 200 || len(rs) != 0 {
		t.Fatalf("manager of site-b lists %d %+v", code, rs)
	}
	if code, _ := list("viewer"); code != http.StatusForbidden {
		t.Fatalf("접근권한자 lists requests: %d", code)
	}
	if code, _ := list(""); code != http.StatusUnauthorized {
		t.Fatalf("anonymous lists requests: %d", code)
	}
	_, rs := list("mgr")
	id := rs[0].ID
	post := map[string]string{"date": h.t0.AddDate(0, 0, 30).Format("2006-01-02"), "reason": "관계 기관 확인 중"}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/postpone", "mgrb", post); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("postponed by the other site's manager: %d", resp.StatusCode)
	}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/postpone", "mgr", post); resp.StatusCode != http.StatusOK {
		t.Fatalf("postpone: %d %s", resp.StatusCode, readAll(t, resp))
	}
	idn := map[string]string{"method": "신분증 대조"}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/identity", "mgrb", idn); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("identity recorded by the other site's manager: %d", resp.StatusCode)
	}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/identity", "mgr", idn); resp.StatusCode != http.StatusOK {
		t.Fatalf("identity: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if x, _, _ := h.st.Get(context.Background(), id); x.IdentityBy != "mgr" || x.IdentityMethod != "신분증 대조" {
		t.Fatalf("identity stored as %+v", x)
	}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/close", "mgr", nil); resp.StatusCode != http.StatusConflict ||
		errBody(t, resp).Code != "requests.undecided" {
		t.Fatalf("close of an undecided request: %d", resp.StatusCode)
	}
	if resp := h.do("POST", "/api/requests/"+itoa(int(id))+"/close", "mgr", map[string]bool{"withdrawn": true}); resp.StatusCode != http.StatusOK {
		t.Fatalf("close as withdrawn: %d %s", resp.StatusCode, readAll(t, resp))
	}
	if _, rs := list("mgr"); len(rs) != 0 {
		t.Fatalf("closed request still listed as open: %+v", rs)
	}
}

// A requester's personal data is in no log line and no error body of the
// HTTP routes, whatever they refused.
func TestRequestsPersonalDataNotLogged(t *testing.T) {
	h := newRequestHarness(t)
	secrets := []string{"강감찬", "4444-5555", "44445555", "1970-07-07", "서울 관악구", "차량 파손"}
	var bodies []string
	ok := h.do("POST", "/api/requests", "", h.body())
	var got struct{ Receipt string }
	json.NewDecoder(ok.Body).Decode(&got)
	ok.Body.Close()
	b := h.body()
	b["requester"] = map[string]string{"name": "강감찬", "phone": "4444-5555-4444-5555", "birth": "1970-07-07",
		"address": "서울 관악구 3", "relation": "본인"}
	bodies = append(bodies, readAll(t, h.do("POST", "/api/requests", "", b)))
	b = h.body()
	b["purpose"] = strings.Repeat("차량 파손 ", 300)
	bodies = append(bodies, readAll(t, h.do("POST", "/api/requests", "", b)))
	bodies = append(bodies, readAll(t, h.do("POST", "/api/requests", "", map[string]any{"requester": "강감찬 44445555"})))
	bodies = append(bodies, readAll(t, h.do("POST", "/api/requests/status", "", map[string]string{"receipt": got.Receipt, "phone": "010-4444-5554"})))
	h.postForm("/requests/new", url.Values{"requester.name": {"강감찬"}, "requester.birth": {"1970-07-07"}}).Body.Close()
	logs := h.log.String()
	if !strings.Contains(logs, got.Receipt) || !strings.Contains(logs, "request failed") {
		t.Fatalf("the log shows neither the request nor the refusals:\n%s", logs)
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("log holds %q:\n%s", s, logs)
		}
		for _, body := range bodies {
			if strings.Contains(body, s) {
				t.Errorf("error body holds %q: %s", s, body)
			}
		}
	}
}

func TestRequestsStaffIntake(t *testing.T) {
	h := newRequestHarness(t)
	if resp := h.do("POST", "/api/requests/intake", "mgrb", h.body()); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("intake on another site: %d", resp.StatusCode)
	}
	if resp := h.do("POST", "/api/requests/intake", "viewer", h.body()); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("intake by a 접근권한자: %d", resp.StatusCode)
	}
	// Beyond the public limit: staff are not limited.
	for i := range requests.DefaultSubmitPerHour + 1 {
		resp := h.do("POST", "/api/requests/intake", "mgr", h.body())
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("intake %d: %d %s", i+1, resp.StatusCode, readAll(t, resp))
		}
		resp.Body.Close()
	}
	rs, _ := h.st.List(context.Background(), false)
	if len(rs) != requests.DefaultSubmitPerHour+1 || rs[0].Channel != "staff" || rs[0].Intake != "mgr" {
		t.Fatalf("intake stored %+v", rs[0])
	}
}
