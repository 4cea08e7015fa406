package ledger

import (
	"bufio"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	sealkey "github.com/gwanje/gwanje/internal/seal"
)

// keyHeader starts a signing-key file; the version is part of the format.
const keyHeader = "gwanje-ledger-signing-key v1"

// Key is the Ed25519 key that signs checkpoints. Its file lives apart from
// ledger.db (default <data>/keys/ledger-signing.key, mode 0600) so that
// someone who can rewrite the database cannot also forge checkpoints.
type Key struct {
	priv ed25519.PrivateKey
	// ID is the first 8 bytes of SHA-256 of the public key, in hex.
	ID string
}

// Public returns the verifying key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

func keyID(pub ed25519.PublicKey) string { return sealkey.SigningKeyID(pub) }

// LoadOrCreateKey reads the signing key at path, creating it (and its
// directory, mode 0700) with a fresh random key on first run; the file
// appears whole or not at all.
func LoadOrCreateKey(path string) (*Key, error) {
	k, err := sealkey.LoadOrCreateSigningKey(path, keyHeader)
	return keyOf("ledger.LoadOrCreateKey", k, err)
}

// LoadKey reads an existing signing key. It refuses a key file readable by
// group or others.
func LoadKey(path string) (*Key, error) {
	k, err := sealkey.LoadSigningKey(path, keyHeader)
	return keyOf("ledger.LoadKey", k, err)
}

func keyOf(op string, k *sealkey.SigningKey, err error) (*Key, error) {
	switch {
	case err == nil:
		return &Key{priv: k.Private, ID: k.ID}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.E(op, errs.NotExist, err)
	case errors.Is(err, sealkey.ErrBadSigningKey):
		return nil, errs.E(op, errs.Invalid, err)
	}
	return nil, errs.E(op, errs.IO, err)
}

// publicKeyHeader starts a ledger public-key file (what an operator keeps
// away from the data directory and hands to verify).
const publicKeyHeader = "gwanje-ledger-public-key v1"

// Fingerprint is the full SHA-256 of a public key in hex: what
// `gwanje ledger verify -fingerprint` takes. The key id is its first 16
// digits.
func Fingerprint(pub ed25519.PublicKey) string { return sealkey.Fingerprint(pub) }

// PublicKeyText is the content of a public-key file for pub.
func PublicKeyText(pub ed25519.PublicKey) []byte { return sealkey.PublicKeyText(publicKeyHeader, pub) }

// ReadPublicKey reads a public-key file written by WritePublicKey (or
// `gwanje ledger key -o`).
func ReadPublicKey(path string) (ed25519.PublicKey, error) {
	const op = "ledger.ReadPublicKey"
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(op, errs.NotExist, err)
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	pub, err := sealkey.ParsePublicKey(path, publicKeyHeader, b)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	return pub, nil
}

// WritePublicKey writes pub to path crash-safely, mode 0644 (it is public).
func WritePublicKey(path string, pub ed25519.PublicKey) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return errs.E("ledger.WritePublicKey", errs.IO, err)
	}
	if err := sealkey.WriteFileAtomic(path, PublicKeyText(pub), 0o644); err != nil {
		return errs.E("ledger.WritePublicKey", errs.IO, err)
	}
	return nil
}

// PublicKeyPath is where the ledger leaves a copy of its current public key
// in the data directory. It is a convenience, not a trust anchor: verify
// uses it only to find the key that a -fingerprint given from outside
// names, and someone who can write the data directory can replace it.
func PublicKeyPath(dir string) string { return filepath.Join(dir, "keys", "ledger-signing.pub") }

// Checkpoint seals the chain up to Seq: an Ed25519 signature over
// (Seq, Hash, Time) by the key KeyID.
type Checkpoint struct {
	Seq   uint64
	Hash  [32]byte
	Time  time.Time
	KeyID string
	Sig   []byte
}

// checkpointDomain separates checkpoint signatures from any other use of the key.
const checkpointDomain = "gwanje-ledger-checkpoint v1\x00"

func checkpointMessage(seq uint64, hash [32]byte, t time.Time) []byte {
	b := make([]byte, 0, len(checkpointDomain)+8+32+8)
	b = append(b, checkpointDomain...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, hash[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(t.UnixNano()))
}

func (k *Key) sign(seq uint64, hash [32]byte, t time.Time) Checkpoint {
	return Checkpoint{Seq: seq, Hash: hash, Time: t, KeyID: k.ID, Sig: ed25519.Sign(k.priv, checkpointMessage(seq, hash, t))}
}

// VerifySig reports whether c is signed by pub.
func (c Checkpoint) VerifySig(pub ed25519.PublicKey) bool {
	return keyID(pub) == c.KeyID && ed25519.Verify(pub, checkpointMessage(c.Seq, c.Hash, c.Time), c.Sig)
}

// The external checkpoint file holds one line per checkpoint:
// "v1 <seq> <hash hex> <unix-ns> <key id> <sig hex>".
func (c Checkpoint) line() string {
	return fmt.Sprintf("v1 %d %x %d %s %x\n", c.Seq, c.Hash, c.Time.UnixNano(), c.KeyID, c.Sig)
}

func appendCheckpointFile(path string, c Checkpoint) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(c.line()); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadCheckpointFile parses an external checkpoint file. A missing file
// yields no checkpoints and no error.
func ReadCheckpointFile(path string) ([]Checkpoint, error) {
	const op = "ledger.ReadCheckpointFile"
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer f.Close()
	var out []Checkpoint
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fl := strings.Fields(sc.Text())
		bad := func(what string) error {
			return errs.Errorf(op, errs.Corrupt, "%s:%d: %s", path, n, what)
		}
		if len(fl) != 6 || fl[0] != "v1" {
			return nil, bad("want \"v1 seq hash time keyid sig\"")
		}
		var c Checkpoint
		if c.Seq, err = strconv.ParseUint(fl[1], 10, 64); err != nil {
			return nil, bad("bad seq")
		}
		h, err := hex.DecodeString(fl[2])
		if err != nil || len(h) != 32 {
			return nil, bad("bad hash")
		}
		copy(c.Hash[:], h)
		ns, err := strconv.ParseInt(fl[3], 10, 64)
		if err != nil {
			return nil, bad("bad time")
		}
		c.Time = time.Unix(0, ns).UTC()
		c.KeyID = fl[4]
		if c.Sig, err = hex.DecodeString(fl[5]); err != nil {
			return nil, bad("bad signature")
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return out, nil
}
