package ledger

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

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
	Entries        uint64   // entries checked (the walk stops at the first damage)
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
	// One read transaction: packing moves rows between tables, and every
	// read must see the same side of each move.
	s, err := st.snapshot(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	defer s.close()
	cps, err := s.checkpoints(ctx)
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
	// to compare with the chain as it is walked.
	all := append(cps, ext...)
	valid := verifySigs(all, pub)
	sealed := map[uint64][32]byte{}
	for i, c := range all {
		where := "database"
		if i >= len(cps) {
			where = "external file"
		}
		if !valid[i] {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: fmt.Sprintf("checkpoint in %s does not verify with key %s", where, keyID(pub))})
			continue
		}
		if h, ok := sealed[c.Seq]; ok && h != c.Hash {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: "two validly signed checkpoints disagree (key compromised?)"})
		}
		sealed[c.Seq] = c.Hash
	}
	seals := make([]seal, 0, len(sealed))
	for seq, h := range sealed {
		seals = append(seals, seal{seq, h})
	}
	slices.SortFunc(seals, func(a, b seal) int { return cmp.Compare(a.seq, b.seq) })

	if rep.LastSeq, err = s.lastSeq(ctx); err != nil {
		return rep, errs.E(op, err)
	}
	w, err := walkChain(ctx, s, seals)
	if err != nil {
		return rep, errs.E(op, err)
	}
	rep.Entries = w.entries
	chainBad := w.bad
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
	// proven is the one after the previous checkpoint. A sealed entry past
	// the end of the walk was truncated.
	for i, c := range seals {
		var before uint64
		if i > 0 {
			before = seals[i-1].seq
		}
		if c.seq == w.cpSeq {
			noteCP(c.seq, &Problem{Seq: before + 1, Damage: Edited,
				Detail: fmt.Sprintf("entries %d to %d were rewritten: entry %d does not match its signed checkpoint", before+1, c.seq, c.seq)})
			break
		}
		if chainBad == nil && c.seq > w.end {
			noteCP(c.seq, &Problem{Seq: w.end + 1, Damage: Truncated,
				Detail: fmt.Sprintf("a signed checkpoint seals entry %d but the ledger ends at %d", c.seq, w.end)})
			break
		}
	}
	for _, c := range seals {
		if c.seq <= rep.LastSeq && (first == nil || c.seq < first.Seq) {
			rep.SignedThrough = c.seq
		}
	}
	rep.Problem = first
	rep.UnsignedTailOK = first == nil && rep.LastSeq > rep.SignedThrough
	return rep, nil
}

// verifySigs checks the checkpoints' signatures on every core: an Ed25519
// verification costs as much as hashing a few hundred entries, and a quiet
// ledger has a checkpoint every few entries. A checkpoint that appears
// twice (in the database and the external file) is verified once.
func verifySigs(cps []Checkpoint, pub ed25519.PublicKey) []bool {
	valid := make([]bool, len(cps))
	seen := make(map[string]int, len(cps))
	var todo []int
	dup := make([]int, len(cps))
	for i := range cps {
		k := string(cps[i].line())
		if j, ok := seen[k]; ok {
			dup[i] = j
			continue
		}
		seen[k], dup[i] = i, i
		todo = append(todo, i)
	}
	workers := max(min(runtime.GOMAXPROCS(0), len(todo)/64), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(todo); k += workers {
				valid[todo[k]] = cps[todo[k]].VerifySig(pub)
			}
		}()
	}
	wg.Wait()
	for i, j := range dup {
		valid[i] = valid[j]
	}
	return valid
}

// seal is a validly signed checkpoint's (seq, hash).
type seal struct {
	seq  uint64
	hash [32]byte
}

// chunkRows is about how many entries one hashing job holds.
const chunkRows = 4096

// chunk is a run of stored units in walk order, checked by one worker.
type chunk struct {
	idx   int64 // place in walk order
	units []unit
	res   *chunkResult
}

// chunkResult is what a worker found in a chunk. The worker checks every
// row against the one before it inside the chunk; the first row's place
// and link depend on the chunk before, so walkChain checks it.
type chunkResult struct {
	has     bool     // the chunk has at least one row
	first   row      // its first row
	firstH  [32]byte // SHA-256 of first's body
	n       uint64   // entries after the first checked, the bad one included
	bad     *Problem // the first damage after the first row
	row     *row     // the row checkRow found bad, to classify again with lookups
	h, prev [32]byte // its computed hash and the hash it should link to
	cpSeq   uint64   // first sealed seq whose stored hash differs from its checkpoint
	end     uint64   // place of the last row
	endHash [32]byte // its stored hash
}

// walked is the outcome of walkChain.
type walked struct {
	entries uint64   // entries checked up to the first damage
	end     uint64   // last place walked (meaningful when bad is nil)
	bad     *Problem // the first damage in walk order
	cpSeq   uint64   // first sealed seq whose stored hash differs (0: none)
}

// walkChain checks every stored row in place order. This goroutine reads
// packs and rows from SQLite and hands them out in chunks; GOMAXPROCS
// workers parse, hash and check them. The result is that of one
// sequential walk: chunks are joined in order, each one's first row
// checked against the end of the one before, and the first damage in that
// order is the answer.
func walkChain(ctx context.Context, s *snapshot, seals []seal) (walked, error) {
	var w walked
	workers := max(runtime.GOMAXPROCS(0), 1)
	work := make(chan *chunk, 2*workers)
	var wg sync.WaitGroup
	// firstBad is the index of the first chunk known damaged: the reader
	// stops once nothing it reads can change the answer.
	var firstBad atomic.Int64
	firstBad.Store(math.MaxInt64)
	var results []*chunkResult
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []row
			for c := range work {
				buf = checkChunk(c, seals, buf)
				for c.res.bad != nil {
					cur := firstBad.Load()
					if c.idx >= cur || firstBad.CompareAndSwap(cur, c.idx) {
						break
					}
				}
			}
		}()
	}
	cur := &chunk{}
	rows := 0
	flush := func() bool {
		if len(cur.units) == 0 {
			return true
		}
		cur.idx, cur.res = int64(len(results)), &chunkResult{}
		results = append(results, cur.res)
		if firstBad.Load() < cur.idx {
			return false
		}
		work <- cur
		cur, rows = &chunk{units: make([]unit, 0, len(cur.units))}, 0
		return true
	}
	walkErr := s.walk(ctx, func(u unit) error {
		cur.units = append(cur.units, u)
		if u.packed && u.last >= u.first {
			rows += int(min(u.last-u.first+1, chunkRows))
		} else {
			rows++
		}
		if rows >= chunkRows && !flush() {
			return errStop
		}
		return nil
	})
	if walkErr == nil {
		flush()
	}
	close(work)
	wg.Wait()
	if walkErr != nil && walkErr != errStop {
		return w, walkErr
	}
	lookup := func(h [32]byte, not uint64) (uint64, bool) { return s.seqOfHash(ctx, h, not) }
	expect, prev := uint64(1), [32]byte{}
	for _, r := range results {
		if r.has {
			w.entries++
			if fr := &r.first; fr.seq != expect {
				w.bad = misplaced(fr.seq, expect)
				break
			} else if p := checkRow(fr, r.firstH, prev, lookup); p != nil {
				w.bad = p
				break
			}
		}
		w.entries += r.n
		if w.cpSeq == 0 {
			w.cpSeq = r.cpSeq
		}
		if r.bad != nil {
			w.bad = r.bad
			if r.row != nil {
				w.bad = checkRow(r.row, r.h, r.prev, lookup)
			}
			break
		}
		if r.has {
			expect, prev, w.end = r.end+1, r.endHash, r.end
		}
	}
	return w, nil
}

// misplaced describes a row found at place seq where expect was due.
func misplaced(seq, expect uint64) *Problem {
	if seq > expect {
		return &Problem{Seq: expect, Damage: Missing, Detail: absent(expect, seq-1)}
	}
	return &Problem{Seq: seq, Damage: Inserted, Detail: fmt.Sprintf("entry %d is stored twice (in two overlapping rows)", seq)}
}

// checkChunk parses c's units and checks each row after the first against
// the one before it, as a sequential walk would, stopping at the first
// damage; it compares each sealed row's stored hash with its seal. buf is
// scratch space, returned for reuse.
func checkChunk(c *chunk, seals []seal, buf []row) []row {
	res := c.res
	var expect uint64
	var prev [32]byte
	si := -1
	for ui := range c.units {
		u := &c.units[ui]
		rows, perr := u.rows(buf[:0])
		buf = rows
		for i := range rows {
			r := &rows[i]
			h := sha256.Sum256(r.body)
			if !res.has {
				// Copy the body: the chunk's pack blobs must not outlive
				// its check (results are kept until the walk ends).
				res.has, res.first, res.firstH = true, *r, h
				res.first.body = bytes.Clone(r.body)
				si, _ = slices.BinarySearchFunc(seals, r.seq, func(s seal, seq uint64) int { return cmp.Compare(s.seq, seq) })
			} else {
				res.n++
				if r.seq != expect {
					res.bad = misplaced(r.seq, expect)
					return buf
				}
				if p := checkRow(r, h, prev, nil); p != nil {
					rc := *r
					rc.body = bytes.Clone(r.body)
					res.bad, res.row, res.h, res.prev = p, &rc, h, prev
					return buf
				}
			}
			for si < len(seals) && seals[si].seq < r.seq {
				si++
			}
			if si < len(seals) && seals[si].seq == r.seq && seals[si].hash != r.hash && res.cpSeq == 0 {
				res.cpSeq = r.seq
			}
			prev, expect = r.hash, r.seq+1
		}
		if u.packed {
			switch {
			case perr != nil:
				res.bad = &Problem{Seq: u.first + uint64(len(rows)), Damage: Edited,
					Detail: fmt.Sprintf("the %s row of entries from %d is not a valid pack encoding: %v", u.table, u.first, perr)}
				return buf
			case len(rows) == 0 || u.last != u.first+uint64(len(rows))-1:
				res.bad = &Problem{Seq: u.first, Damage: Edited,
					Detail: fmt.Sprintf("the %s row of entries from %d holds %d entries but says it ends at %d", u.table, u.first, len(rows), u.last)}
				return buf
			}
		}
	}
	res.end, res.endHash = expect-1, prev
	return buf
}

func absent(from, to uint64) string {
	if from == to {
		return fmt.Sprintf("entry %d is absent", from)
	}
	return fmt.Sprintf("entries %d to %d are absent", from, to)
}

type stopErr struct{}

func (stopErr) Error() string { return "stop" }

var errStop error = stopErr{}

// checkRow checks one row at its expected place; h is SHA-256 of its body,
// prev the hash of the entry before it. It returns nil when the row is
// sound, else the best description of the damage. lookup finds the place
// of another stored entry whose hash is h (nil: none is looked for; the
// walk calls checkRow again with a lookup for the one problem it reports).
func checkRow(r *row, h, prev [32]byte, lookup func(h [32]byte, not uint64) (uint64, bool)) *Problem {
	if lookup == nil {
		lookup = func([32]byte, uint64) (uint64, bool) { return 0, false }
	}
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
			if _, found := lookup(bodyPrev, 0); found {
				return &Problem{Seq: r.seq, Damage: Reordered, Detail: fmt.Sprintf("entry written as %d is stored as %d", bodySeq, r.seq)}
			}
			return &Problem{Seq: r.seq, Damage: Missing, Detail: fmt.Sprintf("entries %d to %d were deleted and the rest renumbered", r.seq, bodySeq-1)}
		}
		if s, found := lookup(h, r.seq); found {
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
