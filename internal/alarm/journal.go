package alarm

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// FileJournal appends events to a file as JSON lines, fsyncing each one
// before the change is reported anywhere else. The monthly report and a
// restart read it back with ReadJournal.
type FileJournal struct {
	mu sync.Mutex
	f  *os.File
}

// OpenJournal opens (creating if needed) the journal file at path.
func OpenJournal(path string) (*FileJournal, error) {
	const op = "alarm.OpenJournal"
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return &FileJournal{f: f}, nil
}

// Record appends e and fsyncs.
func (j *FileJournal) Record(e Event) error {
	const op = "alarm.FileJournal.Record"
	b, err := json.Marshal(e)
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	b = append(b, '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(b); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := j.f.Sync(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// Close closes the file.
func (j *FileJournal) Close() error { return j.f.Close() }

// ReadJournal reads every event of the journal at path. A torn last line
// (a crash mid-write) is ignored; a bad line elsewhere is an error naming
// its line number. A missing file has no events.
func ReadJournal(path string) ([]Event, error) {
	const op = "alarm.ReadJournal"
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer f.Close()
	return readEvents(f, path)
}

func readEvents(r io.Reader, name string) ([]Event, error) {
	const op = "alarm.ReadJournal"
	var out []Event
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err == io.EOF {
			// A line without its newline was torn by a crash: it was
			// never acknowledged as recorded.
			return out, nil
		}
		if err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, errs.Errorf(op, errs.Corrupt, "%s:%d: %v", name, line, err)
		}
		out = append(out, e)
	}
}

// Between returns the alarms that were active at some time in [from, to)
// (for events, whose period overlaps it), each in its latest state, in ID
// order.
func Between(events []Event, from, to time.Time) []Alarm {
	latest := map[uint64]Alarm{}
	var order []uint64
	for _, e := range events {
		if _, ok := latest[e.Alarm.ID]; !ok {
			order = append(order, e.Alarm.ID)
		}
		latest[e.Alarm.ID] = e.Alarm
	}
	var out []Alarm
	for _, id := range order {
		a := latest[id]
		start, end := a.Raised, a.Cleared
		if !a.From.IsZero() {
			start, end = a.From, a.To
		}
		if !start.Before(to) {
			continue
		}
		if !end.IsZero() && end.Before(from) {
			continue
		}
		out = append(out, a)
	}
	return out
}
