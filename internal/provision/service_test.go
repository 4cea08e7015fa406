package provision_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/provision"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
	"github.com/gwanje/gwanje/internal/store/storetest"
)

var t0 = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) // 09:00 KST

// world is a data directory with cam-1 and cam-2 (site main) recorded for
// 12 s from t0 and cam-9 of another site, the ledger, accounts, the gate,
// the holds and the provision service.
type world struct {
	t      *testing.T
	dir    string
	clk    *clock.Fake
	led    *ledger.Ledger
	acc    *access.Service
	gate   *access.Gate
	holds  *retention.Holds
	key    *export.Key
	svc    *provision.Service
	admin  *access.Principal
	people map[string]*access.Principal
}

func record(t *testing.T, s *store.Store, cam string, start int64, n int) {
	t.Helper()
	w, err := s.Writer(cam)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.Clip(w, media.CodecH264, start, n); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, dir: t.TempDir(), clk: clock.NewFake(t0.Add(time.Hour)), people: map[string]*access.Principal{}}
	quiet := slog.New(slog.DiscardHandler)
	keys, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{Dir: filepath.Join(w.dir, "store"), Keys: keys, SegmentDuration: 10 * time.Second,
		ChunkDuration: time.Second, SyncInterval: 10 * time.Millisecond, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	record(t, st, "cam-1", media.Time90k(t0), 12*25)
	record(t, st, "cam-2", media.Time90k(t0), 12*25)
	if w.led, err = ledger.Open(ctx, ledger.Options{Dir: w.dir, Clock: w.clk, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.led.Close() })
	if w.acc, err = access.Open(ctx, access.Config{Dir: w.dir, Ledger: w.led, Clock: w.clk, Logger: quiet,
		Argon2: access.Argon2{Time: 1, MemoryKiB: 64, Threads: 1}, IdleTimeout: 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.acc.Close() })
	pw, _, err := w.acc.EnsureAdmin(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	w.admin = w.login("admin", pw)
	w.gate = access.NewGate(w.acc, access.GateConfig{Tick: 20 * time.Millisecond})
	t.Cleanup(w.gate.Close)
	if w.holds, err = retention.OpenHolds(ctx, w.dir, w.led, w.clk.Now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.holds.Close() })
	w.key = export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{3}, 32)))
	ps, err := provision.OpenSQLite(ctx, w.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	sites := map[string]string{"cam-1": "main", "cam-2": "main", "cam-9": "branch"}
	w.svc = provision.New(provision.Config{Store: ps, Access: w.acc, Holds: w.holds, Gate: w.gate,
		Camera:   func(id string) (string, bool) { s, ok := sites[id]; return s, ok },
		Zoned:    func(id string) bool { return id == "cam-1" }, // cam-1 has a privacy zone
		Exporter: &export.Exporter{Source: export.StoreSource{Store: st}, Key: w.key, Now: w.clk.Now},
		Dir:      filepath.Join(w.dir, "exports", "provisions"), Clock: w.clk, Logger: quiet})
	// kim and lee are the 관리책임자 정/부 of main; jung may export but not
	// approve; choi approves for the branch only.
	w.user("kim", access.Grant{Role: access.Manager, Sites: []string{"main"}})
	w.user("lee", access.Grant{Role: access.Manager, Sites: []string{"main"}})
	w.user("jung", access.Grant{Role: access.Authorized, Sites: []string{"main"}, Perms: access.Set(access.Playback, access.Export)})
	w.user("choi", access.Grant{Role: access.Manager, Sites: []string{"branch"}})
	return w
}

func (w *world) login(name, pw string) *access.Principal {
	w.t.Helper()
	ctx := context.Background()
	addr := netip.MustParseAddr("10.0.0.1")
	sess, err := w.acc.Login(ctx, name, pw, "", addr)
	if err != nil {
		w.t.Fatalf("login %s: %v", name, err)
	}
	next := "Blue-river-4242-x"
	if err := w.acc.ChangePassword(ctx, sess.Principal, pw, next); err != nil {
		w.t.Fatal(err)
	}
	if sess, err = w.acc.Login(ctx, name, next, "", addr); err != nil {
		w.t.Fatal(err)
	}
	p, err := w.acc.Authenticate(ctx, sess.Token, addr)
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

func (w *world) user(name string, g access.Grant) {
	w.t.Helper()
	_, otp, err := w.acc.CreateUser(context.Background(), w.admin, name, name, []access.Grant{g})
	if err != nil {
		w.t.Fatal(err)
	}
	w.people[name] = w.login(name, otp)
}

func input() provision.Input {
	return provision.Input{Kind: provision.Provide, Recipient: "서울○○경찰서 수사과 경위 김○○", Letter: "수사과-2026-0412",
		Purpose: "절도 사건 수사", Basis: 7, Form: provision.Copy, Period: "수사 종결 시까지",
		Cameras: []string{"cam-1", "cam-2"}, From: t0, To: t0.Add(10 * time.Second)}
}

func (w *world) create(by string, in provision.Input) provision.Provision {
	w.t.Helper()
	x, err := w.svc.Create(context.Background(), w.people[by], in)
	if err != nil {
		w.t.Fatalf("create by %s: %v", by, err)
	}
	return x
}

func (w *world) rows(kinds ...ledger.Kind) []ledger.Entry {
	w.t.Helper()
	es, err := w.led.Query(context.Background(), ledger.Filter{Kinds: kinds})
	if err != nil {
		w.t.Fatal(err)
	}
	return es
}

func wantCode(t *testing.T, what string, err error, kind errs.Kind, code errs.Code) {
	t.Helper()
	if !errs.Is(err, kind) || errs.CodeOf(err) != code {
		t.Errorf("%s: %v (kind %v, code %q); want %v %q", what, err, errs.KindOf(err), errs.CodeOf(err), kind, code)
	}
}

// A provision takes two people: requested by one user, approved by another
// who holds approve-provision on every camera's site. Nobody approves their
// own request; someone who may export but not approve, or approves only
// elsewhere, cannot; nothing is produced before approval.
func TestTwoPersons(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	x := w.create("kim", input())
	if x.State != provision.Requested || x.RequestedBy != "kim" {
		t.Fatalf("created %+v", x)
	}
	_, err := w.svc.Approve(ctx, w.people["kim"], x.ID)
	wantCode(t, "approving one's own request", err, errs.Permission, "provision.self")
	_, err = w.svc.Approve(ctx, w.people["jung"], x.ID)
	wantCode(t, "approval by who may export but not approve", err, errs.Permission, "provision.approver")
	_, err = w.svc.Approve(ctx, w.people["choi"], x.ID)
	wantCode(t, "approval by a manager of another site", err, errs.NotExist, "provision.not_found")
	_, err = w.svc.Produce(ctx, w.people["kim"], x.ID)
	wantCode(t, "producing before approval", err, errs.Conflict, "provision.state")
	if len(w.rows(ledger.Provision, ledger.Export, ledger.Use)) != 0 {
		t.Fatal("a footage row was written before approval")
	}

	// A request spanning two sites needs an approver of both: lee
	// approves main only.
	jx := w.create("jung", input())
	got, err := w.svc.Approve(ctx, w.people["lee"], x.ID)
	if err != nil || got.State != provision.Approved || got.ApprovedBy != "lee" {
		t.Fatalf("approval by lee: %+v %v", got, err)
	}
	_, err = w.svc.Approve(ctx, w.people["lee"], x.ID)
	wantCode(t, "a second approval", err, errs.Conflict, "provision.state")
	// kim may approve jung's request (someone else's).
	if got, err := w.svc.Approve(ctx, w.people["kim"], jx.ID); err != nil || got.ApprovedBy != "kim" {
		t.Fatalf("kim approving jung's request: %+v %v", got, err)
	}
	// Who requested may not approve even under another spelling of the name.
	kx := w.create("kim", input())
	kimUpper := *w.people["kim"]
	kimUpper.Name = "KIM"
	_, err = w.svc.Approve(ctx, &kimUpper, kx.ID)
	wantCode(t, "approving one's own request (other case)", err, errs.Permission, "provision.self")
}

// A provision is impossible without a legal basis: the service refuses it
// (and item 2 without the statute it names), no hold is placed; the store
// refuses it too (provisiontest's NoLegalBasisNoProvision).
func TestNoLegalBasis(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for _, c := range []struct {
		basis   provision.Basis
		statute string
		code    errs.Code
	}{{0, "", "provision.basis"}, {4, "", "provision.basis"}, {11, "", "provision.basis"}, {2, "  ", "provision.statute"}} {
		in := input()
		in.Basis, in.Statute = c.basis, c.statute
		_, err := w.svc.Create(ctx, w.people["kim"], in)
		wantCode(t, "basis "+string(rune('0'+c.basis)), err, errs.Invalid, c.code)
	}
	if xs, _ := w.svc.List(ctx, w.people["kim"], true); len(xs) != 0 {
		t.Errorf("stored: %+v", xs)
	}
	if hs, _ := w.holds.List(ctx, true); len(hs) != 0 {
		t.Errorf("holds placed: %+v", hs)
	}
	in := input()
	in.Basis, in.Statute = 2, "형사소송법 제215조"
	x := w.create("kim", in)
	if lb := x.LegalBasis(); lb != "개인정보 보호법 제18조제2항제2호(다른 법률에 특별한 규정이 있는 경우) · 형사소송법 제215조" {
		t.Errorf("legal basis %q", lb)
	}
}

// Every item's citation with the longest statute fits the 근거 field of an
// export (200 characters).
func TestCitationFits(t *testing.T) {
	for _, b := range provision.Bases {
		s := b.Citation(strings.Repeat("법", provision.MaxStatute))
		if n := len([]rune(s)); n > 200 {
			t.Errorf("item %d: %d characters", b, n)
		}
		if strings.HasPrefix(b.Text("ko"), "provision.") {
			t.Errorf("item %d has no wording in the catalogue", b)
		}
	}
}

// The provision owns a hold on its cameras × range from its request; the
// manual route refuses to release it; producing keeps it for HoldGrace,
// after which the sweep releases it; a refused provision's hold goes at
// once.
func TestHoldOwnedByProvision(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	x := w.create("kim", input())
	hs, err := w.holds.List(ctx, false)
	if err != nil || len(hs) != 1 {
		t.Fatalf("holds %+v %v", hs, err)
	}
	h := hs[0]
	if h.Owner != retention.OwnerProvision || h.Ref != x.Ref() || !h.From.Equal(t0) || !h.To.Equal(x.To) ||
		strings.Join(h.Cameras, ",") != "cam-1,cam-2" || h.Actor != "kim" || !strings.Contains(h.Reason, x.Letter) {
		t.Errorf("hold %+v", h)
	}
	wantCode(t, "releasing the provision's hold by hand", w.holds.Release(ctx, h.ID, "lee"), errs.Conflict, "hold.owned")
	if _, err := w.svc.Approve(ctx, w.people["lee"], x.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Produce(ctx, w.people["kim"], x.ID); err != nil {
		t.Fatal(err)
	}
	if hs, _ := w.holds.List(ctx, false); len(hs) != 1 {
		t.Fatalf("hold released at production: %+v", hs)
	}
	w.clk.Advance(provision.HoldGrace - time.Minute)
	if err := w.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if hs, _ := w.holds.List(ctx, false); len(hs) != 1 {
		t.Fatalf("hold released before its grace: %+v", hs)
	}
	w.clk.Advance(time.Minute)
	if err := w.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if hs, _ := w.holds.List(ctx, false); len(hs) != 0 {
		t.Fatalf("hold kept after its grace: %+v", hs)
	}
	if got, _ := w.svc.Get(ctx, w.people["kim"], x.ID); got.HoldReleased.IsZero() {
		t.Error("the provision does not say its hold was released")
	}

	y := w.create("kim", input())
	if _, err := w.svc.Refuse(ctx, w.people["lee"], y.ID, ""); errs.CodeOf(err) != "provision.required" {
		t.Errorf("refusal without a reason: %v", err)
	}
	if _, err := w.svc.Refuse(ctx, w.people["lee"], y.ID, "공문에 근거 조항 없음"); err != nil {
		t.Fatal(err)
	}
	if hs, _ := w.holds.List(ctx, false); len(hs) != 0 {
		t.Fatalf("a refused provision's hold is kept: %+v", hs)
	}
	_, err = w.svc.Approve(ctx, w.people["lee"], y.ID)
	wantCode(t, "approving a refused provision", err, errs.Conflict, "provision.state")
	if rel := w.rows(ledger.Hold); len(rel) != 4 {
		t.Errorf("%d hold rows in the ledger, want 4 (two placed, two released)", len(rel))
	}
}

// Producing a copy writes the evidence package through the exporter and
// the gate: the 관리대장 row is of kind 제공 with every column filled and
// the letter number as its Ref; the package names who requested and who
// approved and verifies; it can be downloaded until PackageKeep.
func TestProduceCopyLedgerColumns(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	x := w.create("kim", input())
	if _, err := w.svc.Approve(ctx, w.people["lee"], x.ID); err != nil {
		t.Fatal(err)
	}
	res, err := w.svc.Produce(ctx, w.people["kim"], x.ID)
	if err != nil {
		t.Fatal(err)
	}
	rows := w.rows(ledger.Provision, ledger.Use, ledger.Export)
	if len(rows) != 1 {
		t.Fatalf("footage rows %+v", rows)
	}
	r := rows[0]
	check := func(col, got, want string) {
		t.Helper()
		if got != want || got == "" {
			t.Errorf("%s = %q, want %q", col, got, want)
		}
	}
	check("구분", string(r.Kind.Category()), "제공")
	check("kind", r.Kind.String(), "provision")
	if r.Time.IsZero() || !r.Time.Equal(w.clk.Now()) {
		t.Errorf("일시 = %v, want %v", r.Time, w.clk.Now())
	}
	if !strings.Contains(r.Object, "cam-1,cam-2") || !strings.Contains(r.Object, "ZIP") {
		t.Errorf("파일명/형태 = %q", r.Object)
	}
	check("담당자", r.Actor, "kim")
	check("담당자 role", r.Role, "관리책임자")
	check("목적/사유", r.Purpose, "절도 사건 수사")
	check("purpose category", r.PurposeCategory, "제3자 제공")
	check("이용·제공받는 제3자", r.Party, x.Recipient)
	check("근거", r.LegalBasis, "개인정보 보호법 제18조제2항제7호(범죄의 수사와 공소의 제기 및 유지를 위하여 필요한 경우)")
	check("형태", r.Form, "사본 제공")
	check("기간", r.Period, "수사 종결 시까지")
	check("공문 번호 (Ref)", r.Ref, "수사과-2026-0412")
	check("site", r.Site, "main")
	if !r.From.Equal(t0) || !r.To.Equal(x.To) || strings.Join(r.Cameras, ",") != "cam-1,cam-2" {
		t.Errorf("footage range %v–%v cameras %v", r.From, r.To, r.Cameras)
	}

	p := res.Provision
	if p.State != provision.Produced || p.ProducedBy != "kim" || p.LedgerSeq != r.Seq || p.Package != res.Manifest.ID {
		t.Errorf("produced %+v", p)
	}
	m := res.Manifest
	if m.RequestedBy != "kim" || m.ApprovedBy != "lee" || m.LedgerSeq != r.Seq || m.Letter != x.Letter ||
		m.LegalBasis != r.LegalBasis || m.Form != "사본 제공" {
		t.Errorf("manifest %+v", m)
	}
	path, name, err := w.svc.Package(ctx, w.people["lee"], x.ID)
	if err != nil || name != m.ID+".zip" {
		t.Fatalf("package: %q %q %v", path, name, err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	v, err := export.Verify(f, fi.Size(), export.Trust{PublicKey: w.key.Public()})
	f.Close()
	if err != nil || !v.OK() || len(v.Manifest.Clips) != 2 {
		t.Fatalf("verify: %v %+v", err, v)
	}
	_, err = w.svc.Produce(ctx, w.people["kim"], x.ID)
	wantCode(t, "producing twice", err, errs.Conflict, "provision.state")

	w.clk.Advance(provision.PackageKeep)
	if err := w.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("package kept past PackageKeep: %v", err)
	}
	_, _, err = w.svc.Package(ctx, w.people["lee"], x.ID)
	wantCode(t, "download after PackageKeep", err, errs.NotExist, "provision.package_gone")
}

// 목적 외 이용 as an on-site viewing: the gate grants a viewing (no
// package) and the row is of kind 이용 with the form 현장 열람; the
// producer needs playback, which jung has.
func TestProduceViewingUse(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	in := input()
	in.Kind, in.Form, in.Basis, in.Recipient, in.Letter = provision.Use, provision.Viewing, 1, "시설관리팀", "시설-2026-31"
	in.Cameras = []string{"cam-1"}
	x := w.create("jung", in)
	if _, err := w.svc.Approve(ctx, w.people["kim"], x.ID); err != nil {
		t.Fatal(err)
	}
	res, err := w.svc.Produce(ctx, w.people["jung"], x.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer res.View.Close()
	if res.View == nil || res.Path != "" || res.Manifest != nil {
		t.Fatalf("result %+v", res)
	}
	rows := w.rows(ledger.Provision, ledger.Use, ledger.Export, ledger.Playback)
	if len(rows) != 1 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Kind != ledger.Use || r.Kind.Category() != "이용" || r.Form != "현장 열람" || r.Ref != "시설-2026-31" ||
		r.Party != "시설관리팀" || r.Actor != "jung" || r.Period == "" || r.Seq != res.View.Seq() ||
		!strings.HasPrefix(r.LegalBasis, "개인정보 보호법 제18조제2항제1호(") || r.Purpose != "절도 사건 수사" {
		t.Errorf("row %+v", r)
	}
	// cam-1's privacy zone is shown masked to the recipient: the row says so.
	if !strings.HasSuffix(r.Object, "(현장 열람) — 보호 구역 마스킹: cam-1") {
		t.Errorf("the row's object %q does not say the zones were masked", r.Object)
	}
	_, _, err = w.svc.Package(ctx, w.people["jung"], x.ID)
	wantCode(t, "package of a viewing", err, errs.Conflict, "provision.state")
}

// A user without the export permission cannot request a provision, and a
// camera of a site the requester does not hold is refused.
func TestCreateNeedsExport(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.user("park", access.Grant{Role: access.Authorized, Sites: []string{"main"}})
	if _, err := w.svc.Create(ctx, w.people["park"], input()); !errs.Is(err, errs.Permission) {
		t.Errorf("request without export: %v", err)
	}
	in := input()
	in.Cameras = []string{"cam-1", "cam-9"}
	if _, err := w.svc.Create(ctx, w.people["kim"], in); !errs.Is(err, errs.Private) {
		t.Errorf("request of another site's camera: %v", err)
	}
	if hs, _ := w.holds.List(ctx, true); len(hs) != 0 {
		t.Errorf("holds placed for refused requests: %+v", hs)
	}
}

// The gate takes a provision's kinds only: an access cannot be ledgered
// as anything else (a 파기, a login) by naming a kind.
func TestGateTakesOnlyProvisionKinds(t *testing.T) {
	w := newWorld(t)
	before := len(w.rows())
	for _, k := range []ledger.Kind{ledger.Destruction, ledger.Login, ledger.Export} {
		_, err := w.gate.Begin(context.Background(), w.people["kim"], access.FootageRequest{Way: access.WayPlayback,
			Cameras: []access.Camera{{ID: "cam-1", Site: "main"}}, From: t0, To: t0.Add(time.Second),
			Purpose: access.Purpose{Code: "provision", Reason: "x"}, Kind: k})
		if !errs.Is(err, errs.Internal) {
			t.Errorf("kind %s: %v, want refused", k, err)
		}
	}
	if n := len(w.rows()); n != before {
		t.Errorf("%d rows written for refused kinds", n-before)
	}
}
