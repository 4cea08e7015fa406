package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

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
	Entries        uint64   // rows checked (the walk stops at the first damage)
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
	// The chain is checked in parallel ranges; each range starts from the
	// stored hash of the entry before it, and the range boundaries are
	// themselves links that the next range checks.
	parts := uint64(runtime.GOMAXPROCS(0))
	if rep.LastSeq < 10_000 || parts < 1 {
		parts = 1
	}
	type result struct {
		n   uint64
		bad *Problem
		err error
	}
	res := make([]result, parts)
	var wg sync.WaitGroup
	step := rep.LastSeq/parts + 1
	for i := uint64(0); i < parts; i++ {
		from, to := 1+i*step, 1+(i+1)*step
		if i == parts-1 {
			to = 0 // to the end, including rows past LastSeq appended meanwhile
		}
		wg.Add(1)
		go func(i, from, to uint64) {
			defer wg.Done()
			res[i].n, res[i].bad, res[i].err = verifyRange(ctx, st, from, to, sealed)
		}(i, from, to)
	}
	wg.Wait()
	var chainBad *Problem
	for _, r := range res {
		if r.err != nil {
			return rep, errs.E(op, r.err)
		}
		rep.Entries += r.n
		if r.bad != nil && (chainBad == nil || r.bad.Seq < chainBad.Seq) {
			chainBad = r.bad
		}
	}
	if chainBad != nil {
		note(chainBad)
	}
	// A checkpoint mismatch only bounds the damage to a range; a chain
	// problem inside that range is the more precise answer.
	noteCP := func(sealedSeq uint64, p *Problem) {
		if chainBad == nil || chainBad.Seq > sealedSeq {
			note(p)
		}
	}
	// A sealed hash that does not match means the entries after the
	// previous checkpoint were rewritten consistently; the first entry not
	// proven is the one after the previous checkpoint.
	seqs := make([]uint64, 0, len(sealed))
	for seq := range sealed {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for i, seq := range seqs {
		if seq > rep.LastSeq {
			noteCP(seq, &Problem{Seq: rep.LastSeq + 1, Damage: Truncated,
				Detail: fmt.Sprintf("a signed checkpoint seals entry %d but the ledger ends at %d", seq, rep.LastSeq)})
			break
		}
		h, ok, err := st.hashAt(ctx, seq)
		if err != nil {
			return rep, errs.E(op, err)
		}
		if ok && h != sealed[seq] {
			var before uint64
			if i > 0 {
				before = seqs[i-1]
			}
			noteCP(seq, &Problem{Seq: before + 1, Damage: Edited,
				Detail: fmt.Sprintf("entries %d to %d were rewritten: entry %d does not match its signed checkpoint", before+1, seq, seq)})
			break
		}
	}
	for _, seq := range seqs {
		if seq <= rep.LastSeq && (first == nil || seq < first.Seq) {
			rep.SignedThrough = seq
		}
	}
	rep.Problem = first
	rep.UnsignedTailOK = first == nil && rep.LastSeq > rep.SignedThrough
	return rep, nil
}

// verifyRange checks the chain for from <= seq < to (to 0: to the end).
func verifyRange(ctx context.Context, st *sqliteStore, from, to uint64, sealed map[uint64][32]byte) (uint64, *Problem, error) {
	var prev [32]byte
	linked := true
	if from > 1 {
		h, ok, err := st.hashAt(ctx, from-1)
		if err != nil {
			return 0, nil, err
		}
		// A missing predecessor is reported by the range that owns it.
		prev, linked = h, ok
	}
	expect := from
	var n uint64
	var bad *Problem
	err := st.scan(ctx, from, to, func(r *row) error {
		n++
		if r.seq != expect {
			bad = &Problem{Seq: expect, Damage: Missing, Detail: absent(expect, r.seq-1)}
			return errStop
		}
		h := sha256.Sum256(r.body)
		if !linked {
			prev = bodyPrev(r.body)
			linked = true
		}
		if p := checkRow(ctx, st, r, h, prev); p != nil {
			bad = p
			return errStop
		}
		prev = r.hash
		expect++
		return nil
	})
	if err != nil && err != errStop {
		return n, nil, err
	}
	if bad == nil && to != 0 && expect != to {
		bad = &Problem{Seq: expect, Damage: Missing, Detail: absent(expect, to-1)}
	}
	return n, bad, nil
}

func absent(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("entry %d is absent", from)
	}
	return fmt.Sprintf("entries %d to %d are absent", from, to)
}

func bodyPrev(b []byte) [32]byte {
	var p [32]byte
	if len(b) >= offPrev+32 {
		copy(p[:], b[offPrev:offPrev+32])
	}
	return p
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
	return nil
}
