// Package alarm keeps gwanje's alarms: conditions that break a promise of
// the 운영·관리 방침 (a camera down, a recording gap, a disk problem, a
// broken retention promise) and must reach a person within seconds. A
// Manager deduplicates them per (kind, subject) while active and per
// identity (Key) for events such as gaps, across restarts too, clears them
// on recovery, records acknowledgements, writes every change to the log and
// to a durable Store, and hands every change to Notifiers (webhooks).
// Messages are in the catalogue's words (internal/i18n, msg_alarm.go).
// docs/design/health.md describes the lifecycle.
package alarm

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

// Kind is what an alarm is about. The names are stored in the alarm store and
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
	// RequestDue: a data-subject request is due soon (warning) or overdue
	// (critical); its subject is the receipt number, and it clears when
	// the request closes (internal/requests, Service.CheckDue).
	RequestDue Kind = "request_due"
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
	ID uint64 `json:"id"`
	// Key is the identity of an event (EventKey: kind, subject and the
	// start of its period), the same after a restart; "" for a condition,
	// whose identity while active is (Kind, Subject).
	Key      string   `json:"key,omitempty"`
	Kind     Kind     `json:"kind"`
	Subject  string   `json:"subject"` // camera id, storage volume name, or a request's receipt number
	Severity Severity `json:"severity"`
	// Code and Params are the message in the catalogue's words (an
	// internal/i18n key and its values; Text renders it in a language);
	// Message is its Korean wording (the default language), or free text
	// when Code is empty.
	Code    string            `json:"code,omitempty"`
	Params  map[string]string `json:"params,omitempty"`
	Message string            `json:"message"`
	Raised  time.Time         `json:"raised"`
	Updated time.Time         `json:"updated"`           // last change of Message or state
	Cleared time.Time         `json:"cleared,omitzero"`  // zero while active
	AckedAt time.Time         `json:"acked_at,omitzero"` // zero until acknowledged
	AckedBy string            `json:"acked_by,omitempty"`
	AckNote string            `json:"ack_note,omitempty"`
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

// Changes, as written to the alarm store and sent to webhooks.
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

// Msg is a message in the catalogue's words: an internal/i18n key and the
// values of its placeholders.
type Msg struct {
	Code   string
	Params map[string]string
}

// M returns the message code with params given as name, value pairs.
func M(code string, kv ...string) Msg {
	p := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return Msg{Code: code, Params: p}
}

// Ref is the value of a parameter that is itself a catalogue key, rendered
// in the message's language: M("alarm.msg.gap", "cause", Ref("alarm.kind.camera_down")).
func Ref(key string) string { return refPrefix + key }

const refPrefix = "i18n:"

// In renders m in lang.
func (m Msg) In(lang i18n.Lang) string { return render(lang, m.Code, m.Params) }

func render(lang i18n.Lang, code string, params map[string]string) string {
	var p map[string]string
	for k, v := range params {
		if strings.HasPrefix(v, refPrefix) {
			if p == nil {
				p = maps.Clone(params)
			}
			p[k] = i18n.T(lang, v[len(refPrefix):], nil)
		}
	}
	if p == nil {
		p = params
	}
	return i18n.T(lang, code, p)
}

// Text renders the alarm's message in lang (free text as it is).
func (a *Alarm) Text(lang i18n.Lang) string {
	if a.Code == "" {
		return a.Message
	}
	return render(lang, a.Code, a.Params)
}

// Param is the alarm's parameter name in lang (a Ref rendered).
func (a *Alarm) Param(name string, lang i18n.Lang) string {
	v := a.Params[name]
	if strings.HasPrefix(v, refPrefix) {
		return i18n.T(lang, v[len(refPrefix):], nil)
	}
	return v
}

// Name is the kind's name in lang, from the catalogue.
func (k Kind) Name(lang i18n.Lang) string { return i18n.T(lang, "alarm.kind."+string(k), nil) }

// Kinds lists every alarm kind.
var Kinds = []Kind{CameraDown, CameraStalled, LowFrameRate, Frozen, ImageProblem, Gap,
	StorageUnwritable, StorageLow, StorageWriteErrors, RetentionBroken, RequestDue}

// EventKey is the identity of an event of kind about subject whose period
// starts at from: a restart that finds the same event again finds it by
// this key in the Store and raises nothing new.
func EventKey(kind Kind, subject string, from time.Time) string {
	return fmt.Sprintf("%s/%s/%d", kind, subject, from.UnixNano())
}

func (a *Alarm) setMsg(m Msg) {
	a.Code, a.Params, a.Message = m.Code, m.Params, m.In(i18n.Ko)
}

// Notifier is told of every event; it must not block (webhooks queue).
type Notifier interface {
	Notify(e Event)
}

// Options are a Manager's dependencies; zero fields get defaults.
type Options struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// Store keeps every alarm and change durably (SQLiteStore in a data
	// directory); nil: nothing is kept across a restart.
	Store  Store
	Notify []Notifier // webhooks, the dashboard's live feed...
	// Keep is how many cleared and acknowledged alarms stay in memory for
	// the dashboard (the store keeps all). Default 500.
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
	st     Store
	notify []Notifier
	keep   int

	mu     sync.Mutex
	nextID uint64
	active map[key]*Alarm
	all    []*Alarm          // in ID order: active, or not yet acknowledged, or recent
	keys   map[string]*Alarm // the events of all, by Key
}

// New returns a Manager. With a Store, call Load before use.
func New(opt Options) *Manager {
	m := &Manager{clk: opt.Clock, log: opt.Logger, st: opt.Store, notify: opt.Notify, keep: opt.Keep,
		nextID: 1, active: map[key]*Alarm{}, keys: map[string]*Alarm{}}
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

// Load restores the alarms from the Store, so active and unacknowledged
// alarms survive a restart and ids continue. Call it once, before use.
func (m *Manager) Load(ctx context.Context) error {
	if m.st == nil {
		return nil
	}
	as, next, err := m.st.Load(ctx, m.keep)
	if err != nil {
		return errs.E("alarm.Manager.Load", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range as {
		a := as[i]
		m.all = append(m.all, &a)
	}
	slices.SortFunc(m.all, func(a, b *Alarm) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, a := range m.all {
		if a.Active() {
			m.active[key{a.Kind, a.Subject}] = a
		}
		if a.Key != "" {
			m.keys[a.Key] = a
		}
	}
	m.nextID = max(m.nextID, next)
	m.trim()
	return nil
}

// Raise raises the alarm (kind, subject) with a free-text message; see
// RaiseMsg. Detectors use RaiseMsg, with the catalogue's words.
func (m *Manager) Raise(kind Kind, subject string, sev Severity, message string) (Alarm, bool) {
	return m.raise(kind, subject, sev, func(a *Alarm) { a.Code, a.Params, a.Message = "", nil, message })
}

// RaiseMsg raises the alarm (kind, subject), or updates its message if it
// is already active (one alarm per condition, however often it is seen,
// and across restarts: Load restores the active ones); only a new alarm
// or a change of severity is stored and notified. It reports whether a new
// alarm was raised.
func (m *Manager) RaiseMsg(kind Kind, subject string, sev Severity, msg Msg) (Alarm, bool) {
	return m.raise(kind, subject, sev, func(a *Alarm) { a.setMsg(msg) })
}

func (m *Manager) raise(kind Kind, subject string, sev Severity, set func(*Alarm)) (Alarm, bool) {
	now := m.clk.Now()
	m.mu.Lock()
	k := key{kind, subject}
	if a, ok := m.active[k]; ok {
		if a.Severity == sev {
			// Detectors re-raise every tick with a fresh message ("no
			// video for 12s"): keep it for the dashboard, but it is not a
			// change worth a stored event or a webhook.
			set(a)
			c := *a
			m.mu.Unlock()
			return c, false
		}
		set(a)
		a.Severity, a.Updated = sev, now
		c := *a
		m.emit(Event{Change: Updated, At: now, Alarm: c})
		m.mu.Unlock()
		return c, false
	}
	a := &Alarm{ID: m.nextID, Kind: kind, Subject: subject, Severity: sev, Raised: now, Updated: now}
	set(a)
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
// whether there was one. The alarm keeps its last message.
func (m *Manager) Clear(kind Kind, subject string) (Alarm, bool) {
	return m.clear(kind, subject, nil)
}

// ClearMsg clears the active alarm (kind, subject), if any, with msg as its
// message: what the value is now that the condition no longer holds.
func (m *Manager) ClearMsg(kind Kind, subject string, msg Msg) (Alarm, bool) {
	return m.clear(kind, subject, &msg)
}

func (m *Manager) clear(kind Kind, subject string, msg *Msg) (Alarm, bool) {
	now := m.clk.Now()
	m.mu.Lock()
	k := key{kind, subject}
	a, ok := m.active[k]
	if !ok {
		m.mu.Unlock()
		return Alarm{}, false
	}
	delete(m.active, k)
	if msg != nil {
		a.setMsg(*msg)
	}
	a.Cleared, a.Updated = now, now
	c := *a
	m.trim()
	m.emit(Event{Change: Cleared, At: now, Alarm: c})
	m.mu.Unlock()
	return c, true
}

// Event records something that happened over [from, to) and is already
// over, such as a recording gap: it is raised and cleared at once, and
// stays listed until acknowledged. An event is raised once: its identity
// is EventKey(kind, subject, from), and an event with that key already in
// memory or in the Store (raised before a restart) is returned with false.
func (m *Manager) Event(kind Kind, subject string, sev Severity, msg Msg, from, to time.Time) (Alarm, bool) {
	k := EventKey(kind, subject, from)
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.keys[k]; ok {
		return *a, false
	}
	if m.st != nil {
		a, ok, err := m.st.Find(context.Background(), k)
		if err != nil {
			// Better the same gap twice than a gap never told.
			m.log.Error("alarm store lookup failed; raising the event", "err", err, "key", k)
		} else if ok {
			return a, false
		}
	}
	now := m.clk.Now()
	a := &Alarm{ID: m.nextID, Key: k, Kind: kind, Subject: subject, Severity: sev,
		Raised: now, Updated: now, Cleared: now, From: from, To: to}
	a.setMsg(msg)
	m.nextID++
	m.all = append(m.all, a)
	m.keys[k] = a
	m.trim()
	c := *a
	m.emit(Event{Change: Raised, At: now, Alarm: c})
	return c, true
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
			if a.Key != "" {
				delete(m.keys, a.Key) // the Store still finds it
			}
			continue
		}
		kept = append(kept, a)
	}
	clear(m.all[len(kept):])
	m.all = kept
}

// emit logs, stores and notifies e. It is called with mu held, so the
// store has the events of one alarm in the order they happened.
func (m *Manager) emit(e Event) {
	a := &e.Alarm
	attrs := []any{"alarm", a.ID, "kind", string(a.Kind), "subject", a.Subject, "severity", string(a.Severity),
		"code", a.Code, "message", a.Text(i18n.En)}
	switch e.Change {
	case Raised, Updated:
		m.log.Warn("alarm "+string(e.Change), attrs...)
	case Cleared:
		m.log.Info("alarm cleared", attrs...)
	case Acked:
		m.log.Info("alarm acknowledged", append(attrs, "by", a.AckedBy, "note", a.AckNote)...)
	}
	if m.st != nil {
		if err := m.st.Record(context.Background(), e); err != nil {
			m.log.Error("alarm store write failed", "err", err, "alarm", a.ID)
		}
	}
	for _, n := range m.notify {
		n.Notify(e)
	}
}
