package export

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
)

// ManifestFormat names version 1 of the manifest body. A change that a
// version 1 verifier would misread gets a new version.
const ManifestFormat = "gwanje-export-manifest v1"

// sigDomain separates manifest signatures from any other use of a key.
const sigDomain = "gwanje-export-manifest v1\x00"

// keyHeader starts an export signing-key file; pubHeader the public key
// file in a package. The versions are part of the formats.
const (
	keyHeader = "gwanje-export-signing-key v1"
	pubHeader = "gwanje-export-public-key v1"
)

// Names of the files in a package besides the clips (under clips/).
const (
	ManifestName  = "manifest.json"
	PublicKeyName = "public-key.txt"
	SumsName      = "SHA256SUMS"
	ReadmeName    = "README.txt"
	clipDir       = "clips/"
)

// Manifest describes an evidence package: what footage, for whom, why, on
// whose request and approval, under which ledger row, and the hash of
// every file it vouches for.
type Manifest struct {
	Format  string    `json:"format"`
	ID      string    `json:"id"` // the package's name, "export-<ledger seq>-<time>"
	Created time.Time `json:"created"`
	// Cameras and the requested range [From, To).
	Cameras []Camera  `json:"cameras"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// The 관리대장 columns of the provision.
	Recipient   string `json:"recipient"`             // 제공받는 자
	Purpose     string `json:"purpose"`               // 목적
	LegalBasis  string `json:"legal_basis,omitempty"` // 근거
	Letter      string `json:"letter,omitempty"`      // 공문 번호
	Form        string `json:"form,omitempty"`        // 형태
	Period      string `json:"period,omitempty"`      // 이용 기간
	RequestedBy string `json:"requested_by"`
	ApprovedBy  string `json:"approved_by,omitempty"`
	// LedgerSeq is the sequence number of the 관리대장 row written before
	// any footage was read.
	LedgerSeq uint64 `json:"ledger_seq"`
	Clips     []Clip `json:"clips"`
	// Missing lists the parts of the range without footage, per camera.
	Missing []Span `json:"missing,omitempty"`
}

// Camera is a camera of the export.
type Camera struct {
	ID   string `json:"id"`
	Site string `json:"site,omitempty"`
}

// Clip is one MP4 of the package: one camera's footage in the range.
type Clip struct {
	Camera string `json:"camera"`
	File   string `json:"file"` // path in the ZIP
	// Start is the wall-clock time of the first frame (also in the file's
	// metadata); End that of the last frame's end.
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Frames int       `json:"frames"`
	Bytes  int64     `json:"bytes"`
	SHA256 string    `json:"sha256"`
	// Gaps are the spans inside the clip without footage, over which the
	// previous frame is held (the file's timeline is wall-clock time).
	Gaps     []Span    `json:"gaps,omitempty"`
	Segments []Segment `json:"segments"`
	// Masked is set when the clip is a masked copy (ExportMasked): its
	// bytes are re-encoded, and this says from what and how.
	Masked *Masked `json:"masked,omitempty"`
}

// Segment is a stored segment a clip was cut from, with the hash the store
// index keeps of its (encrypted) file.
type Segment struct {
	ID     int64     `json:"id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Bytes  int64     `json:"bytes"`
	SHA256 string    `json:"sha256,omitempty"` // absent for a segment still being recorded
}

// Span is a stretch of time without footage.
type Span struct {
	Camera string    `json:"camera,omitempty"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
}

// signedFile is the manifest file: the body, and its signature.
type signedFile struct {
	Manifest  json.RawMessage `json:"manifest"`
	KeyID     string          `json:"key_id"`
	PublicKey string          `json:"public_key"` // base64 Ed25519
	Signature string          `json:"signature"`  // base64, over sigDomain + compact(manifest)
}

// Key is the Ed25519 key that signs export manifests (its own file, like
// the ledger's and the receipts' keys: each key signs one kind of
// document).
type Key struct {
	priv ed25519.PrivateKey
	ID   string // first 8 bytes of SHA-256 of the public key, hex
}

// Public returns the verifying key.
func (k *Key) Public() ed25519.PublicKey { return k.priv.Public().(ed25519.PublicKey) }

// NewKey wraps an Ed25519 private key (tests, and keys loaded elsewhere).
func NewKey(priv ed25519.PrivateKey) *Key {
	return &Key{priv: priv, ID: seal.SigningKeyID(priv.Public().(ed25519.PublicKey))}
}

// DefaultKeyPath is where the export signing key lives in a data directory.
func DefaultKeyPath(dataDir string) string {
	return filepath.Join(dataDir, "keys", "export-signing.key")
}

// LoadOrCreateKey reads the export signing key at path, creating it (mode
// 0600, crash-safely) on first use.
func LoadOrCreateKey(path string) (*Key, error) {
	const op = "export.LoadOrCreateKey"
	k, err := seal.LoadOrCreateSigningKey(path, keyHeader)
	switch {
	case err == nil:
		return &Key{priv: k.Private, ID: k.ID}, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.Errorf(op, errs.NotExist, "export %v", err)
	case errors.Is(err, seal.ErrBadSigningKey):
		return nil, errs.Errorf(op, errs.Invalid, "export %v", err)
	}
	return nil, errs.E(op, errs.IO, err)
}

// PublicKeyText is the text of a package's public-key file.
func PublicKeyText(pub ed25519.PublicKey) []byte { return seal.PublicKeyText(pubHeader, pub) }

// ParsePublicKey reads a public-key file (a package's public-key.txt, or
// the same text obtained from the institution).
func ParsePublicKey(name string, b []byte) (ed25519.PublicKey, error) {
	pub, err := seal.ParsePublicKey(name, pubHeader, b)
	if err != nil {
		return nil, errs.E("export.ParsePublicKey", errs.Invalid, err)
	}
	return pub, nil
}

// sign returns the manifest file's bytes.
func (k *Key) sign(m *Manifest) ([]byte, error) {
	body, err := json.Marshal(m)
	if err != nil {
		return nil, errs.E("export.sign", errs.Internal, err)
	}
	sig := ed25519.Sign(k.priv, append([]byte(sigDomain), body...))
	out, err := json.MarshalIndent(signedFile{Manifest: body, KeyID: k.ID,
		PublicKey: base64.StdEncoding.EncodeToString(k.Public()), Signature: base64.StdEncoding.EncodeToString(sig)}, "", "  ")
	if err != nil {
		return nil, errs.E("export.sign", errs.Internal, err)
	}
	return append(out, '\n'), nil
}

// parseManifest checks the manifest file's signature against the public
// key it carries and returns the manifest and that key. Reformatting the
// file does not break the signature (it covers the compact body).
func parseManifest(b []byte) (*Manifest, ed25519.PublicKey, error) {
	const op = "export.parseManifest"
	var f signedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "%s is not a signed manifest: %v", ManifestName, err)
	}
	pub, err := base64.StdEncoding.DecodeString(f.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, nil, errs.Errorf(op, errs.Invalid, "%s: public_key is not a base64 Ed25519 key", ManifestName)
	}
	if id := seal.SigningKeyID(pub); id != f.KeyID {
		return nil, nil, errs.Errorf(op, errs.Invalid, "%s: key_id %s is not the id of public_key (%s)", ManifestName, f.KeyID, id)
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "%s: signature is not base64", ManifestName)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, f.Manifest); err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "%s: manifest body: %v", ManifestName, err)
	}
	if !ed25519.Verify(pub, append([]byte(sigDomain), body.Bytes()...), sig) {
		return nil, pub, errs.Errorf(op, errs.Invalid,
			"%s: the signature does not verify: the manifest was changed after signing, or not signed by key %s", ManifestName, f.KeyID)
	}
	var m Manifest
	if err := json.Unmarshal(f.Manifest, &m); err != nil {
		return nil, pub, errs.Errorf(op, errs.Invalid, "%s: manifest body: %v", ManifestName, err)
	}
	if m.Format != ManifestFormat {
		return nil, pub, errs.Errorf(op, errs.Invalid, "%s: format %q; this gwanje knows %q", ManifestName, m.Format, ManifestFormat)
	}
	return &m, ed25519.PublicKey(pub), nil
}
