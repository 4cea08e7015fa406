package web

import (
	"bytes"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
)

// POST /api/cameras/{id}/exports answers with a package that verifies
// against the installation's key, names the 반출 row the gate wrote, and
// leaves no decrypted footage in the export directory. A camera of
// another site named in the body is refused by the gate, with no package.
func TestExportRoute(t *testing.T) {
	key := export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	dir := filepath.Join(t.TempDir(), "exports")
	h := newHarnessWith(t, 1, func(o *Options) {
		o.Exporter = &export.Exporter{Source: o.Footage.(*source), Key: key}
		o.ExportDir = dir
	})
	h.addUser(h.admin, "kim", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.reset()
	body := h.viewBody()
	body["purpose"], body["recipient"], body["letter"] = "provision", "구로경찰서", "수사-77"
	resp := h.do("POST", "/api/cameras/cam-a/exports", "kim", body)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}
	v, err := export.Verify(bytes.NewReader(b), int64(len(b)), export.Trust{PublicKey: key.Public()})
	if err != nil || !v.OK() {
		t.Fatalf("%v %v", err, v.Problems)
	}
	rows := h.ledger(ledger.Export)
	if len(rows) != 1 || strconv.FormatUint(rows[0].Seq, 10) != resp.Header.Get("X-Gwanje-Ledger-Seq") ||
		rows[0].Seq != v.Manifest.LedgerSeq || rows[0].Party != "구로경찰서" || v.Manifest.RequestedBy != "kim" {
		t.Errorf("rows %+v, header %q, manifest seq %d", rows, resp.Header.Get("X-Gwanje-Ledger-Seq"), v.Manifest.LedgerSeq)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left in the export directory: %v", ents)
	}

	body["cameras"] = []string{"cam-b"}
	resp = h.do("POST", "/api/cameras/cam-a/exports", "kim", body)
	resp.Body.Close()
	if resp.StatusCode != 403 && resp.StatusCode != 404 {
		t.Errorf("export including another site's camera: %d", resp.StatusCode)
	}
	if len(h.ledger(ledger.Export)) != 1 {
		t.Error("a second export row was written")
	}
}
