package export

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// ledgerFirst is a Source that fails the test if footage is read before
// the ledger holds an export row.
type ledgerFirst struct {
	Source
	t     *testing.T
	l     *ledger.Ledger
	reads int
}

func (s *ledgerFirst) Open(ctx context.Context, id int64) (playback.SegmentData, error) {
	es, err := s.l.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.Export}})
	if err != nil {
		s.t.Fatal(err)
	}
	if len(es) == 0 {
		s.t.Errorf("segment %d opened before the ledger row of the export", id)
	}
	s.reads++
	return s.Source.Open(ctx, id)
}

// Export through the real gate: a manager of the site gets a package
// whose manifest names the ledger row the gate wrote before any footage
// was read, with the provision's columns; a user without the export
// permission is refused (and the refusal ledgered) with nothing written.
func TestExportThroughTheGate(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	dir := t.TempDir()
	clk := clock.NewFake(media.FromTime90k(t0 + 3600*sec))
	quiet := slog.New(slog.DiscardHandler)
	l, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	svc, err := access.Open(context.Background(), access.Config{Dir: dir, Ledger: l, Clock: clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := context.Background()
	addr := netip.MustParseAddr("10.0.0.1")
	login := func(name, pw, next string) *access.Principal {
		sess, err := svc.Login(ctx, name, pw, "", addr)
		if err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
		if err := svc.ChangePassword(ctx, sess.Principal, pw, next); err != nil {
			t.Fatal(err)
		}
		sess, err = svc.Login(ctx, name, next, "", addr)
		if err != nil {
			t.Fatal(err)
		}
		p, err := svc.Authenticate(ctx, sess.Token, addr)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	pw, _, err := svc.EnsureAdmin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin := login("admin", pw, "Strong-pass-2026")
	user := func(name string, role access.Role) *access.Principal {
		_, otp, err := svc.CreateUser(ctx, admin, name, name, []access.Grant{{Role: role, Sites: []string{"main"}}})
		if err != nil {
			t.Fatal(err)
		}
		return login(name, otp, "Blue-river-4242")
	}
	manager, viewer := user("kim", access.Manager), user("park", access.Authorized)
	g := access.NewGate(svc, access.GateConfig{Tick: 20 * time.Millisecond})
	defer g.Close()

	src := &ledgerFirst{Source: StoreSource{rec.s}, t: t, l: l}
	x := &Exporter{Source: src, Key: newKey(t), Now: clk.Now}
	req := testRequest(t0, t0+12*sec, "cam-1")

	denied := filepath.Join(t.TempDir(), "denied.zip")
	if _, err := x.Export(ctx, GateOf(g, viewer), req, denied); !errs.Is(err, errs.Permission) && !errs.Is(err, errs.Private) {
		t.Fatalf("export without the permission: %v", err)
	}
	if src.reads != 0 {
		t.Fatalf("footage read for a refused export (%d opens)", src.reads)
	}
	if es, _ := l.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.AccessRefused}}); len(es) != 1 || es[0].Actor != "park" {
		t.Errorf("refusal rows %+v", es)
	}

	path := filepath.Join(t.TempDir(), "evidence.zip")
	m, err := x.Export(ctx, GateOf(g, manager), req, path)
	if err != nil {
		t.Fatal(err)
	}
	es, err := l.Query(ctx, ledger.Filter{Kinds: []ledger.Kind{ledger.Export}})
	if err != nil || len(es) != 1 {
		t.Fatalf("export rows %+v %v", es, err)
	}
	r := es[0]
	if r.Seq != m.LedgerSeq || r.Actor != "kim" || r.Party != req.Recipient || r.LegalBasis != req.LegalBasis ||
		r.Period != req.Period || r.Form != "파일 반출" || len(r.Cameras) != 1 || r.Cameras[0] != "cam-1" {
		t.Errorf("ledger row %+v, manifest seq %d", r, m.LedgerSeq)
	}
	if v := verifyFile(t, path, Trust{PublicKey: x.Key.Public()}); !v.OK() {
		t.Fatal(v.Problems)
	}
	if g.Active() != 0 {
		t.Errorf("%d accesses left open after the export", g.Active())
	}
}
