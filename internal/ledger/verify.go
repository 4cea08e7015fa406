package ledger

import (
	"bytes"
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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
	// BadCheckpoint: a checkpoint's signature does not verify, or it is
	// signed by a key that is not in the trusted chain of keys for its seq.
	BadCheckpoint
	// BadRotation: a key rotation's statement does not verify, does not
	// continue the chain of keys, or is not what the chain holds.
	BadRotation
	// MissingCheckpoint: a witness holds a checkpoint the ledger lacks.
	MissingCheckpoint
	// UntrustedKey: no key of the ledger's chain of keys is the key verify
	// was told to trust.
	UntrustedKey
	damageEnd // keep last
)

// Damages returns every kind of damage, in order.
func Damages() []Damage {
	ds := make([]Damage, 0, damageEnd-1)
	for d := Edited; d < damageEnd; d++ {
		ds = append(ds, d)
	}
	return ds
}

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
	case BadRotation:
		return "bad key rotation"
	case MissingCheckpoint:
		return "missing checkpoint"
	case UntrustedKey:
		return "untrusted key"
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
	External       int      // checkpoints in the witnesses (and external file)
	Unwitnessed    int      // valid database checkpoints no witness holds (witnesses given)
	SignedThrough  uint64   // highest seq sealed by a valid checkpoint
	Problem        *Problem // nil when the ledger is intact
	UnsignedTailOK bool     // entries after SignedThrough chain correctly (but are not sealed)
	// Anchored: trust came from outside the data directory (a public key
	// or fingerprint given to Verify). When false, the ledger was checked
	// against the key found in the data directory: that proves nothing
	// against someone who can write there.
	Anchored bool
	// Trusted is the fingerprint of the trusted key that the ledger's
	// chain of keys contains ("" when none does).
	Trusted string
	// Keys is the ledger's chain of signing keys, oldest first.
	Keys []KeyUse
}

// OK reports whether no damage was found.
func (r *Report) OK() bool { return r.Problem == nil }

// VerifyOptions names what Verify reads.
type VerifyOptions struct {
	Dir string // data directory holding ledger.db
	// Trust and Fingerprints are the trust anchors, given from outside the
	// data directory: public keys, and full SHA-256 fingerprints (64 hex
	// digits) of public keys. The ledger verifies only if its chain of
	// signing keys contains one of them. A fingerprint's key is looked for
	// in the ledger's rotations and the data directory's key files.
	Trust        []ed25519.PublicKey
	Fingerprints []string
	// PublicKey is one more trusted key (kept for callers of the first
	// version).
	PublicKey ed25519.PublicKey
	// KeyPath is the signing key (default DefaultKeyPath(Dir)). Without
	// any anchor, the ledger is checked against it, and Report.Anchored is
	// false.
	KeyPath string
	// Witnesses are compared with the ledger: each of their checkpoints
	// must be in it and reproduced by its chain.
	Witnesses []Witness
	// CheckpointFile is one more witness (a FileWitness at this path).
	CheckpointFile string
	// Store, when set, is read instead of Dir/ledger.db (another
	// implementation of Store; Verify does not close it).
	Store Store
}

// trust is what Verify believes, resolved from VerifyOptions.
type trust struct {
	anchors  []ed25519.PublicKey // keys given from outside
	prints   []string            // fingerprints given from outside
	local    []ed25519.PublicKey // keys found in the data directory: candidates for prints, or the fallback
	anchored bool
}

// Verify opens the ledger in opt.Dir read-only and checks it. See
// (*Ledger).Verify.
func Verify(ctx context.Context, opt VerifyOptions) (Report, error) {
	const op = "ledger.Verify"
	tr := trust{anchors: slices.Clone(opt.Trust)}
	if opt.PublicKey != nil {
		tr.anchors = append(tr.anchors, opt.PublicKey)
	}
	for _, f := range opt.Fingerprints {
		f = strings.ToLower(strings.TrimSpace(f))
		if len(f) != 64 || strings.Trim(f, "0123456789abcdef") != "" {
			return Report{}, errs.Errorf(op, errs.Invalid, "fingerprint %q: want the 64 hex digits of the public key's SHA-256 (gwanje ledger key)", f)
		}
		tr.prints = append(tr.prints, f)
	}
	tr.anchored = len(tr.anchors)+len(tr.prints) > 0
	kp := opt.KeyPath
	if kp == "" {
		kp = DefaultKeyPath(opt.Dir)
	}
	k, kerr := LoadKey(kp)
	if kerr == nil {
		tr.local = append(tr.local, k.Public())
	}
	if pub, err := ReadPublicKey(PublicKeyPath(opt.Dir)); err == nil {
		tr.local = append(tr.local, pub)
	}
	if !tr.anchored && len(tr.local) == 0 {
		return Report{}, errs.E(op, kerr)
	}
	st := opt.Store
	if st == nil {
		sq, err := openSQLite(ctx, filepath.Join(opt.Dir, DBName), true)
		if err != nil {
			return Report{}, errs.E(op, err)
		}
		defer sq.Close()
		st = sq
	}
	ws := slices.Clone(opt.Witnesses)
	if opt.CheckpointFile != "" {
		ws = append(ws, FileWitness{Path: opt.CheckpointFile})
	}
	return verify(ctx, st, tr, ws)
}

// Verify recomputes the whole chain and checks every checkpoint against
// the ledger's own key and witnesses. It reports the first bad sequence
// number; an error means Verify could not read the ledger. Trust is in the
// anchors of Options (Trust, Fingerprints) when given, else in the key
// this process holds (Report.Anchored false).
func (l *Ledger) Verify(ctx context.Context) (Report, error) {
	tr := trust{anchors: l.opt.Trust, local: []ed25519.PublicKey{l.Key().Public()}}
	for _, f := range l.opt.Fingerprints {
		tr.prints = append(tr.prints, strings.ToLower(strings.TrimSpace(f)))
	}
	tr.anchored = len(tr.anchors)+len(tr.prints) > 0
	return verify(ctx, l.st, tr, l.opt.Witnesses)
}

// witnessed is a checkpoint and where it came from.
type witnessed struct {
	Checkpoint
	from string // "database" or the witness
}

func verify(ctx context.Context, st Store, tr trust, witnesses []Witness) (Report, error) {
	const op = "ledger.Verify"
	rep := Report{Anchored: tr.anchored}
	// One read transaction: packing moves rows between tables, and every
	// read must see the same side of each move.
	s, err := st.Snapshot(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	defer s.Close()
	cps, err := s.Checkpoints(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	rep.Checkpoints = len(cps)
	rots, err := s.Rotations(ctx)
	if err != nil {
		return rep, errs.E(op, err)
	}
	all := make([]witnessed, 0, len(cps))
	for _, c := range cps {
		all = append(all, witnessed{c, "database"})
	}
	readable := 0
	for _, w := range witnesses {
		ext, err := w.Checkpoints(ctx)
		if errors.Is(err, ErrWriteOnly) {
			continue
		}
		if err != nil {
			return rep, errs.E(op, err)
		}
		readable++
		rep.External += len(ext)
		for _, c := range ext {
			all = append(all, witnessed{c, "witness " + w.String()})
		}
	}
	var first *Problem
	note := func(p *Problem) {
		if first == nil || p.Seq < first.Seq {
			first = p
		}
	}
	// The chain of keys: from the rotations, anchored by a trusted key.
	keys, rotSeals := keyChain(rots, tr, cps, note)
	rep.Keys = keys
	for _, k := range keys {
		if tr.matches(k.Public) {
			rep.Trusted = k.Fingerprint
		}
	}
	if rep.Trusted == "" && len(keys) > 0 {
		ids := make([]string, len(keys))
		for i, k := range keys {
			ids[i] = k.ID
		}
		note(&Problem{Seq: 1, Damage: UntrustedKey, Detail: fmt.Sprintf("the ledger is signed by key(s) %s; none is the key you trust (%s)",
			strings.Join(ids, ", "), tr.describe())})
		keys = nil // nothing they sign counts
	}
	if len(keys) == 0 && rep.Trusted == "" && len(rep.Keys) == 0 {
		note(&Problem{Seq: 1, Damage: UntrustedKey, Detail: fmt.Sprintf("no public key with the trusted fingerprint (%s) was found; give it with -pubkey", tr.describe())})
	}
	// Checkpoints: each signature must verify with the key of the chain
	// that covers its seq; remember the sealed hashes to compare with the
	// chain as it is walked.
	valid := verifySigs(all, keys)
	sealed := map[uint64][32]byte{}
	inDB := make(map[uint64]bool, len(cps))
	for i, c := range all {
		if !valid[i] {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: fmt.Sprintf("checkpoint in %s, signed by key %s, does not verify with the trusted key for entry %d", c.from, c.KeyID, c.Seq)})
			continue
		}
		if h, ok := sealed[c.Seq]; ok && h != c.Hash {
			note(&Problem{Seq: c.Seq, Damage: BadCheckpoint, Detail: "two validly signed checkpoints disagree (key compromised?)"})
		}
		sealed[c.Seq] = c.Hash
		if i < len(cps) {
			inDB[c.Seq] = true
		} else if !inDB[c.Seq] {
			note(&Problem{Seq: c.Seq, Damage: MissingCheckpoint, Detail: fmt.Sprintf("checkpoint of entry %d is in %s but not in the ledger: checkpoints were deleted", c.Seq, c.from)})
		}
	}
	if readable > 0 {
		inWitness := map[uint64]bool{}
		for i, c := range all[len(cps):] {
			if valid[len(cps)+i] {
				inWitness[c.Seq] = true
			}
		}
		for seq := range inDB {
			if !inWitness[seq] {
				rep.Unwitnessed++
			}
		}
	}
	seals := make([]seal, 0, len(sealed)+len(rotSeals))
	for seq, h := range sealed {
		seals = append(seals, seal{seq: seq, hash: h})
	}
	for _, r := range rotSeals {
		if h, ok := sealed[r.seq]; ok {
			if h != r.hash {
				note(&Problem{Seq: r.seq, Damage: BadRotation, Detail: fmt.Sprintf("the key rotation recorded at entry %d is not the entry its checkpoint seals", r.seq)})
			}
			continue
		}
		seals = append(seals, r)
	}
	slices.SortFunc(seals, func(a, b seal) int { return cmp.Compare(a.seq, b.seq) })

	if rep.LastSeq, err = s.LastSeq(ctx); err != nil {
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
	// Every key rotation in the chain must be one the chain of keys was
	// built from: a rotation record deleted to hide a key change is found.
	for _, seq := range w.rots {
		if !slices.ContainsFunc(rotSeals, func(r seal) bool { return r.seq == seq }) {
			note(&Problem{Seq: seq, Damage: BadRotation, Detail: fmt.Sprintf("entry %d is a key rotation, but the ledger's rotation records lack it", seq)})
			break
		}
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
	// the end of the walk was truncated. A rotation that the chain does not
	// hold at its place was removed or rewritten.
	before := uint64(0)
	for _, c := range seals {
		if c.seq == w.cpSeq {
			if c.rotation {
				noteCP(c.seq, &Problem{Seq: c.seq, Damage: BadRotation,
					Detail: fmt.Sprintf("the ledger records a key rotation at entry %d, but the chain holds another entry there", c.seq)})
			} else {
				noteCP(c.seq, &Problem{Seq: before + 1, Damage: Edited,
					Detail: fmt.Sprintf("entries %d to %d were rewritten: entry %d does not match its signed checkpoint", before+1, c.seq, c.seq)})
			}
			break
		}
		if chainBad == nil && c.seq > w.end {
			what := "a signed checkpoint seals"
			if c.rotation {
				what = "a signed key rotation is"
			}
			noteCP(c.seq, &Problem{Seq: w.end + 1, Damage: Truncated,
				Detail: fmt.Sprintf("%s entry %d but the ledger ends at %d", what, c.seq, w.end)})
			break
		}
		if !c.rotation {
			before = c.seq
		}
	}
	for _, c := range seals {
		if !c.rotation && c.seq <= rep.LastSeq && (first == nil || c.seq < first.Seq) {
			rep.SignedThrough = c.seq
		}
	}
	rep.Problem = first
	rep.UnsignedTailOK = first == nil && rep.LastSeq > rep.SignedThrough
	return rep, nil
}

// matches reports whether pub is one of the trusted keys (or, without any
// anchor, one of the data directory's).
func (tr *trust) matches(pub ed25519.PublicKey) bool {
	if !tr.anchored {
		return len(tr.local) > 0 && tr.local[0].Equal(pub)
	}
	for _, a := range tr.anchors {
		if a.Equal(pub) {
			return true
		}
	}
	return slices.Contains(tr.prints, Fingerprint(pub))
}

func (tr *trust) describe() string {
	if !tr.anchored {
		if len(tr.local) == 0 {
			return "none"
		}
		return "the data directory's key " + keyID(tr.local[0])
	}
	var ds []string
	for _, a := range tr.anchors {
		ds = append(ds, "key "+keyID(a))
	}
	for _, p := range tr.prints {
		ds = append(ds, "fingerprint "+p)
	}
	return strings.Join(ds, ", ")
}

// keyChain builds the ledger's chain of signing keys from its rotation
// records, each of which must be a well-formed rotation entry whose
// statement verifies and continues the chain; the first that does not is
// noted and ends the chain before it. Without rotations the chain is one
// key: a trusted one (the one that signed the first checkpoint, if several
// are given), a data-directory key that a trusted fingerprint names, or,
// without any anchor, the data directory's key. It also returns each
// accepted rotation's (seq, hash), for the walk to check that the chain
// holds that very entry.
func keyChain(rots []Record, tr trust, cps []Checkpoint, note func(*Problem)) ([]KeyUse, []seal) {
	use := func(pub ed25519.PublicKey, first uint64) KeyUse {
		return KeyUse{ID: keyID(pub), Fingerprint: Fingerprint(pub), First: first, Public: pub}
	}
	var keys []KeyUse
	var seals []seal
	for _, r := range rots {
		bad := func(format string, a ...any) {
			note(&Problem{Seq: r.Seq, Damage: BadRotation, Detail: fmt.Sprintf(format, a...)})
		}
		if sha256.Sum256(r.Body) != r.Hash {
			bad("the key rotation record of entry %d does not match its hash", r.Seq)
			break
		}
		e, err := Decode(r.Body)
		if err != nil || e.Seq != r.Seq {
			bad("the key rotation record of entry %d is not that entry", r.Seq)
			break
		}
		rot, err := ParseRotation(&e)
		if err != nil {
			bad("%v", err)
			break
		}
		if !rot.Valid() {
			bad("the key rotation at entry %d is not signed by both its old and its new key", r.Seq)
			break
		}
		if len(keys) == 0 {
			keys = append(keys, use(rot.Old, 1))
		} else if last := &keys[len(keys)-1]; !last.Public.Equal(rot.Old) {
			bad("the key rotation at entry %d replaces key %s, but the key then was %s", r.Seq, keyID(rot.Old), last.ID)
			break
		}
		keys[len(keys)-1].Last = r.Seq
		keys = append(keys, use(rot.New, r.Seq+1))
		seals = append(seals, seal{seq: r.Seq, hash: r.Hash, rotation: true})
	}
	if len(keys) > 0 {
		return keys, seals
	}
	var pick ed25519.PublicKey
	switch {
	case !tr.anchored:
		if len(tr.local) > 0 {
			pick = tr.local[0]
		}
	case len(tr.anchors) > 0:
		pick = tr.anchors[0]
		for _, a := range tr.anchors {
			if len(cps) > 0 && keyID(a) == cps[0].KeyID {
				pick = a
			}
		}
	default:
		for _, l := range tr.local {
			if slices.Contains(tr.prints, Fingerprint(l)) {
				pick = l
			}
		}
	}
	if pick == nil {
		return nil, nil
	}
	return []KeyUse{use(pick, 1)}, nil
}

// verifySigs checks the checkpoints' signatures on every core: an Ed25519
// verification costs as much as hashing a few hundred entries, and a quiet
// ledger has a checkpoint every few entries. A checkpoint that appears
// twice (in the database and a witness) is verified once. A checkpoint is
// valid when the key of the chain that covers its seq has its key id and
// its signature verifies.
func verifySigs(cps []witnessed, keys []KeyUse) []bool {
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
	check := func(c *Checkpoint) bool {
		for i := range keys {
			if k := &keys[i]; k.covers(c.Seq) && k.ID == c.KeyID {
				return c.VerifySig(k.Public)
			}
		}
		return false
	}
	workers := max(min(runtime.GOMAXPROCS(0), len(todo)/64), 1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(todo); k += workers {
				valid[todo[k]] = check(&cps[todo[k]].Checkpoint)
			}
		}()
	}
	wg.Wait()
	for i, j := range dup {
		valid[i] = valid[j]
	}
	return valid
}

// seal is a validly signed checkpoint's (seq, hash), or an accepted key
// rotation's: the chain must hold that hash at seq.
type seal struct {
	seq      uint64
	hash     [32]byte
	rotation bool
}

// chunkRows is about how many entries one hashing job holds.
const chunkRows = 4096

// chunk is a run of stored units in walk order, checked by one worker.
type chunk struct {
	idx   int64 // place in walk order
	units []Unit
	res   *chunkResult
}

// chunkResult is what a worker found in a chunk. The worker checks every
// row against the one before it inside the chunk; the first row's place
// and link depend on the chunk before, so walkChain checks it.
type chunkResult struct {
	has     bool     // the chunk has at least one row
	first   Record   // its first row
	firstH  [32]byte // SHA-256 of first's body
	n       uint64   // entries after the first checked, the bad one included
	bad     *Problem // the first damage after the first row
	row     *Record  // the row checkRow found bad, to classify again with lookups
	h, prev [32]byte // its computed hash and the hash it should link to
	cpSeq   uint64   // first sealed seq whose stored hash differs from its checkpoint
	end     uint64   // place of the last row
	endHash [32]byte // its stored hash
	rots    []uint64 // places of key rotation entries checked sound
}

// walked is the outcome of walkChain.
type walked struct {
	entries uint64   // entries checked up to the first damage
	end     uint64   // last place walked (meaningful when bad is nil)
	bad     *Problem // the first damage in walk order
	cpSeq   uint64   // first sealed seq whose stored hash differs (0: none)
	rots    []uint64 // places of key rotation entries, up to the first damage
}

// walkChain checks every stored row in place order. This goroutine reads
// packs and rows from SQLite and hands them out in chunks; GOMAXPROCS
// workers parse, hash and check them. The result is that of one
// sequential walk: chunks are joined in order, each one's first row
// checked against the end of the one before, and the first damage in that
// order is the answer.
func walkChain(ctx context.Context, s Snapshot, seals []seal) (walked, error) {
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
			var buf []Record
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
		cur, rows = &chunk{units: make([]Unit, 0, len(cur.units))}, 0
		return true
	}
	walkErr := s.Walk(ctx, func(u Unit) error {
		cur.units = append(cur.units, u)
		if u.Packed && u.Last >= u.First {
			rows += int(min(u.Last-u.First+1, chunkRows))
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
	lookup := func(h [32]byte, not uint64) (uint64, bool) { return seqOfHash(ctx, s, h, not) }
	expect, prev := uint64(1), [32]byte{}
	for _, r := range results {
		if r.has {
			w.entries++
			if fr := &r.first; fr.Seq != expect {
				w.bad = misplaced(fr.Seq, expect)
				break
			} else if p := checkRow(fr, r.firstH, prev, lookup); p != nil {
				w.bad = p
				break
			}
		}
		w.entries += r.n
		w.rots = append(w.rots, r.rots...)
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
func checkChunk(c *chunk, seals []seal, buf []Record) []Record {
	res := c.res
	var expect uint64
	var prev [32]byte
	si := -1
	for ui := range c.units {
		u := &c.units[ui]
		rows, perr := u.Records(buf[:0])
		buf = rows
		for i := range rows {
			r := &rows[i]
			h := sha256.Sum256(r.Body)
			if !res.has {
				// Copy the body: the chunk's pack blobs must not outlive
				// its check (results are kept until the walk ends).
				res.has, res.first, res.firstH = true, *r, h
				res.first.Body = bytes.Clone(r.Body)
				si, _ = slices.BinarySearchFunc(seals, r.Seq, func(s seal, seq uint64) int { return cmp.Compare(s.seq, seq) })
			} else {
				res.n++
				if r.Seq != expect {
					res.bad = misplaced(r.Seq, expect)
					return buf
				}
				if p := checkRow(r, h, prev, nil); p != nil {
					rc := *r
					rc.Body = bytes.Clone(r.Body)
					res.bad, res.row, res.h, res.prev = p, &rc, h, prev
					return buf
				}
			}
			for si < len(seals) && seals[si].seq < r.Seq {
				si++
			}
			if si < len(seals) && seals[si].seq == r.Seq && seals[si].hash != r.Hash && res.cpSeq == 0 {
				res.cpSeq = r.Seq
			}
			if len(r.Body) >= offVar && binary.BigEndian.Uint16(r.Body[offKind:]) == uint16(KeyRotation) {
				res.rots = append(res.rots, r.Seq)
			}
			prev, expect = r.Hash, r.Seq+1
		}
		if u.Packed {
			switch {
			case perr != nil:
				res.bad = &Problem{Seq: u.First + uint64(len(rows)), Damage: Edited,
					Detail: fmt.Sprintf("the %s row of entries from %d is not a valid pack encoding: %v", u.Table, u.First, perr)}
				return buf
			case len(rows) == 0 || u.Last != u.First+uint64(len(rows))-1:
				res.bad = &Problem{Seq: u.First, Damage: Edited,
					Detail: fmt.Sprintf("the %s row of entries from %d holds %d entries but says it ends at %d", u.Table, u.First, len(rows), u.Last)}
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
func checkRow(r *Record, h, prev [32]byte, lookup func(h [32]byte, not uint64) (uint64, bool)) *Problem {
	if lookup == nil {
		lookup = func([32]byte, uint64) (uint64, bool) { return 0, false }
	}
	b := r.Body
	if len(b) < offVar+1 || (b[0] != encodingV1 && b[0] != encodingV2) {
		return &Problem{Seq: r.Seq, Damage: Edited, Detail: "entry body is not a canonical v1 or v2 encoding"}
	}
	if h != r.Hash {
		return &Problem{Seq: r.Seq, Damage: Edited, Detail: "content does not match the stored hash"}
	}
	bodySeq := binary.BigEndian.Uint64(b[offSeq:])
	var bodyPrev [32]byte
	copy(bodyPrev[:], b[offPrev:offPrev+32])
	if bodySeq != r.Seq {
		if bodySeq > r.Seq {
			// The entry written as bodySeq sits at r.seq: the ones in
			// between were deleted and the rest renumbered, or moved.
			if _, found := lookup(bodyPrev, 0); found {
				return &Problem{Seq: r.Seq, Damage: Reordered, Detail: fmt.Sprintf("entry written as %d is stored as %d", bodySeq, r.Seq)}
			}
			return &Problem{Seq: r.Seq, Damage: Missing, Detail: fmt.Sprintf("entries %d to %d were deleted and the rest renumbered", r.Seq, bodySeq-1)}
		}
		if s, found := lookup(h, r.Seq); found {
			return &Problem{Seq: r.Seq, Damage: Inserted, Detail: fmt.Sprintf("a copy of entry %d was inserted", s)}
		}
		// bodySeq < r.seq while every earlier place checked out: entries
		// were slipped in at bodySeq..r.seq-1 with forged hashes.
		return &Problem{Seq: bodySeq, Damage: Inserted, Detail: fmt.Sprintf("entry written as %d is stored as %d: %d forged entries inserted", bodySeq, r.Seq, r.Seq-bodySeq)}
	}
	if bodyPrev != prev {
		if r.Seq == 1 {
			return &Problem{Seq: 1, Damage: Edited, Detail: "the first entry does not start the chain"}
		}
		return &Problem{Seq: r.Seq - 1, Damage: Edited, Detail: fmt.Sprintf("entry %d was rewritten with a fresh hash: entry %d links to a different one", r.Seq-1, r.Seq)}
	}
	return nil
}
