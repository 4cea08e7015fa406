package retention

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
)

// keyHeader starts a receipt signing-key file; the version is part of the
// format.
const keyHeader = "gwanje-receipt-signing-key v1"

// DefaultKeyPath is where the receipt signing key lives in a data
// directory, apart from index.db.
func DefaultKeyPath(dataDir string) string {
	return filepath.Join(dataDir, "keys", "receipt-signing.key")
}

// Key is the Ed25519 key that signs destruction receipts. It is not the
// ledger's checkpoint key: each key signs one kind of document.
type Key struct {
	priv ed25519.PrivateKey
	// ID is the first 8 bytes of SHA-256 of the public key, in hex.
	ID string
}

// Public returns the verifying key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// KeyID is the id of a public key: the first 8 bytes of its SHA-256, hex.
func KeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadOrCreateKey reads the receipt signing key at path, creating it (and
// its directory, mode 0700) with a fresh random key on first use: written
// to a temporary name, fsynced, renamed, directory fsynced.
func LoadOrCreateKey(path string) (*Key, error) {
	const op = "retention.LoadOrCreateKey"
	k, err := LoadKey(path)
	if err == nil || !errs.Is(err, errs.NotExist) {
		return k, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	if err := writeFileSync(path, []byte(keyHeader+"\n"+hex.EncodeToString(seed)+"\n")); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return LoadKey(path)
}

// LoadKey reads an existing receipt signing key. It refuses a key file
// readable by group or others.
func LoadKey(path string) (*Key, error) {
	const op = "retention.LoadKey"
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Errorf(op, errs.NotExist, "receipt signing key %s does not exist", path)
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errs.Errorf(op, errs.Invalid, "receipt signing key %s has mode %v; it must be 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != keyHeader {
		return nil, errs.Errorf(op, errs.Invalid, "receipt signing key %s: first line must be %q followed by one hex line", path, keyHeader)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errs.Errorf(op, errs.Invalid, "receipt signing key %s line 2: want %d hex-encoded bytes", path, ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Key{priv: priv, ID: KeyID(priv.Public().(ed25519.PublicKey))}, nil
}

// writeFileSync writes b to path crash-safely with mode 0600: temporary
// file, write, fsync, close, rename, fsync the directory.
func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
