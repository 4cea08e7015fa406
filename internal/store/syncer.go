package store

import (
	"context"
	"slices"

	"github.com/gwanje/gwanje/internal/errs"
)

func (s *Store) kickSyncer() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// syncLoop is the one goroutine that fsyncs segment files: every
// SyncInterval (or when a segment ends) it syncs every file with unsynced
// data and closes the segments that ended. Writers never wait for it.
func (s *Store) syncLoop() {
	defer close(s.done)
	for {
		select {
		case <-s.stop:
			s.syncPass()
			return
		case <-s.kick:
		case <-s.cfg.Clock.After(s.cfg.SyncInterval):
		}
		s.syncPass()
	}
}

// Sync makes every chunk written so far durable now, and closes ended
// segments. The syncer does this on its own; Sync is for shutdown paths
// and tests.
func (s *Store) Sync() { s.syncPass() }

func (s *Store) syncPass() {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	ls := make([]*liveSeg, 0, len(s.live))
	for _, l := range s.live {
		ls = append(ls, l)
	}
	s.mu.Unlock()
	slices.SortFunc(ls, func(a, b *liveSeg) int { return int(a.row.ID - b.row.ID) })
	for _, l := range ls {
		l.mu.Lock()
		dirty, ending := l.dirty, l.ending
		l.dirty = false
		l.mu.Unlock()
		if dirty && !ending {
			if err := l.file.Sync(); err != nil {
				s.log.Error("fsync segment", "camera", l.row.Camera, "segment", l.row.ID, "err", err)
				l.mu.Lock()
				l.dirty = true
				l.mu.Unlock()
			}
		}
		if ending {
			s.finish(l)
		}
	}
}

// finish makes an ended segment durable and closes its row: fsync the
// file, then mark the row closed. A segment with no complete chunk is
// deleted.
func (s *Store) finish(l *liveSeg) {
	const op = "store.finish"
	ctx := context.Background()
	r := l.row
	err := func() error {
		l.mu.Lock()
		failed, size := l.failed, l.size
		l.mu.Unlock()
		if failed != nil {
			if err := l.file.Truncate(size); err != nil {
				return errs.E(op, errs.IO, err)
			}
		}
		if len(l.frames) == 0 {
			l.file.Close()
			if err := s.idx.Delete(ctx, r.ID); err != nil {
				return err
			}
			if err := s.files.Remove(r.Camera, r.ID); err != nil {
				return err
			}
			return s.files.SyncDir(r.Camera)
		}
		if err := l.file.Sync(); err != nil {
			return errs.E(op, errs.IO, err)
		}
		if err := l.file.Close(); err != nil {
			return errs.E(op, errs.IO, err)
		}
		fillCounts(&r, l.frames, l.chunks)
		r.FileBytes, r.SHA256 = size, l.hash.Sum(nil)
		return s.idx.Finish(ctx, &r)
	}()
	if err != nil {
		// The row stays open; the next start-up recovers it from the file.
		s.log.Error("closing segment", "camera", r.Camera, "segment", r.ID, "err", err)
	}
	l.err = err
	s.mu.Lock()
	delete(s.live, r.ID)
	s.mu.Unlock()
	close(l.done)
}
