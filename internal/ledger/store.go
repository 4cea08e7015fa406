package ledger

import "context"

// Store is where the ledger keeps its records: what Ledger and Verify need
// from storage. SQLite is the implementation today (sqlite.go, opened
// through internal/sqlitedb); a PostgreSQL one can follow behind the same
// methods, and internal/ledger/ledgertest is the suite every
// implementation passes.
//
// A Store keeps each entry's record (canonical body ‖ SHA-256) byte for
// byte and never decides what an entry says: every filter runs on the
// decoded, hashed body. It keeps the layout of docs/design/ledger.md:
// packs of packEntries records contiguous from entry 1, then unpacked
// rows; it refuses to change or remove a stored record except by packing's
// move (defence in depth: the proof is the chain and the signatures).
type Store interface {
	// Append runs build with the stored head, read inside one write
	// transaction (so another process that appended meanwhile is
	// continued, not forked), and stores what it returns — the records
	// that follow the head, a checkpoint, a rotation's copy — packing
	// what is due, all or nothing, durably (fsynced) before it returns.
	// An error from build stores nothing.
	Append(ctx context.Context, build func(h Head) (Batch, error)) error
	// AddCheckpoint stores cp unless a checkpoint of the same seq is
	// stored, and reports whether it did.
	AddCheckpoint(ctx context.Context, cp Checkpoint) (bool, error)
	// Head returns the last stored record (Seq 0 when there is none).
	Head(ctx context.Context) (Record, error)
	// LastCheckpoint returns the checkpoint of the highest seq.
	LastCheckpoint(ctx context.Context) (Checkpoint, bool, error)
	// CurrentKeyID is Head.KeyID outside a write transaction.
	CurrentKeyID(ctx context.Context) (string, error)
	// Snapshot opens a read view that sees one state of the store,
	// whatever is appended (and packed) meanwhile.
	Snapshot(ctx context.Context) (Snapshot, error)
	Close() error
}

// Snapshot is one consistent read view of a Store.
type Snapshot interface {
	// Checkpoints returns every checkpoint in seq order.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// Rotations returns the copies of the key rotation entries' records,
	// in seq order.
	Rotations(ctx context.Context) ([]Record, error)
	// LastSeq is the highest seq stored, packed or not.
	LastSeq(ctx context.Context) (uint64, error)
	// Walk calls fn with every stored unit in place order — every pack by
	// First, then every unpacked row by First — until fn returns an error
	// (which Walk returns). A unit's Data stays valid after fn returns.
	Walk(ctx context.Context, fn func(u Unit) error) error
	Close()
}

// Record is one stored entry: its canonical body and the hash stored with
// it (which Verify compares with the body's SHA-256).
type Record struct {
	Seq  uint64 // its place: the seq the store holds it at
	Body []byte
	Hash [32]byte
}

// Unit is what a walk hands over: a pack, an unpacked row of several
// entries (a tail row), or one entry row (version 1 storage).
type Unit struct {
	Table  string // "pack", "tail" or "entry": named in damage reports
	Packed bool   // Data is a pack encoding (packs and tail rows)
	First  uint64 // the seq of the unit's first record
	Last   uint64 // the seq the unit says is its last (checked against its count)
	Data   []byte // the pack encoding, or the entry row's record (body ‖ hash)
}

// Records appends the unit's records to dst, numbered by place (First,
// First+1...). For a pack encoding that breaks it returns the records
// before the break and an error saying where.
func (u *Unit) Records(dst []Record) ([]Record, error) {
	if !u.Packed {
		return append(dst, splitRec(u.First, u.Data)), nil
	}
	return parsePack(u.First, u.Data, dst)
}

// Head is what a write transaction starts from.
type Head struct {
	Seq  uint64
	Hash [32]byte
	// KeyID returns the id of the key that signs the next checkpoint: the
	// new key of the last rotation, else the key of the last checkpoint,
	// else "" (a ledger never sealed). Called only when needed.
	KeyID func() (string, error)
}

// Batch is what one write transaction stores.
type Batch struct {
	Records    []Record    // the records after the head, in order
	Checkpoint *Checkpoint // a checkpoint to store with them, or nil
	Rotation   bool        // Records is one key rotation entry, whose copy the store keeps apart (Rotations)
}
