package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/stills"
)

// flowHarness is a server whose requests service writes to the harness's
// ledger, counts handlers through the access service and answers
// 존재확인 from the harness's footage. Users: mgr and mgr2 (관리책임자 of
// site-a: handle-requests and playback), mgrb (관리책임자 of site-b),
// clerk (handle-requests only, site-a), viewer (접근권한자 of site-a).
// Request rid: existence and view of cam-a for the first 8 s of the
// footage, taken at a visit by mgr, identity checked by mgr.
type flowHarness struct {
	*harness
	rid     string
	receipt string
}

func newFlowHarness(t *testing.T) *flowHarness { return newFlowHarnessWith(t, nil) }

func newFlowHarnessWith(t *testing.T, opt func(*Options)) *flowHarness {
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := requests.OpenSQLite(context.Background(), t.TempDir(), keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	fh := &flowHarness{}
	fh.harness = newHarnessWith(t, 1, func(o *Options) {
		svc := o.Accounts
		o.Requests = requests.New(requests.Config{Store: st, Calendar: requests.Calendar{Zone: time.UTC},
			Camera: func(id string) (string, bool) { c, ok := (fakeCameras{}).Camera(id); return c.Site, ok },
			Clock:  o.Clock, Logger: discardLogger(), Ledger: o.Ledger,
			Footage: footageIndex{t0: time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)},
			Holders: func(ctx context.Context, site string) (int, error) {
				return svc.CountHolders(ctx, access.HandleRequests, site)
			}})
		if opt != nil {
			opt(o)
		}
	})
	h := fh.harness
	h.addUser(h.admin, "mgr", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.addUser(h.admin, "mgr2", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.addUser(h.admin, "mgrb", access.Grant{Role: access.Manager, Sites: []string{"site-b"}})
	h.addUser(h.admin, "clerk", access.Grant{Role: access.Manager, Sites: []string{"site-a"}, Perms: access.Set(access.HandleRequests)})
	body := map[string]any{
		"types":     []string{"existence", "view"},
		"requester": map[string]string{"name": "강감찬", "phone": "010-4444-5555", "birth": "1970-07-07", "address": "서울 관악구", "relation": "본인"},
		"subject":   map[string]string{"name": "강감찬"},
		"from":      h.t0.Format(time.RFC3339), "to": h.t0.Add(8 * time.Second).Format(time.RFC3339),
		"cameras": []string{"cam-a"}, "purpose": "차량 파손 확인",
	}
	resp := h.do("POST", "/api/requests/intake", "mgr", body)
	created := decode[struct {
		ID      int64
		Receipt string
	}](t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("intake: %d", resp.StatusCode)
	}
	fh.rid, fh.receipt = itoa(int(created.ID)), created.Receipt
	if resp := h.do("POST", "/api/requests/"+fh.rid+"/identity", "mgr", map[string]string{"method": "신분증 대조"}); resp.StatusCode != 200 {
		t.Fatalf("identity: %d", resp.StatusCode)
	}
	h.reset()
	return fh
}

func (fh *flowHarness) post(path, user string, body any) (int, ErrorBody) {
	fh.t.Helper()
	resp := fh.do("POST", "/api/requests/"+fh.rid+path, user, body)
	defer resp.Body.Close()
	if resp.StatusCode >= 400 {
		return resp.StatusCode, errBody(fh.t, resp)
	}
	return resp.StatusCode, ErrorBody{}
}

// TestRequestDecisionPermissions: only a holder of handle-requests on the
// request's site decides it, and not the one who took it in while the
// site has another holder; refusals change nothing.
func TestRequestDecisionPermissions(t *testing.T) {
	fh := newFlowHarness(t)
	decision := map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "partly", "ground": "third_party", "note": "정문 카메라의 앞 5초만"}}}
	for _, c := range []struct {
		user string
		code int
		err  string
	}{
		{"", http.StatusUnauthorized, ""},
		{"viewer", http.StatusForbidden, ""},                  // 접근권한자: no handle-requests
		{"other", http.StatusForbidden, ""},                   // playback on site-b only
		{"mgrb", http.StatusNotFound, ""},                     // handle-requests on site-b: the request does not exist for them
		{"mgr", http.StatusForbidden, "requests.same_person"}, // took it in; mgr2 and clerk also handle site-a
	} {
		code, body := fh.post("/decision", c.user, decision)
		if code != c.code || (c.err != "" && string(body.Code) != c.err) {
			t.Errorf("decision by %q: %d %s, want %d %s", c.user, code, body.Code, c.code, c.err)
		}
	}
	if rows := fh.ledger(ledger.RequestDecided); len(rows) != 0 {
		t.Fatalf("refused decisions were ledgered as decided: %+v", rows)
	}
	if code, body := fh.post("/decision", "mgr2", decision); code != 200 {
		t.Fatalf("decision by mgr2: %d %s", code, body.Code)
	}
	if code, body := fh.post("/decision", "clerk", decision); code != http.StatusConflict || body.Code != "requests.decided" {
		t.Fatalf("decided again: %d %s", code, body.Code)
	}
	rows := fh.ledger(ledger.RequestDecided)
	if len(rows) != 1 || rows[0].Ref != fh.receipt || rows[0].Actor != "mgr2" || rows[0].Role != "관리책임자" ||
		rows[0].Kind.Category() != ledger.CatView || !strings.Contains(rows[0].Detail, "view=partly(third_party)") {
		t.Fatalf("decision rows %+v", rows)
	}
	if l := decode[[]requestView](t, fh.do("GET", "/api/requests", "clerk", nil)); len(l) != 1 || l[0].Outcome != "partly" ||
		!l[0].IdentityChecked {
		t.Fatalf("list after the decision %+v", l)
	}
	resp := fh.do("GET", "/api/requests/"+fh.rid, "clerk", nil)
	d := decode[requestDetail](t, resp)
	if resp.StatusCode != 200 || d.Decision == nil || d.Decision.By != "mgr2" || d.Personal == nil ||
		d.Personal.Requester.Name != "강감찬" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("detail %d %+v", resp.StatusCode, d)
	}
}

// TestRequestViewingThroughGate: the on-site viewing of a request plays
// its camera and period through the gate with the request's number on
// the row; a view outside them, or by someone without playback, is
// refused and ledgered; closing the request ends the viewing.
func TestRequestViewingThroughGate(t *testing.T) {
	fh := newFlowHarness(t)
	t0 := fh.t0
	inside := map[string]any{"camera": "cam-a", "start": t0.Add(2 * time.Second), "end": t0.Add(6 * time.Second)}
	if code, body := fh.post("/views", "mgr", inside); code != http.StatusConflict || body.Code != "requests.view_grant" {
		t.Fatalf("viewing before the decision: %d %s", code, body.Code)
	}
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	if code, body := fh.post("/view-grant", "mgr2", map[string]int{"minutes": 500}); code != 400 || body.Code != "requests.grant_length" {
		t.Fatalf("a 500-minute grant: %d %s", code, body.Code)
	}
	if code, _ := fh.post("/view-grant", "mgr2", map[string]int{"minutes": 30}); code != 200 {
		t.Fatalf("grant: %d", code)
	}
	fh.reset()
	resp := fh.do("POST", "/api/requests/"+fh.rid+"/views", "mgr", inside)
	v := decode[viewResponse](t, resp)
	if resp.StatusCode != http.StatusCreated || v.URL == "" {
		t.Fatalf("viewing inside: %d", resp.StatusCode)
	}
	rows := fh.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Ref != fh.receipt || rows[0].PurposeCategory != "정보주체 열람" || rows[0].Party != "정보주체 본인" ||
		rows[0].LegalBasis != requests.BasisView || rows[0].Actor != "mgr" || !rows[0].From.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("playback rows %+v", rows)
	}
	if resp := fh.do("GET", v.URL, "mgr", nil); resp.StatusCode != 200 {
		t.Fatalf("the view plays: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
	for _, c := range []struct {
		name, user string
		body       map[string]any
		code       int
		err        string
	}{
		{"a second past the period", "mgr", map[string]any{"camera": "cam-a", "start": t0.Add(4 * time.Second), "end": t0.Add(9 * time.Second)},
			403, "requests.view_scope"},
		{"another camera", "mgr", map[string]any{"camera": "cam-b", "start": t0, "end": t0.Add(time.Second)}, 403, "requests.view_scope"},
		{"an unknown camera", "mgr", map[string]any{"camera": "cam-x", "start": t0, "end": t0.Add(time.Second)}, 403, "requests.view_scope"},
		{"without playback", "clerk", inside, 403, ""},
	} {
		code, body := fh.post("/views", c.user, c.body)
		if code != c.code || (c.err != "" && string(body.Code) != c.err) {
			t.Errorf("%s: %d %s, want %d %s", c.name, code, body.Code, c.code, c.err)
		}
	}
	refused := fh.ledger(ledger.AccessRefused)
	if len(refused) != 4 {
		t.Fatalf("%d refusal rows, want 4: %+v", len(refused), refused)
	}
	for _, r := range refused {
		if r.Ref != fh.receipt {
			t.Errorf("refusal row without the request's number: %+v", r)
		}
	}
	if len(fh.ledger(ledger.Playback)) != 1 {
		t.Fatal("a refused viewing has a playback row")
	}
	// Answer the 존재확인, then close: the view ends.
	resp = fh.do("POST", "/api/requests/"+fh.rid+"/existence", "mgr2", nil)
	ex := decode[map[string]any](t, resp)
	if resp.StatusCode != 200 || ex["exists"] != true || len(ex) != 2 {
		t.Fatalf("existence: %d %v", resp.StatusCode, ex)
	}
	if code, body := fh.post("/close", "mgr2", nil); code != 200 {
		t.Fatalf("close: %d %s", code, body.Code)
	}
	if resp := fh.do("GET", v.URL, "mgr", nil); resp.StatusCode == 200 {
		t.Fatal("the request's view still plays after it closed")
	}
	if code, body := fh.post("/views", "mgr", inside); code != http.StatusConflict || body.Code != "requests.closed" {
		t.Fatalf("viewing after closing: %d %s", code, body.Code)
	}
	var steps []string
	for _, r := range fh.ledger() {
		if r.Ref == fh.receipt {
			steps = append(steps, r.Kind.String())
		}
	}
	if got := strings.Join(steps, ","); !strings.HasPrefix(got, "playback,access-refused") || !strings.HasSuffix(got,
		"request-decided,request-decided,access-refused") {
		t.Fatalf("rows with the request's number: %s", got)
	}
}

// TestRequestMaskedCopy: the masked copy of a request's viewing is made
// through export's masked export and the gate — the 반출 row bearing the
// request's number before any footage is read —, covers the decision's
// scope only, and answers the viewing, so the request can close.
func TestRequestMaskedCopy(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI")
		}
		t.Skip("ffmpeg not installed")
	}
	key := export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	fh := newFlowHarnessWith(t, func(o *Options) {
		o.Exporter = &export.Exporter{Source: o.Footage.(*source), Key: key}
		o.ExportDir = t.TempDir()
	})
	t0 := fh.t0
	spec := map[string]any{"specs": map[string]any{"cam-a": map[string]any{"style": "fill",
		"regions": []map[string]any{{"name": "행인", "from": 0, "to": 2, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}}}}}
	if code, body := fh.post("/copy", "mgr", spec); code != http.StatusConflict || body.Code != "requests.not_granted" {
		t.Fatalf("a copy before the decision: %d %s", code, body.Code)
	}
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]any{{"type": "existence", "outcome": "refused", "ground": "harm"},
		{"type": "view", "outcome": "partly", "ground": "third_party", "from": t0.Add(2 * time.Second).Format(time.RFC3339),
			"to": t0.Add(4 * time.Second).Format(time.RFC3339)}}})
	fh.reset()
	resp := fh.do("POST", "/api/requests/"+fh.rid+"/copy", "mgr", spec)
	zipBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("copy: %d %s", resp.StatusCode, zipBody)
	}
	v, err := export.Verify(bytes.NewReader(zipBody), int64(len(zipBody)), export.Trust{PublicKey: key.Public()})
	if err != nil || !v.OK() {
		t.Fatalf("the copy does not verify: %v %+v", err, v)
	}
	m := v.Manifest
	if m.Letter != fh.receipt || !m.From.Equal(t0.Add(2*time.Second)) || !m.To.Equal(t0.Add(4*time.Second)) ||
		len(m.Clips) != 1 || m.Clips[0].Masked == nil || m.Clips[0].Masked.Reviewer != "mgr" || m.Recipient != "정보주체 본인" {
		t.Fatalf("manifest %+v", m)
	}
	// The copy is the person's 열람 (사본 교부), not a 반출 (이용).
	if rows := fh.ledger(ledger.Export); len(rows) != 0 {
		t.Fatalf("a data subject's copy ledgered as 반출: %+v", rows)
	}
	rows := fh.ledger(ledger.SubjectCopy)
	if len(rows) != 1 || rows[0].Kind.Category() != ledger.CatView || rows[0].Ref != fh.receipt || rows[0].PurposeCategory != "정보주체 열람" || rows[0].Party != "정보주체 본인" ||
		!strings.Contains(rows[0].Object, "마스킹") {
		t.Fatalf("export rows %+v", rows)
	}
	if rows := fh.ledger(ledger.RequestDecided); len(rows) != 1 || !strings.HasPrefix(rows[0].Detail, "step=copy") ||
		rows[0].Ref != fh.receipt {
		t.Fatalf("copy rows %+v", rows)
	}
	if code, body := fh.post("/close", "mgr2", nil); code != 200 {
		t.Fatalf("close after the copy: %d %s", code, body.Code)
	}
}

// requestStills holds still 1 of cam-a inside the request's period and
// still 2 of cam-a after it.
type requestStills struct{ t0 time.Time }

func (f requestStills) get(id int64) (stills.Still, error) {
	switch id {
	case 1:
		return stills.Still{ID: 1, Camera: "cam-a", RecordedAt: f.t0.Add(3 * time.Second)}, nil
	case 2:
		return stills.Still{ID: 2, Camera: "cam-a", RecordedAt: f.t0.Add(9 * time.Second)}, nil
	}
	return stills.Still{}, errs.Errorf("fake", errs.NotExist, "no still")
}
func (f requestStills) List(context.Context, string, time.Time, time.Time) ([]stills.Still, error) {
	return nil, nil
}
func (f requestStills) Get(_ context.Context, id int64) (stills.Still, error) { return f.get(id) }
func (f requestStills) Image(_ context.Context, id int64) (stills.Still, []byte, error) {
	s, err := f.get(id)
	return s, []byte("\xff\xd8jpeg"), err
}

// TestRequestStillViewing: a still of a scheduled check is shown under a
// request's grant when its camera and time lie within the request, with
// the request's number on its row; a still after the period is refused.
func TestRequestStillViewing(t *testing.T) {
	fh := newFlowHarnessWith(t, func(o *Options) { o.Stills = requestStills{time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)} })
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	fh.post("/view-grant", "mgr2", nil)
	fh.reset()
	resp := fh.do("POST", "/api/requests/"+fh.rid+"/stills/1/views", "mgr", nil)
	v := decode[viewResponse](t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a still within: %d", resp.StatusCode)
	}
	if img := fh.do("GET", v.URL, "mgr", nil); img.StatusCode != 200 || img.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the still: %d", img.StatusCode)
	}
	if code, body := fh.post("/stills/2/views", "mgr", nil); code != 403 || body.Code != "requests.view_scope" {
		t.Fatalf("a still after the period: %d %s", code, body.Code)
	}
	rows := fh.ledger(ledger.Playback, ledger.AccessRefused)
	if len(rows) != 2 || rows[0].Kind != ledger.Playback || rows[0].Form != "현장 열람 (정보주체 열람)" || rows[0].Ref != fh.receipt ||
		rows[1].Kind != ledger.AccessRefused || rows[1].Ref != fh.receipt || !strings.HasPrefix(rows[1].Detail, "still refused") {
		t.Fatalf("rows %+v", rows)
	}
}
