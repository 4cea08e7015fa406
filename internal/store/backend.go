package store

import (
	"context"
	"io"

	"github.com/gwanje/gwanje/internal/media"
)

// State is a segment row's state. Values are stored: append-only.
type State uint8

const (
	StateOpen   State = 1 // being written, or left by a crash until recovery
	StateClosed State = 2 // complete: frame index, size and hash recorded
	// StateReplacing is a segment DestroyRange is writing to replace part
	// of another; it becomes closed in the same transaction that destroys
	// the original. Recovery deletes it: the original is still intact.
	StateReplacing State = 3
)

func (s State) String() string {
	switch s {
	case StateOpen:
		return "open"
	case StateClosed:
		return "closed"
	case StateReplacing:
		return "replacing"
	}
	return "state(?)"
}

// Row is one segment's index row. docs/design/storage.md comments every
// field's column.
type Row struct {
	ID            int64
	Camera        string
	State         State
	Start, End    int64 // 90 kHz wall clock; End == Start while open
	Discontinuity bool
	Codec         media.Codec
	ParamsSealed  []byte
	KeyID         string
	WrappedKey    []byte
	Frames        int
	KeyFrames     int
	MediaBytes    int64
	FileBytes     int64
	SHA256        []byte
	FrameIndex    []byte
}

// GarbageRow is a destroyed segment whose file may still exist, with what a
// destruction receipt needs.
type GarbageRow struct {
	SegmentID  int64
	Camera     string
	Start, End int64
	FileBytes  int64
	SHA256     []byte // nil if the segment never closed
	KeyID      string
	Destroyed  int64 // 90 kHz wall clock
}

// KeyUpdate rewraps one row's data key.
type KeyUpdate struct {
	ID         int64
	OldKeyID   string
	KeyID      string
	WrappedKey []byte
}

// CameraSummary is a camera's stored footage.
type CameraSummary struct {
	Camera   string
	Oldest   int64 // start of the oldest segment, 90 kHz
	Newest   int64 // end of the newest segment, 90 kHz
	Segments int
	Bytes    int64 // sum of the segment files' sizes (closed segments; 0 for open rows)
}

// Brief is what retention needs of a closed segment to destroy it and
// prove it: no frame index, no parameters.
type Brief struct {
	ID         int64
	Camera     string
	Start, End int64 // 90 kHz wall clock
	Bytes      int64 // file size
	SHA256     []byte
	KeyID      string
	WrappedKey []byte // to fingerprint in a receipt, then prove gone
}

// Index is where segment rows live: SQLite now, PostgreSQL later. Every
// method is one transaction. Implementations must pass storetest.TestIndex.
type Index interface {
	// Create inserts r as an open row (or replacing, if r.State is
	// StateReplacing). fill is called inside the
	// transaction with the new id and must set r's key and sealed params
	// (they bind the id); r.ID is set on success.
	Create(ctx context.Context, r *Row, fill func(id int64) error) error
	// Finish marks an open row closed with its end, counts, size, hash and
	// frame index. It fails with errs.Conflict unless the row is open.
	Finish(ctx context.Context, r *Row) error
	// Get returns one row, or an errs.NotExist error.
	Get(ctx context.Context, id int64) (*Row, error)
	// List returns the rows of camera (every camera if "") whose
	// [Start, End) overlaps [start, end) plus, when open, every open row
	// starting before end, ordered by camera and start.
	List(ctx context.Context, camera string, start, end int64) ([]Row, error)
	// Open returns every open or replacing row, ordered by id.
	Open(ctx context.Context) ([]Row, error)
	// Delete removes a row that recovery found empty.
	Delete(ctx context.Context, id int64) error
	// Trash moves rows to the garbage list in one transaction, destroying
	// their wrapped keys, and sets the discontinuity flag of each segment
	// that started where a trashed one ended. It fails (changing nothing)
	// with errs.NotExist if an id has no row, with errs.Conflict if a row
	// is not closed (being written or replacing).
	Trash(ctx context.Context, ids []int64, now int64) ([]GarbageRow, error)
	// Replace, in one transaction, closes the replacing rows news (with
	// their end, counts, size, hash and index) and trashes row old as Trash
	// does, except that the segment after old keeps its discontinuity flag
	// if one of news ends where old ended.
	Replace(ctx context.Context, old int64, news []*Row, now int64) (GarbageRow, error)
	// Garbage returns the garbage list.
	Garbage(ctx context.Context) ([]GarbageRow, error)
	// Forget removes garbage rows whose files are gone.
	Forget(ctx context.Context, ids []int64) error
	// NotUnder returns up to limit rows whose key is not keyID.
	NotUnder(ctx context.Context, keyID string, limit int) ([]Row, error)
	// Rewrap applies key updates in one transaction; a row whose key id is
	// no longer OldKeyID is left alone.
	Rewrap(ctx context.Context, u []KeyUpdate) error
	// Cameras summarises the footage of every camera.
	Cameras(ctx context.Context) ([]CameraSummary, error)
	// Briefs returns up to limit (all if limit <= 0) closed rows of camera
	// (every camera if "") ending at or before endBefore, ordered by start
	// then id: the oldest footage first.
	Briefs(ctx context.Context, camera string, endBefore int64, limit int) ([]Brief, error)
	Close() error
}

// Files holds segment files: local disk now, object storage later. An
// object store cannot append: its AppendFile buffers (spooling locally)
// and uploads on Close. Implementations must pass storetest.TestFiles.
type Files interface {
	// Create creates the file of segment id and makes its existence
	// durable (fsyncs the directory). It fails if the file exists.
	Create(camera string, id int64) (AppendFile, error)
	// Open opens a segment file for reading; errs.NotExist if absent.
	Open(camera string, id int64) (ReadFile, error)
	// Truncate cuts a file to size and makes that durable.
	Truncate(camera string, id int64, size int64) error
	// Remove unlinks a file; an absent file is not an error. SyncDir
	// makes removals durable.
	Remove(camera string, id int64) error
	// SyncDir makes the creations and removals in camera's directory
	// durable.
	SyncDir(camera string) error
	// List returns every segment file.
	List() ([]FileRef, error)
}

// AppendFile is a segment file being written.
type AppendFile interface {
	io.Writer
	// Sync makes everything written so far durable.
	Sync() error
	// Truncate cuts the file back after a failed write.
	Truncate(size int64) error
	// Close syncs nothing; callers Sync first.
	Close() error
}

// ReadFile is a segment file opened for reading.
type ReadFile interface {
	io.ReaderAt
	Size() int64
	Close() error
}

// FileRef names one segment file.
type FileRef struct {
	Camera string
	ID     int64
	Size   int64
}
