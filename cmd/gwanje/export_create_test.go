package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/export"
)

// `gwanje export create` through the real command path against a running
// server (the demo): it logs in with the password from a file, starts a
// job, prints its progress as plain lines (no terminal here) up to 100 %,
// writes a package that verifies and names the 반출 row the server's gate
// wrote for this user, and logs out. The password is not in the output; a
// second run refuses to overwrite the package.
func TestExportCreateCommand(t *testing.T) {
	c := startDemo(t, 1)
	cams := c.waitRecorded(1, 3*time.Second, 90*time.Second)
	cam := cams[0]
	dir := t.TempDir()
	pf := filepath.Join(dir, "password")
	const pw = "demo-Passw0rd-changed"
	os.WriteFile(pf, []byte(pw+"\n"), 0o600)
	out := filepath.Join(dir, "evidence.zip")
	args := []string{"export", "create", "-server", c.base, "-user", "manager", "-password-file", pf,
		"-camera", cam.ID, "-from", cam.Oldest.Format(time.RFC3339Nano), "-to", cam.Newest.Format(time.RFC3339Nano),
		"-purpose", "incident", "-reason", "주차장 접촉 사고 확인", "-recipient", "구로경찰서 교통과", "-letter", "교통-2026-12",
		"-o", out}
	o, code := runGwanje(t, nil, args...)
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, o)
	}
	for _, w := range []string{"export job ", "export running:", "export done: 100%", out + ": 1 clips, ledger row "} {
		if !strings.Contains(o, w) {
			t.Errorf("output lacks %q:\n%s", w, o)
		}
	}
	if strings.Contains(o, pw) {
		t.Error("the password is in the output")
	}
	v, err := export.VerifyFile(out, export.Trust{})
	if err != nil || !v.OK() {
		t.Fatalf("%v %v", err, v)
	}
	resp, b := c.do("GET", "/api/ledger?kind=export", nil)
	var page struct {
		Entries []struct {
			Seq    uint64 `json:"seq"`
			Actor  string `json:"actor"`
			Party  string `json:"party"`
			Detail string `json:"detail"`
		} `json:"entries"`
	}
	json.Unmarshal(b, &page)
	found := false
	for _, e := range page.Entries {
		found = found || e.Seq == v.Manifest.LedgerSeq && e.Actor == "manager" && e.Party == "구로경찰서 교통과"
	}
	if resp.StatusCode != 200 || !found || v.Manifest.RequestedBy != "manager" {
		t.Errorf("ledger %d %s; manifest seq %d by %q", resp.StatusCode, b, v.Manifest.LedgerSeq, v.Manifest.RequestedBy)
	}

	o, code = runGwanje(t, nil, args...)
	if code != 1 || !strings.Contains(o, "already exists") {
		t.Errorf("second run onto the same file: exit %d\n%s", code, o)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Errorf("directory holds %v", ents)
	}
}

// Without a server the command says so and how to point it at one; without
// a terminal or -password-file it asks for the file; a -password flag does
// not exist (a password on the command line is visible to every user).
func TestExportCreateWithoutServerOrPassword(t *testing.T) {
	dir := t.TempDir()
	pf := filepath.Join(dir, "password")
	os.WriteFile(pf, []byte("x\n"), 0o600)
	base := []string{"export", "create", "-user", "kim", "-camera", "cam-1", "-from", "2026-05-01T09:00", "-to", "2026-05-01T09:10",
		"-purpose", "incident", "-reason", "확인", "-server", "http://127.0.0.1:1"}
	for _, c := range []struct {
		name  string
		extra []string
		code  int
		want  string
	}{
		{"no server", []string{"-password-file", pf}, 1, "no gwanje server answers at http://127.0.0.1:1"},
		{"no terminal", nil, 2, "-password-file"},
		{"password flag", []string{"-password", "x"}, 2, "flag provided but not defined: -password"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o, code := runGwanje(t, nil, append(append([]string{}, base...), c.extra...)...)
			if code != c.code || !strings.Contains(o, c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, c.code, c.want, o)
			}
		})
	}
}

// Interrupting `export create` (Ctrl-C ends its context) cancels the job
// on the server with the session's CSRF token and waits while the server
// says it is still cancelling, then reports that no package was made.
func TestExportCreateCancelsTheJobOnInterrupt(t *testing.T) {
	var cancelled, csrfOK atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "GET" && r.URL.Path == "/api/export-jobs/j1":
			st := map[string]any{"id": "j1", "state": "running", "percent": 40, "done_bytes": 4, "total_bytes": 10, "left_seconds": 3}
			if cancelled.Load() {
				st = map[string]any{"id": "j1", "state": "cancelled", "percent": 40}
			}
			json.NewEncoder(w).Encode(st)
		case r.Method == "POST" && r.URL.Path == "/api/export-jobs/j1/cancel":
			csrfOK.Store(r.Header.Get("X-CSRF-Token") == "tok")
			cancelled.Store(true)
			json.NewEncoder(w).Encode(map[string]any{"id": "j1", "state": "running", "cancelling": true})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := &apiClient{base: srv.URL, hc: srv.Client(), csrf: "tok"}
	ctx, interrupt := context.WithCancel(context.Background())
	// Ctrl-C once the 40 % line is out.
	out := &lineWatch{want: "40%", seen: make(chan struct{})}
	go func() {
		<-out.seen
		interrupt()
	}()
	_, err := watchJob(ctx, c, jobStatus{ID: "j1", State: "running"}, out)
	if err == nil || !strings.Contains(err.Error(), "cancelled (cancelled)") || !strings.Contains(err.Error(), "no package is left") {
		t.Errorf("error %v", err)
	}
	if !cancelled.Load() || !csrfOK.Load() {
		t.Errorf("cancel sent %v, with the CSRF token %v", cancelled.Load(), csrfOK.Load())
	}
	if o := out.String(); !strings.Contains(o, "export running:  40% (4 of 10 bytes), about 3s left") || !strings.Contains(o, "cancelling the export") {
		t.Errorf("progress lines:\n%s", o)
	}
}

// lineWatch is an output that closes seen once want has been written.
type lineWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *lineWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *lineWatch) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
