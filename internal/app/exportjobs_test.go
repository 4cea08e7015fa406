package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// A restart leaves no package behind: whatever a crash left in
// <data>/exports (a job's temporary file, a made package waiting for its
// download) holds decrypted footage, and the next start removes it before
// the web server answers. Export jobs live in memory only, so none is
// left to point at it.
func TestRestartLeavesNoPackage(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	log := slog.New(slog.DiscardHandler)
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	dir := filepath.Join(cfg.DataDir, "exports")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{".export-4f2a.zip.123456.tmp", "export-4f2a.zip"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("decrypted footage"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a, err = Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if ents, err := os.ReadDir(dir); err == nil && len(ents) != 0 {
		t.Errorf("left after a restart: %v", ents)
	}
}
