package app

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// LoadKeys is the one key loader: the environment variable wins over the
// file, a missing file is created only when asked, and never when the
// environment variable is set.
func TestLoadKeys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "master.key")
	t.Setenv(MasterKeyEnv, "")
	if _, err := LoadKeys(path, false, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing key file without create: %v", err)
	}
	created, err := LoadKeys(path, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("created key file: %v %v", fi, err)
	}
	again, err := LoadKeys(path, true, nil)
	if err != nil || again.Active() != created.Active() {
		t.Fatalf("reloading gave key %v (%v), created %v", again, err, created.Active())
	}
	text, _ := os.ReadFile(path)
	t.Setenv(MasterKeyEnv, string(text))
	other := filepath.Join(dir, "other.key")
	fromEnv, err := LoadKeys(other, true, nil)
	if err != nil || fromEnv.Active() != created.Active() {
		t.Fatalf("from the environment: %v %v", fromEnv, err)
	}
	if _, err := os.Stat(other); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("a key file was created although the key came from the environment")
	}
	t.Setenv(MasterKeyEnv, "not a key")
	if _, err := LoadKeys(path, true, nil); err == nil {
		t.Fatal("a malformed key in the environment was accepted")
	}
}
