package web

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
)

// withZones puts testZone on cam-a of a harness's cameras, with ffmpeg at
// ff ("" none).
func withZones(ff string) func(*Options) {
	return func(o *Options) {
		o.Cameras, o.Transcode = &zoneCams{liveCameras: o.Cameras.(*liveCameras), zones: testZone}, ff
	}
}

// requestView decides and grants the flow harness's request, then asks
// for an on-site view of cam-a by mgr (a 관리책임자, who sees the zones
// unmasked in an ordinary playback).
func (fh *flowHarness) requestView(t *testing.T) *http.Response {
	t.Helper()
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	if code, body := fh.post("/view-grant", "mgr2", map[string]int{"minutes": 30}); code != 200 {
		t.Fatalf("grant: %d %s", code, body.Code)
	}
	fh.reset()
	return fh.do("POST", "/api/requests/"+fh.rid+"/views", "mgr",
		map[string]any{"camera": "cam-a", "start": fh.t0, "end": fh.t0.Add(2 * time.Second)})
}

// The data subject watches an on-site 열람: the camera's privacy zones are
// masked though a 관리책임자 shows it, the row says so; without ffmpeg the
// view is refused before any row (decision 54).
func TestRequestViewMasksZonesForTheDataSubject(t *testing.T) {
	ff := needFFmpeg(t)
	fh := newFlowHarnessWith(t, withZones(ff))
	resp := fh.requestView(t)
	v := decode[viewResponse](t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("view: %d", resp.StatusCode)
	}
	rows := fh.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Role != "관리책임자" || rows[0].Ref != fh.receipt ||
		rows[0].Form != "현장 열람 (정보주체 열람) · 마스킹" {
		t.Fatalf("rows %+v", rows)
	}
	resp = fh.do("GET", v.URL, "mgr", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Gwanje-Form") != "masked" {
		t.Fatalf("the view: %d, form %q", resp.StatusCode, resp.Header.Get("X-Gwanje-Form"))
	}
	mf := grey(t, body)
	if len(mf) == 0 {
		t.Fatal("no frames")
	}
	for i := range mf {
		if m, v := boxStats(mf[i], zoneInside); m > 40 || v > 20 {
			t.Errorf("frame %d: inside the zone mean %.0f, variance %.0f: not masked", i, m, v)
		}
	}

	fh = newFlowHarnessWith(t, withZones(""))
	resp = fh.requestView(t)
	if resp.StatusCode != http.StatusServiceUnavailable || string(errBody(t, resp).Code) != "zones.ffmpeg" {
		t.Fatalf("without ffmpeg: %d", resp.StatusCode)
	}
	if rows := fh.ledger(ledger.Playback); len(rows) != 0 {
		t.Fatalf("a refused view was ledgered: %+v", rows)
	}
}

// A third party watches a provision's 현장 열람: the zones are masked
// though a 관리책임자 produces it; without ffmpeg it is refused before the
// provision's row.
func TestProvisionViewingMasksZones(t *testing.T) {
	ff := needFFmpeg(t)
	produce := func(ff string) (*harness, *http.Response) {
		h, _, _ := provisionHarnessWith(t, withZones(ff))
		x := readJSON[provisionJSON](t, h.do("POST", "/api/provisions", "kim", h.provisionBody("viewing")), http.StatusCreated)
		p := "/api/provisions/" + strconv.FormatInt(x.ID, 10)
		readJSON[provisionJSON](t, h.do("POST", p+"/approve", "lee", nil), 200)
		return h, h.do("POST", p+"/produce", "lee", nil)
	}
	h, resp := produce(ff)
	out := readJSON[producedJSON](t, resp, 200)
	if len(out.Views) != 1 {
		t.Fatalf("produced %+v", out)
	}
	resp = h.do("GET", out.Views[0].URL, "lee", nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Gwanje-Form") != "masked" {
		t.Fatalf("the viewing: %d, form %q", resp.StatusCode, resp.Header.Get("X-Gwanje-Form"))
	}
	for i, f := range grey(t, body) {
		if m, v := boxStats(f, zoneInside); m > 40 || v > 20 {
			t.Errorf("frame %d: inside the zone mean %.0f, variance %.0f: not masked", i, m, v)
		}
	}

	h, resp = produce("")
	if st, code := apiCode(t, resp); st != http.StatusServiceUnavailable || code != "zones.ffmpeg" {
		t.Fatalf("without ffmpeg: %d %s", st, code)
	}
	if rows := h.ledger(ledger.Provision); len(rows) != 0 {
		t.Fatalf("a refused viewing was ledgered: %+v", rows)
	}
}
