package access

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// index is a FootageIndex: footage of every camera in [from, to), and the
// cameras recording now.
type index struct {
	from, to  time.Time
	recording map[string]bool
}

func (x index) HasFootage(_ context.Context, _ string, from, to time.Time) (bool, error) {
	return from.Before(x.to) && to.After(x.from), nil
}
func (x index) Recording(c string) bool { return x.recording[c] }

func newGate(e *env, rooms Rooms) *Gate {
	return NewGate(e.s, GateConfig{Rooms: rooms, Tick: 20 * time.Millisecond,
		Footage: index{from: t0.Add(-2 * time.Hour), to: t0, recording: map[string]bool{"cam3": true}}})
}

func playback(purpose Purpose) FootageRequest {
	return FootageRequest{Way: WayPlayback, Cameras: []Camera{{ID: "cam3", Site: "guro"}},
		From: t0.Add(-time.Hour), To: t0.Add(-50 * time.Minute), Object: "cam3 (MP4)", Purpose: purpose}
}

var incident = Purpose{Code: "incident", Reason: "주차장 접촉사고 확인"}

func TestGateLedgersFirstWithLabelCodeAndRequest(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "jung", Grant{Role: Manager, Sites: []string{"guro"}})
	g := newGate(e, Rooms{})
	req := playback(Purpose{Code: "subject", Reason: "청구인 본인 확인"})
	req.Request = "2026-0007-K3QX"
	h, err := g.Begin(context.Background(), p, req)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	got := e.entries(t, ledger.Playback)
	if len(got) != 1 || got[0].Seq != h.Seq() {
		t.Fatalf("ledger rows %+v, handle seq %d", got, h.Seq())
	}
	r := got[0]
	if r.Actor != "jung" || r.Role != "관리책임자" || r.Client != "10.10.0.5" || r.Site != "guro" ||
		r.PurposeCategory != "정보주체 열람" || r.Purpose != "청구인 본인 확인" || r.Form != "재생 열람" ||
		!strings.Contains(r.Detail, "purpose=subject") || r.Ref != "2026-0007-K3QX" {
		t.Fatalf("ledger row %+v", r)
	}
}

// Every refusal before the row (no purpose, no permission, another site,
// outside the viewing room) is itself ledgered, naming the way and the
// public code; finding 8: a request without a purpose was not.
func TestGateRefusalsAreLedgered(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "han", Grant{Role: Authorized, Sites: []string{"guro"}})
	_, staff := e.addUser(t, "seo", Grant{Role: Staff, Sites: []string{"guro"}})
	rooms := Rooms{Sites: map[string][]netip.Prefix{"guro": {netip.MustParsePrefix("10.10.0.0/24")}}}
	g := newGate(e, rooms)
	ctx := context.Background()
	cases := []struct {
		name   string
		p      *Principal
		client string
		req    FootageRequest
		kind   errs.Kind
		code   string
	}{
		{"no purpose", p, "10.10.0.5", playback(Purpose{Reason: "그냥"}), errs.Invalid, "purpose.category"},
		{"unknown purpose", p, "10.10.0.5", playback(Purpose{Code: "curiosity", Reason: "그냥"}), errs.Invalid, "purpose.category"},
		{"no reason", p, "10.10.0.5", playback(Purpose{Code: "incident", Reason: "  "}), errs.Invalid, "purpose.reason"},
		{"reason too long", p, "10.10.0.5", playback(Purpose{Code: "incident", Reason: strings.Repeat("가", 5000)}), errs.Invalid, "purpose.reason"},
		{"no permission", staff, "10.10.0.5", playback(incident), errs.Permission, "forbidden"},
		{"other site", p, "10.10.0.5", func() FootageRequest {
			r := playback(incident)
			r.Cameras = []Camera{{ID: "cam3", Site: "guro"}, {ID: "cam9", Site: "sijang"}}
			return r
		}(), errs.Private, "not_found"},
		{"outside the viewing room", p, "192.168.7.7", playback(incident), errs.Permission, "footage.network"},
	}
	for i, c := range cases {
		c.p.Client = netip.MustParseAddr(c.client)
		_, err := g.Begin(ctx, c.p, c.req)
		if !errs.Is(err, c.kind) || string(errs.CodeOf(err)) != c.code {
			t.Errorf("%s: %v (code %s), want %v %s", c.name, err, errs.CodeOf(err), c.kind, c.code)
		}
		refused := e.entries(t, ledger.AccessRefused)
		if len(refused) != i+1 {
			t.Fatalf("%s: %d refusal rows, want %d", c.name, len(refused), i+1)
		}
		r := refused[i]
		if r.Actor != c.p.Name || r.Client != c.client || !strings.Contains(r.Detail, "playback refused: "+c.code) ||
			utf8.RuneCountInString(r.Purpose) > MaxReason+1 {
			t.Errorf("%s: refusal row %+v", c.name, r)
		}
	}
	if n := len(e.entries(t, ledger.Playback)); n != 0 {
		t.Fatalf("%d playback rows for refused requests", n)
	}
	// Inside the room it is allowed; a site without a list of its own
	// follows the global list (none here: unrestricted).
	p.Client = netip.MustParseAddr("10.10.0.7")
	h, err := g.Begin(ctx, p, playback(incident))
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
}

func TestRoomsAllows(t *testing.T) {
	r := Rooms{Networks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Sites: map[string][]netip.Prefix{"branch": {netip.MustParsePrefix("192.168.5.0/24")}}}
	for _, c := range []struct {
		site, addr string
		want       bool
	}{
		{"hq", "10.1.2.3", true}, {"hq", "192.168.5.9", false},
		{"branch", "192.168.5.9", true}, {"branch", "10.1.2.3", false},
		{"hq", "::ffff:10.1.2.3", true}, {"hq", "", false},
	} {
		var a netip.Addr
		if c.addr != "" {
			a = netip.MustParseAddr(c.addr)
		}
		if got := r.Allows(c.site, a); got != c.want {
			t.Errorf("%s from %q: %v", c.site, c.addr, got)
		}
	}
	if (Rooms{}).Configured() || !r.Configured() || !(Rooms{}).Allows("x", netip.Addr{}) {
		t.Error("an empty Rooms restricts, or a set one does not say so")
	}
}

// Finding and issue 12: a view of nothing is refused with a clear code
// before any ledger row.
func TestGateRefusesNothingBeforeTheLedger(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "oh", Grant{Role: Manager, Sites: []string{"*"}})
	g := newGate(e, Rooms{})
	before := len(e.entries(t, ledger.AccessRefused))
	req := playback(incident)
	req.From, req.To = t0.Add(-10*time.Hour), t0.Add(-9*time.Hour)
	if _, err := g.Begin(context.Background(), p, req); !errs.Is(err, errs.NotExist) || errs.CodeOf(err) != "footage.none" {
		t.Fatalf("empty range: %v", err)
	}
	live := FootageRequest{Way: WayLive, Cameras: []Camera{{ID: "cam4", Site: "guro"}}, Until: t0.Add(time.Hour),
		Purpose: Purpose{Code: "monitoring", Reason: "정문 관제"}}
	if _, err := g.Begin(context.Background(), p, live); errs.CodeOf(err) != "footage.not_recording" {
		t.Fatalf("live view of a camera not recording: %v", err)
	}
	for _, k := range []ledger.Kind{ledger.Playback, ledger.LiveView} {
		if n := len(e.entries(t, k)); n != 0 {
			t.Errorf("%d %v rows for a view of nothing", n, k)
		}
	}
	if n := len(e.entries(t, ledger.AccessRefused)); n != before {
		t.Errorf("a view of nothing was ledgered as a refusal")
	}
}

func TestGateRefusesWhenLedgerFails(t *testing.T) {
	var fail bool
	var real ledger.Appender
	e := newEnv(t, func(c *Config) {
		real = c.Ledger
		c.Ledger = ledger.AppenderFunc(func(ctx context.Context, en ledger.Entry) (ledger.Entry, error) {
			if fail {
				return ledger.Entry{}, errs.Errorf("test", errs.IO, "disk full")
			}
			return real.Append(ctx, en)
		})
	})
	_, p := e.addUser(t, "yoon", Grant{Role: Staff, Sites: []string{"*"}})
	fail = true
	g := newGate(e, Rooms{})
	_, err := g.Begin(context.Background(), p, FootageRequest{Way: WayLive, Cameras: []Camera{{ID: "cam3", Site: "guro"}},
		Purpose: Purpose{Code: "monitoring", Reason: "정문 관제"}})
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("footage allowed without a ledger row: %v", err)
	}
	if g.Active() != 0 {
		t.Fatal("a handle without a ledger row")
	}
}

// waitEnded waits up to 1 s for h to end and checks why.
func waitEnded(t *testing.T, what string, h *Handle) {
	t.Helper()
	select {
	case <-h.Done():
	case <-time.After(time.Second):
		t.Fatalf("%s: the access outlived the right to watch by 1 s", what)
	}
	if !Revoked(h.Err()) || errs.CodeOf(h.Err()) != "footage.revoked" {
		t.Fatalf("%s: ended with %v, want footage.revoked", what, h.Err())
	}
}

// Finding 1: every kind of revocation ends an access in progress within
// 1 s, and nothing else does.
func TestRevocationEndsAccessWithinOneSecond(t *testing.T) {
	cases := []struct {
		name   string
		revoke func(e *env, p *Principal)
	}{
		{"logout", func(e *env, p *Principal) { must(e.s.Logout(context.Background(), p)) }},
		{"deactivation", func(e *env, p *Principal) {
			must(e.s.Deactivate(context.Background(), e.admin, p.Name, Retirement, ""))
		}},
		{"deactivation by the CLI in another process", func(e *env, p *Principal) {
			// A second service on the same data directory, as `gwanje user
			// deactivate` opens it while the server runs.
			other, err := Open(context.Background(), Config{Dir: e.s.cfg.Dir, Ledger: e.s.cfg.Ledger, Clock: e.clk, Argon2: fast})
			must(err)
			defer other.Close()
			must(other.Deactivate(context.Background(), other.Operator("root"), p.Name, Transfer, ""))
		}},
		{"password reset", func(e *env, p *Principal) {
			_, err := e.s.ResetPassword(context.Background(), e.admin, p.Name)
			must(err)
		}},
		{"password changed in another session", func(e *env, p *Principal) {
			other, err := e.s.Login(context.Background(), p.Name, "Blue-river-42", "", netip.MustParseAddr("10.10.0.6"))
			must(err)
			must(e.s.ChangePassword(context.Background(), other.Principal, "Blue-river-42", "Quiet-harbor-lantern-97"))
		}},
		{"grant removed", func(e *env, p *Principal) {
			must(e.s.SetGrants(context.Background(), e.admin, p.Name, []Grant{{Role: Auditor, Sites: []string{"*"}}}))
		}},
		{"grant narrowed to another site", func(e *env, p *Principal) {
			must(e.s.SetGrants(context.Background(), e.admin, p.Name, []Grant{{Role: Authorized, Sites: []string{"sijang"}}}))
		}},
		{"grant narrowed to live view only", func(e *env, p *Principal) {
			must(e.s.SetGrants(context.Background(), e.admin, p.Name, []Grant{{Role: Staff, Sites: []string{"guro"}}}))
		}},
		{"session expiry", func(e *env, p *Principal) { e.clk.Advance(13 * time.Hour) }},
		{"grant running out", func(e *env, p *Principal) { e.clk.Advance(25 * time.Hour) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(c *Config) { c.IdleTimeout = 24 * time.Hour })
			grant := Grant{Role: Authorized, Sites: []string{"guro"}}
			if c.name == "grant running out" {
				grant.ValidUntil = t0.Add(24 * time.Hour)
			}
			_, p := e.addUser(t, "kim", grant)
			g := newGate(e, Rooms{})
			h, err := g.Begin(context.Background(), p, playback(incident))
			if err != nil {
				t.Fatal(err)
			}
			// The access lasts while nothing changes: a few ticks pass,
			// unrelated changes happen.
			_, _ = e.addUser(t, "bystander", Grant{Role: Staff, Sites: []string{"guro"}})
			r := g.rounds.Load()
			waitFor(t, func() bool { return g.rounds.Load() >= r+3 })
			if h.Err() != nil {
				t.Fatalf("ended before any revocation: %v", h.Err())
			}
			c.revoke(e, p)
			waitEnded(t, c.name, h)
			if g.Active() != 0 {
				t.Fatal("the gate still watches an ended access")
			}
		})
	}
}

// A view's own end (Until) ends its handle too; Close is not a revocation.
func TestHandleUntilAndClose(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout = 24 * time.Hour })
	_, p := e.addUser(t, "lee", Grant{Role: Authorized, Sites: []string{"guro"}})
	g := newGate(e, Rooms{})
	req := playback(incident)
	req.Until = t0.Add(time.Hour)
	h, err := g.Begin(context.Background(), p, req)
	if err != nil {
		t.Fatal(err)
	}
	h2, err := g.Begin(context.Background(), p, playback(incident))
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(time.Hour)
	waitEnded(t, "until", h)
	h2.Close()
	if Revoked(h2.Err()) {
		t.Fatalf("Close reads as a revocation: %v", h2.Err())
	}
}

// An access in use keeps its session from idling out; an unused one does
// not.
func TestHandleInUseKeepsSessionAlive(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.IdleTimeout = 30 * time.Minute })
	tok, p := e.addUser(t, "moon", Grant{Role: Staff, Sites: []string{"guro"}})
	g := NewGate(e.s, GateConfig{Tick: 10 * time.Millisecond})
	live := FootageRequest{Way: WayLive, Cameras: []Camera{{ID: "cam3", Site: "guro"}}, Purpose: Purpose{Code: "monitoring", Reason: "정문 관제"}}
	h, err := g.Begin(context.Background(), p, live)
	if err != nil {
		t.Fatal(err)
	}
	release := h.Use()
	for i := 0; i < 4; i++ {
		e.clk.Advance(20 * time.Minute)
		// Wait until the gate has seen the new time: its next full check
		// touches the session (the touch changes access.db).
		waitFor(t, func() bool {
			row, _ := e.s.st.Session(context.Background(), p.session)
			return row != nil && !row.Last.Before(e.clk.Now())
		})
	}
	if h.Err() != nil {
		t.Fatalf("a stream in use idled out: %v", h.Err())
	}
	if _, err := e.s.Authenticate(context.Background(), tok, netip.Addr{}); err != nil {
		t.Fatalf("the session of a stream in use expired: %v", err)
	}
	release()
	e.clk.Advance(31 * time.Minute)
	waitEnded(t, "idle", h)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 2 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

// A data subject's copy is ledgered as 사본 교부 (구분 열람) only for an
// export with purpose subject and a request number; the kind cannot be
// claimed for anything else.
func TestGateSubjectCopyKindOnlyForASubjectsExport(t *testing.T) {
	e := newEnv(t, nil)
	_, p := e.addUser(t, "jung", Grant{Role: Manager, Sites: []string{"guro"}})
	g := newGate(e, Rooms{})
	base := playback(Purpose{Code: "subject", Reason: "열람등 요구"})
	base.Way, base.Kind, base.Request = WayExport, ledger.SubjectCopy, "2026-0007-K3QX"
	h, err := g.Begin(context.Background(), p, base)
	if err != nil {
		t.Fatal(err)
	}
	h.Close()
	if got := e.entries(t, ledger.SubjectCopy); len(got) != 1 || got[0].Kind.Category() != ledger.CatView || got[0].Ref != base.Request {
		t.Fatalf("subject copy rows %+v", got)
	}
	for name, mut := range map[string]func(*FootageRequest){
		"playback":   func(r *FootageRequest) { r.Way = WayPlayback },
		"no request": func(r *FootageRequest) { r.Request = "" },
		"incident":   func(r *FootageRequest) { r.Purpose.Code = "incident" },
	} {
		r := base
		mut(&r)
		if _, err := g.Begin(context.Background(), p, r); err == nil {
			t.Errorf("%s: kind subject-copy accepted", name)
		}
	}
	if got := e.entries(t, ledger.SubjectCopy); len(got) != 1 {
		t.Fatalf("refused claims were ledgered as copies: %+v", got)
	}
}
