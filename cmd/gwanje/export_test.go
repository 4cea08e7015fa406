package main

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

type grantedExport struct{}

func (grantedExport) Seq() uint64              { return 7 }
func (grantedExport) Context() context.Context { return context.Background() }
func (grantedExport) Close()                   {}

// exportPackage writes a package of synthetic footage and returns its path
// and the signing key.
func exportPackage(t *testing.T) (string, *export.Key) {
	t.Helper()
	dir := t.TempDir()
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenFixture(context.Background(), store.Config{Dir: dir, Keys: keys, SegmentDuration: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if err := storetest.Footage(st, "cam-1", media.Time90k(start), 10*time.Second, 3); err != nil {
		t.Fatal(err)
	}
	_, priv, _ := ed25519.GenerateKey(rand.Reader)
	key := export.NewKey(priv)
	x := &export.Exporter{Source: export.StoreSource{Store: st}, Key: key}
	path := filepath.Join(dir, "evidence.zip")
	gate := func(context.Context, access.FootageRequest) (export.Access, error) { return grantedExport{}, nil }
	_, err = x.Export(context.Background(), gate, export.Request{
		Cameras: []access.Camera{{ID: "cam-1", Site: "main"}}, From: start, To: start.Add(30 * time.Second),
		Recipient: "경찰서", Purpose: access.Purpose{Code: "provision", Reason: "수사"}, RequestedBy: "kim"}, path)
	if err != nil {
		t.Fatal(err)
	}
	return path, key
}

func TestExportVerifyCommand(t *testing.T) {
	path, key := exportPackage(t)
	pubFile := filepath.Join(t.TempDir(), "institution.pub")
	os.WriteFile(pubFile, export.PublicKeyText(key.Public()), 0o644)
	fp := seal.Fingerprint(key.Public())

	runIt := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append([]string{"export", "verify"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	for _, args := range [][]string{{path}, {"-pubkey", pubFile, path}, {"-fingerprint", fp, path}} {
		code, out := runIt(args...)
		if code != 0 || !strings.Contains(out, ": OK: 1 clips") || !strings.Contains(out, fp) {
			t.Fatalf("%v: exit %d\n%s", args, code, out)
		}
		if trusted := len(args) > 1; trusted != strings.Contains(out, "the trusted key") {
			t.Errorf("%v: trust not reported right:\n%s", args, out)
		}
	}

	// A flipped byte in the clip: named, exit 1.
	b, _ := os.ReadFile(path)
	zr, _ := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	var clip string
	for _, f := range zr.File {
		if strings.HasPrefix(f.Name, "clips/") {
			off, _ := f.DataOffset()
			b[off+int64(f.UncompressedSize64)-10] ^= 0x80
			clip = f.Name
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.zip")
	os.WriteFile(bad, b, 0o600)
	code, out := runIt("-fingerprint", fp, bad)
	if code != 1 || !strings.Contains(out, "FAIL: "+clip) {
		t.Errorf("flipped byte: exit %d\n%s", code, out)
	}

	// Another institution's fingerprint: named, exit 1.
	code, out = runIt("-fingerprint", strings.Repeat("ab", 32), path)
	if code != 1 || !strings.Contains(out, "not by the trusted fingerprint") {
		t.Errorf("other key: exit %d\n%s", code, out)
	}
	// Bad flags are usage errors.
	if code, _ := runIt("-fingerprint", "xyz", path); code != 2 {
		t.Errorf("bad fingerprint: exit %d", code)
	}
}

// export key prints the fingerprint that verify -fingerprint accepts and
// writes the public-key file that verify -pubkey reads.
func TestExportKeyCommand(t *testing.T) {
	data := t.TempDir()
	pub := filepath.Join(t.TempDir(), "export.pub")
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"export", "key", "-data", data, "-o", pub}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	k, err := export.LoadOrCreateKey(export.DefaultKeyPath(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "fingerprint "+seal.Fingerprint(k.Public())) {
		t.Errorf("output:\n%s", out.String())
	}
	b, _ := os.ReadFile(pub)
	if p, err := export.ParsePublicKey(pub, b); err != nil || !p.Equal(k.Public()) {
		t.Errorf("public key file: %v", err)
	}
	// Run again: the same key, not a new one.
	out.Reset()
	run(context.Background(), []string{"export", "key", "-data", data}, &out, &errb)
	if !strings.Contains(out.String(), k.ID) {
		t.Errorf("a second run changed the key:\n%s", out.String())
	}
}
