package web

import (
	"encoding/json"
	"html"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/mask"
)

// The masking editor is offered once the 열람 is granted, to who handles
// the request's site only; it lists the viewing's cameras with their
// privacy zones (always masked, so shown to the reviewer) and offers the
// footage only through the viewing grant's playback.
func TestMaskEditorPage(t *testing.T) {
	// Without export set up, the editor says so rather than offering a
	// form whose submission would fail.
	plain := newFlowHarness(t)
	plain.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	if _, body := getPage(t, plain.harness, "/maskui?id="+plain.rid, "mgr", i18n.Ko); !strings.Contains(body, `id="maskui-unavailable"`) {
		t.Fatal("no export set up, and the editor does not say so")
	}

	zc := &zoneCams{zones: testZone}
	fh := newFlowHarnessWith(t, func(o *Options) {
		zc.liveCameras = o.Cameras.(*liveCameras)
		o.Cameras = zc
		o.Exporter = &export.Exporter{Source: o.Footage.(*source)}
		o.ExportDir = t.TempDir()
	})
	page := "/maskui?id=" + fh.rid
	code, body := getPage(t, fh.harness, page, "mgr", i18n.Ko)
	if code != 200 || !strings.Contains(body, `id="maskui-not-granted"`) || strings.Contains(body, `id="maskui-form"`) {
		t.Fatalf("before the decision: %d, form %v", code, strings.Contains(body, `id="maskui-form"`))
	}
	if _, body := getPage(t, fh.harness, "/requests-view?id="+fh.rid, "mgr", i18n.Ko); strings.Contains(body, `id="maskui-link"`) {
		t.Fatal("the detail page offers a masked copy before the viewing is granted")
	}
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	if _, body := getPage(t, fh.harness, "/requests-view?id="+fh.rid, "mgr", i18n.Ko); !strings.Contains(body, `href="/maskui?id=`+fh.rid+`"`) {
		t.Fatal("the detail page has no link to the masking editor once the viewing is granted")
	}
	code, body = getPage(t, fh.harness, page, "mgr", i18n.Ko)
	if code != 200 || !strings.Contains(body, `id="maskui-form"`) || !strings.Contains(body, `data-camera="cam-a"`) ||
		!strings.Contains(body, `id="maskui-no-viewing"`) || strings.Contains(body, `class="mask-load"`) {
		t.Fatalf("granted, no viewing running: %d", code)
	}
	// The zones travel to the script as JSON in relative points.
	if z := html.UnescapeString(body); !strings.Contains(z, `[{"name":"옆집 창문","points":[[0.5,0.1],`) {
		t.Errorf("cam-a's privacy zone is not in the page")
	}
	fh.post("/view-grant", "mgr2", map[string]int{"minutes": 30})
	if _, body = getPage(t, fh.harness, page, "mgr", i18n.En); !strings.Contains(body, `class="mask-load"`) ||
		!strings.Contains(body, "Masked copy editor") {
		t.Fatal("with the viewing granted, the footage cannot be loaded")
	}
	// Another site's manager: not found.
	if code, body := getPage(t, fh.harness, page, "mgrb", i18n.Ko); code != http.StatusNotFound || strings.Contains(body, "maskui-form") {
		t.Errorf("as another site's manager: %d", code)
	}
}

// Face proposals read the request's footage like its viewing does:
// refused without a running viewing grant and outside the viewing's
// cameras (no footage read); with it, the 관리대장 row
// with the request's number and what for comes first, and the answer is
// regions for the editor, nothing of the picture.
func TestMaskEditorFaceProposals(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg is required in CI")
		}
		t.Skip("ffmpeg not installed")
	}
	fh := newFlowHarness(t)
	faces := func(camera string) (int, string) {
		resp := fh.do("POST", "/api/requests/"+fh.rid+"/faces", "mgr", map[string]string{"camera": camera})
		return resp.StatusCode, readAll(t, resp)
	}
	if code, body := faces("cam-a"); code < 400 {
		t.Fatalf("proposals before the decision: %d %s", code, body)
	}
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	if code, body := faces("cam-a"); code < 400 {
		t.Fatalf("proposals without a viewing grant: %d %s", code, body)
	}
	fh.post("/view-grant", "mgr2", map[string]int{"minutes": 30})
	if code, body := faces("cam-b"); code < 400 {
		t.Fatalf("proposals on a camera outside the request: %d %s", code, body)
	}
	if rows := fh.ledger(ledger.Playback); len(rows) != 0 {
		t.Fatalf("footage read for a refused proposal: %+v", rows)
	}
	code, body := faces("cam-a")
	if code != 200 {
		t.Fatalf("proposals: %d %s", code, body)
	}
	var ans struct {
		Regions   []mask.Region `json:"regions"`
		LedgerSeq uint64        `json:"ledger_seq"`
	}
	if err := json.Unmarshal([]byte(body), &ans); err != nil || ans.Regions == nil {
		t.Fatalf("answer %s: %v", body, err)
	}
	rows := fh.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Ref != fh.receipt || !strings.Contains(rows[0].Object, "얼굴 후보 탐지") || rows[0].Seq != ans.LedgerSeq {
		t.Fatalf("the proposals' rows: %+v (answer's seq %d)", rows, ans.LedgerSeq)
	}
	// What comes back is a spec's regions: the copy accepts them as they are.
	if len(ans.Regions) > 0 {
		b, _ := json.Marshal(map[string]any{"regions": ans.Regions})
		if _, err := mask.Parse(b); err != nil {
			t.Errorf("a proposal is not a valid region: %v", err)
		}
	}
}
