package access

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// The gate is the one way to footage: a live stream, recorded footage
// (played or downloaded), a still frame, and an export. Gate.Begin checks,
// for every camera, the grant (the permission of that way, on the camera's
// site), the network (the viewing room) and the purpose; refuses a view of
// nothing before any ledger row; writes the ledger row and returns only once
// it is durable; and hands back a Handle whose context ends when the right
// to watch does: logout, session expiry, deactivation, a password reset, a
// grant removed or narrowed, or the view's own end. docs/design/access.md
// states the invariants.

// Way is how footage is reached. Append-only: the ledger names them.
type Way uint8

const (
	wayNone     Way = iota
	WayLive         // 실시간 열람: a camera's live stream
	WayPlayback     // 재생 열람: recorded footage played or downloaded as MP4
	WayStill        // 정지화상 열람: a still frame of a scheduled check
	WayExport       // 반출: footage copied out to a file (evidence, provision)
	wayEnd
)

var wayInfo = [...]struct {
	name string
	perm Perm
	kind ledger.Kind
	form string // the 관리대장's 형태 when the request names none
}{
	wayNone:     {"none", permNone, ledger.KindInvalid, ""},
	WayLive:     {"live", LiveView, ledger.LiveView, "실시간 열람"},
	WayPlayback: {"playback", Playback, ledger.Playback, "재생 열람"},
	WayStill:    {"still", Playback, ledger.Playback, "정지화상 열람"},
	WayExport:   {"export", Export, ledger.Export, "파일 반출"},
}

func (w Way) valid() bool { return w > wayNone && w < wayEnd }

// String is the way's stable name ("playback").
func (w Way) String() string {
	if int(w) < len(wayInfo) {
		return wayInfo[w].name
	}
	return "way(?)"
}

// Perm is the permission the way needs.
func (w Way) Perm() Perm {
	if w.valid() {
		return wayInfo[w].perm
	}
	return permNone
}

// Camera is a camera a footage request touches, with its site.
type Camera struct{ ID, Site string }

// FootageRequest is one access to footage.
type FootageRequest struct {
	Way     Way
	Cameras []Camera // every camera touched (at least one)
	// From and To are the recorded range; for a live view the gate sets
	// them to now and Until.
	From, To time.Time
	// Until is when the handle ends by itself (a view URL's life); zero:
	// only revocation or Close ends it.
	Until   time.Time
	Object  string // 파일명/형태: what is shown ("cam1 09:00–09:10 (MP4)")
	Purpose Purpose
	// Request is the number of the document the access answers: the
	// data-subject request's receipt number (purpose "subject") or a
	// provision's letter number; written as the ledger row's Ref, refusals
	// included.
	Request string
	// Party, LegalBasis, Form and Period fill those 관리대장 columns for a
	// provision or a data-subject viewing; Form defaults to the way's.
	Party, LegalBasis, Form, Period string
	// Kind is the ledger row's kind when the access serves a provision
	// (internal/provision): ledger.Provision (제3자 제공) or ledger.Use
	// (목적 외 이용), for an export or an on-site viewing; or
	// ledger.SubjectCopy (사본 교부, 구분 열람) for the export of a data
	// subject's copy (purpose subject, Request set). Zero: the way's own
	// kind. Any other kind is refused.
	Kind ledger.Kind
}

// FootageIndex is what the gate knows of the recordings, to refuse a view
// of nothing before writing a ledger row for it. app wires the segment
// index and the recorder; nil skips the checks.
type FootageIndex interface {
	// HasFootage reports whether camera has footage overlapping [from, to).
	HasFootage(ctx context.Context, camera string, from, to time.Time) (bool, error)
	// Recording reports whether camera is being recorded now (so that it
	// has a live picture).
	Recording(camera string) bool
}

// Rooms are the networks from which footage may be viewed or exported:
// the viewing room the policies promise (열람 장소 통제). A site with a list
// of its own uses it; every other site uses Networks. No list at all: not
// restricted.
type Rooms struct {
	Networks []netip.Prefix
	Sites    map[string][]netip.Prefix
}

// Configured reports whether any restriction is set (the policy names the
// viewing room only then).
func (r Rooms) Configured() bool { return len(r.Networks) > 0 || len(r.Sites) > 0 }

// Allows reports whether a client at a may view footage of site.
func (r Rooms) Allows(site string, a netip.Addr) bool {
	nets, ok := r.Sites[site]
	if !ok {
		nets = r.Networks
	}
	if len(nets) == 0 {
		return true
	}
	return a.IsValid() && inAny(nets, a.Unmap())
}

// GateConfig configures NewGate.
type GateConfig struct {
	Rooms   Rooms
	Footage FootageIndex
	// Tick is how often handles are checked against the clock and the
	// accounts database (default 200 ms; revocation ends a view within
	// about one tick).
	Tick time.Duration
}

// Gate is the one way to footage. Safe for concurrent use.
type Gate struct {
	s   *Service
	cfg GateConfig

	mu      sync.Mutex
	handles map[*Handle]struct{}
	running bool
	rounds  atomic.Uint64 // checks done, for tests
}

// NewGate returns the gate of s.
func NewGate(s *Service, cfg GateConfig) *Gate {
	if cfg.Tick <= 0 {
		cfg.Tick = 200 * time.Millisecond
	}
	return &Gate{s: s, cfg: cfg, handles: map[*Handle]struct{}{}}
}

// Rooms returns the viewing-room networks the gate enforces.
func (g *Gate) Rooms() Rooms { return g.cfg.Rooms }

// Handle is a granted access to footage. Read footage only while its
// context lives, and Close it when the view ends.
type Handle struct {
	// Entry is the durable ledger row of the access (its Seq names it).
	Entry ledger.Entry

	g      *Gate
	ctx    context.Context
	cancel context.CancelCauseFunc
	perm   Perm
	sites  []string
	until  time.Time
	inUse  atomic.Int32

	mu      sync.Mutex
	p       *Principal // the principal as last checked
	created time.Time  // the session's start
	last    time.Time  // the session's last use, as last read
	checked bool       // checked against the database once since Begin
}

// Context is cancelled when the access ends; context.Cause says why
// (errs code footage.revoked, or context.Canceled after Close).
func (h *Handle) Context() context.Context { return h.ctx }

// Done is Context().Done().
func (h *Handle) Done() <-chan struct{} { return h.ctx.Done() }

// Err is nil while the access lasts, then why it ended.
func (h *Handle) Err() error {
	if h.ctx.Err() == nil {
		return nil
	}
	return context.Cause(h.ctx)
}

// Seq is the ledger row's sequence number.
func (h *Handle) Seq() uint64 { return h.Entry.Seq }

// Use marks a response in progress (a stream, a download) until release
// is called: while in use, the access keeps its session from idling out
// (never past the absolute limit).
func (h *Handle) Use() (release func()) {
	h.inUse.Add(1)
	var once sync.Once
	return func() { once.Do(func() { h.inUse.Add(-1) }) }
}

// Close ends the access; the gate stops watching it.
func (h *Handle) Close() { h.g.end(h, context.Canceled) }

// errRevoked is the cause of a handle ended by the gate.
func errRevoked(why string) error {
	return errs.E("access.Gate", errs.Permission, errs.Code("footage.revoked"), why)
}

// Begin is the gate. In order: the caller must be logged in; every
// camera's site must be granted the way's permission and the client must
// be in that site's viewing room; the purpose must be one of Purposes with
// a reason. A refusal at any of these is written to the ledger (kind
// access-refused, detail naming the way and the public code) and returned.
// Then a view of nothing is refused without a ledger row (footage.none,
// footage.not_recording). Then the ledger row is appended; only when it is
// durable does Begin return the handle. If the ledger cannot be written
// the access is refused with errs.Unavailable.
func (g *Gate) Begin(ctx context.Context, p *Principal, req FootageRequest) (*Handle, error) {
	const op = "access.Gate.Begin"
	if !req.Way.valid() || len(req.Cameras) == 0 {
		return nil, errs.Errorf(op, errs.Internal, "footage request without a way or a camera")
	}
	switch {
	case req.Kind == ledger.KindInvalid, req.Kind == ledger.Provision, req.Kind == ledger.Use:
	case req.Kind == ledger.SubjectCopy && req.Way == WayExport && req.Purpose.Code == "subject" && req.Request != "":
	default:
		return nil, errs.Errorf(op, errs.Internal, "footage request of ledger kind %s: only a provision's kinds, or a data subject's copy of an export for their request, may be given", req.Kind)
	}
	if p == nil || !p.Active {
		return nil, errs.Errorf(op, errs.Unauthorized, "not logged in")
	}
	s := g.s
	now := s.now()
	if req.Way == WayLive {
		req.From, req.To = now, req.Until
	}
	var sites []string
	for _, c := range req.Cameras {
		if !slices.Contains(sites, c.Site) {
			sites = append(sites, c.Site)
		}
	}
	var cams []string
	for _, c := range req.Cameras {
		cams = append(cams, c.ID)
	}
	e := ledger.Entry{Actor: p.Name, Client: addrString(p.Client), Site: strings.Join(sites, ","), Cameras: cams,
		From: req.From, To: req.To, Object: req.Object, Purpose: clip(strings.TrimSpace(req.Purpose.Reason), MaxReason),
		Party: req.Party, LegalBasis: req.LegalBasis, Form: req.Form, Period: req.Period, Ref: req.Request}
	if slices.Contains(Purposes, req.Purpose.Code) {
		e.PurposeCategory = req.Purpose.Label()
	}
	refuse := func(err error) (*Handle, error) {
		r := e
		r.Kind, r.Role = ledger.AccessRefused, p.Role(now).Korean()
		r.Detail = fmt.Sprintf("%s refused: %s", req.Way, errs.CodeOf(err))
		if lerr := s.record(ctx, r); lerr != nil {
			s.cfg.Logger.Error("a refused footage request could not be ledgered", "user", p.Name, "err", lerr)
		}
		return nil, errs.E(op, err)
	}
	perm := req.Way.Perm()
	var role Role
	for i, site := range sites {
		r, err := authorize(p, perm, site, now)
		if err != nil {
			return refuse(err)
		}
		if !g.cfg.Rooms.Allows(site, p.Client) {
			return refuse(errs.E(op, errs.Permission, errs.Code("footage.network"), ErrNetwork))
		}
		if i == 0 {
			role = r
		}
	}
	if err := req.Purpose.Validate(); err != nil {
		return refuse(err)
	}
	if err := g.exists(ctx, req); err != nil {
		return nil, errs.E(op, err)
	}
	e.Kind, e.Role = wayInfo[req.Way].kind, role.Korean()
	if req.Kind != ledger.KindInvalid {
		e.Kind = req.Kind
	}
	if e.Form == "" {
		e.Form = wayInfo[req.Way].form
	}
	e.Detail = "purpose=" + req.Purpose.Code
	row, err := s.cfg.Ledger.Append(ctx, e)
	if err != nil {
		s.cfg.Logger.Error("footage refused: ledger write failed", "user", p.Name, "err", err)
		return nil, errs.E(op, errs.Unavailable, err)
	}
	h := &Handle{Entry: row, g: g, perm: perm, sites: sites, until: req.Until, p: p}
	h.ctx, h.cancel = context.WithCancelCause(context.Background())
	if p.session != nil {
		if sr, err := s.st.Session(ctx, p.session); err == nil && sr != nil {
			h.created, h.last = sr.Created, sr.Last
		}
	}
	g.add(h)
	return h, nil
}

// exists refuses a view of nothing: a recorded range without footage, a
// live view of a camera that is not recording.
func (g *Gate) exists(ctx context.Context, req FootageRequest) error {
	const op = "access.Gate.exists"
	if g.cfg.Footage == nil {
		return nil
	}
	switch req.Way {
	case WayLive:
		for _, c := range req.Cameras {
			if !g.cfg.Footage.Recording(c.ID) {
				return errs.E(op, errs.Unavailable, errs.Code("footage.not_recording"), fmt.Sprintf("camera %q is not recording", c.ID))
			}
		}
	case WayPlayback, WayExport:
		for _, c := range req.Cameras {
			ok, err := g.cfg.Footage.HasFootage(ctx, c.ID, req.From, req.To)
			if err != nil {
				return errs.E(op, err)
			}
			if ok {
				return nil
			}
		}
		return errs.E(op, errs.NotExist, errs.Code("footage.none"), "no footage in the range")
	}
	return nil
}

// clip cuts s to n characters: a refused request's over-long reason is
// recorded, but not at any length.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

func addrString(a netip.Addr) string {
	if a.IsValid() {
		return a.String()
	}
	return ""
}

func (g *Gate) add(h *Handle) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handles[h] = struct{}{}
	if !g.running {
		g.running = true
		go g.watch()
	}
}

func (g *Gate) end(h *Handle, cause error) {
	g.mu.Lock()
	delete(g.handles, h)
	g.mu.Unlock()
	h.cancel(cause)
}

// Close ends every access (at shutdown).
func (g *Gate) Close() {
	g.mu.Lock()
	hs := make([]*Handle, 0, len(g.handles))
	for h := range g.handles {
		hs = append(hs, h)
	}
	g.mu.Unlock()
	for _, h := range hs {
		g.end(h, errRevoked("the server is stopping"))
	}
}

// Active is the number of accesses in progress.
func (g *Gate) Active() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.handles)
}

// fullEvery is how often every handle is checked against the database
// even when it did not change (idle sessions, keeping used ones alive).
const fullEvery = 30 * time.Second

// watch checks the handles every tick while there are any: against the
// clock (the view's end, the session's absolute limit, grants running
// out) on every tick, and against the accounts database whenever it
// changed, from this process or another (PRAGMA data_version on a
// connection of the gate's own: the CLI deactivating a user counts too).
func (g *Gate) watch() {
	t := time.NewTicker(g.cfg.Tick)
	defer t.Stop()
	ver := g.openWatch()
	if ver != nil {
		defer ver.Close()
	}
	lastFull := time.Now()
	for range t.C {
		g.mu.Lock()
		if len(g.handles) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		hs := make([]*Handle, 0, len(g.handles))
		for h := range g.handles {
			hs = append(hs, h)
		}
		g.mu.Unlock()
		full := ver == nil || ver.Changed() || time.Since(lastFull) >= fullEvery
		if full {
			lastFull = time.Now()
		}
		g.check(hs, full)
	}
}

// check ends the handles whose right to watch is gone.
func (g *Gate) check(hs []*Handle, full bool) {
	s := g.s
	ctx := context.Background()
	now := s.now()
	type fresh struct {
		p   *Principal
		row *SessionRecord
		err error
	}
	seen := map[string]fresh{}
	for _, h := range hs {
		if !h.until.IsZero() && !now.Before(h.until) {
			g.end(h, errRevoked("the view ended"))
			continue
		}
		h.mu.Lock()
		p, created, last, first := h.p, h.created, h.last, !h.checked
		h.checked = true
		h.mu.Unlock()
		if p.session != nil {
			if (full || first) && p.session != nil {
				key := string(p.session)
				f, ok := seen[key]
				if !ok {
					f.p, f.row, f.err = s.reload(ctx, p)
					seen[key] = f
				}
				switch {
				case f.err != nil:
					// The database could not be read: keep watching; a
					// transient error ends nothing.
					s.cfg.Logger.Warn("footage gate: checking a session failed", "err", f.err)
				case f.p == nil:
					g.end(h, errRevoked("session ended"))
					continue
				default:
					p, created, last = f.p, f.row.Created, f.row.Last
				}
			}
			if now.Sub(created) > s.cfg.AbsoluteTimeout {
				g.end(h, errRevoked("session expired"))
				continue
			}
			if h.inUse.Load() > 0 && now.Sub(last) > s.cfg.IdleTimeout/2 {
				if err := s.st.TouchSession(ctx, p.session, now); err == nil {
					last = now
				}
			}
			if now.Sub(last) > s.cfg.IdleTimeout {
				g.end(h, errRevoked("session idle"))
				continue
			}
			h.mu.Lock()
			h.p, h.created, h.last = p, created, last
			h.mu.Unlock()
		}
		for _, site := range h.sites {
			if _, err := authorize(p, h.perm, site, now); err != nil {
				g.end(h, errRevoked(fmt.Sprintf("%s on %s no longer granted", h.perm, site)))
				break
			}
		}
	}
	g.rounds.Add(1)
}

// reload reads p's session and account again. A nil principal with a nil
// error means the session or the account is gone.
func (s *Service) reload(ctx context.Context, p *Principal) (*Principal, *SessionRecord, error) {
	row, err := s.st.Session(ctx, p.session)
	if err != nil || row == nil {
		return nil, nil, err
	}
	acc, err := s.st.AccountByID(ctx, row.AccountID)
	if errs.Is(err, errs.NotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !acc.Active {
		return nil, nil, nil
	}
	return &Principal{User: acc.User, Client: p.Client, CSRF: row.CSRF, session: p.session}, row, nil
}

// openWatch returns the accounts store's change watch when the store can
// tell (ChangeWatcher; the SQLite store can), else nil and the gate
// re-reads every tick.
func (g *Gate) openWatch() ChangeWatch {
	cw, ok := g.s.st.(ChangeWatcher)
	if !ok {
		return nil
	}
	w, err := cw.WatchChanges(context.Background())
	if err != nil {
		g.s.cfg.Logger.Warn("footage gate: cannot watch the accounts store for changes; reading it every tick", "err", err)
		return nil
	}
	return w
}

// Revoked reports whether err (a handle's Err) is an ended right to watch
// rather than the view's own Close.
func Revoked(err error) bool { return err != nil && !errors.Is(err, context.Canceled) }
