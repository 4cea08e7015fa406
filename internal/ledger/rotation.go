package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	sealkey "github.com/gwanje/gwanje/internal/seal"
)

// A key rotation replaces the checkpoint signing key. It is an entry of
// kind KeyRotation whose Detail is a rotation statement: the old and the
// new public key, each with its signature over
//
//	"gwanje-ledger-key-rotation v1\0" ‖ seq ‖ prev ‖ old public key ‖ new public key
//
// where seq and prev are the rotation entry's own (so a statement cannot be
// replayed at another place in the chain). The old key's signature is the
// authority: nobody without the old private key can introduce a new key.
// The new key's signature binds it the other way: a verifier told to trust
// the new key learns from the statement, signed by that key, which key came
// before it. The old key signs checkpoints up to and including the rotation
// entry (its last checkpoint is written in the rotation's transaction); the
// new key signs every checkpoint after it.

// rotationDomain separates rotation signatures from checkpoint signatures.
const rotationDomain = "gwanje-ledger-key-rotation v1\x00"

// Rotation is a parsed rotation statement.
type Rotation struct {
	Seq            uint64 // the rotation entry's seq
	Prev           [32]byte
	Old, New       ed25519.PublicKey
	OldSig, NewSig []byte
}

func rotationMessage(seq uint64, prev [32]byte, old, new ed25519.PublicKey) []byte {
	b := make([]byte, 0, len(rotationDomain)+8+32+2*ed25519.PublicKeySize)
	b = append(b, rotationDomain...)
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, prev[:]...)
	b = append(b, old...)
	return append(b, new...)
}

// newRotation signs a statement that next replaces old at entry seq whose
// predecessor has hash prev.
func newRotation(seq uint64, prev [32]byte, old, next *Key) Rotation {
	r := Rotation{Seq: seq, Prev: prev, Old: old.Public(), New: next.Public()}
	m := rotationMessage(seq, prev, r.Old, r.New)
	r.OldSig, r.NewSig = ed25519.Sign(old.priv, m), ed25519.Sign(next.priv, m)
	return r
}

// text is the statement as the entry's Detail.
func (r Rotation) text() string {
	return fmt.Sprintf("v1 old=%x new=%x sig-old=%x sig-new=%x", []byte(r.Old), []byte(r.New), r.OldSig, r.NewSig)
}

// Valid reports whether both signatures verify.
func (r Rotation) Valid() bool {
	if len(r.Old) != ed25519.PublicKeySize || len(r.New) != ed25519.PublicKeySize {
		return false
	}
	m := rotationMessage(r.Seq, r.Prev, r.Old, r.New)
	return ed25519.Verify(r.Old, m, r.OldSig) && ed25519.Verify(r.New, m, r.NewSig)
}

// ParseRotation reads the rotation statement of a KeyRotation entry.
func ParseRotation(e *Entry) (Rotation, error) {
	r := Rotation{Seq: e.Seq, Prev: e.Prev}
	if e.Kind != KeyRotation {
		return r, fmt.Errorf("entry %d is a %s entry, not a key rotation", e.Seq, e.Kind)
	}
	f := strings.Fields(e.Detail)
	if len(f) != 5 || f[0] != "v1" {
		return r, fmt.Errorf("entry %d: rotation statement is not \"v1 old= new= sig-old= sig-new=\"", e.Seq)
	}
	dst := []*[]byte{(*[]byte)(&r.Old), (*[]byte)(&r.New), &r.OldSig, &r.NewSig}
	for i, name := range []string{"old=", "new=", "sig-old=", "sig-new="} {
		v, ok := strings.CutPrefix(f[i+1], name)
		b, err := hex.DecodeString(v)
		if !ok || err != nil {
			return r, fmt.Errorf("entry %d: rotation statement field %s is not hex", e.Seq, strings.TrimSuffix(name, "="))
		}
		*dst[i] = b
	}
	return r, nil
}

// KeyUse is one key of a ledger's chain of signing keys: it signs the
// checkpoints of entries First..Last (Last 0: up to the end).
type KeyUse struct {
	ID          string
	Fingerprint string
	First, Last uint64
	Public      ed25519.PublicKey
}

// covers reports whether a checkpoint sealing seq may be signed by k.
func (k *KeyUse) covers(seq uint64) bool {
	return seq >= k.First && (k.Last == 0 || seq <= k.Last)
}

// RotateKey replaces the checkpoint signing key. The new key is written
// first (KeyPath+".next", fsynced; a rotation interrupted before its
// commit reuses it), then one transaction appends the rotation entry,
// signed by the old and the new key, with a checkpoint of the old key
// sealing it (and the rotation table's copy); the old key's file is then
// replaced by the new one, so the retired private key is gone, and the
// data directory's public key copy updated. From the commit on, the new
// key signs. A crash between the commit and the replacement is finished
// by the next Open. actor and client say who rotated, as in every entry.
//
// Run it while no other process holds the ledger open with the old key
// (stop gwanje serve first): such a process notices the rotation at its
// next checkpoint and signs nothing until it can read the new key.
func (l *Ledger) RotateKey(ctx context.Context, actor, client string) (Entry, error) {
	const op = "ledger.RotateKey"
	if l.isClosed() {
		return Entry{}, errs.Errorf(op, errs.Unavailable, "ledger is closed")
	}
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	old := l.key
	l.mu.Unlock()
	nextPath := nextKeyPath(l.opt.KeyPath)
	next, err := LoadOrCreateKey(nextPath)
	if err != nil {
		return Entry{}, errs.E(op, err)
	}
	if next.ID == old.ID {
		return Entry{}, errs.Errorf(op, errs.Invalid, "%s holds the current key %s; remove it and rotate again", nextPath, old.ID)
	}
	now := l.opt.Clock.Now().UTC()
	var e Entry
	var cp Checkpoint
	err = l.st.Append(ctx, func(sh Head) (Batch, error) {
		if id, err := sh.KeyID(); err != nil {
			return Batch{}, err
		} else if id != "" && id != old.ID {
			return Batch{}, errs.Errorf(op, errs.Conflict, "the ledger's key is %s, not %s: it was rotated by another process", id, old.ID)
		}
		e = Entry{Seq: sh.Seq + 1, Prev: sh.Hash, Time: now, Kind: KeyRotation, Actor: actor, Client: client,
			Object: fmt.Sprintf("ledger signing key %s → %s", old.ID, next.ID)}
		e.Detail = newRotation(e.Seq, e.Prev, old, next).text()
		body := Encode(&e)
		e.Hash = sha256.Sum256(body)
		cp = old.sign(e.Seq, e.Hash, now)
		return Batch{Records: []Record{{Seq: e.Seq, Body: body, Hash: e.Hash}}, Checkpoint: &cp, Rotation: true}, nil
	})
	if err != nil {
		if errs.Is(err, errs.Conflict) {
			return Entry{}, err
		}
		return Entry{}, errs.E(op, errs.IO, err)
	}
	l.mu.Lock()
	l.head = head{seq: e.Seq, hash: e.Hash, time: now}
	l.lastCP = head{seq: cp.Seq, hash: cp.Hash, time: cp.Time}
	l.key = next
	l.mu.Unlock()
	l.external(cp)
	if err := sealkey.ReplaceSigningKey(nextPath, l.opt.KeyPath); err != nil {
		return e, errs.Errorf(op, errs.IO, "rotation committed at entry %d, but %s was not moved to %s (gwanje finishes this at its next start): %v",
			e.Seq, nextPath, l.opt.KeyPath, err)
	}
	if err := WritePublicKey(PublicKeyPath(l.opt.Dir), next.Public()); err != nil {
		l.opt.Logger.Warn("ledger public key copy not written", "err", err)
	}
	l.opt.Logger.Info("ledger signing key rotated", "seq", e.Seq, "old", old.ID, "new", next.ID)
	return e, nil
}
