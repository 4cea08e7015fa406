package requests

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/retention"
)

// The staff's steps after intake (docs/design/requests.md, "Decision",
// "Fulfilment", "Ledger rows"): naming the cameras of a described place,
// the decision, the answers (존재확인 from the segment index, an on-site
// viewing through the footage gate, a deletion through retention's
// destruction) and the closing. Every step writes its 관리대장 row, with
// the receipt number as the row's Ref, before the step is stored.

// Actor is the staff member who acts: their login name and the role the
// 관리대장 names.
type Actor struct{ User, Role string }

// FootageIndex answers whether a camera has footage in a range (the
// segment index; access.FootageIndex's question).
type FootageIndex interface {
	HasFootage(ctx context.Context, camera string, from, to time.Time) (bool, error)
}

// Destroyer destroys a camera's footage in a range for the owner of a hold
// (retention.Engine.DestroyRangeFor).
type Destroyer interface {
	DestroyRangeFor(ctx context.Context, camera string, from, to time.Time, actor, detail string,
		owner retention.Owner, ref string) (*retention.Receipt, error)
}

// Viewing is an access granted by the gate for a request (an
// *access.Handle): closing the request ends it.
type Viewing interface {
	Close()
	Done() <-chan struct{}
}

// Limits of an on-site viewing grant.
const (
	DefaultViewGrant = time.Hour
	MaxViewGrant     = 8 * time.Hour
)

// Legal bases written in the 관리대장's 이용·제공 근거 column.
const (
	BasisView     = "개인정보 보호법 제35조" // 열람 (존재확인 included)
	BasisDeletion = "개인정보 보호법 제36조" // 삭제
)

// setRef puts the request's number on a ledger row.
func setRef(e *ledger.Entry, receipt string) { e.Ref = receipt }

// party is the 열람등 요구자 column: who asked, by relation, never by name
// (the ledger is kept for ever and cannot forget a person; the name stays
// in the sealed record, forgotten after its years).
func party(p Personal, have bool) string {
	switch {
	case !have:
		return "정보주체"
	case isSelf(p):
		return "정보주체 본인"
	}
	return "정보주체의 대리인"
}

// basis is the legal basis of the types ts.
func basis(ts []Type) string {
	v, d := slices.Contains(ts, Existence) || slices.Contains(ts, View), slices.Contains(ts, Deletion)
	switch {
	case v && d:
		return BasisView + ", 제36조"
	case d:
		return BasisDeletion
	}
	return BasisView
}

var typeKorean = map[Type]string{Existence: "존재확인", View: "열람", Deletion: "삭제"}

func typesKorean(ts []Type) string {
	var out []string
	for _, t := range Types {
		if slices.Contains(ts, t) {
			out = append(out, typeKorean[t])
		}
	}
	return strings.Join(out, "·")
}

// row is the 관리대장 row of a step of r: kind request-received for the
// steps of taking the request (접수, 신원 확인, 설치장소 지정), request-decided
// (구분 열람) for its handling; form names the step in the 형태 column,
// detail starts with step=<step>.
func (s *Service) row(ctx context.Context, kind ledger.Kind, r Request, who Actor, step, form, detail string, ts []Type) ledger.Entry {
	p, have, err := s.cfg.Store.Personal(ctx, r.ID)
	return entry(kind, r, who, step, form, detail, ts, p, have && err == nil)
}

// entry is row with the request's personal data p given.
func entry(kind ledger.Kind, r Request, who Actor, step, form, detail string, ts []Type, p Personal, have bool) ledger.Entry {
	if ts == nil {
		ts = r.Types
	}
	e := ledger.Entry{Kind: kind, Actor: who.User, Role: who.Role, Site: r.Site, Cameras: r.Cameras, From: r.From, To: r.To,
		Object:          "열람등 요구 " + r.Receipt + " (" + typesKorean(r.Types) + ")",
		PurposeCategory: "정보주체 열람등 요구", Purpose: "정보주체의 " + typesKorean(ts) + " 요구",
		Party: party(p, have), LegalBasis: basis(ts), Form: form, Detail: strings.TrimSuffix("step="+step+"; "+detail, "; ")}
	setRef(&e, r.Receipt)
	return e
}

// record appends e; nil ledger (tests): nothing.
func (s *Service) record(ctx context.Context, op string, e ledger.Entry) error {
	if s.cfg.Ledger == nil {
		return nil
	}
	if _, err := s.cfg.Ledger.Append(ctx, e); err != nil {
		s.log.Error("data-subject request: the ledger row could not be written; the step is not taken", "request", e.Ref, "err", err)
		return errs.E(op, errs.Unavailable, err)
	}
	return nil
}

// open returns request id, open.
func (s *Service) open(ctx context.Context, op string, id int64) (Request, error) {
	r, ok, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return Request{}, errs.E(op, err)
	}
	if !ok {
		return Request{}, errs.Errorf(op, errs.NotExist, "no request %d", id)
	}
	if r.State == Closed {
		return r, closedErr(op)
	}
	return r, nil
}

// NameCameras names the cameras of a request of a described place (all on
// one site) and places its hold on them × the period, as intake does for
// a request that names its cameras. Cameras once named are not renamed.
func (s *Service) NameCameras(ctx context.Context, id int64, cameras []string, who Actor) (Request, error) {
	const op = "requests.NameCameras"
	defer s.lockRequest(id)()
	r, err := s.open(ctx, op, id)
	if err != nil {
		return r, err
	}
	if len(r.Cameras) > 0 {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.cameras_named"), "the request's cameras are named")
	}
	if len(cameras) == 0 {
		return r, invalid("requests.missing", "cameras", nil)
	}
	if len(cameras) > MaxCameras {
		return r, invalid("requests.cameras", "cameras", errs.Params{"max": fmt.Sprint(MaxCameras)})
	}
	site := ""
	for i, c := range cameras {
		cs, ok := "", false
		if s.cfg.Camera != nil {
			cs, ok = s.cfg.Camera(c)
		}
		if !ok || slices.Contains(cameras[:i], c) || (i > 0 && cs != site) || (r.Site != "" && cs != r.Site) {
			return r, invalid("requests.camera", "cameras", nil)
		}
		site = cs
	}
	r.Cameras, r.Site = slices.Clone(cameras), site
	// As at intake: the hold, then the row, then the request; a failure
	// after the hold releases it.
	if err := s.hold(ctx, r); err != nil {
		return Request{}, errs.E(op, err)
	}
	release := func() {
		if s.cfg.Holds != nil {
			s.cfg.Holds.ReleaseOwned(ctx, retention.OwnerRequest, r.Receipt, "system")
		}
	}
	if err := s.record(ctx, op, s.row(ctx, ledger.RequestReceived, r, who, "cameras", "설치장소 지정", "", nil)); err != nil {
		release()
		return Request{}, err
	}
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		release()
		return Request{}, errs.E(op, err)
	}
	s.log.Info("data-subject request's cameras named", "request", r.Receipt, "by", who.User, "cameras", len(r.Cameras))
	return r, nil
}

// taker is who took the request in: the staff member of a staff intake,
// else the one who checked the person's identity (a public request is
// taken in at that check).
func taker(r Request) string {
	if r.Intake != "" {
		return r.Intake
	}
	return r.IdentityBy
}

// Decide records the decision on request id. Who decides must hold the
// right to handle requests on its site (the caller checks it); where the
// site has two such holders or more, the decider is not the one who took
// the request in (requests.same_person). Answering a type needs the
// identity checked and the cameras named; a request is decided once.
func (s *Service) Decide(ctx context.Context, id int64, d Decision, who Actor) (Request, error) {
	const op = "requests.Decide"
	defer s.lockRequest(id)()
	r, err := s.open(ctx, op, id)
	if err != nil {
		return r, err
	}
	if r.Decision != nil {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.decided"), "the request is decided")
	}
	if err := checkDecision(d, r); err != nil {
		return r, err
	}
	d.By, d.At = who.User, s.cfg.Clock.Now()
	answers := slices.ContainsFunc(d.Types, func(x TypeDecision) bool { return x.Outcome != Refused })
	if answers && r.IdentityAt.IsZero() {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.identity_first"), "identity not checked")
	}
	if answers && len(r.Cameras) == 0 {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.cameras_missing"), "cameras not named")
	}
	if t := taker(r); t != "" && t == who.User && s.cfg.Holders != nil {
		n, err := s.cfg.Holders(ctx, r.Site)
		if err != nil {
			return r, errs.E(op, err)
		}
		if n >= 2 {
			return r, errs.E(op, errs.Permission, errs.Code("requests.same_person"),
				"the site has another holder of handle-requests: who took the request does not decide it")
		}
	}
	var parts []string
	for _, t := range Types {
		if x, ok := d.Of(t); ok {
			v := string(t) + "=" + string(x.Outcome)
			if x.Ground != "" {
				v += "(" + string(x.Ground) + ")"
			}
			parts = append(parts, v)
		}
	}
	r.Decision = &d
	e := s.row(ctx, ledger.RequestDecided, r, who, "decision", "결정: "+outcomeKorean(d.Outcome()),
		"outcome="+string(d.Outcome())+"; "+strings.Join(parts, ", "), nil)
	if err := s.record(ctx, op, e); err != nil {
		return Request{}, err
	}
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return Request{}, errs.E(op, err)
	}
	s.log.Info("data-subject request decided", "request", r.Receipt, "by", who.User, "outcome", d.Outcome())
	return r, nil
}

func outcomeKorean(o Outcome) string {
	switch o {
	case Approved:
		return "승인"
	case Partly:
		return "일부 승인"
	}
	return "거절"
}

// granted returns open request id whose type t was decided to be
// answered, with its cameras named.
func (s *Service) granted(ctx context.Context, op string, id int64, t Type) (Request, error) {
	r, err := s.open(ctx, op, id)
	if err != nil {
		return r, err
	}
	if !r.Decision.Granted(t) {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.not_granted"), errs.Params{"type": string(t)},
			"the decision does not answer this type")
	}
	if len(r.Cameras) == 0 {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.cameras_missing"), "cameras not named")
	}
	return r, nil
}

// AnswerExistence answers the 존재확인 of request id from the segment
// index: whether any camera of its scope has footage in its period. It
// says that and nothing more (no count, no time, no frame).
func (s *Service) AnswerExistence(ctx context.Context, id int64, who Actor) (bool, error) {
	const op = "requests.AnswerExistence"
	defer s.lockRequest(id)()
	r, err := s.granted(ctx, op, id, Existence)
	if err != nil {
		return false, err
	}
	if s.cfg.Footage == nil {
		return false, errs.Errorf(op, errs.Unavailable, "no segment index")
	}
	sc := scopeOf(r, Existence)
	exists := false
	for _, c := range sc.Cameras {
		ok, err := s.cfg.Footage.HasFootage(ctx, c, sc.From, sc.To)
		if err != nil {
			return false, errs.E(op, err)
		}
		if ok {
			exists = true
			break
		}
	}
	answer := "none"
	if exists {
		answer = "exists"
	}
	e := s.row(ctx, ledger.RequestDecided, r, who, "existence", "존재확인 회신", "answer="+answer, []Type{Existence})
	e.Cameras, e.From, e.To = sc.Cameras, sc.From, sc.To
	if err := s.record(ctx, op, e); err != nil {
		return false, err
	}
	r.Fulfilments = append(r.Fulfilments, Fulfilment{Type: Existence, By: who.User, At: s.cfg.Clock.Now(), Exists: exists})
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return false, errs.E(op, err)
	}
	s.log.Info("data-subject request's existence answered", "request", r.Receipt, "by", who.User)
	return exists, nil
}

// GrantView grants staff an on-site viewing for request id, for d (0:
// DefaultViewGrant; at most MaxViewGrant): until then, and while the
// request is open, staff who hold handle-requests and playback on its site
// may view its cameras and period, and nothing else, through the footage
// gate (ViewAccess). It returns the grant's end.
func (s *Service) GrantView(ctx context.Context, id int64, d time.Duration, who Actor) (time.Time, error) {
	const op = "requests.GrantView"
	defer s.lockRequest(id)()
	if d == 0 {
		d = DefaultViewGrant
	}
	if d < 0 || d > MaxViewGrant {
		return time.Time{}, invalid("requests.grant_length", "minutes", errs.Params{"max": fmt.Sprint(int(MaxViewGrant.Minutes()))})
	}
	r, err := s.granted(ctx, op, id, View)
	if err != nil {
		return time.Time{}, err
	}
	now := s.cfg.Clock.Now()
	until := now.Add(d)
	sc := scopeOf(r, View)
	e := s.row(ctx, ledger.RequestDecided, r, who, "view-grant", "현장 열람 허용",
		"until="+until.UTC().Format(time.RFC3339), []Type{View})
	e.Cameras, e.From, e.To = sc.Cameras, sc.From, sc.To
	if err := s.record(ctx, op, e); err != nil {
		return time.Time{}, err
	}
	r.Fulfilments = append(r.Fulfilments, Fulfilment{Type: View, By: who.User, At: now, Until: until})
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return time.Time{}, errs.E(op, err)
	}
	s.log.Info("data-subject request's viewing granted", "request", r.Receipt, "by", who.User, "until", until)
	return until, nil
}

// ViewAccess is the footage request (for the gate) of a viewing under
// request id's grant: way playback or still, camera, [from, to) (a still:
// from = to, its time). It is refused — and the refusal written to the
// 관리대장 as an access-refused row with the request's number — unless the
// request is open, its viewing granted and not expired, the way not live,
// the camera and the range within the request's viewing scope. The
// footage request it returns has purpose 정보주체 열람, the request's
// number, the 열람등 요구자 and the legal basis, and ends with the grant.
func (s *Service) ViewAccess(ctx context.Context, id int64, way access.Way, camera access.Camera, from, to time.Time,
	object string, who Actor, client string) (access.FootageRequest, error) {
	const op = "requests.ViewAccess"
	r, ok, err := s.cfg.Store.Get(ctx, id)
	if err != nil {
		return access.FootageRequest{}, errs.E(op, err)
	}
	if !ok {
		return access.FootageRequest{}, errs.Errorf(op, errs.NotExist, "no request %d", id)
	}
	p, have, _ := s.cfg.Store.Personal(ctx, r.ID)
	fr := access.FootageRequest{Way: way, Cameras: []access.Camera{camera}, From: from, To: to, Object: object,
		Purpose: access.Purpose{Code: "subject", Reason: "열람등 요구 " + r.Receipt + " 현장 열람"},
		Request: r.Receipt, Party: party(p, have), LegalBasis: BasisView, Form: "현장 열람 (정보주체 열람)"}
	now := s.cfg.Clock.Now()
	sc := scopeOf(r, View)
	until := viewUntil(r)
	var code errs.Code
	kind := errs.Permission // outside the grant
	switch {
	case r.State == Closed:
		code, kind = "requests.closed", errs.Conflict
	case !r.Decision.Granted(View) || !now.Before(until):
		code, kind = "requests.view_grant", errs.Conflict
	case way != access.WayPlayback && way != access.WayStill:
		code = "requests.view_way"
	case !slices.Contains(sc.Cameras, camera.ID) || camera.Site != r.Site:
		code = "requests.view_scope"
	case from.Before(sc.From) || to.After(sc.To) || to.Before(from) || (to.Equal(from) && (way != access.WayStill || !from.Before(sc.To))):
		code = "requests.view_scope"
	}
	if code != "" {
		e := ledger.Entry{Kind: ledger.AccessRefused, Actor: who.User, Role: who.Role, Client: client, Site: camera.Site,
			Cameras: []string{camera.ID}, From: from, To: to, Object: object, PurposeCategory: fr.Purpose.Label(),
			Purpose: fr.Purpose.Reason, Party: fr.Party, LegalBasis: fr.LegalBasis, Form: fr.Form,
			Detail: fmt.Sprintf("%s refused: %s", way, code)}
		setRef(&e, r.Receipt)
		if err := s.record(ctx, op, e); err != nil {
			return access.FootageRequest{}, err
		}
		return access.FootageRequest{}, errs.E(op, kind, code, "outside the request's viewing")
	}
	fr.Until = until
	return fr, nil
}

// Track ties a viewing granted for request receipt to it: closing the
// request ends the viewing.
func (s *Service) Track(receipt string, v Viewing) {
	s.views.Lock()
	defer s.views.Unlock()
	if s.views.m == nil {
		s.views.m = map[string][]Viewing{}
	}
	kept := s.views.m[receipt][:0]
	for _, x := range s.views.m[receipt] {
		select {
		case <-x.Done():
		default:
			kept = append(kept, x)
		}
	}
	s.views.m[receipt] = append(kept, v)
}

// endViews ends the viewings of request receipt.
func (s *Service) endViews(receipt string) {
	s.views.Lock()
	vs := s.views.m[receipt]
	delete(s.views.m, receipt)
	s.views.Unlock()
	for _, v := range vs {
		v.Close()
	}
}

// views are the viewings granted per request (Track).
type viewSet struct {
	sync.Mutex
	m map[string][]Viewing
}

// Delete destroys the footage of request id's deletion scope, camera by
// camera, through retention's range destruction as the owner of the
// request's hold (so its own hold does not block it; any other does): the
// range is cut at its edges, the rest of each segment kept. Each camera
// that held footage gets a signed receipt and a 파기 row with the request's
// number; the receipts are attached to the request. A camera that fails
// stops the deletion: what was destroyed stays destroyed (its 파기 rows
// are written) and a second call finishes the rest.
func (s *Service) Delete(ctx context.Context, id int64, who Actor) ([]string, error) {
	const op = "requests.Delete"
	defer s.lockRequest(id)()
	r, err := s.granted(ctx, op, id, Deletion)
	if err != nil {
		return nil, err
	}
	if fulfilled(r, Deletion) {
		return nil, errs.E(op, errs.Conflict, errs.Code("requests.fulfilled"), errs.Params{"type": string(Deletion)},
			"the deletion is done")
	}
	if s.cfg.Destroyer == nil {
		return nil, errs.Errorf(op, errs.Unavailable, "no retention engine")
	}
	sc := scopeOf(r, Deletion)
	var ids []string
	for _, c := range sc.Cameras {
		rc, err := s.cfg.Destroyer.DestroyRangeFor(ctx, c, sc.From, sc.To, who.User, "정보주체 삭제 요구 "+r.Receipt,
			retention.OwnerRequest, r.Receipt)
		if err != nil {
			s.log.Error("data-subject deletion stopped", "request", r.Receipt, "camera", c, "done", len(ids), "err", err)
			if len(ids) > 0 { // what went is attached, so a second call's receipts are not the only ones
				e := s.row(ctx, ledger.RequestDecided, r, who, "deletion-partial", "삭제 중단 (파기 확인서 "+fmt.Sprint(len(ids))+"건)",
					"receipts="+strings.Join(ids, ","), []Type{Deletion})
				e.Cameras, e.From, e.To = sc.Cameras, sc.From, sc.To
				if s.record(ctx, op, e) == nil {
					r.Fulfilments = append(r.Fulfilments, Fulfilment{Type: Deletion, By: who.User, At: s.cfg.Clock.Now(),
						Receipts: ids, Partial: true})
					s.cfg.Store.Update(ctx, r)
				}
			}
			return ids, errs.E(op, err)
		}
		if rc != nil {
			ids = append(ids, rc.ID)
		}
	}
	e := s.row(ctx, ledger.RequestDecided, r, who, "deletion", "삭제 (파기 확인서 "+fmt.Sprint(len(ids))+"건)",
		"receipts="+strings.Join(ids, ","), []Type{Deletion})
	e.Cameras, e.From, e.To = sc.Cameras, sc.From, sc.To
	if err := s.record(ctx, op, e); err != nil {
		return ids, err
	}
	r.Fulfilments = append(r.Fulfilments, Fulfilment{Type: Deletion, By: who.User, At: s.cfg.Clock.Now(), Receipts: ids})
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return ids, errs.E(op, err)
	}
	s.log.Info("data-subject deletion done", "request", r.Receipt, "by", who.User, "receipts", len(ids))
	return ids, nil
}

// Close closes request id once it is answered: decided, and every type
// the decision answers fulfilled (a 존재확인 answered, a viewing granted
// or a copy made, a deletion done). Its viewings end, its clock stops,
// its hold lasts HoldGrace more (from now) and its personal data
// KeepPersonalYears (Sweep).
func (s *Service) Close(ctx context.Context, id int64, who Actor) (Request, error) {
	const op = "requests.Close"
	defer s.lockRequest(id)()
	r, err := s.open(ctx, op, id)
	if err != nil {
		return r, err
	}
	if r.Decision == nil {
		return r, errs.E(op, errs.Conflict, errs.Code("requests.undecided"), "the request is not decided")
	}
	for _, t := range r.Types {
		if r.Decision.Granted(t) && !fulfilled(r, t) {
			return r, errs.E(op, errs.Conflict, errs.Code("requests.unfulfilled"), errs.Params{"type": string(t)},
				"a type decided to be answered is not answered yet")
		}
	}
	return s.close(ctx, op, r, who, false)
}

// Withdraw closes request id because the requester withdrew it, whatever
// was decided or done.
func (s *Service) Withdraw(ctx context.Context, id int64, who Actor) (Request, error) {
	const op = "requests.Withdraw"
	defer s.lockRequest(id)()
	r, err := s.open(ctx, op, id)
	if err != nil {
		return r, err
	}
	return s.close(ctx, op, r, who, true)
}

func (s *Service) close(ctx context.Context, op string, r Request, who Actor, withdrawn bool) (Request, error) {
	step, form, detail := "close", "종결", ""
	if r.Decision != nil {
		detail = "outcome=" + string(r.Decision.Outcome())
	}
	if withdrawn {
		step, form = "withdrawn", "종결 (청구 취하)"
	}
	if err := s.record(ctx, op, s.row(ctx, ledger.RequestDecided, r, who, step, form, detail, nil)); err != nil {
		return Request{}, err
	}
	r.State, r.ClosedAt, r.ClosedBy, r.Withdrawn = Closed, s.cfg.Clock.Now(), who.User, withdrawn
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return Request{}, errs.E(op, err)
	}
	s.endViews(r.Receipt)
	s.log.Info("data-subject request closed", "request", r.Receipt, "by", who.User, "withdrawn", withdrawn)
	return r, nil
}

// lockRequest serializes the steps of request id (two staff pressing the
// same button decide, delete or close it once); it returns the unlock.
func (s *Service) lockRequest(id int64) func() {
	s.locks.mu.Lock()
	if s.locks.m == nil {
		s.locks.m = map[int64]*requestLock{}
	}
	l := s.locks.m[id]
	if l == nil {
		l = &requestLock{}
		s.locks.m[id] = l
	}
	l.n++
	s.locks.mu.Unlock()
	l.Lock()
	return func() {
		l.Unlock()
		s.locks.mu.Lock()
		if l.n--; l.n == 0 {
			delete(s.locks.m, id)
		}
		s.locks.mu.Unlock()
	}
}

type requestLock struct {
	sync.Mutex
	n int // holders and waiters
}

type requestLocks struct {
	mu sync.Mutex
	m  map[int64]*requestLock
}
