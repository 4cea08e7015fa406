package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
)

// wrapVersion is the first byte of a wrapped data key. Append-only.
const wrapVersion = 1

// WrappedSize is the size of a wrapped data key: version, nonce, key, tag.
const WrappedSize = 1 + 12 + KeySize + 16

// DataKey is one segment's data key. The raw key is kept only to derive the
// two AEADs (one for chunks, one for blobs) and to rewrap.
type DataKey struct {
	raw    [KeySize]byte
	chunks cipher.AEAD
	blobs  cipher.AEAD
}

// NewDataKey returns a fresh random data key.
func NewDataKey() *DataKey {
	k, err := dataKeyFrom(NewRandomKey())
	if err != nil {
		panic(err) // the key has the right size
	}
	return k
}

func dataKeyFrom(raw []byte) (*DataKey, error) {
	dk := &DataKey{}
	copy(dk.raw[:], raw)
	var err error
	if dk.chunks, err = deriveAEAD(raw, "gwanje chunks v1"); err != nil {
		return nil, err
	}
	if dk.blobs, err = deriveAEAD(raw, "gwanje blobs v1"); err != nil {
		return nil, err
	}
	return dk, nil
}

// deriveAEAD derives a purpose-bound AES-256-GCM from the data key, so the
// counter nonces of chunks and the random nonces of blobs can never meet
// under one key.
func deriveAEAD(raw []byte, info string) (cipher.AEAD, error) {
	sub, err := hkdf.Key(sha256.New, raw, nil, info, KeySize)
	if err != nil {
		return nil, err
	}
	return newGCM(sub)
}

func newGCM(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func wrapAAD(segID int64, keyID string) []byte {
	aad := make([]byte, 0, 32+len(keyID))
	aad = append(aad, "gwanje wrap v1\x00"...)
	aad = binary.BigEndian.AppendUint64(aad, uint64(segID))
	aad = append(aad, keyID...)
	return aad
}

// Wrap wraps dk for segment segID under the active master key and returns
// the wrapped key and the master key's id. The AAD binds the segment id and
// key id, so a wrapped key moved to another row does not unwrap.
func (r *Keyring) Wrap(dk *DataKey, segID int64) (wrapped []byte, keyID string, err error) {
	mk := &r.keys[len(r.keys)-1]
	return wrapUnder(mk, dk, segID)
}

func wrapUnder(mk *MasterKey, dk *DataKey, segID int64) ([]byte, string, error) {
	g, err := newGCM(mk.secret[:])
	if err != nil {
		return nil, "", err
	}
	out := make([]byte, 1+12, WrappedSize)
	out[0] = wrapVersion
	if _, err := rand.Read(out[1:13]); err != nil {
		return nil, "", err
	}
	out = g.Seal(out, out[1:13], dk.raw[:], wrapAAD(segID, mk.ID))
	return out, mk.ID, nil
}

// ErrUnwrap is the cause of every failed Unwrap: the key is wrong, the
// wrapped key or its segment id was changed, or it was never a wrapped key.
var ErrUnwrap = errors.New("data key does not unwrap (wrong master key, wrong segment, or tampered)")

// Unwrap recovers the data key of segment segID wrapped under master key
// keyID.
func (r *Keyring) Unwrap(wrapped []byte, segID int64, keyID string) (*DataKey, error) {
	mk := r.lookup(keyID)
	if mk == nil {
		return nil, fmt.Errorf("seal: unwrap segment %d: master key %s is not in the keyring", segID, keyID)
	}
	if len(wrapped) != WrappedSize || wrapped[0] != wrapVersion {
		return nil, fmt.Errorf("seal: unwrap segment %d: %w (bad length or version)", segID, ErrUnwrap)
	}
	g, err := newGCM(mk.secret[:])
	if err != nil {
		return nil, err
	}
	raw, err := g.Open(nil, wrapped[1:13], wrapped[13:], wrapAAD(segID, keyID))
	if err != nil {
		return nil, fmt.Errorf("seal: unwrap segment %d under key %s: %w", segID, keyID, ErrUnwrap)
	}
	return dataKeyFrom(raw)
}

// Rewrap unwraps a data key and wraps it again under the active master key.
// If it already is under the active key, it is returned unchanged.
func (r *Keyring) Rewrap(wrapped []byte, segID int64, keyID string) ([]byte, string, error) {
	if keyID == r.Active() {
		return wrapped, keyID, nil
	}
	dk, err := r.Unwrap(wrapped, segID, keyID)
	if err != nil {
		return nil, "", err
	}
	return r.Wrap(dk, segID)
}

// blobVersion is the first byte of a sealed blob. Append-only.
const blobVersion = 1

func blobAAD(segID int64, purpose string) []byte {
	aad := make([]byte, 0, 32+len(purpose))
	aad = append(aad, "gwanje blob v1\x00"...)
	aad = binary.BigEndian.AppendUint64(aad, uint64(segID))
	aad = append(aad, purpose...)
	return aad
}

// SealBlob encrypts a small value that belongs to segment segID (such as its
// codec parameters) with the segment's data key. purpose names the value and
// is bound into the AAD.
func (dk *DataKey) SealBlob(segID int64, purpose string, plaintext []byte) []byte {
	out := make([]byte, 1+12, 1+12+len(plaintext)+16)
	out[0] = blobVersion
	if _, err := rand.Read(out[1:13]); err != nil {
		panic("seal: crypto/rand failed: " + err.Error())
	}
	return dk.blobs.Seal(out, out[1:13], plaintext, blobAAD(segID, purpose))
}

// OpenBlob decrypts a value sealed by SealBlob.
func (dk *DataKey) OpenBlob(segID int64, purpose string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1+12+16 || sealed[0] != blobVersion {
		return nil, fmt.Errorf("seal: segment %d %s: not a sealed blob (bad length or version)", segID, purpose)
	}
	p, err := dk.blobs.Open(nil, sealed[1:13], sealed[13:], blobAAD(segID, purpose))
	if err != nil {
		return nil, fmt.Errorf("seal: segment %d %s: authentication failed", segID, purpose)
	}
	return p, nil
}
