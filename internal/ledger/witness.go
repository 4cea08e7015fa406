package ledger

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/errs"
)

// Witness keeps a copy of every signed checkpoint outside the data
// directory, where someone who can rewrite ledger.db cannot reach: Verify
// then finds a checkpoint deleted from the database, or a rewritten chain
// that no longer reproduces a witnessed hash. A directory on another volume
// (FileWitness) is the first; syslog or an object-locked bucket can follow
// behind the same two methods.
type Witness interface {
	// Record stores cp durably (fsynced) before it returns. Records are
	// only ever appended.
	Record(ctx context.Context, cp Checkpoint) error
	// Checkpoints returns every checkpoint recorded, in the order written.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
	// String names the witness in reports ("/mnt/witness/ledger-checkpoints.log").
	String() string
}

// WitnessFile is the file name of a witness directory's checkpoint log.
const WitnessFile = "ledger-checkpoints.log"

// FileWitness appends checkpoints to one file, a line each (the external
// checkpoint file format: "v1 <seq> <hash hex> <unix-ns> <key id> <sig
// hex>"), opened O_APPEND and fsynced per line. Give the service account
// write access to it and nobody who can write the data directory; on
// Linux `chattr +a` makes the file append-only even for its owner.
type FileWitness struct{ Path string }

// DirWitness is the witness kept in directory dir (created 0700 on the
// first checkpoint).
func DirWitness(dir string) FileWitness { return FileWitness{Path: filepath.Join(dir, WitnessFile)} }

func (w FileWitness) String() string { return w.Path }

// Record appends cp's line and fsyncs it; when the file is new, its
// directory is fsynced too, so the file itself survives a crash.
func (w FileWitness) Record(ctx context.Context, cp Checkpoint) error {
	const op = "ledger.FileWitness.Record"
	_, err := os.Stat(w.Path)
	created := errors.Is(err, fs.ErrNotExist)
	if created {
		if err := os.MkdirAll(filepath.Dir(w.Path), 0o700); err != nil {
			return errs.E(op, errs.IO, err)
		}
	}
	if err := appendCheckpointFile(w.Path, cp); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if created {
		d, err := os.Open(filepath.Dir(w.Path))
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		defer d.Close()
		if err := d.Sync(); err != nil {
			return errs.E(op, errs.IO, err)
		}
	}
	return nil
}

// Checkpoints reads the file; a missing file holds none.
func (w FileWitness) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	return ReadCheckpointFile(w.Path)
}

// DirWitnesses is the witness list of a configured witness directory: none
// for "".
func DirWitnesses(dir string) []Witness {
	if dir == "" {
		return nil
	}
	return []Witness{DirWitness(dir)}
}
