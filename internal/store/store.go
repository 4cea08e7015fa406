// Package store is gwanje's encrypted, crash-safe segment store: per-camera
// writers that cut footage into segments of sealed chunks, an index of
// segments, start-up recovery of crashed segments, reading for playback,
// crypto-shredding destruction for retention, and Check, which verifies the
// invariants of docs/design/storage.md on a data directory.
package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// Defaults for Config.
const (
	DefaultSegmentDuration = 60 * time.Second
	DefaultChunkDuration   = time.Second
	DefaultSyncInterval    = time.Second
)

// Config configures a Store.
type Config struct {
	// Dir is the data directory (index.db, segments/, store.lock).
	Dir string
	// Keys are the master keys; the active one wraps new data keys.
	Keys *seal.Keyring
	// SegmentDuration is how long a segment runs before it is cut at the
	// next key frame.
	SegmentDuration time.Duration
	// ChunkDuration is how much footage one sealed chunk holds; it bounds
	// what a crash loses.
	ChunkDuration time.Duration
	// SyncInterval bounds how long written chunks wait for fsync.
	SyncInterval time.Duration
	Logger       *slog.Logger
	Clock        clock.Clock
	// Index and Files replace the SQLite index and local disk (tests and
	// other backends). Nil means index.db and segments/ under Dir.
	Index Index
	Files Files
}

var cameraRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// ValidCamera checks a camera id: [a-z0-9][a-z0-9_-]{0,63}.
func ValidCamera(camera string) error {
	if !cameraRE.MatchString(camera) {
		return errs.Errorf("store.ValidCamera", errs.Invalid, "camera id %q must match [a-z0-9][a-z0-9_-]{0,63}", camera)
	}
	return nil
}

// Store is an open data directory.
type Store struct {
	cfg   Config
	log   *slog.Logger
	idx   Index
	files Files
	lock  *os.File

	syncMu sync.Mutex // one sync pass at a time

	mu      sync.Mutex
	live    map[int64]*liveSeg // segments being written or closed
	writers map[string]*Writer
	closed  bool

	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	// hook, if set, is called at named steps of destruction and
	// recovery; an error aborts there, simulating a crash (tests).
	hook func(step string) error
}

// Open locks the data directory, opens and migrates the index, and runs
// start-up recovery (docs/design/storage.md).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	const op = "store.Open"
	if cfg.Dir == "" {
		return nil, errs.Errorf(op, errs.Invalid, "no data directory")
	}
	if cfg.Keys == nil {
		return nil, errs.Errorf(op, errs.Invalid, "no master keys")
	}
	if cfg.SegmentDuration <= 0 {
		cfg.SegmentDuration = DefaultSegmentDuration
	}
	if cfg.ChunkDuration <= 0 {
		cfg.ChunkDuration = DefaultChunkDuration
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = DefaultSyncInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, errs.E(op, err)
	}
	s := &Store{cfg: cfg, log: cfg.Logger, lock: lock, idx: cfg.Index, files: cfg.Files,
		live: map[int64]*liveSeg{}, writers: map[string]*Writer{},
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if s.idx == nil {
		if s.idx, err = OpenSQLite(ctx, filepath.Join(cfg.Dir, "index.db")); err != nil {
			lock.Close()
			return nil, errs.E(op, err)
		}
	}
	if s.files == nil {
		if s.files, err = NewDisk(filepath.Join(cfg.Dir, "segments")); err != nil {
			s.idx.Close()
			lock.Close()
			return nil, errs.E(op, err)
		}
	}
	if err := s.recover(ctx); err != nil {
		s.idx.Close()
		lock.Close()
		return nil, errs.E(op, err)
	}
	go s.syncLoop()
	return s, nil
}

// lockDir takes the directory's flock so two recorders cannot share it.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "store.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errs.E("store.lock", errs.IO, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, errs.Errorf("store.lock", errs.Conflict, "data directory %s is in use by another gwanje process", dir)
		}
		return nil, errs.E("store.lock", errs.IO, err)
	}
	return f, nil
}

// Close closes every writer (ending their segments durably), stops the
// syncer and releases the directory.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	ws := make([]*Writer, 0, len(s.writers))
	for _, w := range s.writers {
		ws = append(ws, w)
	}
	s.mu.Unlock()
	var first error
	for _, w := range ws {
		if err := w.Close(); err != nil && first == nil {
			first = err
		}
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	if err := s.idx.Close(); err != nil && first == nil {
		first = err
	}
	s.lock.Close()
	return first
}

// abandon simulates kill -9 in tests: nothing is flushed or closed, the
// syncer stops, the lock is released.
func (s *Store) abandon() {
	s.mu.Lock()
	s.closed = true
	for _, l := range s.live {
		l.file.Close()
	}
	s.mu.Unlock()
	close(s.stop)
	<-s.done
	s.idx.Close()
	s.lock.Close()
}

func (s *Store) step(name string) error {
	if s.hook != nil {
		return s.hook(name)
	}
	return nil
}

func (s *Store) now90k() int64 { return media.Time90k(s.cfg.Clock.Now()) }

// stagger is how much shorter a camera's first segment is, so that
// cameras started together do not all cut (and fsync) at once.
func (s *Store) stagger(camera string) int64 {
	h := fnv.New32a()
	io.WriteString(h, camera)
	seg := s.segment90k()
	return int64(h.Sum32()) % seg
}

func (s *Store) segment90k() int64 {
	return int64(s.cfg.SegmentDuration) * media.Hz / int64(time.Second)
}
func (s *Store) chunk90k() int64 { return int64(s.cfg.ChunkDuration) * media.Hz / int64(time.Second) }

// unwrap returns the data key of a row.
func (s *Store) unwrap(r *Row) (*seal.DataKey, error) {
	dk, err := s.cfg.Keys.Unwrap(r.WrappedKey, r.ID, r.KeyID)
	if err != nil {
		return nil, errs.E("store.unwrap", errs.Corrupt, err)
	}
	return dk, nil
}

func openParams(dk *seal.DataKey, r *Row) (*media.Params, error) {
	b, err := dk.OpenBlob(r.ID, "params", r.ParamsSealed)
	if err != nil {
		return nil, errs.E("store.params", errs.Corrupt, err)
	}
	p, err := decodeParams(b)
	if err != nil {
		return nil, errs.E("store.params", errs.Corrupt, fmt.Errorf("segment %d: %v", r.ID, err))
	}
	if p.Codec != r.Codec {
		return nil, errs.Errorf("store.params", errs.Corrupt, "segment %d: params codec %v, row codec %v", r.ID, p.Codec, r.Codec)
	}
	return p, nil
}

// recover runs start-up recovery: finish destructions, close or delete
// open rows from their files, remove orphan files.
func (s *Store) recover(ctx context.Context) error {
	const op = "store.recover"
	if err := s.finishGarbage(ctx); err != nil {
		return errs.E(op, err)
	}
	open, err := s.idx.Open(ctx)
	if err != nil {
		return errs.E(op, err)
	}
	for i := range open {
		if r := &open[i]; r.State == StateReplacing {
			// DestroyRange did not commit: the original is intact.
			s.log.Info("removing unfinished replacement segment", "camera", r.Camera, "segment", r.ID)
			if err := s.deleteSegment(ctx, r); err != nil {
				return errs.E(op, err)
			}
			continue
		}
		if err := s.recoverSegment(ctx, &open[i]); err != nil {
			return errs.E(op, err)
		}
	}
	files, err := s.files.List()
	if err != nil {
		return errs.E(op, err)
	}
	dirs := map[string]bool{}
	for _, f := range files {
		if _, err := s.idx.Get(ctx, f.ID); err == nil {
			continue
		} else if !errs.Is(err, errs.NotExist) {
			return errs.E(op, err)
		}
		s.log.Warn("removing segment file without an index row", "camera", f.Camera, "segment", f.ID, "bytes", f.Size)
		if err := s.files.Remove(f.Camera, f.ID); err != nil {
			return errs.E(op, err)
		}
		dirs[f.Camera] = true
	}
	for d := range dirs {
		if err := s.files.SyncDir(d); err != nil {
			return errs.E(op, err)
		}
	}
	return nil
}

func (s *Store) finishGarbage(ctx context.Context) error {
	g, err := s.idx.Garbage(ctx)
	if err != nil || len(g) == 0 {
		return err
	}
	s.log.Info("finishing interrupted destruction", "segments", len(g))
	return s.removeFiles(ctx, g)
}

// recoverSegment closes an open row from its file, or deletes both when
// nothing complete remains.
func (s *Store) recoverSegment(ctx context.Context, r *Row) error {
	const op = "store.recoverSegment"
	dk, err := s.unwrap(r)
	if err != nil {
		return errs.E(op, fmt.Errorf("segment %d of camera %s: %w (is its master key %s in the keyring?)", r.ID, r.Camera, err, r.KeyID))
	}
	f, err := s.files.Open(r.Camera, r.ID)
	if errs.Is(err, errs.NotExist) {
		s.log.Warn("open segment has no file; deleting its row", "camera", r.Camera, "segment", r.ID)
		return s.idx.Delete(ctx, r.ID)
	}
	if err != nil {
		return errs.E(op, err)
	}
	rb := rebuilder{start: r.Start}
	res, err := seal.Scan(f, f.Size(), dk, rb.chunk)
	size := f.Size()
	f.Close()
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	if len(res.Chunks) == 0 {
		s.log.Warn("open segment has no complete chunk; deleting it", "camera", r.Camera, "segment", r.ID, "stop", res.Stop.String(), "reason", res.Reason)
		return s.deleteSegment(ctx, r)
	}
	if res.Stop != seal.StopEnd {
		s.log.Warn("recovering segment: cutting its tail", "camera", r.Camera, "segment", r.ID,
			"stop", res.Stop.String(), "reason", res.Reason, "kept_bytes", res.End, "file_bytes", size)
	}
	if err := s.files.Truncate(r.Camera, r.ID, res.End); err != nil {
		return errs.E(op, err)
	}
	if err := s.step("recover.truncated"); err != nil {
		return err
	}
	// Hash the kept prefix.
	f, err = s.files.Open(r.Camera, r.ID)
	if err != nil {
		return errs.E(op, err)
	}
	h := sha256.New()
	_, err = io.Copy(h, io.NewSectionReader(f, 0, res.End))
	f.Close()
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	for i, c := range res.Chunks {
		rb.chunks[i].Offset, rb.chunks[i].Size = c.Offset, c.Size
	}
	fillCounts(r, rb.frames, rb.chunks)
	r.FileBytes, r.SHA256 = res.End, h.Sum(nil)
	s.log.Info("recovered segment", "camera", r.Camera, "segment", r.ID, "frames", r.Frames, "bytes", r.FileBytes)
	return s.idx.Finish(ctx, r)
}

// deleteSegment deletes a row that holds no footage, then its file.
func (s *Store) deleteSegment(ctx context.Context, r *Row) error {
	if err := s.idx.Delete(ctx, r.ID); err != nil {
		return err
	}
	if err := s.files.Remove(r.Camera, r.ID); err != nil {
		return err
	}
	return s.files.SyncDir(r.Camera)
}

// fillCounts sets a row's end, counts and frame index from its frames.
func fillCounts(r *Row, frames []FrameInfo, chunks []chunkInfo) {
	r.End, r.Frames, r.KeyFrames, r.MediaBytes = r.Start, len(frames), 0, 0
	for _, f := range frames {
		r.End += f.Duration
		r.MediaBytes += int64(f.Size)
		if f.Key {
			r.KeyFrames++
		}
	}
	r.FrameIndex = encodeIndex(frames, chunks)
}

// rebuilder collects the frame index of a crashed segment from its chunks.
type rebuilder struct {
	start  int64
	next   int64
	frames []FrameInfo
	chunks []chunkInfo
	buf    []FrameInfo
}

func (rb *rebuilder) chunk(seq uint64, p []byte) error {
	fs, _, err := decodeChunk(p, rb.buf)
	if err != nil {
		return err
	}
	rb.buf = fs
	want := rb.start
	if len(rb.frames) > 0 {
		want = rb.next
	}
	if fs[0].Wall != want {
		return fmt.Errorf("chunk starts at %d, want %d", fs[0].Wall, want)
	}
	if len(rb.frames) == 0 && !fs[0].Key {
		return errors.New("segment does not start with a key frame")
	}
	rb.chunks = append(rb.chunks, chunkInfo{First: len(rb.frames), Frames: len(fs)})
	rb.frames = append(rb.frames, fs...)
	last := fs[len(fs)-1]
	rb.next = last.Wall + last.Duration
	return nil
}
