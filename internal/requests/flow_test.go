package requests_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/retention"
)

type fakeLedger struct {
	mu   sync.Mutex
	rows []ledger.Entry
	fail bool
}

func (l *fakeLedger) Append(_ context.Context, e ledger.Entry) (ledger.Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fail {
		return ledger.Entry{}, errors.New("ledger.db unavailable")
	}
	e.Seq = uint64(len(l.rows) + 1)
	l.rows = append(l.rows, e)
	return e, nil
}

func (l *fakeLedger) entries() []ledger.Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.rows)
}

// steps are the step= of the rows of ref, in order.
func (l *fakeLedger) steps(ref string) []string {
	var out []string
	for _, e := range l.entries() {
		if e.Ref != ref {
			continue
		}
		step, _, _ := strings.Cut(strings.TrimPrefix(e.Detail, "step="), ";")
		if e.Kind == ledger.AccessRefused {
			step = "refused"
		}
		out = append(out, step)
	}
	return out
}

type fakeFootage map[string]bool // camera → has footage

func (f fakeFootage) HasFootage(_ context.Context, camera string, _, _ time.Time) (bool, error) {
	return f[camera], nil
}

type fakeDestroyer struct {
	calls []string
	fail  string // camera whose destruction fails
}

func (d *fakeDestroyer) DestroyRangeFor(_ context.Context, camera string, from, to time.Time, actor, _ string,
	owner retention.Owner, ref string) (*retention.Receipt, error) {
	if camera == d.fail {
		return nil, errs.Errorf("fake", errs.Conflict, "held")
	}
	d.calls = append(d.calls, camera+" "+from.UTC().Format("15:04:05")+"-"+to.UTC().Format("15:04:05")+" "+string(owner)+" "+ref+" "+actor)
	if camera == "lobby" {
		return nil, nil // no footage there
	}
	return &retention.Receipt{ID: "run-" + camera, Camera: camera, Ref: ref}, nil
}

type fakeViewing struct {
	done   chan struct{}
	closed bool
}

func (v *fakeViewing) Close()                { v.closed = true; close(v.done) }
func (v *fakeViewing) Done() <-chan struct{} { return v.done }

type flowEnv struct {
	*env
	led     *fakeLedger
	holders int
	footage fakeFootage
	destroy *fakeDestroyer
}

var (
	lee  = requests.Actor{User: "lee", Role: "관리책임자"}
	park = requests.Actor{User: "park", Role: "관리책임자"}
)

func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	e := &flowEnv{env: &env{clk: clock.NewFake(kst(2026, 3, 2, 10, 0, 0)), holds: &fakeHolds{}, log: &bytes.Buffer{}},
		led: &fakeLedger{}, holders: 2, footage: fakeFootage{"gate": true}, destroy: &fakeDestroyer{}}
	e.st = openSQLite(t, t.TempDir(), testKeys(t))
	t.Cleanup(func() { e.st.Close() })
	e.svc = requests.New(requests.Config{Store: e.st, Calendar: requests.Calendar{Zone: seoul}, Holds: e.holds,
		Camera: func(id string) (string, bool) { s, ok := cams[id]; return s, ok }, Clock: e.clk,
		Logger: slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Ledger: e.led, Footage: e.footage, Destroyer: e.destroy,
		Holders: func(context.Context, string) (int, error) { return e.holders, nil }})
	return e
}

// submit takes a request of types on gate and lobby (hq) at a staff
// intake by kim, and checks the identity (by kim).
func (e *flowEnv) submit(t *testing.T, types ...requests.Type) requests.Request {
	t.Helper()
	in := input()
	in.Types, in.Cameras = types, []string{"gate", "lobby"}
	r, err := e.svc.Submit(context.Background(), in, client, "kim")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.RecordIdentity(context.Background(), r.ID, "신분증 대조", "", kim); err != nil {
		t.Fatal(err)
	}
	return r
}

func approve(ts ...requests.Type) requests.Decision {
	var d requests.Decision
	for _, t := range ts {
		d.Types = append(d.Types, requests.TypeDecision{Type: t, Outcome: requests.Approved})
	}
	return d
}

// TestDecideRules: a decision names each type asked once, with a ground
// for partly and refused only, a note with "other", a partly scope
// within the request; answering needs the identity checked; a request is
// decided once and not after it closed.
func TestDecideRules(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	in := input()
	in.Types = []requests.Type{requests.Existence, requests.View}
	unchecked, _ := e.svc.Submit(ctx, in, client, "")
	r := e.submit(t, requests.Existence, requests.View)
	td := func(typ requests.Type, o requests.Outcome, g requests.Ground) requests.TypeDecision {
		return requests.TypeDecision{Type: typ, Outcome: o, Ground: g}
	}
	ex, vw := requests.Existence, requests.View
	for _, c := range []struct {
		name string
		d    requests.Decision
		code errs.Code
	}{
		{"nothing", requests.Decision{}, "requests.missing"},
		{"a type missing", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, "")}}, "requests.decision_type"},
		{"a type not asked", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""), td(vw, requests.Approved, ""),
			td(requests.Deletion, requests.Approved, "")}}, "requests.decision_type"},
		{"a type twice", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""), td(ex, requests.Approved, "")}},
			"requests.decision_type"},
		{"no outcome", requests.Decision{Types: []requests.TypeDecision{td(ex, "", ""), td(vw, requests.Approved, "")}}, "requests.outcome"},
		{"refused without a ground", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			td(vw, requests.Refused, "")}}, "requests.ground"},
		{"an unknown ground", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			td(vw, requests.Refused, "because")}}, "requests.ground"},
		{"approved with a ground", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, requests.GroundLaw),
			td(vw, requests.Approved, "")}}, "requests.ground"},
		{"other without a note", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			td(vw, requests.Refused, requests.GroundOther)}}, "requests.missing"},
		{"partly beyond the period", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			{Type: vw, Outcome: requests.Partly, Ground: requests.GroundThirdParty, To: r.To.Add(time.Minute)}}}, "requests.scope"},
		{"partly on another camera", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			{Type: vw, Outcome: requests.Partly, Ground: requests.GroundThirdParty, Cameras: []string{"yard"}}}}, "requests.scope"},
		{"approved narrowed", requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
			{Type: vw, Outcome: requests.Approved, Cameras: []string{"gate"}}}}, "requests.scope"},
	} {
		if _, err := e.svc.Decide(ctx, r.ID, c.d, lee); errs.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := e.svc.Decide(ctx, unchecked.ID, approve(ex, vw), lee); errs.CodeOf(err) != "requests.identity_first" {
		t.Errorf("approved before the identity check: %v", err)
	}
	// A refusal needs no identity check (the footage may not exist).
	refuse := requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Refused, requests.GroundExpired),
		td(vw, requests.Refused, requests.GroundExpired)}}
	if x, err := e.svc.Decide(ctx, unchecked.ID, refuse, lee); err != nil || x.Decision.Outcome() != requests.Refused {
		t.Errorf("refused before the identity check: %v", err)
	}
	partly := requests.Decision{Types: []requests.TypeDecision{td(ex, requests.Approved, ""),
		{Type: vw, Outcome: requests.Partly, Ground: requests.GroundThirdParty, Note: "다른 사람이 많이 촬영됨",
			Cameras: []string{"gate"}, From: r.From.Add(5 * time.Minute)}}, Note: "정문 카메라만 열람"}
	x, err := e.svc.Decide(ctx, r.ID, partly, lee)
	if err != nil || x.Decision.Outcome() != requests.Partly || x.Decision.By != "lee" || !x.Decision.At.Equal(e.clk.Now()) {
		t.Fatalf("partly: %+v %v", x.Decision, err)
	}
	got, _, _ := e.st.Get(ctx, r.ID)
	if d, ok := got.Decision.Of(vw); !ok || d.Ground != requests.GroundThirdParty || !slices.Equal(d.Cameras, []string{"gate"}) ||
		!d.From.Equal(r.From.Add(5*time.Minute)) || got.Decision.Note != "정문 카메라만 열람" {
		t.Fatalf("stored decision %+v", got.Decision)
	}
	if _, err := e.svc.Decide(ctx, r.ID, approve(ex, vw), lee); errs.CodeOf(err) != "requests.decided" {
		t.Errorf("decided twice: %v", err)
	}
}

// TestDecideFourEyes: where the site has two holders of handle-requests,
// who took the request in (staff intake, else the identity check) cannot
// decide it; with one holder they may.
func TestDecideFourEyes(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.Existence) // taken by kim
	if _, err := e.svc.Decide(ctx, r.ID, approve(requests.Existence), kim); !errs.Is(err, errs.Permission) ||
		errs.CodeOf(err) != "requests.same_person" {
		t.Fatalf("decided by who took it: %v", err)
	}
	if _, err := e.svc.Decide(ctx, r.ID, approve(requests.Existence), lee); err != nil {
		t.Fatalf("decided by another: %v", err)
	}
	// A public request is taken in at the identity check.
	pub, _ := e.svc.Submit(ctx, input(), client, "")
	e.svc.RecordIdentity(ctx, pub.ID, "신분증 대조", "", park)
	if _, err := e.svc.Decide(ctx, pub.ID, approve(requests.View), park); errs.CodeOf(err) != "requests.same_person" {
		t.Fatalf("a public request decided by who checked the identity: %v", err)
	}
	// A site with one handler: that one decides.
	e.holders = 1
	if _, err := e.svc.Decide(ctx, pub.ID, approve(requests.View), park); err != nil {
		t.Fatalf("the site's only handler: %v", err)
	}
}

// TestNameCameras: a described place's request holds nothing until staff
// name its cameras (one site, known); then its hold is placed, and the
// cameras are not renamed.
func TestNameCameras(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	in := input()
	in.Cameras, in.Personal.Place = nil, "정문 앞 주차장"
	r, err := e.svc.Submit(ctx, in, client, "")
	if err != nil || len(e.holds.added) != 0 {
		t.Fatalf("described place: %v, holds %v", err, e.holds.added)
	}
	for _, c := range []struct {
		cams []string
		code errs.Code
	}{{nil, "requests.missing"}, {[]string{"gate", "yard"}, "requests.camera"}, {[]string{"nope"}, "requests.camera"},
		{[]string{"gate", "gate"}, "requests.camera"}} {
		if _, err := e.svc.NameCameras(ctx, r.ID, c.cams, kim); errs.CodeOf(err) != c.code {
			t.Errorf("cameras %v: %v, want %s", c.cams, err, c.code)
		}
	}
	x, err := e.svc.NameCameras(ctx, r.ID, []string{"gate", "lobby"}, kim)
	if err != nil || x.Site != "hq" || !slices.Equal(x.Cameras, []string{"gate", "lobby"}) {
		t.Fatalf("named: %+v %v", x, err)
	}
	if len(e.holds.added) != 1 || e.holds.added[0].Ref != r.Receipt || !slices.Equal(e.holds.added[0].Cameras, x.Cameras) ||
		!e.holds.added[0].From.Equal(r.From) {
		t.Fatalf("hold %+v", e.holds.added)
	}
	if got, _, _ := e.st.Get(ctx, r.ID); got.Site != "hq" || len(got.Cameras) != 2 {
		t.Fatalf("stored %+v", got)
	}
	if _, err := e.svc.NameCameras(ctx, r.ID, []string{"gate"}, kim); errs.CodeOf(err) != "requests.cameras_named" {
		t.Fatalf("renamed: %v", err)
	}
	if s := e.led.steps(r.Receipt); !slices.Equal(s, []string{"received", "cameras"}) {
		t.Fatalf("ledger steps %v", s)
	}
}

// TestExistenceAnswer: the 존재확인 says exists or not, from the index of
// the request's cameras and period, only when the decision answers it.
func TestExistenceAnswer(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.Existence, requests.View)
	if _, err := e.svc.AnswerExistence(ctx, r.ID, lee); errs.CodeOf(err) != "requests.not_granted" {
		t.Fatalf("answered before the decision: %v", err)
	}
	d := requests.Decision{Types: []requests.TypeDecision{{Type: requests.Existence, Outcome: requests.Approved},
		{Type: requests.View, Outcome: requests.Refused, Ground: requests.GroundHarm}}}
	e.svc.Decide(ctx, r.ID, d, lee)
	if ok, err := e.svc.AnswerExistence(ctx, r.ID, lee); err != nil || !ok {
		t.Fatalf("footage on gate: %v %v", ok, err)
	}
	delete(e.footage, "gate")
	if ok, err := e.svc.AnswerExistence(ctx, r.ID, lee); err != nil || ok {
		t.Fatalf("no footage: %v %v", ok, err)
	}
	if _, err := e.svc.GrantView(ctx, r.ID, 0, lee); errs.CodeOf(err) != "requests.not_granted" {
		t.Fatalf("viewing granted though refused: %v", err)
	}
	var answers []string
	for _, row := range e.led.entries() {
		if strings.HasPrefix(row.Detail, "step=existence") {
			answers = append(answers, row.Detail)
			if row.Kind != ledger.RequestDecided || row.Ref != r.Receipt || row.LegalBasis != requests.BasisView {
				t.Errorf("existence row %+v", row)
			}
		}
	}
	if !slices.Equal(answers, []string{"step=existence; answer=exists", "step=existence; answer=none"}) {
		t.Fatalf("existence rows %v", answers)
	}
	got, _, _ := e.st.Get(ctx, r.ID)
	if len(got.Fulfilments) != 2 || !got.Fulfilments[0].Exists || got.Fulfilments[1].Exists {
		t.Fatalf("fulfilments %+v", got.Fulfilments)
	}
}

// TestViewAccess: a viewing under the request's grant is its cameras and
// period only (a partly decision's narrower scope), playback or still,
// until the grant ends or the request closes; anything else is refused
// and the refusal written with the request's number.
func TestViewAccess(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.View)
	gate := access.Camera{ID: "gate", Site: "hq"}
	view := func(way access.Way, cam access.Camera, from, to time.Time) (access.FootageRequest, error) {
		return e.svc.ViewAccess(ctx, r.ID, way, cam, from, to, "obj", park, "10.0.0.9")
	}
	if _, err := view(access.WayPlayback, gate, r.From, r.To); errs.CodeOf(err) != "requests.view_grant" {
		t.Fatalf("viewing before a grant: %v", err)
	}
	d := requests.Decision{Types: []requests.TypeDecision{{Type: requests.View, Outcome: requests.Partly,
		Ground: requests.GroundThirdParty, Cameras: []string{"gate"}, From: r.From.Add(10 * time.Minute)}}}
	if _, err := e.svc.Decide(ctx, r.ID, d, lee); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GrantView(ctx, r.ID, 9*time.Hour, lee); errs.CodeOf(err) != "requests.grant_length" {
		t.Fatalf("a nine-hour grant: %v", err)
	}
	until, err := e.svc.GrantView(ctx, r.ID, 30*time.Minute, lee)
	if err != nil || !until.Equal(e.clk.Now().Add(30*time.Minute)) {
		t.Fatalf("grant: %v %v", until, err)
	}
	from := r.From.Add(10 * time.Minute)
	fr, err := view(access.WayPlayback, gate, from, r.To)
	if err != nil {
		t.Fatalf("within the grant: %v", err)
	}
	if fr.Request != r.Receipt || fr.Purpose.Code != "subject" || fr.Purpose.Validate() != nil || !fr.Until.Equal(until) ||
		fr.Party != "정보주체 본인" || fr.LegalBasis != requests.BasisView || fr.Way != access.WayPlayback ||
		len(fr.Cameras) != 1 || fr.Cameras[0] != gate {
		t.Fatalf("footage request %+v", fr)
	}
	if _, err := view(access.WayStill, gate, from, from); err != nil {
		t.Fatalf("a still within: %v", err)
	}
	for _, c := range []struct {
		name     string
		way      access.Way
		cam      access.Camera
		from, to time.Time
		code     errs.Code
	}{
		{"before the partly scope", access.WayPlayback, gate, r.From, r.To, "requests.view_scope"},
		{"a second after the period", access.WayPlayback, gate, from, r.To.Add(time.Second), "requests.view_scope"},
		{"a camera narrowed out", access.WayPlayback, access.Camera{ID: "lobby", Site: "hq"}, from, r.To, "requests.view_scope"},
		{"another site's camera", access.WayPlayback, access.Camera{ID: "yard", Site: "annex"}, from, r.To, "requests.view_scope"},
		{"a still at the period's end", access.WayStill, gate, r.To, r.To, "requests.view_scope"},
		{"live", access.WayLive, gate, from, r.To, "requests.view_way"},
		{"an export", access.WayExport, gate, from, r.To, "requests.view_way"},
	} {
		if _, err := view(c.way, c.cam, c.from, c.to); errs.CodeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	var refused []ledger.Entry
	for _, row := range e.led.entries() {
		if row.Kind == ledger.AccessRefused {
			refused = append(refused, row)
		}
	}
	if len(refused) != 8 { // before the grant, and the seven above
		t.Fatalf("%d refusal rows, want 8", len(refused))
	}
	for _, row := range refused {
		if row.Ref != r.Receipt || row.Actor != "park" || row.Client != "10.0.0.9" || !strings.Contains(row.Detail, "refused: requests.") {
			t.Errorf("refusal row %+v", row)
		}
	}
	// The grant ends: refused again.
	e.clk.Advance(30 * time.Minute)
	if _, err := view(access.WayPlayback, gate, from, r.To); errs.CodeOf(err) != "requests.view_grant" {
		t.Fatalf("after the grant: %v", err)
	}
	// A new grant; closing the request ends the viewings tracked.
	e.svc.GrantView(ctx, r.ID, 0, lee)
	v := &fakeViewing{done: make(chan struct{})}
	e.svc.Track(r.Receipt, v)
	if _, err := e.svc.Close(ctx, r.ID, lee); err != nil {
		t.Fatal(err)
	}
	if !v.closed {
		t.Fatal("closing the request left its viewing open")
	}
	if _, err := view(access.WayPlayback, gate, from, r.To); errs.CodeOf(err) != "requests.closed" {
		t.Fatalf("after closing: %v", err)
	}
}

// TestDeleteAndClose: a deletion goes camera by camera through the
// destroyer as the owner of the request's hold, its receipts attached;
// closing needs every answered type fulfilled; the hold's grace starts at
// closing; every step has its ledger row with the request's number and
// no one's name.
func TestDeleteAndClose(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.Existence, requests.Deletion)
	e.svc.Postpone(ctx, r.ID, kst(2026, 3, 20, 0, 0, 0), "관계 기관 확인", kim)
	if _, err := e.svc.Close(ctx, r.ID, lee); errs.CodeOf(err) != "requests.undecided" {
		t.Fatalf("closed undecided: %v", err)
	}
	if _, err := e.svc.Decide(ctx, r.ID, approve(requests.Existence, requests.Deletion), lee); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Close(ctx, r.ID, lee); errs.CodeOf(err) != "requests.unfulfilled" {
		t.Fatalf("closed before the answers: %v", err)
	}
	e.svc.AnswerExistence(ctx, r.ID, lee)
	if _, err := e.svc.Close(ctx, r.ID, lee); errs.CodeOf(err) != "requests.unfulfilled" ||
		errs.ParamsOf(err)["type"] != "deletion" {
		t.Fatalf("closed before the deletion: %v", err)
	}
	e.destroy.fail = "lobby"
	if _, err := e.svc.Delete(ctx, r.ID, park); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a deletion that fails: %v", err)
	}
	// What went (gate) is attached as partial; the type is not answered.
	if got, _, _ := e.st.Get(ctx, r.ID); len(got.Fulfilments) != 2 || !got.Fulfilments[1].Partial ||
		!slices.Equal(got.Fulfilments[1].Receipts, []string{"run-gate"}) {
		t.Fatalf("a failed deletion's fulfilments: %+v", got.Fulfilments)
	}
	if _, err := e.svc.Close(ctx, r.ID, lee); errs.CodeOf(err) != "requests.unfulfilled" {
		t.Fatalf("closed after a partial deletion: %v", err)
	}
	e.destroy.fail, e.destroy.calls = "", nil
	ids, err := e.svc.Delete(ctx, r.ID, park)
	if err != nil || !slices.Equal(ids, []string{"run-gate"}) {
		t.Fatalf("deletion: %v %v", ids, err)
	}
	// The request's period, 18:30–19:00 KST, on each camera, as the
	// owner of its hold.
	want := []string{"gate 09:30:00-10:00:00 request " + r.Receipt + " park", "lobby 09:30:00-10:00:00 request " + r.Receipt + " park"}
	if !slices.Equal(e.destroy.calls, want) {
		t.Fatalf("destroyer called %v, want %v", e.destroy.calls, want)
	}
	if _, err := e.svc.Delete(ctx, r.ID, park); errs.CodeOf(err) != "requests.fulfilled" {
		t.Fatalf("deleted twice: %v", err)
	}
	e.clk.Advance(time.Hour)
	x, err := e.svc.Close(ctx, r.ID, lee)
	if err != nil || x.State != requests.Closed || x.ClosedBy != "lee" || !x.ClosedAt.Equal(e.clk.Now()) {
		t.Fatalf("close: %+v %v", x, err)
	}
	got, _, _ := e.st.Get(ctx, r.ID)
	if len(got.Fulfilments) != 3 || got.Fulfilments[2].Partial || !slices.Equal(got.Fulfilments[2].Receipts, []string{"run-gate"}) {
		t.Fatalf("fulfilments %+v", got.Fulfilments)
	}
	// The grace counts from the closing.
	e.clk.Advance(requests.HoldGrace - time.Second)
	e.svc.Sweep(ctx)
	if len(e.holds.released) != 0 {
		t.Fatal("hold released before its grace from the closing")
	}
	e.clk.Advance(time.Second)
	e.svc.Sweep(ctx)
	if !slices.Equal(e.holds.released, []string{r.Receipt}) {
		t.Fatalf("released %v", e.holds.released)
	}
	steps := e.led.steps(r.Receipt)
	if !slices.Equal(steps, []string{"received", "identity", "postpone", "decision", "existence", "deletion-partial", "deletion", "close"}) {
		t.Fatalf("ledger steps %v", steps)
	}
	p, _, _ := e.st.Personal(ctx, r.ID)
	for _, row := range e.led.entries() {
		if row.Party != "정보주체 본인" || (row.LegalBasis != requests.BasisView && row.LegalBasis != requests.BasisDeletion &&
			row.LegalBasis != requests.BasisView+", 제36조") {
			t.Errorf("row %s: party %q basis %q", row.Detail, row.Party, row.LegalBasis)
		}
		if strings.HasPrefix(row.Detail, "step=deletion") && (row.LegalBasis != requests.BasisDeletion ||
			row.Kind != ledger.RequestDecided || !strings.Contains(row.Detail, "receipts=run-gate")) {
			t.Errorf("deletion row %+v", row)
		}
		flat := strings.Join([]string{row.Actor, row.Object, row.Purpose, row.Party, row.Form, row.Detail, row.PurposeCategory}, "|")
		for _, s := range []string{p.Requester.Name, p.Requester.Phone, p.Requester.Address, p.Purpose, "관계 기관 확인"} {
			if strings.Contains(flat, s) {
				t.Errorf("row %s holds %q", row.Detail, s)
			}
		}
	}
}

// TestLedgerDownStepNotTaken: a step whose ledger row cannot be written
// is not taken (and a submission is not stored, its hold released).
func TestLedgerDownStepNotTaken(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.Existence)
	e.led.fail = true
	if _, err := e.svc.Decide(ctx, r.ID, approve(requests.Existence), lee); !errs.Is(err, errs.Unavailable) {
		t.Fatalf("decided without its row: %v", err)
	}
	if got, _, _ := e.st.Get(ctx, r.ID); got.Decision != nil {
		t.Fatal("the decision was stored without its row")
	}
	if _, err := e.svc.Submit(ctx, input(), client, "kim"); err == nil {
		t.Fatal("a request was taken without its row")
	}
	if rs, _ := e.st.List(ctx, true); len(rs) != 1 {
		t.Fatalf("%d requests stored", len(rs))
	}
	if len(e.holds.released) != 1 {
		t.Fatalf("the hold of the request not taken was not released: %v", e.holds.released)
	}
}

// TestWithdraw: a withdrawn request closes whatever was decided.
func TestWithdraw(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.View)
	x, err := e.svc.Withdraw(ctx, r.ID, lee)
	if err != nil || !x.Withdrawn || x.State != requests.Closed {
		t.Fatalf("withdraw: %+v %v", x, err)
	}
	if s := e.led.steps(r.Receipt); s[len(s)-1] != "withdrawn" {
		t.Fatalf("steps %v", s)
	}
}

// TestConcurrentStepsTakenOnce: staff pressing the same button at once
// decide a request once and delete its footage once.
func TestConcurrentStepsTakenOnce(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	r := e.submit(t, requests.Deletion)
	var wg sync.WaitGroup
	results := make(chan error, 16)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Decide(ctx, r.ID, approve(requests.Deletion), lee)
			results <- err
		}()
	}
	wg.Wait()
	ok := 0
	for range 8 {
		if err := <-results; err == nil {
			ok++
		} else if errs.CodeOf(err) != "requests.decided" {
			t.Errorf("a concurrent decision: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d decisions taken, want 1", ok)
	}
	var mu sync.Mutex
	calls := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.svc.Delete(ctx, r.ID, park)
			mu.Lock()
			if err == nil {
				calls++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	got, _, _ := e.st.Get(ctx, r.ID)
	if calls != 1 || len(got.Fulfilments) != 1 || len(e.destroy.calls) != 2 {
		t.Fatalf("deletions taken %d, fulfilments %d, destroyer calls %v", calls, len(got.Fulfilments), e.destroy.calls)
	}
	steps := 0
	for _, s := range e.led.steps(r.Receipt) {
		if s == "decision" || s == "deletion" {
			steps++
		}
	}
	if steps != 2 {
		t.Fatalf("ledger steps %v, want one decision and one deletion", e.led.steps(r.Receipt))
	}
}
