package alarm

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// ReadJournal reads every event of the JSON-lines journal at path, the
// alarm store of gwanje before alarms.db (OpenSQLite imports it once). A torn last line
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

// between returns the alarms of events that were active at some time in
// [from, to) (for events, whose period overlaps it), each in its latest
// state, in ID order.
func between(events []Event, from, to time.Time) []Alarm {
	latest := map[uint64]Alarm{}
	var order []uint64
	for _, e := range events {
		if _, ok := latest[e.Alarm.ID]; !ok {
			order = append(order, e.Alarm.ID)
		}
		latest[e.Alarm.ID] = e.Alarm
	}
	slices.Sort(order)
	var out []Alarm
	for _, id := range order {
		if a := latest[id]; overlaps(&a, from, to) {
			out = append(out, a)
		}
	}
	return out
}

// overlaps reports whether a was active at some time in [from, to): for an
// event, whether its period [From, To) overlaps it.
func overlaps(a *Alarm, from, to time.Time) bool {
	start, end := a.Raised, a.Cleared
	if !a.From.IsZero() {
		start, end = a.From, a.To
	}
	if !start.Before(to) {
		return false
	}
	return end.IsZero() || !end.Before(from)
}
