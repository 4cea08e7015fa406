// Package seal is gwanje's encryption format: a keyring of master keys, data
// keys wrapped under them, and a versioned framing of sealed chunks for an
// append-only segment file. It imports no other gwanje package, so it can be
// tested and fuzzed alone.
//
// Every footage segment has its own random data key. The data key is stored
// only wrapped (AES-256-GCM) under a master key; destroying the wrapped key
// makes the segment unrecoverable even if its file survives on the disk.
package seal

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of master and data keys in bytes (AES-256).
const KeySize = 32

// keyLinePrefix starts every line of a key file. The second field is the
// line format version; only v1 exists.
const keyLinePrefix = "gwanje-master-key"

// MasterKey is one master key of a keyring.
type MasterKey struct {
	// ID is a short hash of the key: 16 hex digits, stored next to every
	// key wrapped under it.
	ID     string
	secret [KeySize]byte
}

// KeyID returns the key id of a master key: the first 8 bytes of
// SHA-256("gwanje master key id\x00" || key), in hex.
func KeyID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("gwanje master key id\x00"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:8])
}

// Keyring holds the master keys. The last key is the active one: new data
// keys are wrapped under it. Older keys only unwrap.
type Keyring struct {
	keys []MasterKey
}

// NewKeyring returns a keyring of the given raw 32-byte keys, oldest first.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("seal: keyring: no keys")
	}
	r := &Keyring{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("seal: keyring: key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		var mk MasterKey
		copy(mk.secret[:], k)
		mk.ID = KeyID(k)
		if r.lookup(mk.ID) != nil {
			return nil, fmt.Errorf("seal: keyring: key %s appears twice", mk.ID)
		}
		r.keys = append(r.keys, mk)
	}
	return r, nil
}

// NewRandomKey returns 32 random bytes for a master key.
func NewRandomKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return k
}

// Active returns the id of the active (newest) master key.
func (r *Keyring) Active() string { return r.keys[len(r.keys)-1].ID }

// IDs returns the ids of every key, oldest first.
func (r *Keyring) IDs() []string {
	ids := make([]string, len(r.keys))
	for i, k := range r.keys {
		ids[i] = k.ID
	}
	return ids
}

// Has reports whether the keyring holds the key with the given id.
func (r *Keyring) Has(id string) bool { return r.lookup(id) != nil }

func (r *Keyring) lookup(id string) *MasterKey {
	for i := range r.keys {
		if r.keys[i].ID == id {
			return &r.keys[i]
		}
	}
	return nil
}

// ParseKeyring parses the text of a key file or of the environment variable
// that holds one: one key per line, "gwanje-master-key v1 <keyid> <base64>",
// oldest first. Blank lines and lines starting with # are ignored. name says
// where the text came from, for error messages; the key material is never
// part of an error.
func ParseKeyring(name string, text []byte) (*Keyring, error) {
	var raw [][]byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if len(f) != 4 || f[0] != keyLinePrefix {
			return nil, fmt.Errorf("seal: %s:%d: not a key line (want %q)", name, line, keyLinePrefix+" v1 <keyid> <base64>")
		}
		if f[1] != "v1" {
			return nil, fmt.Errorf("seal: %s:%d: unknown key line version %q", name, line, f[1])
		}
		k, err := base64.StdEncoding.DecodeString(f[3])
		if err != nil || len(k) != KeySize {
			return nil, fmt.Errorf("seal: %s:%d: key is not %d bytes of base64", name, line, KeySize)
		}
		if id := KeyID(k); id != f[2] {
			return nil, fmt.Errorf("seal: %s:%d: key id %q does not match the key (damaged line?)", name, line, f[2])
		}
		raw = append(raw, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("seal: %s: %v", name, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("seal: %s: no keys", name)
	}
	r, err := NewKeyring(raw...)
	if err != nil {
		return nil, fmt.Errorf("seal: %s: %v", name, err)
	}
	return r, nil
}

// FormatKeyLine returns the key-file line for key, with its newline.
func FormatKeyLine(key []byte) string {
	return fmt.Sprintf("%s v1 %s %s\n", keyLinePrefix, KeyID(key), base64.StdEncoding.EncodeToString(key))
}

// LoadKeyFile reads a key file. It refuses a file that group or others may
// read, so that a mistaken chmod does not silently expose every recording.
func LoadKeyFile(path string) (*Keyring, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("seal: key file %s has mode %v: group and others must have no access (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	return ParseKeyring(path, b)
}

// CreateKeyFile creates a key file holding one new random key, mode 0600,
// and makes it durable. It fails if the file exists.
func CreateKeyFile(path string) (*Keyring, error) {
	key := NewRandomKey()
	if err := writeNew(path, []byte(FormatKeyLine(key))); err != nil {
		return nil, err
	}
	return NewKeyring(key)
}

// AddKey appends a new random key to an existing key file, making it the
// active key, and returns the new keyring. Existing keys stay so that
// segments wrapped under them remain readable until `gwanje key rotate`
// has rewrapped them. The file is replaced atomically.
func AddKey(path string) (*Keyring, error) {
	old, err := LoadKeyFile(path)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	key := NewRandomKey()
	b = append(b, FormatKeyLine(key)...)
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := writeNew(tmp, b); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	raw := make([][]byte, 0, len(old.keys)+1)
	for _, k := range old.keys {
		raw = append(raw, append([]byte(nil), k.secret[:]...))
	}
	return NewKeyring(append(raw, key)...)
}

func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("seal: key file %s already exists", path)
		}
		return fmt.Errorf("seal: key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("seal: key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("seal: key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("seal: key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("seal: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("seal: sync %s: %w", dir, err)
	}
	return nil
}
