package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// plan is one camera's segments to destroy in a run.
type plan struct {
	camera string
	segs   []store.Brief
	note   string // added to the run's detail for this camera's receipt and 파기 row
}

// intent is the pending file written, fsynced, before any key of a run is
// destroyed: the receipts as they will be if every planned segment goes.
// Recovery completes them from what the index no longer holds.
type intent struct {
	Format   string    `json:"format"` // "gwanje-destruction-intent v1"
	Run      string    `json:"run"`
	Created  time.Time `json:"created"`
	Receipts []Receipt `json:"receipts"`
}

const intentFormat = "gwanje-destruction-intent v1"

func (e *Engine) receiptDir() string { return filepath.Join(e.opt.Dir, "receipts") }
func (e *Engine) pendingDir() string { return filepath.Join(e.opt.Dir, "receipts", "pending") }

// ReceiptPath is where receipt id lives in data directory dir.
func ReceiptPath(dir, id string) string { return filepath.Join(dir, "receipts", id+".json") }

// destroy destroys the planned segments, BatchSize per index transaction,
// and returns one signed receipt per camera that lost footage. The intent
// is durable before the first key goes; receipts and ledger rows follow;
// the intent is removed last.
func (e *Engine) destroy(ctx context.Context, reason Reason, actor, detail string, plans []plan) ([]*Receipt, error) {
	const op = "retention.destroy"
	if len(plans) == 0 {
		return nil, nil
	}
	now := e.clk.Now()
	in := &intent{Format: intentFormat, Run: now.UTC().Format("20060102T150405.000000000Z") + "-" + string(reason), Created: now}
	var ids []int64
	for _, p := range plans {
		d := detail
		if p.note != "" {
			d = strings.TrimPrefix(d+"; "+p.note, "; ")
		}
		r := Receipt{Format: ReceiptFormat, ID: in.Run + "-" + p.camera, Camera: p.camera, Site: e.opt.Rules.Site(p.camera),
			Reason: reason, Actor: actor, Detail: d}
		for i := range p.segs {
			r.Segments = append(r.Segments, destroyedOf(&p.segs[i], e.loc))
			ids = append(ids, p.segs[i].ID)
		}
		in.Receipts = append(in.Receipts, r)
	}
	if err := e.writeIntent(in); err != nil {
		return nil, errs.E(op, err)
	}
	t0 := time.Now()                        // for the log: where a large run spends its time
	gone := make(map[int64]int64, len(ids)) // id → when its key was destroyed
	d := e.st.NewDestruction()
	var derr error
	for start := 0; start < len(ids); start += e.cfg.BatchSize {
		batch := ids[start:min(start+e.cfg.BatchSize, len(ids))]
		res, err := d.Destroy(ctx, batch)
		if res != nil {
			for _, s := range res.Segments {
				gone[s.ID] = res.At
			}
		}
		if err != nil {
			derr = err
			break
		}
	}
	// Once for the whole run: the WAL checkpointed (no page image of a
	// destroyed key left in it), each directory fsynced, the garbage
	// entries forgotten. Only then may a receipt say the keys are gone.
	t1 := time.Now()
	if err := d.Settle(ctx); err != nil {
		// The keys are gone from the index but not proven gone from its
		// WAL: the intent stays, and the next run or start-up settles the
		// garbage list and completes the receipts (recoverPending).
		return nil, errs.E(op, errors.Join(derr, err))
	}
	t2 := time.Now()
	rs, err := e.finish(ctx, in, gone, false)
	e.log.Info("destruction", "reason", reason, "segments", len(gone), "receipts", len(rs),
		"keys_and_files", t1.Sub(t0).Round(time.Millisecond), "settle", t2.Sub(t1).Round(time.Millisecond),
		"receipts_and_ledger", time.Since(t2).Round(time.Millisecond),
		"slowest_batch", d.SlowestBatch().Round(time.Millisecond))
	if err != nil {
		return rs, errs.E(op, err)
	}
	if derr != nil {
		return rs, errs.E(op, derr)
	}
	return rs, nil
}

func (e *Engine) writeIntent(in *intent) error {
	if err := os.MkdirAll(e.pendingDir(), 0o700); err != nil {
		return errs.E("retention.writeIntent", errs.IO, err)
	}
	b, err := json.Marshal(in)
	if err != nil {
		return errs.E("retention.writeIntent", errs.Internal, err)
	}
	if err := durable.WriteFile(filepath.Join(e.pendingDir(), in.Run+".json"), b, 0o600); err != nil {
		return errs.E("retention.writeIntent", errs.IO, err)
	}
	return nil
}

// finish turns an intent into receipts for the segments in gone (id → key
// destruction time, 90 kHz): signs and writes them, appends one ledger row
// each, then removes the intent.
func (e *Engine) finish(ctx context.Context, in *intent, gone map[int64]int64, recovered bool) ([]*Receipt, error) {
	const op = "retention.finish"
	var out []*Receipt
	for i := range in.Receipts {
		r := in.Receipts[i]
		var kept []Destroyed
		var last int64
		for _, s := range r.Segments {
			if t, ok := gone[s.ID]; ok {
				kept = append(kept, s)
				last = max(last, t)
			}
		}
		if len(kept) == 0 {
			continue
		}
		r.Segments, r.Recovered = kept, recovered
		r.DestroyedAt = at(last, e.loc)
		r.From, r.To, r.Bytes = kept[0].Start, kept[0].End, 0
		for _, s := range kept {
			if s.Start.Before(r.From) {
				r.From = s.Start
			}
			if s.End.After(r.To) {
				r.To = s.End
			}
			r.Bytes += s.Bytes
		}
		out = append(out, &r)
	}
	files, err := writeReceipts(e.receiptDir(), out, e.key.sign)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if err := e.record(ctx, in.Run, out, files, nil); err != nil {
		return out, errs.E(op, err)
	}
	if e.hook != nil {
		if err := e.hook("recorded"); err != nil {
			return out, errs.E(op, err)
		}
	}
	// The intent goes first: a note without its intent is never read.
	for _, p := range []string{filepath.Join(e.pendingDir(), in.Run+".json"), e.recordedPath(in.Run)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return out, errs.E(op, errs.IO, err)
		}
	}
	if err := durable.SyncDir(e.pendingDir()); err != nil {
		return out, errs.E(op, errs.IO, err)
	}
	return out, nil
}

// receiptWorkers is how many receipt files are written and fsynced at
// once: concurrent fsyncs share the file system's journal commits.
const receiptWorkers = 16

// writeReceipts signs receipts and writes their files crash-safely
// (temporary name, fsync, rename), several at a time, then fsyncs the
// directory once for all of them, and returns the files' bytes. Receipts
// are never overwritten or deleted.
func writeReceipts(dir string, rs []*Receipt, sign func(*Receipt) ([]byte, error)) ([][]byte, error) {
	const op = "retention.writeReceipts"
	if len(rs) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	files := make([][]byte, len(rs))
	err := parallel(len(rs), receiptWorkers, func(i int) error {
		b, err := sign(rs[i])
		if err != nil {
			return err
		}
		files[i] = b
		p := filepath.Join(dir, rs[i].ID+".json")
		tmp := p + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		_, err = f.Write(b)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp, p)
		}
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		return nil
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	if err := durable.SyncDir(dir); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return files, nil
}

// parallel calls f(0) … f(n-1), up to workers at once, and returns the
// first error.
func parallel(n, workers int, f func(i int) error) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	next := make(chan int)
	for range min(workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := f(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// ledgerWorkers is how many 파기 rows are appended at once, so the
// ledger's group commit writes many per fsync.
const ledgerWorkers = 16

// record appends one 파기 row per receipt of run; skip names receipts whose
// row already exists. The receipts whose rows were appended are then noted
// in receipts/pending/<run>.ledger (fsynced), so that recovery does not
// append them again even when the ledger cannot be queried.
func (e *Engine) record(ctx context.Context, run string, rs []*Receipt, files [][]byte, skip map[string]bool) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	var done []string
	sem := make(chan struct{}, ledgerWorkers)
	for i, r := range rs {
		if skip[r.ID] {
			continue
		}
		sum := sha256.Sum256(files[i])
		ent := ledger.Entry{Kind: ledger.Destruction, Actor: r.Actor, Site: r.Site, Cameras: []string{r.Camera},
			From: r.From, To: r.To, Object: ledgerObject(r), PurposeCategory: string(r.Reason), Purpose: r.Reason.Korean(),
			Form: "암호키 파기 및 파일 삭제 (복원 불가)",
			Detail: fmt.Sprintf("receipt sha256=%s; segments=%d; bytes=%d; signed by %s", hex.EncodeToString(sum[:]),
				len(r.Segments), r.Bytes, e.key.ID), Ref: r.Ref}
		if r.Detail != "" {
			ent.Detail += "; " + r.Detail
		}
		if r.Recovered {
			ent.Detail += "; completed at start-up after an interrupted run"
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := e.opt.Ledger.Append(ctx, ent)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && first == nil {
				first = errs.E("retention.record", fmt.Errorf("ledger row for receipt %s: %w", r.ID, err))
			}
			if err == nil {
				done = append(done, r.ID)
			}
		}()
	}
	wg.Wait()
	if len(done) > 0 {
		if err := appendLines(e.recordedPath(run), done); err != nil && first == nil {
			first = errs.E("retention.record", errs.IO, err)
		}
	}
	return first
}

// recordedPath is the note of the receipts of run whose 파기 rows exist.
func (e *Engine) recordedPath(run string) string { return filepath.Join(e.pendingDir(), run+".ledger") }

// appendLines appends lines to the file at path and fsyncs it.
func appendLines(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// ledgerObject is the 파일명/형태 of a 파기 row: the receipt's file.
func ledgerObject(r *Receipt) string { return "receipts/" + r.ID + ".json" }

// recoverPending completes the intents a crash left: for each planned
// segment the index no longer has, its key was destroyed, so it goes in a
// receipt marked recovered. A receipt already written is not written again,
// and its ledger row is appended only if the ledger (when it can be
// queried) does not have it.
func (e *Engine) recoverPending(ctx context.Context) error {
	const op = "retention.recoverPending"
	names, err := filepath.Glob(filepath.Join(e.pendingDir(), "*.json"))
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	if len(names) == 0 {
		return nil
	}
	// A run whose settling failed left garbage entries (and maybe page
	// images of destroyed keys in the WAL): settle them first.
	if err := e.st.FinishDestructions(ctx); err != nil {
		return errs.E(op, err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		var in intent
		if err := json.Unmarshal(b, &in); err != nil || in.Format != intentFormat {
			return errs.Errorf(op, errs.Corrupt, "%s is not a destruction intent (%v): move it aside after checking it", name, err)
		}
		now := media.Time90k(e.clk.Now())
		gone := map[int64]int64{}
		var pending []Receipt
		for _, r := range in.Receipts {
			if _, err := os.Stat(filepath.Join(e.receiptDir(), r.ID+".json")); err == nil {
				continue // written: only its ledger row may be missing
			}
			pending = append(pending, r)
			for _, s := range r.Segments {
				has, err := e.st.Has(ctx, s.ID)
				if err != nil {
					return errs.E(op, err)
				}
				if !has {
					gone[s.ID] = now
				}
			}
		}
		e.log.Warn("completing an interrupted destruction", "run", in.Run, "segments_destroyed", len(gone))
		written, files, err := e.readWritten(in)
		if err != nil {
			return errs.E(op, err)
		}
		skip, err := e.alreadyRecorded(ctx, in, written)
		if err != nil {
			return errs.E(op, err)
		}
		if err := e.record(ctx, in.Run, written, files, skip); err != nil {
			return errs.E(op, err)
		}
		in.Receipts = pending
		if _, err := e.finish(ctx, &in, gone, true); err != nil {
			return errs.E(op, err)
		}
	}
	return nil
}

// readWritten returns the receipts of an intent that were already written.
func (e *Engine) readWritten(in intent) ([]*Receipt, [][]byte, error) {
	var rs []*Receipt
	var files [][]byte
	for _, r := range in.Receipts {
		b, err := os.ReadFile(filepath.Join(e.receiptDir(), r.ID+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, nil, errs.E("retention.readWritten", errs.IO, err)
		}
		rr, _, err := ParseReceipt(b)
		if err != nil {
			return nil, nil, errs.E("retention.readWritten", err)
		}
		rs = append(rs, rr)
		files = append(files, b)
	}
	return rs, files, nil
}

// alreadyRecorded finds which written receipts of an interrupted run have
// their 파기 row: those noted in the run's .ledger note, and, when the
// ledger can be queried, every receipt a 파기 row names (its Object is the
// receipt's file; the whole ledger is searched, so a clock that differs
// between the engine and the ledger cannot hide a row). A row is repeated
// only if the ledger cannot be queried and the run died between the row's
// commit and the note's fsync; it is never missing.
func (e *Engine) alreadyRecorded(ctx context.Context, in intent, written []*Receipt) (map[string]bool, error) {
	skip := map[string]bool{}
	if len(written) == 0 {
		return skip, nil
	}
	b, err := os.ReadFile(e.recordedPath(in.Run))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E("retention.alreadyRecorded", errs.IO, err)
	}
	for _, id := range strings.Fields(string(b)) {
		skip[id] = true
	}
	q, ok := e.opt.Ledger.(interface {
		Query(context.Context, ledger.Filter) ([]ledger.Entry, error)
	})
	if !ok {
		return skip, nil
	}
	ents, err := q.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.Destruction}})
	if err != nil {
		return nil, err
	}
	objects := make(map[string]bool, len(ents))
	for _, en := range ents {
		objects[en.Object] = true
	}
	for _, w := range written {
		if objects[ledgerObject(w)] {
			skip[w.ID] = true
		}
	}
	return skip, nil
}

// DestroyRange destroys camera's footage in [from, to) for a data-subject
// deletion request (정보주체 삭제 요구): segments inside the range go
// whole, a segment partly inside is cut at chunk boundaries and its
// outside parts kept under new keys (store.DestroyRange). It writes the
// receipt and the 파기 row naming actor and detail (the request reference)
// and returns the receipt, or nil if the range held no footage. Footage
// under a hold is refused with errs.Conflict naming the holds: the owner
// releases its hold first, or destroys as that owner (DestroyRangeFor).
func (e *Engine) DestroyRange(ctx context.Context, camera string, from, to time.Time, actor, detail string) (*Receipt, error) {
	return e.destroyRange(ctx, "retention.DestroyRange", camera, from, to, actor, detail, "", "")
}

// DestroyRangeFor is DestroyRange for the owner of a hold: the holds of
// owner with reference ref (the request's own hold, which keeps its
// footage from retention while it is decided) do not block it; every other
// hold does. The receipt and its 파기 row carry ref (Receipt.Ref, the
// ledger row's Ref). The owner's hold stays: it is released by its owner
// as before (a request's after its grace).
func (e *Engine) DestroyRangeFor(ctx context.Context, camera string, from, to time.Time, actor, detail string, owner Owner, ref string) (*Receipt, error) {
	const op = "retention.DestroyRangeFor"
	if !owner.valid() || ref == "" {
		return nil, errs.Errorf(op, errs.Invalid, "an owner-aware destruction needs an owner and its reference")
	}
	return e.destroyRange(ctx, op, camera, from, to, actor, detail, owner, ref)
}

func (e *Engine) destroyRange(ctx context.Context, op, camera string, from, to time.Time, actor, detail string, owner Owner, ref string) (*Receipt, error) {
	if err := store.ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	if !to.After(from) {
		return nil, errs.Errorf(op, errs.Invalid, "range end %v is not after start %v", to, from)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	start, end := media.Time90k(from), media.Time90k(to)
	hs, err := e.holds.List(ctx, false)
	if err != nil {
		return nil, errs.E(op, err)
	}
	var blocking []string
	for _, h := range hs {
		if owner != "" && h.Owner == owner && h.Ref == ref {
			continue // the destroyer's own hold
		}
		if h.covers(camera, start, end) {
			blocking = append(blocking, fmt.Sprintf("%d (%s %s: %s)", h.ID, h.Owner, h.Ref, h.Reason))
		}
	}
	if len(blocking) > 0 {
		return nil, errs.Errorf(op, errs.Conflict, "camera %s footage in the range is held by hold %s", camera, strings.Join(blocking, ", "))
	}
	segs, err := e.st.Segments(ctx, camera, start, end)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if len(segs) == 0 {
		return nil, nil
	}
	p := plan{camera: camera}
	for _, s := range segs {
		if s.Open {
			return nil, errs.Errorf(op, errs.Conflict, "segment %d in the range is still being written; retry after it closes", s.ID)
		}
		b, err := e.st.Brief(ctx, s.ID)
		if err != nil {
			return nil, errs.E(op, err)
		}
		p.segs = append(p.segs, *b)
	}
	now := e.clk.Now()
	in := &intent{Format: intentFormat, Run: now.UTC().Format("20060102T150405.000000000Z") + "-" + string(ReasonDataSubject), Created: now}
	r := Receipt{Format: ReceiptFormat, ID: in.Run + "-" + camera, Camera: camera, Site: e.opt.Rules.Site(camera),
		Reason: ReasonDataSubject, Actor: actor, Detail: detail, Ref: ref}
	for i := range p.segs {
		r.Segments = append(r.Segments, destroyedOf(&p.segs[i], e.loc))
	}
	in.Receipts = []Receipt{r}
	if err := e.writeIntent(in); err != nil {
		return nil, errs.E(op, err)
	}
	res, derr := e.st.DestroyRange(ctx, camera, start, end)
	gone := map[int64]int64{}
	repl := map[int64][]int64{}
	if res != nil {
		for _, s := range res.Segments {
			gone[s.ID] = res.At
			repl[s.ID] = s.Replacements
		}
	}
	for i, s := range in.Receipts[0].Segments {
		in.Receipts[0].Segments[i].Replacements = repl[s.ID]
	}
	rs, err := e.finish(ctx, in, gone, false)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if derr != nil {
		return nil, errs.E(op, derr)
	}
	if len(rs) == 0 {
		return nil, nil
	}
	return rs[0], nil
}

// sortBriefs orders briefs oldest first.
func sortBriefs(bs []store.Brief) {
	slices.SortFunc(bs, func(a, b store.Brief) int {
		if a.Start != b.Start {
			return cmpInt(a.Start, b.Start)
		}
		return cmpInt(a.ID, b.ID)
	})
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
