package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/errs"
)

// Damage is the kind of tampering Verify can tell apart.
type Damage uint8

const (
	// Edited: an entry's content no longer matches its hash, or an entry
	// was rewritten with a fresh hash that its successor does not link to.
	Edited Damage = iota + 1
	// Missing: an entry was deleted (a gap, or the rest renumbered down).
	Missing
	// Inserted: an entry not written by gwanje sits in the chain.
	Inserted
	// Reordered: an entry sits at another entry's place.
	Reordered
	// Truncated: entries sealed by a signed checkpoint are gone from the end.
	Truncated
	// BadCheckpoint: a checkpoint's signature does not verify.
	BadCheckpoint
)

func (d Damage) String() string {
	switch d {
	case Edited:
		return "edited"
	case Missing:
		return "missing"
	case Inserted:
		return "inserted"
	case Reordered:
		return "reordered"
	case Truncated:
		return "truncated"
	case BadCheckpoint:
		return "bad checkpoint"
	}
	return fmt.Sprintf("damage(%d)", uint8(d))
}

// Problem is the first damage Verify found.
type Problem struct {
	Seq    uint64 // the first bad sequence number
	Damage Damage
	Detail string
}

func (p *Problem) String() string {
	return fmt.Sprintf("entry %d: %s: %s", p.Seq, p.Damage, p.Detail)
}

// Report is the outcome of Verify.
type Report struct {
	Entries        uint64   // rows read
	LastSeq        uint64   // highest seq stored
	Checkpoints    int      // checkpoints in the database
	External       int      // checkpoints in the external file
	SignedThrough  uint64   // highest seq sealed by a valid checkpoint
	Problem        *Problem // nil when the ledger is intact
	UnsignedTailOK bool     // entries after SignedThrough chain correctly (but are not sealed)
}

// OK reports whether no damage was found.
func (r *Report) OK() bool { return r.Problem == nil }

// VerifyOptions names what Verify reads.
type VerifyOptions struct {
	Dir            string            // data directory holding ledger.db
	PublicKey      ed25519.PublicKey // checkpoint key; if nil, derived from KeyPath
	KeyPath        string            // default DefaultKeyPath(Dir)
	CheckpointFile string            // optional external checkpoint file
}

// Verify opens the ledger in opt.Dir read-only and checks it. See
// (*Ledger).Verify.
func Verify(ctx context.Context, opt VerifyOptions) (Report, error) {
	const op = "ledger.Verify"
	pub := opt.PublicKey
	if pub == nil {
		kp := opt.KeyPath
		if kp == "" {
			kp = DefaultKeyPath(opt.Dir)
		}
		k, err := LoadKey(kp)
		if err != nil {
			return Report{}, errs.E(op, err)
		}
		pub = k.Public()
	}
	st, err := openSQLite(ctx, filepath.Join(opt.Dir, DBName), true)
	if err != nil {
		return Report{}, errs.E(op, err)
	}
	defer st.close()
	return verify(ctx, st, pub, opt.CheckpointFile)
}

// Verify recomputes the whole chain and checks every checkpoint against
// the ledger's own key and external file. It reports the first bad
// sequence number; an error means Verify could not read the ledger.
func (l *Ledger) Verify(ctx context.Context) (Report, error) {
	return verify(ctx, l.st, l.key.Public(), l.opt.CheckpointFile)
}

func verify(ctx context.Context, st *sqliteStore, pub ed25519.PublicKey, cpFile string) (Report, error) {
	const op = "ledger.Verify"
	var rep Report
	cps, err := st.checkpoints(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	rep.Checkpoints = len(cps)
	ext, err := ReadCheckpointFile(cpFile)
	if err != nil {
		return rep, errs.E(op, err)
	}
	rep.External = len(ext)
	var first *Problem
	note := func(p *Problem) {
		if first == nil || p.Seq < first.Seq {
			first = p
		}
	}
	// Checkpoints: each signature must verify; remember the sealed hashes
	// to compare with the chain as it is scanned.
	sealed := map[uint64][32]byte{}
	for i, c := range append(cps, ext...) {
		where := "database"
		if i >= len(cps) {
			where = "external file"
		}
		if !c.VerifySig(pub) {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: fmt.Sprintf("checkpoint in %s does not verify with key %s", where, keyID(pub))})
			continue
		}
		if h, ok := sealed[c.Seq]; ok && h != c.Hash {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: "two validly signed checkpoints disagree (key compromised?)"})
		}
		sealed[c.Seq] = c.Hash
	}

	if rep.LastSeq, _, _, err = st.last(ctx); err != nil {
		return rep, errs.E(op, err)
	}
	var expect uint64 = 1
	var prev [32]byte
	var chainBad *Problem
	var lastCPGood uint64 // highest checkpoint seq whose hash matched so far
	err = st.scan(ctx, 1, func(r *row) error {
		rep.Entries++
		if r.seq != expect {
			chainBad = &Problem{Seq: expect, Damage: Missing, Detail: fmt.Sprintf("entries %d to %d are absent", expect, r.seq-1)}
			return errStop
		}
		h := sha256.Sum256(r.body)
		if p := checkRow(ctx, st, r, h, prev); p != nil {
			chainBad = p
			return errStop
		}
		if want, ok := sealed[r.seq]; ok {
			if want != r.hash {
				chainBad = &Problem{Seq: lastCPGood + 1, Damage: Edited,
					Detail: fmt.Sprintf("the chain after entry %d was rewritten: entry %d does not match its signed checkpoint", lastCPGood, r.seq)}
				return errStop
			}
			lastCPGood = r.seq
		}
		prev = r.hash
		expect++
		return nil
	})
	if err != nil && err != errStop {
		return rep, errs.E(op, err)
	}
	if chainBad != nil {
		note(chainBad)
	}
	for seq := range sealed {
		if seq > rep.LastSeq {
			note(&Problem{Seq: rep.LastSeq + 1, Damage: Truncated,
				Detail: fmt.Sprintf("a signed checkpoint seals entry %d but the ledger ends at %d", seq, rep.LastSeq)})
		}
	}
	rep.SignedThrough = lastCPGood
	rep.Problem = first
	rep.UnsignedTailOK = first == nil && rep.LastSeq > lastCPGood
	return rep, nil
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop error = stopErr{}

// checkRow checks one row at its expected place; h is SHA-256 of its body,
// prev the hash of the entry before it. It returns nil when the row is
// sound, else the best description of the damage.
func checkRow(ctx context.Context, st *sqliteStore, r *row, h, prev [32]byte) *Problem {
	b := r.body
	if len(b) < offVar+1 || b[0] != encodingV1 {
		return &Problem{Seq: r.seq, Damage: Edited, Detail: "entry body is not a canonical v1 encoding"}
	}
	if h != r.hash {
		return &Problem{Seq: r.seq, Damage: Edited, Detail: "content does not match the stored hash"}
	}
	bodySeq := binary.BigEndian.Uint64(b[offSeq:])
	var bodyPrev [32]byte
	copy(bodyPrev[:], b[offPrev:offPrev+32])
	if bodySeq != r.seq {
		if bodySeq > r.seq {
			// The entry written as bodySeq sits at r.seq: the ones in
			// between were deleted and the rest renumbered, or moved.
			if _, found, _ := st.seqOfHash(ctx, bodyPrev); found {
				return &Problem{Seq: r.seq, Damage: Reordered, Detail: fmt.Sprintf("entry written as %d is stored as %d", bodySeq, r.seq)}
			}
			return &Problem{Seq: r.seq, Damage: Missing, Detail: fmt.Sprintf("entries %d to %d were deleted and the rest renumbered", r.seq, bodySeq-1)}
		}
		if s, found, _ := st.seqOfHash(ctx, h); found && s != r.seq {
			return &Problem{Seq: r.seq, Damage: Inserted, Detail: fmt.Sprintf("a copy of entry %d was inserted", s)}
		}
		// bodySeq < r.seq while every earlier place checked out: entries
		// were slipped in at bodySeq..r.seq-1 with forged hashes.
		return &Problem{Seq: bodySeq, Damage: Inserted, Detail: fmt.Sprintf("entry written as %d is stored as %d: %d forged entries inserted", bodySeq, r.seq, r.seq-bodySeq)}
	}
	if bodyPrev != prev {
		if r.seq == 1 {
			return &Problem{Seq: 1, Damage: Edited, Detail: "the first entry does not start the chain"}
		}
		return &Problem{Seq: r.seq - 1, Damage: Edited, Detail: fmt.Sprintf("entry %d was rewritten with a fresh hash: entry %d links to a different one", r.seq-1, r.seq)}
	}
	// The filter columns are copies of the body; tampering with them hides
	// rows from exports, so it counts as an edit.
	if int64(binary.BigEndian.Uint64(b[offTime:])) != r.timeNS || Kind(binary.BigEndian.Uint16(b[offKind:])) != r.kind {
		return &Problem{Seq: r.seq, Damage: Edited, Detail: "time or kind column differs from the hashed body"}
	}
	n, k := binary.Uvarint(b[offVar:])
	if k <= 0 || uint64(len(b)-offVar-k) < n || string(b[offVar+k:offVar+k+int(n)]) != r.site {
		return &Problem{Seq: r.seq, Damage: Edited, Detail: "site column differs from the hashed body"}
	}
	return nil
}
