package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/retention"
)

// fakeHolds records the holds a provision places and releases.
type fakeHolds struct{ placed, released []string }

func (f *fakeHolds) Add(_ context.Context, x retention.Hold) (retention.Hold, error) {
	f.placed = append(f.placed, x.Ref)
	return x, nil
}

func (f *fakeHolds) ReleaseOwned(_ context.Context, _ retention.Owner, ref, _ string) (int, error) {
	f.released = append(f.released, ref)
	return 1, nil
}

// provisionHarness is the harness with the provision routes: kim and lee
// are managers of site-a, kim-b of site-b.
func provisionHarness(t *testing.T) (*harness, *export.Key, *fakeHolds) {
	t.Helper()
	return provisionHarnessWith(t, nil)
}

// provisionHarnessWith is provisionHarness with pre run on the options
// first (cameras with privacy zones, no ffmpeg...).
func provisionHarnessWith(t *testing.T, pre func(*Options)) (*harness, *export.Key, *fakeHolds) {
	t.Helper()
	key := export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32)))
	holds := &fakeHolds{}
	h := newHarnessWith(t, 1, func(o *Options) {
		if pre != nil {
			pre(o)
		}
		st, err := provision.OpenSQLite(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cams := o.Cameras
		o.Provisions = provision.New(provision.Config{Store: st, Access: o.Accounts, Gate: o.Gate, Holds: holds,
			Camera:   func(id string) (string, bool) { c, ok := cams.Camera(id); return c.Site, ok },
			Exporter: &export.Exporter{Source: o.Footage.(*source), Key: key, Now: o.Clock.Now},
			Dir:      filepath.Join(t.TempDir(), "provisions"), Clock: o.Clock, Logger: discardLogger()})
	})
	h.addUser(h.admin, "kim", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.addUser(h.admin, "lee", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.addUser(h.admin, "kim-b", access.Grant{Role: access.Manager, Sites: []string{"site-b"}})
	h.reset()
	return h, key, holds
}

func (h *harness) provisionBody(form string) map[string]any {
	return map[string]any{"kind": "provide", "recipient": "구로경찰서 형사과", "letter": "형사과-2026-118",
		"purpose": "폭행 사건 수사", "basis": 7, "form": form, "period": "수사 종결 시까지", "cameras": []string{"cam-a"},
		"from": h.t0, "to": h.t0.Add(8 * time.Second)}
}

func readJSON[T any](t *testing.T, resp *http.Response, want int) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", resp.StatusCode, want, b)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return v
}

func apiCode(t *testing.T, resp *http.Response) (int, string) {
	t.Helper()
	defer resp.Body.Close()
	var e struct{ Code string }
	json.NewDecoder(resp.Body).Decode(&e)
	return resp.StatusCode, e.Code
}

// The routes carry the whole workflow: request (hold placed), one's own
// approval refused, a second manager approves, the requester produces, the
// package downloads and verifies, with the 제공 row the gate wrote naming
// the letter. Without a session nothing answers; a manager of another
// site does not see it.
func TestProvisionRoutes(t *testing.T) {
	h, key, holds := provisionHarness(t)
	if resp := h.do("GET", "/api/provisions", "", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("list without a session: %d", resp.StatusCode)
	}
	bad := h.provisionBody("copy")
	delete(bad, "basis")
	if st, code := apiCode(t, h.do("POST", "/api/provisions", "kim", bad)); st != 400 || code != "provision.basis" {
		t.Errorf("request without a legal basis: %d %s", st, code)
	}
	x := readJSON[provisionJSON](t, h.do("POST", "/api/provisions", "kim", h.provisionBody("copy")), http.StatusCreated)
	if x.State != "requested" || x.RequestedBy != "kim" || x.MayApprove || len(holds.placed) != 1 {
		t.Fatalf("created %+v, holds %v", x, holds.placed)
	}
	p := "/api/provisions/" + strconv.FormatInt(x.ID, 10)
	if st, code := apiCode(t, h.do("POST", p+"/approve", "kim", nil)); st != 403 || code != "provision.self" {
		t.Errorf("own approval: %d %s", st, code)
	}
	if st, _ := apiCode(t, h.do("GET", p, "kim-b", nil)); st != 404 {
		t.Errorf("another site's manager reads it: %d", st)
	}
	if l := readJSON[[]provisionJSON](t, h.do("GET", "/api/provisions", "kim-b", nil), 200); len(l) != 0 {
		t.Errorf("another site's manager lists %+v", l)
	}
	if l := readJSON[[]provisionJSON](t, h.do("GET", "/api/provisions", "lee", nil), 200); len(l) != 1 || !l[0].MayApprove {
		t.Errorf("lee lists %+v", l)
	}
	if st, code := apiCode(t, h.do("POST", p+"/produce", "kim", nil)); st != 409 || code != "provision.state" {
		t.Errorf("produce before approval: %d %s", st, code)
	}
	x = readJSON[provisionJSON](t, h.do("POST", p+"/approve", "lee", nil), 200)
	if x.State != "approved" || x.ApprovedBy != "lee" {
		t.Fatalf("approved %+v", x)
	}
	out := readJSON[producedJSON](t, h.do("POST", p+"/produce", "kim", nil), 200)
	if out.Download != p+"/package" || out.Provision.State != "produced" {
		t.Fatalf("produced %+v", out)
	}
	resp := h.do("GET", out.Download, "lee", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("download: %d %s", resp.StatusCode, b)
	}
	v, err := export.Verify(bytes.NewReader(b), int64(len(b)), export.Trust{PublicKey: key.Public()})
	if err != nil || !v.OK() || v.Manifest.ApprovedBy != "lee" || v.Manifest.RequestedBy != "kim" {
		t.Fatalf("verify: %v %+v", err, v)
	}
	rows := h.ledger(ledger.Provision, ledger.Export, ledger.Use)
	if len(rows) != 1 || rows[0].Kind != ledger.Provision || rows[0].Ref != "형사과-2026-118" || rows[0].Seq != out.LedgerSeq ||
		rows[0].Form != "사본 제공" || rows[0].Party != "구로경찰서 형사과" {
		t.Errorf("ledger rows %+v", rows)
	}
	if st, _ := apiCode(t, h.do("GET", out.Download, "kim-b", nil)); st != 404 {
		t.Errorf("another site's manager downloads: %d", st)
	}
	if st, _ := apiCode(t, h.do("GET", out.Download, "viewer", nil)); st != 404 {
		t.Errorf("a viewer downloads: %d", st)
	}
}

// An on-site viewing is produced as view URLs bound to the producer's
// session, one per camera, behind one 제공 row written before any byte.
func TestProvisionViewing(t *testing.T) {
	h, _, holds := provisionHarness(t)
	x := readJSON[provisionJSON](t, h.do("POST", "/api/provisions", "kim", h.provisionBody("viewing")), http.StatusCreated)
	p := "/api/provisions/" + strconv.FormatInt(x.ID, 10)
	readJSON[provisionJSON](t, h.do("POST", p+"/approve", "lee", nil), 200)
	out := readJSON[producedJSON](t, h.do("POST", p+"/produce", "lee", nil), 200)
	if len(out.Views) != 1 || out.Download != "" || out.Expires.IsZero() {
		t.Fatalf("produced %+v", out)
	}
	rows := h.ledger(ledger.Provision, ledger.Playback)
	if len(rows) != 1 || rows[0].Kind != ledger.Provision || rows[0].Form != "현장 열람" || rows[0].Actor != "lee" {
		t.Fatalf("rows %+v", rows)
	}
	if resp := h.do("GET", out.Views[0].URL, "kim", nil); resp.StatusCode == 200 {
		resp.Body.Close()
		t.Error("another session opens the viewing")
	}
	resp := h.do("GET", out.Views[0].URL, "lee", nil)
	n, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || n == 0 {
		t.Errorf("viewing: %d, %d bytes", resp.StatusCode, n)
	}
	if st, code := apiCode(t, h.do("GET", p+"/package", "lee", nil)); st != 409 || code != "provision.state" {
		t.Errorf("package of a viewing: %d %s", st, code)
	}
	// Refusing and cancelling release the hold; a cancel needs a reason.
	y := readJSON[provisionJSON](t, h.do("POST", "/api/provisions", "kim", h.provisionBody("copy")), http.StatusCreated)
	q := "/api/provisions/" + strconv.FormatInt(y.ID, 10)
	if st, code := apiCode(t, h.do("POST", q+"/cancel", "kim", map[string]string{"reason": ""})); st != 400 || code != "provision.required" {
		t.Errorf("cancel without a reason: %d %s", st, code)
	}
	y = readJSON[provisionJSON](t, h.do("POST", q+"/cancel", "kim", map[string]string{"reason": "공문 철회"}), 200)
	if y.State != "cancelled" || len(holds.released) != 1 {
		t.Errorf("cancelled %+v, released %v", y, holds.released)
	}
}

// The provisions page shows a request with the approve button to another
// manager only, the Act's wording of its basis, and the home page counts
// it as waiting for that manager's approval.
func TestProvisionsPage(t *testing.T) {
	h, _, _ := provisionHarness(t)
	readJSON[provisionJSON](t, h.do("POST", "/api/provisions", "kim", h.provisionBody("copy")), http.StatusCreated)
	page := func(path, user string) string {
		t.Helper()
		resp := h.do("GET", path, user, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s for %s: %d", path, user, resp.StatusCode)
		}
		return string(b)
	}
	lee, kim := page("/provisions", "lee"), page("/provisions", "kim")
	for _, want := range []string{`class="approve primary"`, "범죄의 수사와 공소의 제기 및 유지를 위하여 필요한 경우", "형사과-2026-118",
		`id="prov-form"`, `value="7"`, "⟦"} {
		if got := strings.Contains(lee, want); got != (want != "⟦") {
			t.Errorf("lee's page: contains %q = %v", want, got)
		}
	}
	if strings.Contains(kim, `class="approve primary"`) || !strings.Contains(kim, `class="cancel"`) {
		t.Error("kim's page offers to approve kim's own request, or not to cancel it")
	}
	if home := page("/", "lee"); !strings.Contains(home, "1건 승인 대기") || !strings.Contains(home, `data-provision="1"`) {
		t.Error("lee's home page does not show the provision waiting for approval")
	}
	if home := page("/", "kim"); strings.Contains(home, "승인 대기</span>") {
		t.Error("kim's home page counts kim's own request as waiting for kim")
	}
	if resp := h.do("GET", "/provisions", "viewer", nil); resp.StatusCode == 200 {
		resp.Body.Close()
		t.Error("a viewer without export reaches the provisions page")
	}
}
