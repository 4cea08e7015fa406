package store

import (
	"bytes"
	"context"
	"slices"
	"sync"

	"github.com/gwanje/gwanje/internal/errs"
)

// MemIndex is an Index in memory, for tests of this and other packages. It
// passes the same conformance suite as the SQLite index; nothing is durable.
type MemIndex struct {
	mu      sync.Mutex
	next    int64
	rows    map[int64]Row
	garbage map[int64]GarbageRow
}

// NewMemIndex returns an empty MemIndex.
func NewMemIndex() *MemIndex {
	return &MemIndex{next: 1, rows: map[int64]Row{}, garbage: map[int64]GarbageRow{}}
}

func cloneRow(r Row) Row {
	r.ParamsSealed, r.WrappedKey = bytes.Clone(r.ParamsSealed), bytes.Clone(r.WrappedKey)
	r.SHA256, r.FrameIndex = bytes.Clone(r.SHA256), bytes.Clone(r.FrameIndex)
	return r
}

// Create implements Index.
func (m *MemIndex) Create(ctx context.Context, r *Row, fill func(id int64) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	id := m.next
	if err := fill(id); err != nil {
		return errs.E("store.MemIndex.Create", err)
	}
	m.next++
	if r.State != StateReplacing {
		r.State = StateOpen
	}
	r.ID, r.End = id, r.Start
	m.rows[id] = cloneRow(*r)
	return nil
}

// Finish implements Index.
func (m *MemIndex) Finish(ctx context.Context, r *Row) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.rows[r.ID]
	if !ok || old.State != StateOpen {
		return errs.Errorf("store.MemIndex.Finish", errs.Conflict, "segment %d is not open", r.ID)
	}
	old.State, old.End, old.Frames, old.KeyFrames = StateClosed, r.End, r.Frames, r.KeyFrames
	old.MediaBytes, old.FileBytes, old.SHA256, old.FrameIndex = r.MediaBytes, r.FileBytes, r.SHA256, r.FrameIndex
	m.rows[r.ID] = cloneRow(old)
	r.State = StateClosed
	return nil
}

// Get implements Index.
func (m *MemIndex) Get(ctx context.Context, id int64) (*Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rows[id]
	if !ok {
		return nil, errs.Errorf("store.MemIndex.Get", errs.NotExist, "segment %d", id)
	}
	r = cloneRow(r)
	return &r, nil
}

func (m *MemIndex) sorted(keep func(*Row) bool) []Row {
	var out []Row
	for _, r := range m.rows {
		if keep(&r) {
			out = append(out, cloneRow(r))
		}
	}
	slices.SortFunc(out, func(a, b Row) int {
		if a.Camera != b.Camera {
			return bytes.Compare([]byte(a.Camera), []byte(b.Camera))
		}
		if a.Start != b.Start {
			return cmp64(a.Start, b.Start)
		}
		return cmp64(a.ID, b.ID)
	})
	return out
}

func cmp64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// List implements Index.
func (m *MemIndex) List(ctx context.Context, camera string, start, end int64) ([]Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sorted(func(r *Row) bool {
		return (camera == "" || r.Camera == camera) && r.Start < end && (r.End > start || r.State == StateOpen)
	}), nil
}

// Open implements Index.
func (m *MemIndex) Open(ctx context.Context) ([]Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sorted(func(r *Row) bool { return r.State == StateOpen || r.State == StateReplacing })
	slices.SortFunc(out, func(a, b Row) int { return cmp64(a.ID, b.ID) })
	return out, nil
}

// Delete implements Index.
func (m *MemIndex) Delete(ctx context.Context, id int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.rows, id)
	return nil
}

// Trash implements Index.
func (m *MemIndex) Trash(ctx context.Context, ids []int64, now int64) ([]GarbageRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		r, ok := m.rows[id]
		if !ok {
			return nil, errs.Errorf("store.MemIndex.Trash", errs.NotExist, "segment %d", id)
		}
		if r.State != StateClosed {
			return nil, errs.Errorf("store.MemIndex.Trash", errs.Conflict, "segment %d is %v, not closed", id, r.State)
		}
		if seen[id] {
			return nil, errs.Errorf("store.MemIndex.Trash", errs.Invalid, "segment %d listed twice", id)
		}
		seen[id] = true
	}
	var out []GarbageRow
	for _, id := range ids {
		out = append(out, m.trash(id, now, true))
	}
	return out, nil
}

func (m *MemIndex) trash(id, now int64, gap bool) GarbageRow {
	r := m.rows[id]
	g := GarbageRow{SegmentID: id, Camera: r.Camera, Start: r.Start, End: r.End, FileBytes: r.FileBytes,
		SHA256: bytes.Clone(r.SHA256), KeyID: r.KeyID, Destroyed: now}
	m.garbage[id] = g
	delete(m.rows, id)
	for k, n := range m.rows {
		if gap && n.Camera == r.Camera && n.Start == r.End {
			n.Discontinuity = true
			m.rows[k] = n
		}
	}
	return g
}

// Replace implements Index.
func (m *MemIndex) Replace(ctx context.Context, old int64, news []*Row, now int64) (GarbageRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.rows[old]
	if !ok {
		return GarbageRow{}, errs.Errorf("store.MemIndex.Replace", errs.NotExist, "segment %d", old)
	}
	gap := true
	for _, r := range news {
		if n, ok := m.rows[r.ID]; !ok || n.State != StateReplacing {
			return GarbageRow{}, errs.Errorf("store.MemIndex.Replace", errs.Conflict, "segment %d is not a replacement being written", r.ID)
		}
		if r.End == o.End {
			gap = false
		}
	}
	for _, r := range news {
		n := m.rows[r.ID]
		n.State, n.End, n.Frames, n.KeyFrames = StateClosed, r.End, r.Frames, r.KeyFrames
		n.MediaBytes, n.FileBytes, n.SHA256, n.FrameIndex = r.MediaBytes, r.FileBytes, r.SHA256, r.FrameIndex
		m.rows[r.ID] = cloneRow(n)
		r.State = StateClosed
	}
	return m.trash(old, now, gap), nil
}

// Garbage implements Index.
func (m *MemIndex) Garbage(ctx context.Context) ([]GarbageRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []GarbageRow
	for _, g := range m.garbage {
		out = append(out, g)
	}
	slices.SortFunc(out, func(a, b GarbageRow) int { return cmp64(a.SegmentID, b.SegmentID) })
	return out, nil
}

// Forget implements Index.
func (m *MemIndex) Forget(ctx context.Context, ids []int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, id := range ids {
		delete(m.garbage, id)
	}
	return nil
}

// NotUnder implements Index.
func (m *MemIndex) NotUnder(ctx context.Context, keyID string, limit int) ([]Row, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.sorted(func(r *Row) bool { return r.KeyID != keyID })
	slices.SortFunc(out, func(a, b Row) int { return cmp64(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Rewrap implements Index.
func (m *MemIndex) Rewrap(ctx context.Context, us []KeyUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range us {
		if r, ok := m.rows[u.ID]; ok && r.KeyID == u.OldKeyID {
			r.KeyID, r.WrappedKey = u.KeyID, bytes.Clone(u.WrappedKey)
			m.rows[u.ID] = r
		}
	}
	return nil
}

// Cameras implements Index.
func (m *MemIndex) Cameras(ctx context.Context) ([]CameraSummary, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []CameraSummary
	for _, r := range m.sorted(func(*Row) bool { return true }) {
		if n := len(out); n == 0 || out[n-1].Camera != r.Camera {
			out = append(out, CameraSummary{Camera: r.Camera, Oldest: r.Start, Newest: r.End})
		}
		c := &out[len(out)-1]
		c.Segments++
		c.Bytes += r.FileBytes
		c.Oldest, c.Newest = min(c.Oldest, r.Start), max(c.Newest, r.End)
	}
	return out, nil
}

// Briefs implements Index.
func (m *MemIndex) Briefs(ctx context.Context, camera string, endBefore int64, limit int) ([]Brief, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rows := m.sorted(func(r *Row) bool {
		return (camera == "" || r.Camera == camera) && r.State == StateClosed && r.End <= endBefore
	})
	slices.SortFunc(rows, func(a, b Row) int {
		if a.Start != b.Start {
			return cmp64(a.Start, b.Start)
		}
		return cmp64(a.ID, b.ID)
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	out := make([]Brief, len(rows))
	for i, r := range rows {
		out[i] = Brief{ID: r.ID, Camera: r.Camera, Start: r.Start, End: r.End, Bytes: r.FileBytes, SHA256: r.SHA256, KeyID: r.KeyID,
			WrappedKey: r.WrappedKey}
	}
	return out, nil
}

// Close implements Index.
func (m *MemIndex) Close() error { return nil }

var _ Index = (*MemIndex)(nil)

// clone returns a deep copy (tests: one crashed state, many recoveries).
func (m *MemIndex) clone() *MemIndex {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMemIndex()
	c.next = m.next
	for id, r := range m.rows {
		c.rows[id] = cloneRow(r)
	}
	for id, g := range m.garbage {
		c.garbage[id] = g
	}
	return c
}
