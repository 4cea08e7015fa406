package web

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/i18n"
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
