// Package stills keeps the still frames of the scheduled device checks. A
// still is a picture of people, so it is kept like footage: sealed under a
// fresh data key wrapped by the master keyring, the file durable before the
// index row that points to it, and destroyed by deleting the row (the
// wrapped key goes with it) and then the file.
//
// Three packages use it, each through a small interface of its own: health
// writes stills (health.StillKeeper), web lists and serves them (web.Stills)
// and retention destroys them (retention.Stills). Store is the whole
// contract every implementation keeps; SQLite (index in <dir>/index.db,
// one sealed file per still) is the one there is, and stillstest is the
// conformance suite it passes. docs/design/health.md ("Stills") states the
// format and the invariants.
package stills

import (
	"context"
	"time"
)

// Still describes one stored still frame (not its picture).
type Still struct {
	ID         int64     `json:"id"`
	Camera     string    `json:"camera"`
	RecordedAt time.Time `json:"recorded_at"` // the frame's time: retention counts from it
	StoredAt   time.Time `json:"stored_at"`
	Findings   []string  `json:"findings,omitempty"` // what the check saw; none for a good picture
	Bytes      int64     `json:"bytes"`              // size of the sealed file
	SHA256     []byte    `json:"-"`                  // of the sealed file, for a destruction record
	KeyID      string    `json:"-"`                  // master key the data key was wrapped under
}

// Store keeps still frames sealed. Ids are positive, increase and are never
// reused. Errors carry errs kinds: NotExist for an unknown id, Invalid for
// a bad argument, Corrupt for a picture that does not open.
type Store interface {
	// Put seals and stores a JPEG of camera recorded at recordedAt with
	// the findings of its check; the picture is durable before Put returns.
	Put(ctx context.Context, camera string, recordedAt time.Time, jpeg []byte, findings []string) (Still, error)
	// List returns camera's stills recorded in [from, to), oldest first.
	List(ctx context.Context, camera string, from, to time.Time) ([]Still, error)
	// Get describes one still.
	Get(ctx context.Context, id int64) (Still, error)
	// Image decrypts one still's picture. Call it only after the viewing
	// is recorded in the ledger.
	Image(ctx context.Context, id int64) (Still, []byte, error)
	// Delete destroys one still, unrecoverably, and returns what it was.
	Delete(ctx context.Context, id int64) (Still, error)
	// DestroyBefore destroys every still of camera recorded before t and
	// returns them, oldest first.
	DestroyBefore(ctx context.Context, camera string, t time.Time) ([]Still, error)
	Close() error
}
