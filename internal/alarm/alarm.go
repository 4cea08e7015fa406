// Package alarm keeps gwanje's alarms: conditions that break a promise of
// the 운영·관리 방침 (a camera down, a recording gap, a disk problem, a
// broken retention promise) and must reach a person within seconds. A
// Manager deduplicates them per (kind, subject), clears them on recovery,
// records acknowledgements, writes every change to the log and to a
// durable Journal, and hands every change to Notifiers (webhooks).
// docs/design/health.md describes the lifecycle.
package alarm

import (
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
)

// Kind is what an alarm is about. The names are stored in the journal and
// sent to webhooks: never rename one.
type Kind string

// Alarm kinds.
const (
	CameraDown         Kind = "camera_down"          // the camera refuses or does not answer; no video
	CameraStalled      Kind = "camera_stalled"       // the connection is open but no video arrives
	LowFrameRate       Kind = "low_frame_rate"       // frames per second well below the expected rate
	Frozen             Kind = "frozen"               // the same picture over and over
	ImageProblem       Kind = "image_problem"        // black, covered or defocused picture (still-frame check)
	Gap                Kind = "gap"                  // a period without recording (an event, cleared when raised)
	StorageUnwritable  Kind = "storage_unwritable"   // the write probe failed
	StorageLow         Kind = "storage_low"          // free space or time to full below the threshold
	StorageWriteErrors Kind = "storage_write_errors" // segment writes failed
	RetentionBroken    Kind = "retention_broken"     // footage kept past its retention period, or destroyed early
)

// Severity says how urgent an alarm is.
type Severity string

// Severities.
const (
	Critical Severity = "critical" // recording or a promise is broken now
	Warning  Severity = "warning"  // it will be soon, or quality is degraded
)

// Alarm is one alarm: a condition from Raised until Cleared, or an event
// (a gap) raised and cleared at once. It stays on the dashboard until it
// is both cleared and acknowledged.
type Alarm struct {
	ID       uint64    `json:"id"`
	Kind     Kind      `json:"kind"`
	Subject  string    `json:"subject"` // camera id or storage volume name
	Severity Severity  `json:"severity"`
	Message  string    `json:"message"`
	Raised   time.Time `json:"raised"`
	Updated  time.Time `json:"updated"`           // last change of Message or state
	Cleared  time.Time `json:"cleared,omitzero"`  // zero while active
	AckedAt  time.Time `json:"acked_at,omitzero"` // zero until acknowledged
	AckedBy  string    `json:"acked_by,omitempty"`
	AckNote  string    `json:"ack_note,omitempty"`
	// From and To, for an event such as a gap, are the period it covers.
	From time.Time `json:"from,omitzero"`
	To   time.Time `json:"to,omitzero"`
}

// Active reports whether the condition still holds.
func (a *Alarm) Active() bool { return a.Cleared.IsZero() }

// Acked reports whether somebody acknowledged the alarm.
func (a *Alarm) Acked() bool { return !a.AckedAt.IsZero() }

// Change is what happened to an alarm.
type Change string

// Changes, as written to the journal and sent to webhooks.
const (
	Raised  Change = "raised"
	Updated Change = "updated"
	Cleared Change = "cleared"
	Acked   Change = "acked"
)

// Event is one change of one alarm, with the alarm as it is after it.
type Event struct {
	Change Change    `json:"change"`
	At     time.Time `json:"at"`
	Alarm  Alarm     `json:"alarm"`
}

// Journal durably records events (the report and a restart read it back).
type Journal interface {
	Record(e Event) error
}

// Notifier is told of every event; it must not block (webhooks queue).
type Notifier interface {
	Notify(e Event)
}

// Options are a Manager's dependencies; zero fields get defaults.
type Options struct {
	Clock   clock.Clock
	Logger  *slog.Logger
	Journal Journal    // nil: events are not kept durably
	Notify  []Notifier // webhooks, the dashboard's live feed...
	// Keep is how many cleared and acknowledged alarms stay in memory for
	// the dashboard (the journal keeps all). Default 500.
	Keep int
}

type key struct {
	kind    Kind
	subject string
}

// Manager holds the alarms. It is safe for concurrent use.
type Manager struct {
	clk    clock.Clock
	log    *slog.Logger
	jr     Journal
	notify []Notifier
	keep   int

	mu     sync.Mutex
	nextID uint64
	active map[key]*Alarm
	all    []*Alarm // in ID order: active, or not yet acknowledged, or recent
}

// New returns a Manager. Restore replays a journal into it.
func New(opt Options) *Manager {
	m := &Manager{clk: opt.Clock, log: opt.Logger, jr: opt.Journal, notify: opt.Notify, keep: opt.Keep,
		nextID: 1, active: map[key]*Alarm{}}
	if m.clk == nil {
		m.clk = clock.Real{}
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.keep <= 0 {
		m.keep = 500
	}
	return m
}

// Restore rebuilds the alarms from journal events (in order), so active
// and unacknowledged alarms survive a restart. Call it before use.
func (m *Manager) Restore(events []Event) {
	m.mu.Lock()
	defer m.mu.Unlock()
	byID := map[uint64]*Alarm{}
	for _, e := range events {
		a := e.Alarm
		if p, ok := byID[a.ID]; ok {
			*p = a
		} else {
			p := &a
			byID[a.ID] = p
			m.all = append(m.all, p)
		}
		if a.ID >= m.nextID {
			m.nextID = a.ID + 1
		}
	}
	slices.SortFunc(m.all, func(a, b *Alarm) int { return int(a.ID) - int(b.ID) })
	for _, a := range m.all {
		if a.Active() {
			m.active[key{a.Kind, a.Subject}] = a
		}
	}
	m.trim()
}

// Raise raises the alarm (kind, subject), or updates its message if it is
// already active (one alarm per condition, however often it is seen); only
// a new alarm or a change of severity is journaled and notified. It
// reports whether a new alarm was raised.
func (m *Manager) Raise(kind Kind, subject string, sev Severity, message string) (Alarm, bool) {
	now := m.clk.Now()
	m.mu.Lock()
	k := key{kind, subject}
	if a, ok := m.active[k]; ok {
		if a.Severity == sev {
			// Detectors re-raise every tick with a fresh message ("no
			// video for 12s"): keep it for the dashboard, but it is not a
			// change worth a journal line or a webhook.
			a.Message = message
			c := *a
			m.mu.Unlock()
			return c, false
		}
		a.Message, a.Severity, a.Updated = message, sev, now
		c := *a
		m.emit(Event{Change: Updated, At: now, Alarm: c})
		m.mu.Unlock()
		return c, false
	}
	a := &Alarm{ID: m.nextID, Kind: kind, Subject: subject, Severity: sev, Message: message, Raised: now, Updated: now}
	m.nextID++
	m.active[k] = a
	m.all = append(m.all, a)
	m.trim()
	c := *a
	m.emit(Event{Change: Raised, At: now, Alarm: c})
	m.mu.Unlock()
	return c, true
}

// Clear clears the active alarm (kind, subject), if any, and reports
// whether there was one.
func (m *Manager) Clear(kind Kind, subject string) (Alarm, bool) {
	now := m.clk.Now()
	m.mu.Lock()
	k := key{kind, subject}
	a, ok := m.active[k]
	if !ok {
		m.mu.Unlock()
		return Alarm{}, false
	}
	delete(m.active, k)
	a.Cleared, a.Updated = now, now
	c := *a
	m.trim()
	m.emit(Event{Change: Cleared, At: now, Alarm: c})
	m.mu.Unlock()
	return c, true
}

// Event records something that happened over [from, to) and is already
// over, such as a recording gap: it is raised and cleared at once, and
// stays listed until acknowledged.
func (m *Manager) Event(kind Kind, subject string, sev Severity, message string, from, to time.Time) Alarm {
	now := m.clk.Now()
	m.mu.Lock()
	a := &Alarm{ID: m.nextID, Kind: kind, Subject: subject, Severity: sev, Message: message,
		Raised: now, Updated: now, Cleared: now, From: from, To: to}
	m.nextID++
	m.all = append(m.all, a)
	m.trim()
	c := *a
	m.emit(Event{Change: Raised, At: now, Alarm: c})
	m.mu.Unlock()
	return c
}

// Ack records that by acknowledged alarm id, with an optional note. An
// alarm is acknowledged once; a second Ack is errs.Conflict.
func (m *Manager) Ack(id uint64, by, note string) (Alarm, error) {
	const op = "alarm.Ack"
	if by == "" {
		return Alarm{}, errs.E(op, errs.Invalid, "acknowledging needs the name of who acknowledges")
	}
	now := m.clk.Now()
	m.mu.Lock()
	var a *Alarm
	for _, p := range m.all {
		if p.ID == id {
			a = p
			break
		}
	}
	if a == nil {
		m.mu.Unlock()
		return Alarm{}, errs.Errorf(op, errs.NotExist, "no alarm %d", id)
	}
	if a.Acked() {
		m.mu.Unlock()
		return Alarm{}, errs.Errorf(op, errs.Conflict, "alarm %d was already acknowledged by %s", id, a.AckedBy)
	}
	a.AckedAt, a.AckedBy, a.AckNote, a.Updated = now, by, note, now
	c := *a
	m.trim()
	m.emit(Event{Change: Acked, At: now, Alarm: c})
	m.mu.Unlock()
	return c, nil
}

// List returns the alarms in memory, newest first: every active or
// unacknowledged alarm and the most recent others. With needsAttention, only
// the alarms that still need attention (active or unacknowledged).
func (m *Manager) List(needsAttention bool) []Alarm {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Alarm, 0, len(m.all))
	for i := len(m.all) - 1; i >= 0; i-- {
		a := m.all[i]
		if needsAttention && !a.Active() && a.Acked() {
			continue
		}
		out = append(out, *a)
	}
	return out
}

// Get returns alarm id as it is now, if it is still in memory.
func (m *Manager) Get(id uint64) (Alarm, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, a := range m.all {
		if a.ID == id {
			return *a, true
		}
	}
	return Alarm{}, false
}

// ActiveFor returns the active alarm (kind, subject), if any.
func (m *Manager) ActiveFor(kind Kind, subject string) (Alarm, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a, ok := m.active[key{kind, subject}]
	if !ok {
		return Alarm{}, false
	}
	return *a, true
}

// trim drops the oldest alarms that are cleared and acknowledged beyond
// keep. Called with mu held.
func (m *Manager) trim() {
	done := 0
	for _, a := range m.all {
		if !a.Active() && a.Acked() {
			done++
		}
	}
	if done <= m.keep {
		return
	}
	drop := done - m.keep
	kept := m.all[:0]
	for _, a := range m.all {
		if drop > 0 && !a.Active() && a.Acked() {
			drop--
			continue
		}
		kept = append(kept, a)
	}
	clear(m.all[len(kept):])
	m.all = kept
}

// emit logs, journals and notifies e. It is called with mu held, so the
// journal has the events of one alarm in the order they happened.
func (m *Manager) emit(e Event) {
	a := &e.Alarm
	attrs := []any{"alarm", a.ID, "kind", string(a.Kind), "subject", a.Subject, "severity", string(a.Severity), "message", a.Message}
	switch e.Change {
	case Raised, Updated:
		m.log.Warn("alarm "+string(e.Change), attrs...)
	case Cleared:
		m.log.Info("alarm cleared", attrs...)
	case Acked:
		m.log.Info("alarm acknowledged", append(attrs, "by", a.AckedBy, "note", a.AckNote)...)
	}
	if m.jr != nil {
		if err := m.jr.Record(e); err != nil {
			m.log.Error("alarm journal write failed", "err", err, "alarm", a.ID)
		}
	}
	for _, n := range m.notify {
		n.Notify(e)
	}
}
