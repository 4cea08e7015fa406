package ledger

import (
	"context"
	"errors"
	"io/fs"
	"log/syslog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

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

// ErrWriteOnly is what Checkpoints returns for a witness that cannot be
// read back from here (syslog): Verify skips it. Its records are compared
// by exporting them to a file, given to verify as -checkpoints.
var ErrWriteOnly = errors.New("witness is write-only")

// SyslogWitness sends every checkpoint's line (the checkpoint file format)
// to syslog with tag "gwanje-ledger", facility authpriv: to the local
// daemon, which can forward it off the machine, or straight to a remote
// collector over UDP or TCP. It connects at the first checkpoint and again
// after a failure, so a syslog that is down never stops the ledger.
// Export the lines (`journalctl -t gwanje-ledger -o cat > FILE`) and give
// the file to `gwanje ledger verify -checkpoints FILE` to compare.
type SyslogWitness struct {
	network, addr string // "" for the local daemon
	mu            sync.Mutex
	w             *syslog.Writer
}

// NewSyslogWitness parses target: "local", or "udp://host:port" or
// "tcp://host:port".
func NewSyslogWitness(target string) (*SyslogWitness, error) {
	if target == "local" {
		return &SyslogWitness{}, nil
	}
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Port() == "" || u.Path != "" {
		return nil, errs.Errorf("ledger.NewSyslogWitness", errs.Invalid, "syslog target %q: want local, udp://host:port or tcp://host:port", target)
	}
	return &SyslogWitness{network: u.Scheme, addr: u.Host}, nil
}

func (w *SyslogWitness) String() string {
	if w.addr == "" {
		return "syslog"
	}
	return "syslog " + w.network + "://" + w.addr
}

// Record sends cp's line.
func (w *SyslogWitness) Record(ctx context.Context, cp Checkpoint) error {
	const op = "ledger.SyslogWitness.Record"
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.w == nil {
		sw, err := syslog.Dial(w.network, w.addr, syslog.LOG_AUTHPRIV|syslog.LOG_NOTICE, "gwanje-ledger")
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		w.w = sw
	}
	if err := w.w.Notice(strings.TrimSuffix(cp.line(), "\n")); err != nil {
		w.w.Close()
		w.w = nil
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// Checkpoints returns ErrWriteOnly.
func (w *SyslogWitness) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	return nil, ErrWriteOnly
}

// ConfigWitnesses are the witnesses of a validated configuration: a
// witness directory and a syslog target, either "" for none. A target
// that does not parse (config.Validate refuses it) is left out.
func ConfigWitnesses(dir, syslogTarget string) []Witness {
	ws := DirWitnesses(dir)
	if syslogTarget != "" {
		if sw, err := NewSyslogWitness(syslogTarget); err == nil {
			ws = append(ws, sw)
		}
	}
	return ws
}
