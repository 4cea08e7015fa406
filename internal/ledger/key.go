package ledger

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
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

func keyID(pub ed25519.PublicKey) string {
	s := sha256.Sum256(pub)
	return hex.EncodeToString(s[:8])
}

// LoadOrCreateKey reads the signing key at path, creating it (and its
// directory, mode 0700) with a fresh random key on first run. The file is
// written to a temporary name, fsynced, renamed and the directory fsynced.
func LoadOrCreateKey(path string) (*Key, error) {
	const op = "ledger.LoadOrCreateKey"
	k, err := LoadKey(path)
	if err == nil || !errs.Is(err, errs.NotExist) {
		return k, err
	}
	seed := make([]byte, ed25519.SeedSize)
	if _, err := rand.Read(seed); err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	body := keyHeader + "\n" + hex.EncodeToString(seed) + "\n"
	if err := writeFileSync(path, []byte(body), 0o600); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return LoadKey(path)
}

// LoadKey reads an existing signing key. It refuses a key file readable by
// group or others.
func LoadKey(path string) (*Key, error) {
	const op = "ledger.LoadKey"
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.Errorf(op, errs.NotExist, "signing key %s does not exist", path)
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, errs.Errorf(op, errs.Invalid, "signing key %s has mode %v; it must be 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || lines[0] != keyHeader {
		return nil, errs.Errorf(op, errs.Invalid, "signing key %s: first line must be %q followed by one hex line", path, keyHeader)
	}
	seed, err := hex.DecodeString(strings.TrimSpace(lines[1]))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, errs.Errorf(op, errs.Invalid, "signing key %s line 2: want %d hex-encoded bytes", path, ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Key{priv: priv, ID: keyID(priv.Public().(ed25519.PublicKey))}, nil
}

func writeFileSync(path string, b []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
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
