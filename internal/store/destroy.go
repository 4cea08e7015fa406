package store

import (
	"context"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// DestroyedSegment is one destroyed segment, as a destruction receipt
// (파기 기록) needs it.
type DestroyedSegment struct {
	ID         int64
	Camera     string
	Start, End int64  // period of footage, 90 kHz wall clock
	Bytes      int64  // ciphertext size
	SHA256     []byte // ciphertext hash; nil if the segment never closed
	KeyID      string // master key the destroyed data key was wrapped under
	// Replacements are the segments DestroyRange wrote to keep the parts
	// of this segment outside the range (re-encrypted under new keys).
	Replacements []int64
}

// DestroyResult reports a destruction.
type DestroyResult struct {
	At       int64 // when the keys were destroyed, 90 kHz wall clock
	Segments []DestroyedSegment
}

// Destroy makes segments unrecoverable (crypto-shredding): in one
// transaction it deletes their rows, and with them the wrapped data keys,
// keeping a garbage entry for each; then it unlinks the files, checkpoints
// the index's WAL, fsyncs the directories and forgets the garbage entries.
// Once it returns without error, or once the first step committed and a
// later step failed, the footage is gone; a later Open finishes an
// interrupted destruction. A segment still being written (its row not yet
// closed) cannot be destroyed (errs.Conflict). To destroy many batches,
// use a Destruction: it settles them all at once.
func (s *Store) Destroy(ctx context.Context, ids []int64) (*DestroyResult, error) {
	const op = "store.Destroy"
	d := s.NewDestruction()
	res, err := d.Destroy(ctx, ids)
	if err != nil {
		return res, errs.E(op, err)
	}
	if err := d.Settle(ctx); err != nil {
		return res, errs.E(op, err)
	}
	return res, nil
}

// Destruction destroys segments batch by batch and then settles them once
// (docs/design/storage.md, "Destruction"): each Destroy deletes a batch's
// rows, and with them their wrapped keys, in one transaction and hands
// their files to background workers to unlink, so the next batch's
// transaction overlaps the unlinks; Settle, once for every batch, waits for
// the unlinks, checkpoints the WAL so no page image of a destroyed key is
// left in it, fsyncs each directory that lost a file, and forgets the
// garbage entries. Until Settle returns, the garbage entries make the
// destruction crash-safe: Open finishes it. A Destruction is used by one
// goroutine at a time.
type Destruction struct {
	s    *Store
	ids  []int64         // garbage entries handed to the unlinkers
	dirs map[string]bool // camera directories that lost files

	work chan GarbageRow // to the unlinkers; nil when none run
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error // first unlink error

	slowest time.Duration // longest batch transaction
}

// SlowestBatch is how long the longest batch's index transaction took: the
// longest a recorder's Create or Finish waited for it.
func (d *Destruction) SlowestBatch() time.Duration { return d.slowest }

// NewDestruction starts a destruction of one or more batches.
func (s *Store) NewDestruction() *Destruction {
	return &Destruction{s: s, dirs: map[string]bool{}}
}

// Destroy destroys the keys of one batch of closed segments in one index
// transaction and queues their files to be unlinked. It fails, changing
// nothing, with errs.NotExist if an id has no row and errs.Conflict if a
// segment is still being written; or with the error of an earlier batch's
// unlink. Once it returns a result the keys are gone, whatever follows.
func (d *Destruction) Destroy(ctx context.Context, ids []int64) (*DestroyResult, error) {
	const op = "store.Destruction.Destroy"
	s := d.s
	now := s.now90k()
	res := &DestroyResult{At: now}
	if err := d.failed(); err != nil {
		return nil, errs.E(op, err)
	}
	if len(ids) == 0 {
		return res, nil
	}
	// Trash refuses rows that are not closed: a segment being written
	// cannot be destroyed. One whose row the syncer has just closed can.
	t0 := time.Now()
	g, err := s.idx.Trash(ctx, ids, now)
	d.slowest = max(d.slowest, time.Since(t0))
	if err != nil {
		return nil, errs.E(op, err)
	}
	res.Segments = make([]DestroyedSegment, 0, len(g))
	for _, r := range g {
		res.Segments = append(res.Segments, DestroyedSegment{ID: r.SegmentID, Camera: r.Camera, Start: r.Start,
			End: r.End, Bytes: r.FileBytes, SHA256: r.SHA256, KeyID: r.KeyID})
	}
	if err := s.step("destroy.trashed"); err != nil {
		return res, errs.E(op, err)
	}
	d.unlink(g)
	return res, nil
}

// Settle makes every batch destroyed so far final: it waits for their
// files to be unlinked, checkpoints the index's WAL (so that no image of a
// page that held a destroyed key is left in it), fsyncs each directory
// that lost a file, and then forgets the garbage entries. After it returns
// without error, no destroyed key or file remains in the index, its WAL or
// the directories.
func (d *Destruction) Settle(ctx context.Context) error {
	const op = "store.Destruction.Settle"
	if d.work != nil {
		close(d.work)
		d.wg.Wait()
		d.work = nil
	}
	if err := d.failed(); err != nil {
		return errs.E(op, err)
	}
	if len(d.ids) == 0 {
		return nil
	}
	if err := d.s.step("destroy.unlinked"); err != nil {
		return errs.E(op, err)
	}
	if err := d.s.settle(ctx, d.ids, d.dirs); err != nil {
		return errs.E(op, err)
	}
	d.ids, d.dirs = nil, map[string]bool{}
	return nil
}

// unlinkWorkers is how many files a Destruction unlinks at once: unlink
// spends its time in the file system (its journal, freeing the inode), so
// several in flight go faster than one, even in one directory.
const unlinkWorkers = 8

// unlink queues the files of garbage rows to the unlinkers, starting them
// on first use, and remembers the rows for Settle.
func (d *Destruction) unlink(g []GarbageRow) {
	if d.work == nil {
		d.work = make(chan GarbageRow, 1<<16)
		for range unlinkWorkers {
			d.wg.Add(1)
			go func() {
				defer d.wg.Done()
				for r := range d.work {
					if err := d.s.files.Remove(r.Camera, r.SegmentID); err != nil {
						d.mu.Lock()
						if d.err == nil {
							d.err = err
						}
						d.mu.Unlock()
					}
				}
			}()
		}
	}
	for _, r := range g {
		d.ids = append(d.ids, r.SegmentID)
		d.dirs[r.Camera] = true
		d.work <- r
	}
}

func (d *Destruction) failed() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// forgetBatch is how many garbage entries one transaction forgets, so that
// a writer's Create waits for milliseconds, not for one huge delete.
const forgetBatch = 8192

// settle checkpoints the WAL, fsyncs dirs and forgets the garbage entries
// ids, whose files are unlinked.
func (s *Store) settle(ctx context.Context, ids []int64, dirs map[string]bool) error {
	if err := s.checkpoint(ctx); err != nil {
		return err
	}
	if err := s.step("destroy.checkpointed"); err != nil {
		return err
	}
	for cam := range dirs {
		if err := s.files.SyncDir(cam); err != nil {
			return err
		}
	}
	if err := s.step("destroy.synced"); err != nil {
		return err
	}
	for len(ids) > 0 {
		n := min(len(ids), forgetBatch)
		if err := s.idx.Forget(ctx, ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// checkpointer is an Index with a write-ahead log that can still hold
// page images of deleted rows (SQLite).
type checkpointer interface {
	Checkpoint(ctx context.Context) error
}

// checkpoint empties the index's WAL, if it has one.
func (s *Store) checkpoint(ctx context.Context) error {
	if c, ok := s.idx.(checkpointer); ok {
		return c.Checkpoint(ctx)
	}
	return nil
}

// removeFiles unlinks the files of garbage rows and settles them: WAL
// checkpoint, directory fsyncs, garbage entries forgotten.
func (s *Store) removeFiles(ctx context.Context, g []GarbageRow) error {
	d := s.NewDestruction()
	d.unlink(g)
	return d.Settle(ctx)
}

// FinishDestructions finishes every destruction the garbage list still
// holds, as Open does at start-up: it unlinks their files (absent is fine),
// checkpoints the WAL, fsyncs the directories and forgets the entries.
// Retention calls it before it completes the receipts of an interrupted
// run, so that no receipt names a key whose page image is still in the WAL.
func (s *Store) FinishDestructions(ctx context.Context) error {
	if err := s.finishGarbage(ctx); err != nil {
		return errs.E("store.FinishDestructions", err)
	}
	return nil
}
