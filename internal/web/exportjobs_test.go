package web

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/store"
)

// holdingSource is the test source whose reads stop after `after` frames
// until release closes.
type holdingSource struct {
	*source
	after   int
	release chan struct{}
	held    chan struct{}
	once    sync.Once
	mu      sync.Mutex
	reads   int
}

func (s *holdingSource) Open(ctx context.Context, id int64) (playback.SegmentData, error) {
	d, err := s.source.Open(ctx, id)
	if err != nil {
		return nil, err
	}
	return &holdingData{SegmentData: d, s: s}, nil
}

type holdingData struct {
	playback.SegmentData
	s *holdingSource
}

func (d *holdingData) ReadFrame(i int) ([]byte, error) {
	d.s.mu.Lock()
	d.s.reads++
	n := d.s.reads
	d.s.mu.Unlock()
	if n >= d.s.after {
		d.s.once.Do(func() { close(d.s.held) })
		<-d.s.release
	}
	return d.SegmentData.ReadFrame(i)
}

func (s *holdingSource) Brief(ctx context.Context, id int64) (*store.Brief, error) {
	return s.source.Brief(ctx, id)
}

func jsonOf[T any](t *testing.T, resp *http.Response) T {
	t.Helper()
	defer resp.Body.Close()
	var v T
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%d %s: %v", resp.StatusCode, b, err)
	}
	return v
}

// exportJobHarness is the harness with an exporter reading src, and
// "kim", a manager of site-a.
func exportJobHarness(t *testing.T, repeats int, hold int) (*harness, *holdingSource, *export.Key, string) {
	key := export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	dir := filepath.Join(t.TempDir(), "exports")
	var src *holdingSource
	h := newHarnessWith(t, repeats, func(o *Options) {
		src = &holdingSource{source: o.Footage.(*source), after: hold, release: make(chan struct{}), held: make(chan struct{})}
		if hold == 0 {
			close(src.release)
			src.after = 1 << 30
		}
		o.Exporter = &export.Exporter{Source: src, Key: key}
		o.ExportDir = dir
	})
	h.addUser(h.admin, "kim", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.reset()
	return h, src, key, dir
}

func (h *harness) exportBody() map[string]any {
	body := h.viewBody()
	body["purpose"], body["recipient"], body["letter"], body["reason"] = "provision", "구로경찰서", "수사-77", "절도 사건 수사"
	return body
}

// waitJob polls the job's status until cond holds (10 s at most).
func (h *harness) waitJob(id, user string, cond func(exportJobJSON) bool) exportJobJSON {
	h.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := jsonOf[exportJobJSON](h.t, h.do("GET", "/api/export-jobs/"+id, user, nil))
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("job %s: %+v after 10 s", id, st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// An export job from start to download: 202 with the job, its status up
// to done (100 %, bytes done = total), the package verifying against the
// installation's key with the 반출 row's seq; only its maker sees it;
// cancelling it afterwards discards the package (the directory is empty).
func TestExportJobRoutes(t *testing.T) {
	h, _, key, dir := exportJobHarness(t, 1, 0)
	resp := h.do("POST", "/api/cameras/cam-a/export-jobs", "kim", h.exportBody())
	if resp.StatusCode != http.StatusAccepted {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("start: %d %s", resp.StatusCode, b)
	}
	loc := resp.Header.Get("Location")
	st := jsonOf[exportJobJSON](t, resp)
	if st.ID == "" || loc != "/api/export-jobs/"+st.ID {
		t.Fatalf("job %+v at %q", st, loc)
	}
	done := h.waitJob(st.ID, "kim", func(s exportJobJSON) bool { return s.State != "running" })
	if done.State != "done" || done.Percent != 100 || done.Done != done.Total || done.Total == 0 ||
		done.Package != loc+"/package" || done.Left == nil || *done.Left != 0 || !strings.HasSuffix(done.File, ".zip") {
		t.Fatalf("done: %+v", done)
	}
	rows := h.ledger(ledger.Export)
	if len(rows) != 1 || rows[0].Seq != done.LedgerSeq {
		t.Fatalf("rows %+v, job %+v", rows, done)
	}

	// Someone else: as if there were no such job, for every route.
	for _, r := range []struct{ method, path string }{{"GET", loc}, {"GET", loc + "/package"}, {"POST", loc + "/cancel"}} {
		resp := h.do(r.method, r.path, "viewer", nil)
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s as another user: %d", r.method, r.path, resp.StatusCode)
		}
	}

	resp = h.do("GET", done.Package, "kim", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), done.File) {
		t.Fatalf("package: %d %v", resp.StatusCode, resp.Header)
	}
	v, err := export.Verify(bytes.NewReader(b), int64(len(b)), export.Trust{PublicKey: key.Public()})
	if err != nil || !v.OK() || v.Manifest.LedgerSeq != done.LedgerSeq || v.Manifest.RequestedBy != "kim" {
		t.Fatalf("%v %v", err, v)
	}

	// Cancel needs the CSRF token, as every state change does.
	req, _ := http.NewRequest("POST", h.ts.URL+loc+"/cancel", nil)
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["kim"].token})
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cancel without CSRF: %v %v", resp.StatusCode, err)
	}
	st = jsonOf[exportJobJSON](t, h.do("POST", loc+"/cancel", "kim", nil))
	if st.State != "discarded" {
		t.Errorf("cancel after done: %+v", st)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the export directory: %v", ents)
	}
	resp = h.do("GET", done.Package, "kim", nil)
	e := jsonOf[ErrorBody](t, resp)
	if resp.StatusCode != http.StatusNotFound || e.Code != "export.job.gone" {
		t.Errorf("package after discard: %d %+v", resp.StatusCode, e)
	}
	if n := len(h.ledger(ledger.Export)); n != 1 {
		t.Errorf("%d export rows: discarding a made package is not a cancelled export", n)
	}
}

// Cancelling a running job over HTTP: its status was part of the way
// with bytes and a time left; after the cancel nothing is left in the
// export directory, the job says cancelled with no package, and the
// ledger has a second 반출 row "cancelled; export=SEQ".
func TestExportJobCancelRoute(t *testing.T) {
	h, src, _, dir := exportJobHarness(t, 1, 100) // of the 200 frames of 8 s
	st := jsonOf[exportJobJSON](t, h.do("POST", "/api/cameras/cam-a/export-jobs", "kim", h.exportBody()))
	select {
	case <-src.held:
	case <-time.After(10 * time.Second):
		t.Fatalf("the export did not read 100 frames: %+v", st)
	}
	mid := h.waitJob(st.ID, "kim", func(s exportJobJSON) bool { return s.Total > 0 })
	if mid.State != "running" || mid.Percent >= 99 || mid.Total <= mid.Done || mid.Package != "" {
		t.Errorf("midway: %+v", mid)
	}
	resp := h.do("GET", "/api/export-jobs/"+st.ID+"/package", "kim", nil)
	if e := jsonOf[ErrorBody](t, resp); resp.StatusCode != http.StatusConflict || e.Code != "export.job.running" {
		t.Errorf("package while running: %d %+v", resp.StatusCode, e)
	}
	defer func(d time.Duration) { exportCancelWait = d }(exportCancelWait)
	exportCancelWait = 0 // answer before the held read goes on
	st = jsonOf[exportJobJSON](t, h.do("POST", "/api/export-jobs/"+st.ID+"/cancel", "kim", nil))
	if st.State != "running" || !st.Cancelling {
		t.Errorf("cancel's answer while the read is held: %+v", st)
	}
	close(src.release)
	st = h.waitJob(st.ID, "kim", func(s exportJobJSON) bool { return s.State != "running" })
	if st.State != "cancelled" || st.Package != "" || st.Cancelling {
		t.Fatalf("after cancel: %+v", st)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the export directory: %v", ents)
	}
	rows := h.ledger(ledger.Export)
	if len(rows) != 2 || rows[1].Detail != fmt.Sprintf("cancelled; export=%d", rows[0].Seq) || rows[1].Actor != "kim" {
		t.Errorf("export rows %+v", rows)
	}
}

// The gate is passed before the answer: a job the gate refuses (an
// unknown purpose) is this request's error with the catalogue's code, the
// refusal ledgered and no 반출 row written; a range without footage is
// refused (by the index or the gate) with no row at all.
func TestExportJobRefusedAtTheGate(t *testing.T) {
	h, _, _, _ := exportJobHarness(t, 1, 0)
	body := h.exportBody()
	body["purpose"] = "no-such-purpose"
	resp := h.do("POST", "/api/cameras/cam-a/export-jobs", "kim", body)
	if e := jsonOf[ErrorBody](t, resp); resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(string(e.Code), "purpose.") {
		t.Errorf("job with a bad purpose: %d %+v", resp.StatusCode, e)
	}
	if len(h.ledger(ledger.Export)) != 0 || len(h.ledger(ledger.AccessRefused)) != 1 {
		t.Errorf("rows %+v", h.ledger())
	}
	body = h.exportBody()
	body["start"], body["end"] = h.t0.Add(-time.Hour), h.t0.Add(-time.Minute)
	resp = h.do("POST", "/api/cameras/cam-a/export-jobs", "kim", body)
	if e := jsonOf[ErrorBody](t, resp); resp.StatusCode != http.StatusNotFound || (e.Code != "export.none" && e.Code != "footage.none") {
		t.Errorf("job of a range without footage: %d %+v", resp.StatusCode, e)
	}
	if n := len(h.ledger()); n != 1 {
		t.Errorf("%d rows after a refusal and a range without footage", n)
	}
}
