package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrBadSigningKey marks a signing-key file that exists but cannot be used:
// readable by others, or not in the format its header names.
var ErrBadSigningKey = errors.New("unusable signing key file")

// SigningKey is an Ed25519 key kept in a file of its own (mode 0600): a
// header line naming what it signs and the format version, then the
// hex-encoded seed. The ledger's checkpoints and destruction receipts each
// have one, apart from the databases whose contents they vouch for.
type SigningKey struct {
	Private ed25519.PrivateKey
	// ID is the first 8 bytes of SHA-256 of the public key, in hex.
	ID string
}

// Public returns the verifying key.
func (k *SigningKey) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// SigningKeyID is the id of a public key: the first 8 bytes of its
// SHA-256, in hex.
func SigningKeyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadSigningKey reads the signing key at path, whose first line must be
// header. A missing file is an error wrapping fs.ErrNotExist; a file
// readable by group or others, or not in the format, one wrapping
// ErrBadSigningKey.
func LoadSigningKey(path, header string) (*SigningKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("signing key %s has mode %v; it must be 0600: %w", path, fi.Mode().Perm(), ErrBadSigningKey)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != header {
		return nil, fmt.Errorf("signing key %s: first line must be %q followed by one hex line: %w", path, header, ErrBadSigningKey)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %s line 2: want %d hex-encoded bytes: %w", path, ed25519.SeedSize, ErrBadSigningKey)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &SigningKey{Private: priv, ID: SigningKeyID(priv.Public().(ed25519.PublicKey))}, nil
}

// LoadOrCreateSigningKey reads the signing key at path, creating it (and
// its directory, mode 0700) with a fresh random seed on first use: the
// file appears whole or not at all (writeKeyFile).
func LoadOrCreateSigningKey(path, header string) (*SigningKey, error) {
	k, err := LoadSigningKey(path, header)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	return CreateSigningKey(path, header)
}

// writeKeyFile writes a new key file crash-safely: a temporary file written
// and fsynced, then linked to path (which fails if a key is already there:
// a key is never overwritten), and the directory fsynced.
func writeKeyFile(path string, b []byte) error {
	return writeSynced(path, b, 0o600, os.Link)
}

// writeSynced writes b to a temporary file beside path, fsyncs and closes
// it, puts it at path with place (os.Link to refuse an existing file,
// os.Rename to replace it), and fsyncs the directory.
func writeSynced(path string, b []byte, mode os.FileMode, place func(tmp, path string) error) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
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
	if err := place(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// Fingerprint is the full SHA-256 of a public key, in hex (64 digits): what
// an operator writes down, away from the data directory, to name the key he
// trusts. The key id (SigningKeyID) is its first 16 digits.
func Fingerprint(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:])
}

// ErrBadPublicKey marks a public-key file not in the format its header names.
var ErrBadPublicKey = errors.New("unusable public key file")

// PublicKeyText is the text of a public-key file: the header line, then the
// hex-encoded key.
func PublicKeyText(header string, pub ed25519.PublicKey) []byte {
	return []byte(header + "\n" + hex.EncodeToString(pub) + "\n")
}

// ParsePublicKey reads the text of a public-key file whose first line must
// be header; name says where it came from in errors.
func ParsePublicKey(name, header string, b []byte) (ed25519.PublicKey, error) {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || strings.TrimSpace(lines[0]) != header {
		return nil, fmt.Errorf("public key %s: first line must be %q followed by one hex line: %w", name, header, ErrBadPublicKey)
	}
	pub, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("public key %s line 2: want %d hex-encoded bytes: %w", name, ed25519.PublicKeySize, ErrBadPublicKey)
	}
	return ed25519.PublicKey(pub), nil
}

// WriteFileAtomic replaces path by b crash-safely: a temporary file written
// and fsynced, renamed over path, and the directory fsynced. For public
// files (mode 0644) that may be replaced, unlike a signing key.
func WriteFileAtomic(path string, b []byte, mode os.FileMode) error {
	return writeSynced(path, b, mode, os.Rename)
}

// CreateSigningKey writes a fresh signing key to path, which must not
// exist (a key is never overwritten), crash-safely, and returns it.
func CreateSigningKey(path, header string) (*SigningKey, error) {
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, err
	}
	if err := writeKeyFile(path, []byte(header+"\n"+hex.EncodeToString(seed)+"\n")); err != nil {
		return nil, err
	}
	return LoadSigningKey(path, header)
}

// ReplaceSigningKey moves the key file next over path (a key rotation's
// last step: the retired private key is gone once this returns) and
// fsyncs the directory. Both must be in one directory.
func ReplaceSigningKey(next, path string) error {
	if filepath.Dir(next) != filepath.Dir(path) {
		return fmt.Errorf("signing key %s: replacement %s is in another directory", path, next)
	}
	if err := os.Rename(next, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}
