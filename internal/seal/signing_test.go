package seal

import (
	"crypto/ed25519"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestSigningKeyFile(t *testing.T) {
	const header = "gwanje-test-signing-key v1"
	path := filepath.Join(t.TempDir(), "keys", "test.key")
	if _, err := LoadSigningKey(path, header); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key: %v", err)
	}
	k, err := LoadOrCreateSigningKey(path, header)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode: %v %v", fi.Mode(), err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("temporary file left: %v", err)
	}
	again, err := LoadOrCreateSigningKey(path, header)
	if err != nil || again.ID != k.ID || !again.Public().Equal(k.Public()) {
		t.Fatalf("reload gave another key: %v", err)
	}
	sig := ed25519.Sign(k.Private, []byte("m"))
	if !ed25519.Verify(again.Public(), []byte("m"), sig) || len(k.ID) != 16 {
		t.Error("reloaded key does not verify its own signature")
	}
	if _, err := LoadSigningKey(path, "gwanje-other-key v1"); !errors.Is(err, ErrBadSigningKey) {
		t.Errorf("key of another use accepted: %v", err)
	}
	if err := writeKeyFile(path, []byte("x")); err == nil {
		t.Error("an existing key was overwritten")
	}
	os.Chmod(path, 0o640)
	if _, err := LoadOrCreateSigningKey(path, header); !errors.Is(err, ErrBadSigningKey) {
		t.Errorf("group-readable key accepted or replaced: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte(header+"\nzz\n"), 0o600)
	if _, err := LoadSigningKey(path, header); !errors.Is(err, ErrBadSigningKey) {
		t.Errorf("bad seed accepted: %v", err)
	}
}
