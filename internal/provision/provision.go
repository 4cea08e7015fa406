// Package provision keeps the provisions of footage: 제3자 제공 (to a third
// party such as the police) and 목적 외 이용 (use for a purpose other than
// the stated ones), each on a legal basis of 개인정보 보호법 제18조 제2항.
//
// A provision is requested by one user, approved by another who holds the
// approve-provision permission on every camera's site (nobody approves
// their own request), and then produced: an evidence package through
// internal/export, or an on-site viewing through the footage gate, either
// way with the 관리대장 row of kind 제공 (ledger.Provision) or 이용
// (ledger.Use) and every column filled. From the request until a grace
// after it is produced, a hold owned by the provision keeps the footage
// from destruction. Store is the storage; SQLiteStore its implementation
// in provisions.db; internal/provision/provisiontest the conformance
// suite. docs/design/export.md states the workflow.
package provision

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
)

// Kind is what a provision is. Values are stored: never rename one.
type Kind string

const (
	Provide Kind = "provide" // 제3자 제공: ledger.Provision, 구분 제공
	Use     Kind = "use"     // 목적 외 이용: ledger.Use, 구분 이용
)

func (k Kind) valid() bool { return k == Provide || k == Use }

// LedgerKind is the kind of the 관리대장 row a produced provision writes.
func (k Kind) LedgerKind() ledger.Kind {
	if k == Use {
		return ledger.Use
	}
	return ledger.Provision
}

// Form is how the footage is provided. Values are stored.
type Form string

const (
	Copy    Form = "copy"    // 사본 제공: an evidence package (ZIP)
	Viewing Form = "viewing" // 현장 열람: viewed on site, through the gate
)

func (f Form) valid() bool { return f == Copy || f == Viewing }

// Korean is the 관리대장's 형태 of the form.
func (f Form) Korean() string {
	if f == Viewing {
		return "현장 열람"
	}
	return "사본 제공"
}

// State is where a provision stands. Values are stored.
type State string

const (
	Requested State = "requested" // asked, waiting for a second person's approval
	Approved  State = "approved"  // approved; may be produced
	Produced  State = "produced"  // the package was made or the viewing granted
	Refused   State = "refused"   // refused by an approver
	Cancelled State = "cancelled" // withdrawn
)

// Open reports whether the provision may still change (and its hold
// holds).
func (s State) Open() bool { return s == Requested || s == Approved }

// Basis is an item (호) of 개인정보 보호법 제18조 제2항, the legal bases on
// which personal data may be used for another purpose or provided to a
// third party. Values are stored: the item numbers of the Act.
type Basis int

// Bases are the items of 제18조 제2항 in force, in the Act's order. Item 4
// was deleted by the Act's amendment of 2020-02-04. Items 5 to 9 are
// open to public institutions only (the paragraph's proviso). The Korean
// text of each is in the catalogue, "provision.basis.N".
var Bases = []Basis{1, 2, 3, 5, 6, 7, 8, 9, 10}

// Valid reports whether b is one of Bases.
func (b Basis) Valid() bool { return slices.Contains(Bases, b) }

// NeedsStatute reports whether the basis must name the statute it rests
// on: item 2, "다른 법률에 특별한 규정이 있는 경우".
func (b Basis) NeedsStatute() bool { return b == 2 }

// Text is the item's wording in lang, from the catalogue.
func (b Basis) Text(lang i18n.Lang) string {
	return i18n.T(lang, fmt.Sprintf("provision.basis.%d", b), nil)
}

// Citation is the 근거 as the 관리대장 and the manifest record it:
// "개인정보 보호법 제18조제2항제7호(범죄의 수사와 …)", followed by the
// named statute when there is one.
func (b Basis) Citation(statute string) string {
	s := fmt.Sprintf("개인정보 보호법 제18조제2항제%d호(%s)", b, b.Text(i18n.Ko))
	if statute = strings.TrimSpace(statute); statute != "" {
		s += " · " + statute
	}
	return s
}

// Provision is one provision.
type Provision struct {
	ID   int64
	Kind Kind
	// Recipient is 이용·제공받는 제3자: the institution (and person) that
	// receives it, or for a use the department that uses it.
	Recipient string
	// Letter is the official letter's number (공문 번호) asking for it, or
	// for a use the internal document's number; the ledger row's Ref.
	Letter  string
	Purpose string // 목적/사유
	Basis   Basis
	Statute string // the named statute (법률 조항), required for item 2
	Form    Form
	Period  string // 이용 기간: how long the recipient may keep or use it
	// Cameras and the footage range [From, To).
	Cameras  []string
	From, To time.Time
	State    State

	RequestedBy string
	RequestedAt time.Time
	ApprovedBy  string
	ApprovedAt  time.Time
	// ClosedBy, ClosedAt and CloseReason: who refused or cancelled it,
	// when and why.
	ClosedBy    string
	ClosedAt    time.Time
	CloseReason string
	// ProducedBy and ProducedAt: who produced it and when; LedgerSeq the
	// 관리대장 row the gate wrote; Package the evidence package's id
	// (manifest id) for a copy, "" for a viewing.
	ProducedBy string
	ProducedAt time.Time
	LedgerSeq  uint64
	Package    string
	// HoldReleased is when its hold was released (zero while it holds).
	HoldReleased time.Time
}

// LegalBasis is the provision's 근거 as recorded.
func (p *Provision) LegalBasis() string { return p.Basis.Citation(p.Statute) }

// Ref is the provision's reference: the hold's Ref ("provision-7").
func (p *Provision) Ref() string { return fmt.Sprintf("provision-%d", p.ID) }

// Input is a provision as requested.
type Input struct {
	Kind      Kind
	Recipient string
	Letter    string
	Purpose   string
	Basis     Basis
	Statute   string
	Form      Form
	Period    string
	Cameras   []string
	From, To  time.Time
}

// Limits of a provision's fields, in characters. A 근거 with the longest
// item's wording and statute stays within export's 200.
const (
	MaxField   = 200 // recipient, letter, purpose, period
	MaxStatute = 60
	MaxCameras = 16
	// MaxSpan is the longest footage range of one provision.
	MaxSpan = 24 * time.Hour
)

// invalid is a validation error naming the field.
func invalid(code, field string, params errs.Params) error {
	p := errs.Params{"field": field}
	for k, v := range params {
		p[k] = v
	}
	return errs.E("provision.Validate", errs.Invalid, errs.Code(code), p, "field "+field)
}

func badText(s string, max int) bool {
	return utf8.RuneCountInString(s) > max || strings.ContainsAny(s, "\x00\r\n")
}

// Validate checks in. A provision without a legal basis is refused
// (provision.basis), as is item 2 without its statute
// (provision.statute). camera reports whether a camera exists.
func Validate(in Input, camera func(id string) bool) error {
	if !in.Kind.valid() {
		return invalid("provision.kind", "kind", nil)
	}
	if !in.Basis.Valid() {
		return invalid("provision.basis", "basis", nil)
	}
	if in.Basis.NeedsStatute() && strings.TrimSpace(in.Statute) == "" {
		return invalid("provision.statute", "statute", nil)
	}
	if badText(in.Statute, MaxStatute) {
		return invalid("provision.field", "statute", errs.Params{"max": fmt.Sprint(MaxStatute)})
	}
	if !in.Form.valid() {
		return invalid("provision.form", "form", nil)
	}
	for _, f := range []struct {
		name, v string
	}{{"recipient", in.Recipient}, {"letter", in.Letter}, {"purpose", in.Purpose}, {"period", in.Period}} {
		if strings.TrimSpace(f.v) == "" {
			return invalid("provision.required", f.name, nil)
		}
		if badText(f.v, MaxField) {
			return invalid("provision.field", f.name, errs.Params{"max": fmt.Sprint(MaxField)})
		}
	}
	if len(in.Cameras) == 0 || len(in.Cameras) > MaxCameras {
		return invalid("provision.cameras", "cameras", errs.Params{"max": fmt.Sprint(MaxCameras)})
	}
	for i, c := range in.Cameras {
		if camera != nil && !camera(c) || slices.Contains(in.Cameras[:i], c) {
			return invalid("provision.cameras", "cameras", errs.Params{"max": fmt.Sprint(MaxCameras)})
		}
	}
	if in.From.IsZero() || !in.To.After(in.From) {
		return invalid("provision.range", "range", nil)
	}
	if in.To.Sub(in.From) > MaxSpan {
		return invalid("provision.span", "range", errs.Params{"max": "24h"})
	}
	return nil
}
