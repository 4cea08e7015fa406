package ledger

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	sealkey "github.com/gwanje/gwanje/internal/seal"
)

// Appender is what other packages need from the ledger: a durable append.
// Append returns only once the entry is durable (fsynced), so a caller
// that serves footage after a nil error has its ledger row on disk. Tests
// elsewhere fake it with AppenderFunc.
type Appender interface {
	Append(ctx context.Context, e Entry) (Entry, error)
}

// AppenderFunc adapts a function to Appender (for fakes and fault hooks).
type AppenderFunc func(ctx context.Context, e Entry) (Entry, error)

// Append calls f.
func (f AppenderFunc) Append(ctx context.Context, e Entry) (Entry, error) { return f(ctx, e) }

// Options configures Open.
type Options struct {
	// Dir is the data directory; the ledger lives in Dir/ledger.db.
	Dir string
	// KeyPath is the checkpoint signing key; default Dir/keys/ledger-signing.key.
	// In production it belongs outside the data directory, readable by the
	// service account only (docs/guide/running.md).
	KeyPath string
	// Witnesses each receive every checkpoint, fsynced, after it is
	// committed (keep them outside the data directory).
	Witnesses []Witness
	// CheckpointFile, when set, is one more witness: a FileWitness at this
	// path.
	CheckpointFile string
	// Trust and Fingerprints are trust anchors given from outside the data
	// directory (ledger.trusted_public_key, ledger.trusted_fingerprint):
	// (*Ledger).Verify then accepts the chain only if its signing keys
	// lead to one of them, as `gwanje ledger verify` does, instead of
	// trusting the key this process signs with.
	Trust        []ed25519.PublicKey
	Fingerprints []string
	// CheckpointEvery is the number of entries between checkpoints (default 1000).
	CheckpointEvery uint64
	// CheckpointInterval is the longest time a new entry waits for a
	// checkpoint, checked at each append and by Checkpoint (default 1 minute).
	CheckpointInterval time.Duration
	// MaxBatch bounds how many concurrent appends share one commit (default 1024).
	MaxBatch int
	// Store, when set, is where the ledger lives instead of Dir/ledger.db
	// (another implementation of Store; Dir still names the data
	// directory for the public key copy). Close closes it.
	Store  Store
	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default slog.Default
}

// DBName is the ledger's database file name inside the data directory.
const DBName = "ledger.db"

// DefaultKeyPath returns where the signing key lives for a data directory.
func DefaultKeyPath(dir string) string { return filepath.Join(dir, "keys", "ledger-signing.key") }

// Ledger is the SQLite-backed ledger. It is safe for concurrent use.
type Ledger struct {
	opt  Options
	key  *Key
	st   Store
	reqs chan *appendReq
	quit chan struct{}
	done chan struct{}

	closeMu  sync.RWMutex // held for reading while queueing, for writing by Close
	commitMu sync.Mutex   // held by the writer's commit and by RotateKey
	mu       sync.Mutex   // guards head, lastCP, closed, key
	head     head
	lastCP   head
	closed   bool
}

type head struct {
	seq  uint64
	hash [32]byte
	time time.Time
}

type appendReq struct {
	e    Entry
	resp chan appendResp
}

type appendResp struct {
	e   Entry
	err error
}

// Open opens (creating on first run) the ledger in opt.Dir and its signing
// key, and starts the group-commit writer.
func Open(ctx context.Context, opt Options) (*Ledger, error) {
	const op = "ledger.Open"
	if opt.Dir == "" {
		return nil, errs.Errorf(op, errs.Invalid, "ledger needs a data directory")
	}
	if opt.KeyPath == "" {
		opt.KeyPath = DefaultKeyPath(opt.Dir)
	}
	if opt.CheckpointEvery == 0 {
		opt.CheckpointEvery = 1000
	}
	if opt.CheckpointInterval == 0 {
		opt.CheckpointInterval = time.Minute
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 1024
	}
	if opt.Clock == nil {
		opt.Clock = clock.Real{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.CheckpointFile != "" {
		opt.Witnesses = append(slices.Clip(opt.Witnesses), FileWitness{Path: opt.CheckpointFile})
	}
	for _, f := range opt.Fingerprints {
		if f = strings.ToLower(strings.TrimSpace(f)); len(f) != 64 || strings.Trim(f, "0123456789abcdef") != "" {
			return nil, errs.Errorf(op, errs.Invalid, "trusted fingerprint %q: want the 64 hex digits of the public key's SHA-256 (gwanje ledger key)", f)
		}
	}
	st := opt.Store
	if st == nil {
		var err error
		if st, err = OpenSQLite(ctx, filepath.Join(opt.Dir, DBName), false); err != nil {
			return nil, errs.E(op, err)
		}
	}
	l := &Ledger{opt: opt, st: st, reqs: make(chan *appendReq, opt.MaxBatch), quit: make(chan struct{}), done: make(chan struct{})}
	h, err := st.Head(ctx)
	if err != nil {
		st.Close()
		return nil, errs.E(op, err)
	}
	l.head = head{seq: h.Seq, hash: h.Hash, time: bodyTime(h.Body)}
	if l.key, err = openKey(ctx, st, opt.KeyPath); err != nil {
		st.Close()
		return nil, errs.E(op, err)
	}
	// A copy of the public key for `ledger verify -fingerprint`; a
	// convenience, so a failure is only logged.
	if pub := PublicKeyPath(opt.Dir); !samePublicKey(pub, l.key) {
		if err := WritePublicKey(pub, l.key.Public()); err != nil {
			opt.Logger.Warn("ledger public key copy not written", "path", pub, "err", err)
		}
	}
	cp, ok, err := st.LastCheckpoint(ctx)
	if err != nil {
		st.Close()
		return nil, errs.E(op, err)
	}
	if ok {
		l.lastCP = head{seq: cp.Seq, hash: cp.Hash, time: cp.Time}
	} else {
		l.lastCP.time = opt.Clock.Now()
	}
	go l.writer()
	if inside(opt.Dir, opt.KeyPath) {
		opt.Logger.Warn("ledger signing key is inside the data directory: whoever can write there can rewrite the ledger and re-sign it; "+
			"set ledger.signing_key_file elsewhere (docs/guide/running.md)", "key_file", opt.KeyPath)
	}
	if len(opt.Witnesses) == 0 {
		opt.Logger.Warn("ledger has no witness: checkpoints deleted from ledger.db cannot be detected; set ledger.witness_dir (docs/guide/running.md)")
	}
	opt.Logger.Info("ledger open", "path", filepath.Join(opt.Dir, DBName), "entries", l.head.seq, "key", l.key.ID,
		"key_file", opt.KeyPath, "witnesses", len(opt.Witnesses))
	return l, nil
}

// openKey loads the signing key at path and checks it is the key the
// ledger expects next (the new key of its last rotation, else the key of
// its last checkpoint). A key is created only for a ledger never sealed:
// a missing or different key for a sealed ledger is refused, never
// replaced silently, because every later checkpoint would then fail
// verification. A rotation interrupted after its commit (the new key still
// in path+".next") is completed here.
func openKey(ctx context.Context, st Store, path string) (*Key, error) {
	const op = "ledger.openKey"
	want, err := st.CurrentKeyID(ctx)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	if want == "" {
		return LoadOrCreateKey(path)
	}
	k, err := LoadKey(path)
	if err != nil && !errs.Is(err, errs.NotExist) {
		return nil, err
	}
	if err == nil && k.ID == want {
		return k, nil
	}
	if next, nerr := LoadKey(nextKeyPath(path)); nerr == nil && next.ID == want {
		if err := sealkey.ReplaceSigningKey(nextKeyPath(path), path); err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		return next, nil
	}
	if err != nil {
		return nil, errs.Errorf(op, errs.NotExist, "the ledger is signed by key %s, but its key file %s is missing: "+
			"point ledger.signing_key_file (GWANJE_LEDGER_SIGNING_KEY_FILE) at it", want, path)
	}
	return nil, errs.Errorf(op, errs.Invalid, "the ledger is signed by key %s, but %s holds key %s: "+
		"point ledger.signing_key_file (GWANJE_LEDGER_SIGNING_KEY_FILE) at the ledger's key; a new key comes only "+
		"through `gwanje ledger rotate-key`", want, path, k.ID)
}

// inside reports whether path is in dir.
func inside(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// nextKeyPath is where a rotation writes the new key before its commit.
func nextKeyPath(path string) string { return path + ".next" }

func samePublicKey(path string, k *Key) bool {
	pub, err := ReadPublicKey(path)
	return err == nil && pub.Equal(k.Public())
}

// Key returns the current checkpoint signing key's public half and id.
func (l *Ledger) Key() *Key {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.key
}

// Append validates e, assigns its Seq, Time, Prev and Hash, and returns
// once it is durable. Concurrent calls are committed together.
func (l *Ledger) Append(ctx context.Context, e Entry) (Entry, error) {
	const op = "ledger.Append"
	if err := e.validate(); err != nil {
		return Entry{}, err
	}
	e.Cameras = append([]string(nil), e.Cameras...)
	r := &appendReq{e: e, resp: make(chan appendResp, 1)}
	// closeMu keeps Close from stopping the writer between the closed
	// check and the send.
	l.closeMu.RLock()
	if l.isClosed() {
		l.closeMu.RUnlock()
		return Entry{}, errs.Errorf(op, errs.Unavailable, "ledger is closed")
	}
	select {
	case l.reqs <- r:
		l.closeMu.RUnlock()
	case <-ctx.Done():
		l.closeMu.RUnlock()
		return Entry{}, errs.E(op, errs.Canceled, ctx.Err())
	}
	// Once queued the entry may be written; wait for the outcome so the
	// caller never acts on an entry whose fate is unknown.
	res := <-r.resp
	return res.e, res.err
}

func (l *Ledger) writer() {
	defer close(l.done)
	batch := make([]*appendReq, 0, l.opt.MaxBatch)
	for {
		var r *appendReq
		select {
		case r = <-l.reqs:
		case <-l.quit:
			// Drain what was queued before Close.
			for {
				select {
				case r := <-l.reqs:
					l.commit([]*appendReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < l.opt.MaxBatch {
			select {
			case r := <-l.reqs:
				batch = append(batch, r)
			default:
				break fill
			}
		}
		l.commit(batch)
	}
}

// commit writes a batch in one transaction (one fsync) and answers each request.
func (l *Ledger) commit(reqs []*appendReq) {
	const op = "ledger.Append"
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	lastCP, key := l.lastCP, l.key
	l.mu.Unlock()
	now := l.opt.Clock.Now().UTC()
	var h head
	var cp *Checkpoint
	stale := ""
	err := l.st.Append(context.Background(), func(sh Head) (Batch, error) {
		h = head{seq: sh.Seq, hash: sh.Hash}
		rows := make([]Record, len(reqs))
		for i, r := range reqs {
			e := &r.e
			e.Seq = h.seq + 1
			e.Prev = h.hash
			e.Time = now
			body := Encode(e)
			e.Hash = sha256.Sum256(body)
			rows[i] = Record{Seq: e.Seq, Body: body, Hash: e.Hash}
			h = head{seq: e.Seq, hash: e.Hash, time: now}
		}
		cp, stale = nil, ""
		if h.seq-lastCP.seq >= l.opt.CheckpointEvery || now.Sub(lastCP.time) >= l.opt.CheckpointInterval {
			// Another process may have rotated the key: a retired key
			// must not sign past its rotation.
			id, err := sh.KeyID()
			if err != nil {
				return Batch{}, err
			}
			if id != "" && id != key.ID {
				stale = id
			} else {
				c := key.sign(h.seq, h.hash, now)
				cp = &c
			}
		}
		return Batch{Records: rows, Checkpoint: cp}, nil
	})
	if err == nil && stale != "" {
		l.reloadKey(stale)
	}
	if err == nil {
		l.mu.Lock()
		l.head = h
		if cp != nil {
			l.lastCP = head{seq: cp.Seq, hash: cp.Hash, time: cp.Time}
		}
		l.mu.Unlock()
		if cp != nil {
			l.external(*cp)
		}
	} else {
		err = errs.E(op, errs.IO, err)
		l.opt.Logger.Error("ledger append failed", "entries", len(reqs), "err", err)
	}
	for _, r := range reqs {
		if err != nil {
			r.resp <- appendResp{err: err}
		} else {
			r.resp <- appendResp{e: r.e}
		}
	}
}

// reloadKey is called when the ledger's current key (id want) is not the
// one in memory: another process rotated it. The new key is read from the
// key file; until it is there, no checkpoint is signed (entries are still
// written).
func (l *Ledger) reloadKey(want string) {
	k, err := LoadKey(l.opt.KeyPath)
	if err == nil && k.ID == want {
		l.mu.Lock()
		l.key = k
		l.mu.Unlock()
		l.opt.Logger.Info("ledger signing key rotated by another process; now signing with the new key", "key", k.ID)
		return
	}
	l.opt.Logger.Error("ledger signing key was rotated by another process and the new key is not readable; "+
		"no checkpoint is signed until gwanje restarts", "key", want, "key_file", l.opt.KeyPath)
}

// external hands a committed checkpoint to every witness.
func (l *Ledger) external(cp Checkpoint) {
	for _, w := range l.opt.Witnesses {
		if err := w.Record(context.Background(), cp); err != nil {
			// The checkpoint is in the database; a witness is a second
			// copy, so its failure is loud but does not stop the ledger.
			l.opt.Logger.Error("ledger witness failed: checkpoint not witnessed", "witness", w.String(), "seq", cp.Seq, "err", err)
		}
	}
}

// Checkpoint signs the current head now if it is not yet covered by a
// checkpoint. Call it on a timer (the CheckpointInterval) and at shutdown.
func (l *Ledger) Checkpoint(ctx context.Context) error {
	const op = "ledger.Checkpoint"
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return errs.Errorf(op, errs.Unavailable, "ledger is closed")
	}
	return l.checkpointNow(ctx)
}

func (l *Ledger) checkpointNow(ctx context.Context) error {
	const op = "ledger.Checkpoint"
	// The head read under the lock is committed, so the checkpoint names a
	// real (seq, hash) whatever batches commit meanwhile.
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	l.mu.Lock()
	h, last, key := l.head, l.lastCP, l.key
	l.mu.Unlock()
	if h.seq == 0 || h.seq == last.seq {
		return nil
	}
	if id, err := l.st.CurrentKeyID(ctx); err != nil {
		return errs.E(op, errs.IO, err)
	} else if id != "" && id != key.ID {
		l.reloadKey(id)
		return errs.Errorf(op, errs.Conflict, "the ledger's signing key was rotated to %s by another process", id)
	}
	cp := key.sign(h.seq, h.hash, l.opt.Clock.Now().UTC())
	added, err := l.st.AddCheckpoint(ctx, cp)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	if !added {
		return nil
	}
	l.mu.Lock()
	if cp.Seq > l.lastCP.seq {
		l.lastCP = head{seq: cp.Seq, hash: cp.Hash, time: cp.Time}
	}
	l.mu.Unlock()
	l.external(cp)
	return nil
}

// Head returns the last sequence number and hash.
func (l *Ledger) Head() (uint64, [32]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head.seq, l.head.hash
}

func (l *Ledger) isClosed() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.closed
}

// Close stops the writer after committing what was queued, writes a final
// checkpoint and closes the database.
func (l *Ledger) Close() error {
	l.closeMu.Lock()
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	l.mu.Unlock()
	l.closeMu.Unlock()
	close(l.quit)
	<-l.done
	err := l.checkpointNow(context.Background())
	if cerr := l.st.Close(); err == nil {
		err = cerr
	}
	return err
}

// Filter selects entries for Query and the 관리대장 export.
type Filter struct {
	From, To time.Time // entry time in [From, To); zero means unbounded
	Site     string    // "" for every site
	Kinds    []Kind    // empty: every kind (or every official kind with Official)
	Official bool      // only kinds with a 관리대장 구분 (이용/제공/열람/파기)
	Ref      string    // "" for every entry, else only entries answering this document (Entry.Ref)
}

func (f Filter) match(e *Entry) bool {
	if !f.From.IsZero() && e.Time.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !e.Time.Before(f.To) {
		return false
	}
	if f.Site != "" && e.Site != f.Site {
		return false
	}
	if f.Ref != "" && e.Ref != f.Ref {
		return false
	}
	if f.Official && !e.Kind.Official() {
		return false
	}
	if len(f.Kinds) > 0 {
		for _, k := range f.Kinds {
			if k == e.Kind {
				return true
			}
		}
		return false
	}
	return true
}

// QueryDir opens the ledger in dir read-only and returns the entries
// matching f (for exports while the server runs).
func QueryDir(ctx context.Context, dir string, f Filter) ([]Entry, error) {
	st, err := OpenSQLite(ctx, filepath.Join(dir, DBName), true)
	if err != nil {
		return nil, errs.E("ledger.QueryDir", err)
	}
	defer st.Close()
	return query(ctx, st, f)
}

// Query returns the entries matching f in sequence order.
func (l *Ledger) Query(ctx context.Context, f Filter) ([]Entry, error) {
	return query(ctx, l.st, f)
}

var _ Appender = (*Ledger)(nil)

// RunCheckpoints seals the head every CheckpointInterval until ctx ends,
// so a quiet ledger is still sealed within one interval of its last entry.
func (l *Ledger) RunCheckpoints(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.opt.Clock.After(l.opt.CheckpointInterval):
		}
		if err := l.Checkpoint(ctx); err != nil {
			if l.isClosed() {
				return
			}
			l.opt.Logger.Error("ledger checkpoint failed", "err", err)
		}
	}
}

// bodyTime is the time inside a canonical body (zero for a short one).
func bodyTime(b []byte) time.Time {
	if len(b) < offKind {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(b[offTime:]))).UTC()
}
