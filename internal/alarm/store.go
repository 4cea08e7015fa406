package alarm

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Store keeps the alarms durably: every change (the history the monthly
// report reads) and each alarm's latest state (what a restart restores,
// and the identity of every event, so a restart raises nothing twice).
// SQLiteStore keeps them in a data directory's alarms.db, MemStore in
// memory; internal/alarm/alarmtest is the conformance suite every
// implementation passes.
type Store interface {
	// Record durably appends e and makes e.Alarm its alarm's latest state,
	// in one step, before returning. A Raised event of an alarm with a Key
	// that another alarm already has is refused (errs.Exist).
	Record(ctx context.Context, e Event) error
	// Load returns what a restart needs: every alarm that needs attention
	// (active or not acknowledged) and the keep most recent others, in ID
	// order, and the next free id (1 for an empty store).
	Load(ctx context.Context, keep int) ([]Alarm, uint64, error)
	// Find returns the alarm whose Key is key, if any.
	Find(ctx context.Context, key string) (Alarm, bool, error)
	// Get returns alarm id in its latest state, if any.
	Get(ctx context.Context, id uint64) (Alarm, bool, error)
	// Between returns the alarms active at some time in [from, to) (an
	// event: whose period [From, To) overlaps it), in their latest state,
	// in ID order.
	Between(ctx context.Context, from, to time.Time) ([]Alarm, error)
	// Close releases the store.
	Close() error
}

// MemStore is a Store in memory, for tests of other packages. It is safe
// for concurrent use.
type MemStore struct {
	mu     sync.Mutex
	events []Event
	latest map[uint64]Alarm
	keys   map[string]uint64
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore {
	return &MemStore{latest: map[uint64]Alarm{}, keys: map[string]uint64{}}
}

// Record implements Store.
func (s *MemStore) Record(_ context.Context, e Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := e.Alarm
	if a.Key != "" {
		if id, ok := s.keys[a.Key]; ok && id != a.ID {
			return errs.Errorf("alarm.MemStore.Record", errs.Exist, "alarm %d already has key %s", id, a.Key)
		}
		s.keys[a.Key] = a.ID
	}
	s.events = append(s.events, e)
	s.latest[a.ID] = cloneAlarm(a)
	return nil
}

// Load implements Store.
func (s *MemStore) Load(_ context.Context, keep int) ([]Alarm, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]uint64, 0, len(s.latest))
	for id := range s.latest {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	next := uint64(1)
	if n := len(ids); n > 0 {
		next = ids[n-1] + 1
	}
	var out []Alarm
	done := 0
	for i := len(ids) - 1; i >= 0; i-- {
		a := s.latest[ids[i]]
		if !a.Active() && a.Acked() {
			if done >= keep {
				continue
			}
			done++
		}
		out = append(out, cloneAlarm(a))
	}
	slices.Reverse(out)
	return out, next, nil
}

// Find implements Store.
func (s *MemStore) Find(_ context.Context, key string) (Alarm, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.keys[key]
	if !ok {
		return Alarm{}, false, nil
	}
	return cloneAlarm(s.latest[id]), true, nil
}

// Get implements Store.
func (s *MemStore) Get(_ context.Context, id uint64) (Alarm, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.latest[id]
	return cloneAlarm(a), ok, nil
}

// Between implements Store.
func (s *MemStore) Between(_ context.Context, from, to time.Time) ([]Alarm, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return between(s.events, from, to), nil
}

// Close implements Store.
func (s *MemStore) Close() error { return nil }

func cloneAlarm(a Alarm) Alarm {
	if a.Params != nil {
		p := make(map[string]string, len(a.Params))
		for k, v := range a.Params {
			p[k] = v
		}
		a.Params = p
	}
	return a
}
