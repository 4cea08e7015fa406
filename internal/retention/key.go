package retention

import (
	"crypto/ed25519"
	"errors"
	"io/fs"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
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
func KeyID(pub ed25519.PublicKey) string { return seal.SigningKeyID(pub) }

// LoadOrCreateKey reads the receipt signing key at path, creating it (and
// its directory, mode 0700) with a fresh random key on first use; the file
// appears whole or not at all.
func LoadOrCreateKey(path string) (*Key, error) {
	k, err := seal.LoadOrCreateSigningKey(path, keyHeader)
	return keyOf("retention.LoadOrCreateKey", k, err)
}

// LoadKey reads an existing receipt signing key. It refuses a key file
// readable by group or others.
func LoadKey(path string) (*Key, error) {
	k, err := seal.LoadSigningKey(path, keyHeader)
	return keyOf("retention.LoadKey", k, err)
}

func keyOf(op string, k *seal.SigningKey, err error) (*Key, error) {
	switch {
	case err == nil:
		return &Key{priv: k.Private, ID: k.ID}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.Errorf(op, errs.NotExist, "receipt %v", err)
	case errors.Is(err, seal.ErrBadSigningKey):
		return nil, errs.Errorf(op, errs.Invalid, "receipt %v", err)
	}
	return nil, errs.E(op, errs.IO, err)
}
