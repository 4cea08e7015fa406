package requests_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/retention"
)

type fakeHolds struct {
	added    []retention.Hold
	released []string
	err      error
}

func (f *fakeHolds) Add(_ context.Context, x retention.Hold) (retention.Hold, error) {
	if f.err != nil {
		return retention.Hold{}, f.err
	}
	f.added = append(f.added, x)
	return x, nil
}

func (f *fakeHolds) ReleaseOwned(_ context.Context, o retention.Owner, ref, _ string) (int, error) {
	if o != retention.OwnerRequest {
		return 0, errors.New("wrong owner")
	}
	if slices.Contains(f.released, ref) {
		return 0, nil
	}
	f.released = append(f.released, ref)
	return 1, nil
}

type env struct {
	svc   *requests.Service
	st    *requests.SQLiteStore
	clk   *clock.Fake
	holds *fakeHolds
	log   *bytes.Buffer
}

var cams = map[string]string{"gate": "hq", "lobby": "hq", "yard": "annex"}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{clk: clock.NewFake(kst(2026, 3, 2, 10, 0, 0)), holds: &fakeHolds{}, log: &bytes.Buffer{}}
	e.st = openSQLite(t, t.TempDir(), testKeys(t))
	t.Cleanup(func() { e.st.Close() })
	e.svc = requests.New(requests.Config{Store: e.st, Calendar: requests.Calendar{Zone: seoul}, Holds: e.holds,
		Camera: func(id string) (string, bool) { s, ok := cams[id]; return s, ok }, Clock: e.clk,
		Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	return e
}

func input() requests.Input {
	at := kst(2026, 3, 1, 18, 30, 0)
	return requests.Input{Types: []requests.Type{requests.View}, From: at, To: at.Add(30 * time.Minute),
		Cameras: []string{"gate"}, Personal: requests.Personal{
			Requester: requests.Person{Name: "이순신", Phone: "010-2222-3333", Birth: "1975-04-28", Address: "부산 중구 2",
				Relation: "본인"},
			Subject: requests.Person{Name: "이순신", Relation: "본인"}, Purpose: "분실물 확인"}}
}

var client = netip.MustParseAddr("192.0.2.7")

var kim = requests.Actor{User: "kim", Role: "관리책임자"}

func TestSubmitPlacesHold(t *testing.T) {
	e := newEnv(t)
	r, err := e.svc.Submit(context.Background(), input(), client, "")
	if err != nil {
		t.Fatal(err)
	}
	if !requests.ValidReceipt(r.Receipt) || !strings.HasPrefix(r.Receipt, "2026-0001-") || r.Site != "hq" ||
		!r.Due.Equal(kst(2026, 3, 13, 0, 0, 0)) || r.Channel != "web" {
		t.Fatalf("submitted %+v", r)
	}
	if len(e.holds.added) != 1 {
		t.Fatalf("holds placed: %v", e.holds.added)
	}
	h := e.holds.added[0]
	if h.Owner != retention.OwnerRequest || h.Ref != r.Receipt || !slices.Equal(h.Cameras, []string{"gate"}) ||
		!h.From.Equal(r.From) || !h.To.Equal(r.To) {
		t.Fatalf("hold %+v for request %+v", h, r)
	}
	// A described place holds nothing until staff name the cameras.
	in := input()
	in.Cameras, in.Personal.Place = nil, "정문 앞 주차장"
	if _, err := e.svc.Submit(context.Background(), in, client, ""); err != nil {
		t.Fatal(err)
	}
	if len(e.holds.added) != 1 {
		t.Fatalf("a described place placed a hold: %v", e.holds.added)
	}
	// A hold that cannot be placed leaves no request behind.
	e.holds.err = errors.New("retention.db unavailable")
	if _, err := e.svc.Submit(context.Background(), input(), client, ""); err == nil {
		t.Fatal("submitted without its hold")
	}
	if rs, _ := e.st.List(context.Background(), true); len(rs) != 2 {
		t.Fatalf("%d requests stored, want 2 (the one without its hold not kept)", len(rs))
	}
}

func TestValidate(t *testing.T) {
	now := kst(2026, 3, 2, 10, 0, 0)
	camera := func(id string) (string, bool) { s, ok := cams[id]; return s, ok }
	for _, c := range []struct {
		name   string
		change func(*requests.Input)
		code   errs.Code
		field  string
	}{
		{"no type", func(in *requests.Input) { in.Types = nil }, "requests.missing", "types"},
		{"unknown type", func(in *requests.Input) { in.Types = []requests.Type{"copy"} }, "requests.type", "types"},
		{"type twice", func(in *requests.Input) { in.Types = []requests.Type{requests.View, requests.View} }, "requests.type", "types"},
		{"no name", func(in *requests.Input) { in.Personal.Requester.Name = " " }, "requests.missing", "requester.name"},
		{"no phone", func(in *requests.Input) { in.Personal.Requester.Phone = "" }, "requests.missing", "requester.phone"},
		{"bad phone", func(in *requests.Input) { in.Personal.Requester.Phone = "12" }, "requests.phone", "requester.phone"},
		{"no birth", func(in *requests.Input) { in.Personal.Requester.Birth = "" }, "requests.missing", "requester.birth"},
		{"bad birth", func(in *requests.Input) { in.Personal.Requester.Birth = "1975-13-40" }, "requests.birth", "requester.birth"},
		{"future birth", func(in *requests.Input) { in.Personal.Requester.Birth = "2030-01-01" }, "requests.birth", "requester.birth"},
		{"no address", func(in *requests.Input) { in.Personal.Requester.Address = "" }, "requests.missing", "requester.address"},
		{"no relation", func(in *requests.Input) { in.Personal.Requester.Relation = "" }, "requests.missing", "requester.relation"},
		{"no subject", func(in *requests.Input) { in.Personal.Subject.Name = "" }, "requests.missing", "subject.name"},
		{"no from", func(in *requests.Input) { in.From = time.Time{} }, "requests.missing", "from"},
		{"reversed", func(in *requests.Input) { in.From, in.To = in.To, in.From }, "requests.range_order", "to"},
		{"future", func(in *requests.Input) { in.To = now.Add(time.Minute) }, "requests.range_future", "to"},
		{"too long", func(in *requests.Input) { in.From = in.To.Add(-25 * time.Hour) }, "requests.range_long", "to"},
		{"unknown camera", func(in *requests.Input) { in.Cameras = []string{"nowhere"} }, "requests.camera", "cameras"},
		{"camera of another site", func(in *requests.Input) { in.Site, in.Cameras = "hq", []string{"yard"} }, "requests.camera", "cameras"},
		{"no place", func(in *requests.Input) { in.Cameras = nil }, "requests.missing", "place"},
		{"no purpose", func(in *requests.Input) { in.Personal.Purpose = "" }, "requests.missing", "purpose"},
		{"long purpose", func(in *requests.Input) { in.Personal.Purpose = strings.Repeat("가", requests.MaxPurpose+1) }, "requests.too_long", "purpose"},
		{"long address", func(in *requests.Input) { in.Personal.Requester.Address = strings.Repeat("a", 201) }, "requests.too_long", "requester.address"},
		{"control character", func(in *requests.Input) { in.Personal.Requester.Name = "a\x00b" }, "requests.text", "requester.name"},
	} {
		in := input()
		c.change(&in)
		err := requests.Validate(in, now, seoul, camera)
		if errs.KindOf(err) != errs.Invalid || errs.CodeOf(err) != c.code || errs.ParamsOf(err)["field"] != c.field {
			t.Errorf("%s: %v (code %s, params %v); want %s on %s", c.name, err, errs.CodeOf(err), errs.ParamsOf(err), c.code, c.field)
		}
	}
	if err := requests.Validate(input(), now, seoul, camera); err != nil {
		t.Fatalf("a good request: %v", err)
	}
	// Markup is text: kept as typed (pages escape it), not refused.
	in := input()
	in.Personal.Purpose = `<script>alert(1)</script>`
	if err := requests.Validate(in, now, seoul, camera); err != nil {
		t.Fatalf("markup in the purpose: %v", err)
	}
}

func TestLookupRevealsNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, err := e.svc.Submit(ctx, input(), client, "")
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.Lookup(ctx, r.Receipt, "01022223333", client)
	if err != nil || st.Receipt != r.Receipt || st.State != requests.Received || !st.Due.Equal(r.Due) {
		t.Fatalf("lookup with the right phone: %+v %v", st, err)
	}
	if low, err := e.svc.Lookup(ctx, " "+strings.ToLower(r.Receipt)+" ", "010-2222-3333", client); err != nil || low.Receipt != r.Receipt {
		t.Fatalf("lookup of the receipt in lower case: %+v %v", low, err)
	}
	wrong, err1 := e.svc.Lookup(ctx, r.Receipt, "010-9999-9999", client)
	none, err2 := e.svc.Lookup(ctx, "2026-0999-ABCD", "010-2222-3333", client)
	bad, err3 := e.svc.Lookup(ctx, "not a number", "010-2222-3333", client)
	empty, err4 := e.svc.Lookup(ctx, r.Receipt, "", client)
	for i, err := range []error{err1, err2, err3, err4} {
		if errs.KindOf(err) != errs.Private || errs.CodeOf(err) != "requests.lookup" || err.Error() != err1.Error() {
			t.Errorf("lookup %d: %v; want the same not-found as a wrong phone", i, err)
		}
	}
	for _, s := range []requests.Status{wrong, none, bad, empty} {
		if s.Receipt != "" || !s.Due.IsZero() {
			t.Errorf("a failed lookup returned %+v", s)
		}
	}
}

func TestRateLimits(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for i := range requests.DefaultSubmitPerHour {
		if _, err := e.svc.Submit(ctx, input(), client, ""); err != nil {
			t.Fatalf("submission %d: %v", i+1, err)
		}
	}
	if _, err := e.svc.Submit(ctx, input(), client, ""); errs.CodeOf(err) != "requests.rate" {
		t.Fatalf("submission beyond the limit: %v", err)
	}
	if _, err := e.svc.Submit(ctx, input(), netip.MustParseAddr("192.0.2.8"), ""); err != nil {
		t.Fatalf("another address is limited too: %v", err)
	}
	if _, err := e.svc.Submit(ctx, input(), client, "kim"); err != nil {
		t.Fatalf("staff intake is limited by the public limit: %v", err)
	}
	e.clk.Advance(time.Hour)
	if _, err := e.svc.Submit(ctx, input(), client, ""); err != nil {
		t.Fatalf("after an hour: %v", err)
	}
	for range requests.DefaultLookupPerHour {
		e.svc.Lookup(ctx, "2026-0001-ABCD", "0", client)
	}
	if _, err := e.svc.Lookup(ctx, "2026-0001-ABCD", "0", client); errs.CodeOf(err) != "requests.rate" {
		t.Fatalf("lookup beyond the limit: %v", err)
	}
}

func TestCloseSweepHoldAndForget(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r, _ := e.svc.Submit(ctx, input(), client, "")
	if _, err := e.svc.Withdraw(ctx, r.ID, kim); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Withdraw(ctx, r.ID, kim); !errs.Is(err, errs.Conflict) {
		t.Fatalf("closing twice: %v", err)
	}
	e.clk.Advance(requests.HoldGrace - time.Second)
	e.svc.Sweep(ctx)
	if len(e.holds.released) != 0 {
		t.Fatal("hold released before its grace")
	}
	e.clk.Advance(time.Second)
	if err := e.svc.Sweep(ctx); err != nil || !slices.Equal(e.holds.released, []string{r.Receipt}) {
		t.Fatalf("after the grace: released %v %v", e.holds.released, err)
	}
	if _, ok, _ := e.st.Personal(ctx, r.ID); !ok {
		t.Fatal("personal data forgotten before its years")
	}
	e.clk.Set(r.Received.AddDate(requests.KeepPersonalYears, 0, 1))
	if err := e.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := e.st.Personal(ctx, r.ID); ok {
		t.Fatal("personal data kept beyond its years")
	}
}

// A requester's personal data is in no log line, whatever happens to the
// request, and in no error.
func TestPersonalDataNotLogged(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	in := input()
	secrets := []string{in.Personal.Requester.Name, "2222-3333", "22223333", in.Personal.Requester.Address,
		in.Personal.Purpose, in.Personal.Requester.Birth}
	r, err := e.svc.Submit(ctx, in, client, "")
	if err != nil {
		t.Fatal(err)
	}
	var errors []error
	_, err = e.svc.Lookup(ctx, r.Receipt, "010-2222-3334", client)
	errors = append(errors, err)
	bad := in
	bad.Personal.Requester.Phone = "2222-3333-0000000"
	_, err = e.svc.Submit(ctx, bad, client, "")
	errors = append(errors, err)
	bad = in
	bad.Personal.Purpose = strings.Repeat(in.Personal.Requester.Name, 600)
	_, err = e.svc.Submit(ctx, bad, client, "")
	errors = append(errors, err)
	e.svc.Postpone(ctx, r.ID, kst(2026, 3, 20, 0, 0, 0), "확인 중", kim)
	e.svc.Withdraw(ctx, r.ID, kim)
	e.clk.Set(r.Received.AddDate(4, 0, 0))
	e.svc.Sweep(ctx)
	if !strings.Contains(e.log.String(), r.Receipt) {
		t.Fatalf("the log does not name the request: %s", e.log)
	}
	for _, s := range secrets {
		if strings.Contains(e.log.String(), s) {
			t.Errorf("log holds %q:\n%s", s, e.log)
		}
		for _, err := range errors {
			if err == nil {
				t.Fatal("a bad submission was taken")
			}
			if strings.Contains(err.Error(), s) || strings.Contains(strings.Join(paramValues(err), " "), s) {
				t.Errorf("error %v holds %q", err, s)
			}
		}
	}
}

func paramValues(err error) []string {
	var out []string
	for _, v := range errs.ParamsOf(err) {
		out = append(out, v)
	}
	return out
}

func TestRecordIdentity(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	self, _ := e.svc.Submit(ctx, input(), client, "")
	in := input()
	in.Personal.Requester.Relation, in.Personal.Subject.Name = "법정대리인", "이아들"
	proxy, _ := e.svc.Submit(ctx, in, client, "")
	if _, err := e.svc.RecordIdentity(ctx, self.ID, " ", "", kim); errs.CodeOf(err) != "requests.missing" {
		t.Fatalf("identity without what was checked: %v", err)
	}
	r, err := e.svc.RecordIdentity(ctx, self.ID, "신분증 대조", "", kim)
	if err != nil || r.IdentityBy != "kim" || !r.IdentityAt.Equal(e.clk.Now()) || r.IdentityMethod != "신분증 대조" {
		t.Fatalf("identity of the subject: %+v %v", r, err)
	}
	if _, err := e.svc.RecordIdentity(ctx, proxy.ID, "신분증 대조", "", kim); errs.CodeOf(err) != "requests.proxy" {
		t.Fatalf("a representative without proxy documents: %v", err)
	}
	if r, err := e.svc.RecordIdentity(ctx, proxy.ID, "신분증 대조", "가족관계증명서", kim); err != nil || r.IdentityProxy == "" {
		t.Fatalf("a representative with documents: %+v %v", r, err)
	}
	got, _, _ := e.st.Get(ctx, proxy.ID)
	if got.IdentityProxy != "가족관계증명서" {
		t.Fatalf("stored %+v", got)
	}
	e.svc.Withdraw(ctx, self.ID, kim)
	if _, err := e.svc.RecordIdentity(ctx, self.ID, "신분증 대조", "", kim); !errs.Is(err, errs.Conflict) {
		t.Fatalf("identity of a closed request: %v", err)
	}
}
