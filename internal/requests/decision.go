package requests

import (
	"slices"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// Outcome is what was decided for one type of a request. Values are
// stored: never rename one.
type Outcome string

const (
	Approved Outcome = "approved" // 승인: answered in full
	Partly   Outcome = "partly"   // 일부 승인: part answered, part refused (with a ground)
	Refused  Outcome = "refused"  // 거절: not answered (with a ground)
)

// Ground is why a type is refused or only partly answered: the grounds of
// 개인정보 보호법 제35조④ and those the standard guideline adds for video
// (docs/design/requests.md, "Decision"). Values are stored and appear in
// the ledger: never rename one; append new ones.
type Ground string

const (
	GroundLaw           Ground = "law"           // 제35조④1: 법률에 따라 열람이 금지되거나 제한되는 경우
	GroundHarm          Ground = "harm"          // 제35조④2: 다른 사람의 생명·신체를 해할 우려, 재산과 그 밖의 이익을 부당하게 침해할 우려
	GroundPublicDuty    Ground = "public_duty"   // 제35조④3: 조세, 성적 평가·입학자 선발, 시험·자격 심사, 보상금·급부금 산정, 감사·조사에 중대한 지장
	GroundInvestigation Ground = "investigation" // 범죄의 수사, 공소의 제기·유지, 재판에 중대한 지장 (표준지침)
	GroundExpired       Ground = "expired"       // 보관기간이 지나 이미 파기됨
	GroundNotSubject    Ground = "not_subject"   // 청구인(정보주체)이 촬영되지 않음
	GroundThirdParty    Ground = "third_party"   // 다른 정보주체를 가릴(마스킹) 수 없음
	GroundOther         Ground = "other"         // 그 밖의 사유 (note required)
)

// Grounds lists every ground in the order of the law and the guideline.
var Grounds = []Ground{GroundLaw, GroundHarm, GroundPublicDuty, GroundInvestigation, GroundExpired, GroundNotSubject,
	GroundThirdParty, GroundOther}

// GroundKorean is a ground as a notice and the 관리대장 state it.
func GroundKorean(g Ground) string {
	switch g {
	case GroundLaw:
		return "법률에 따라 열람이 금지되거나 제한됨 (개인정보 보호법 제35조제4항제1호)"
	case GroundHarm:
		return "다른 사람의 생명·신체를 해하거나 재산과 그 밖의 이익을 부당하게 침해할 우려 (제35조제4항제2호)"
	case GroundPublicDuty:
		return "공공기관의 업무 수행에 중대한 지장 (제35조제4항제3호)"
	case GroundInvestigation:
		return "범죄의 수사, 공소의 제기·유지 또는 재판에 중대한 지장"
	case GroundExpired:
		return "보관기간이 지나 이미 파기됨"
	case GroundNotSubject:
		return "청구한 영상에 정보주체가 촬영되지 않음"
	case GroundThirdParty:
		return "다른 정보주체를 알아볼 수 없게 가릴 수 없음"
	case GroundOther:
		return "그 밖의 사유"
	}
	return string(g)
}

// MaxNote bounds a decision's free text.
const MaxNote = 1000

// TypeDecision is the decision on one type of a request.
type TypeDecision struct {
	Type    Type    `json:"type"`
	Outcome Outcome `json:"outcome"`
	// Ground is required for Partly and Refused, absent for Approved.
	Ground Ground `json:"ground,omitempty"`
	// Note is free text (≤ MaxNote): required with GroundOther. It goes to
	// the notice, not to the ledger (staff words can name people).
	Note string `json:"note,omitempty"`
	// Cameras, From and To narrow a Partly decision to part of the
	// request (each within it); empty or zero: the request's own.
	Cameras []string  `json:"cameras,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
}

// Decision is what was decided on a request: one TypeDecision per type
// asked, by whom and when.
type Decision struct {
	Types []TypeDecision `json:"types"`
	Note  string         `json:"note,omitempty"`
	By    string         `json:"by"`
	At    time.Time      `json:"at"`
}

// Of returns the decision on type t.
func (d *Decision) Of(t Type) (TypeDecision, bool) {
	if d == nil {
		return TypeDecision{}, false
	}
	for _, x := range d.Types {
		if x.Type == t {
			return x, true
		}
	}
	return TypeDecision{}, false
}

// Outcome is the decision as a whole: approved when every type is,
// refused when every type is, partly otherwise.
func (d *Decision) Outcome() Outcome {
	all := func(o Outcome) bool {
		for _, x := range d.Types {
			if x.Outcome != o {
				return false
			}
		}
		return true
	}
	switch {
	case all(Approved):
		return Approved
	case all(Refused):
		return Refused
	}
	return Partly
}

// Granted reports whether type t was decided to be answered (in full or in
// part).
func (d *Decision) Granted(t Type) bool {
	x, ok := d.Of(t)
	return ok && (x.Outcome == Approved || x.Outcome == Partly)
}

// checkDecision checks d against r: one decision per type asked and none
// other; a valid outcome; a ground for Partly and Refused and none for
// Approved; a note with GroundOther; a narrowed scope only on Partly and
// within the request.
func checkDecision(d Decision, r Request) error {
	if len(d.Types) == 0 {
		return invalid("requests.missing", "types", nil)
	}
	for i, x := range d.Types {
		if !slices.Contains(r.Types, x.Type) || slices.ContainsFunc(d.Types[:i], func(y TypeDecision) bool { return y.Type == x.Type }) {
			return invalid("requests.decision_type", "types", nil)
		}
		switch x.Outcome {
		case Approved:
			if x.Ground != "" {
				return invalid("requests.ground", "ground", nil)
			}
		case Partly, Refused:
			if !slices.Contains(Grounds, x.Ground) {
				return invalid("requests.ground", "ground", nil)
			}
		default:
			return invalid("requests.outcome", "outcome", nil)
		}
		if err := checkText("note", x.Note, MaxNote, x.Ground == GroundOther); err != nil {
			return err
		}
		narrowed := len(x.Cameras) > 0 || !x.From.IsZero() || !x.To.IsZero()
		if narrowed && x.Outcome != Partly {
			return invalid("requests.scope", "cameras", nil)
		}
		for _, c := range x.Cameras {
			if !slices.Contains(r.Cameras, c) {
				return invalid("requests.scope", "cameras", nil)
			}
		}
		from, to := x.From, x.To
		if from.IsZero() {
			from = r.From
		}
		if to.IsZero() {
			to = r.To
		}
		if from.Before(r.From) || to.After(r.To) || !to.After(from) {
			return invalid("requests.scope", "from", nil)
		}
	}
	for _, t := range r.Types {
		if !slices.ContainsFunc(d.Types, func(y TypeDecision) bool { return y.Type == t }) {
			return invalid("requests.decision_type", "types", nil)
		}
	}
	return checkText("note", d.Note, MaxNote, false)
}

// Scope is the cameras and period a type is answered for: the request's,
// or the part a Partly decision narrowed it to.
type Scope struct {
	Cameras  []string
	From, To time.Time
}

// scopeOf returns the scope of type t of r (its decision's narrowing, if
// any).
func scopeOf(r Request, t Type) Scope {
	sc := Scope{Cameras: r.Cameras, From: r.From, To: r.To}
	x, ok := r.Decision.Of(t)
	if !ok {
		return sc
	}
	if len(x.Cameras) > 0 {
		sc.Cameras = x.Cameras
	}
	if !x.From.IsZero() {
		sc.From = x.From
	}
	if !x.To.IsZero() {
		sc.To = x.To
	}
	return sc
}

// Fulfilment is one step of answering a request: a 존재확인 answered, a
// viewing granted, a deletion done, a masked copy made.
type Fulfilment struct {
	Type Type      `json:"type"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	// Exists is the 존재확인's answer.
	Exists bool `json:"exists,omitempty"`
	// Until is the end of an on-site viewing grant (열람).
	Until time.Time `json:"until,omitzero"`
	// Receipts are the destruction receipts of a deletion (삭제), one per
	// camera that held footage in the range.
	Receipts []string `json:"receipts,omitempty"`
	// Copy names a masked copy made for a viewing (열람).
	Copy string `json:"copy,omitempty"`
	// Partial marks a deletion stopped by a camera's failure: its
	// receipts are what went; the type is not answered until a later
	// deletion finishes.
	Partial bool `json:"partial,omitempty"`
}

// fulfilled reports whether type t of r has been answered.
func fulfilled(r Request, t Type) bool {
	return slices.ContainsFunc(r.Fulfilments, func(f Fulfilment) bool { return f.Type == t && !f.Partial })
}

// viewUntil is the end of r's latest viewing grant (zero: none).
func viewUntil(r Request) time.Time {
	var u time.Time
	for _, f := range r.Fulfilments {
		if f.Type == View && f.Until.After(u) {
			u = f.Until
		}
	}
	return u
}

func closedErr(op string) error {
	return errs.E(op, errs.Conflict, errs.Code("requests.closed"), "request is closed")
}
