// Package requests keeps data subjects' requests (열람등 요구): 존재확인,
// 열람 and 삭제 of footage in which a person appears, asked on the form
// 개인영상정보 열람·존재확인 청구서 and answered within 10 days.
//
// A request has two halves. The request itself (receipt number, types,
// period, site and cameras, dates, state) is plain, because staff list and
// count requests and the 관리대장 names them. The person (청구인 and
// 정보주체: name, phone, date of birth, address, relation), the described
// place and the purpose are Personal: sealed at rest under a data key of
// the request's own, wrapped by the master keyring, so that forgetting the
// person (docs/design/requests.md: 3 years after closing) is destroying one
// wrapped key. Store is the storage; SQLiteStore its implementation in
// requests.db; internal/requests/requeststest the conformance suite.
package requests

import (
	"crypto/rand"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
)

// Type is what a request asks. Values are stored: never rename one.
type Type string

const (
	Existence Type = "existence" // 존재확인
	View      Type = "view"      // 열람
	Deletion  Type = "deletion"  // 삭제
)

// Types lists every type in the order of the form.
var Types = []Type{Existence, View, Deletion}

func (t Type) valid() bool { return slices.Contains(Types, t) }

// State is where a request stands. Values are stored: never rename one.
type State string

const (
	Received State = "received" // taken, not yet answered
	Closed   State = "closed"   // answered (or withdrawn); the clock stops
)

// Person is a 청구인 or a 정보주체 as the form names them.
type Person struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	Birth    string `json:"birth"` // YYYY-MM-DD
	Address  string `json:"address"`
	Relation string `json:"relation"` // to the data subject (본인, 법정대리인, ...)
}

// Personal is what a request knows of people: sealed at rest, forgotten
// when the request's personal data expires.
type Personal struct {
	Requester Person `json:"requester"`
	Subject   Person `json:"subject"`
	// Place is the 설치장소 in the requester's words, when no camera is
	// named ("정문 앞 주차장").
	Place string `json:"place,omitempty"`
	// Purpose is the 청구 목적 및 사유.
	Purpose string `json:"purpose"`
}

// Request is a data subject's request without its personal data.
type Request struct {
	ID      int64
	Receipt string // receipt number, FormatReceipt
	Types   []Type
	// From and To are the 영상정보 기록기간 asked, [From, To).
	From, To time.Time
	// Site and Cameras are the 설치장소 when named; a described place
	// (Personal.Place) leaves Cameras empty until staff name them.
	Site    string
	Cameras []string
	// Channel is how the request came: "web" (the public page) or
	// "staff" (taken by staff at a visit, by phone or mail).
	Channel  string
	Intake   string // who took it: the staff member's name, "" for the public page
	Received time.Time
	Due      time.Time // the end of the answer's period (Calendar.Due)
	// Postponement (연기): the reason given and the date it was set.
	PostponeReason string
	Postponed      time.Time
	State          State
	ClosedAt       time.Time
	// Identity check (신원 확인) recorded by staff: what was checked
	// ("신분증 대조"), the proxy documents of a representative ("위임장,
	// 인감증명서"), by whom and when. Zero IdentityAt: not yet checked.
	IdentityMethod string
	IdentityProxy  string
	IdentityBy     string
	IdentityAt     time.Time
	// Forgotten is when the personal data was destroyed (zero: kept).
	Forgotten time.Time
	// Decision is what was decided (nil: not yet), Fulfilments what was
	// done to answer it, in order.
	Decision    *Decision
	Fulfilments []Fulfilment
	// ClosedBy is who closed the request; Withdrawn: closed because the
	// requester withdrew it, whatever was decided.
	ClosedBy  string
	Withdrawn bool
}

// Limits of a request taken from the public page (docs/design/requests.md).
const (
	MaxName     = 50
	MaxAddress  = 200
	MaxRelation = 30
	MaxPlace    = 200
	MaxPurpose  = 1000
	MaxCameras  = 16
	// MaxSpan is the longest 기록기간 one request may ask: a day. Whoever
	// needs more files one request per day, or staff take it.
	MaxSpan = 24 * time.Hour
)

// Input is a request as submitted: the form's fields.
type Input struct {
	Types    []Type
	Personal Personal
	From, To time.Time
	Site     string
	Cameras  []string
}

var birthRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// NormalizePhone keeps the digits of a phone number ("010-1234-5678" →
// "01012345678"), the form lookups compare.
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// invalid is a validation error naming the field; its params never carry
// what was typed (a person's data stays out of error bodies and logs).
func invalid(code, field string, params errs.Params) error {
	p := errs.Params{"field": field}
	for k, v := range params {
		p[k] = v
	}
	return errs.E("requests.Validate", errs.Invalid, errs.Code(code), p, "field "+field)
}

func checkText(field, v string, max int, required bool) error {
	if strings.TrimSpace(v) == "" {
		if required {
			return invalid("requests.missing", field, nil)
		}
		return nil
	}
	if !utf8.ValidString(v) {
		return invalid("requests.text", field, nil)
	}
	if utf8.RuneCountInString(v) > max {
		return invalid("requests.too_long", field, errs.Params{"max": fmt.Sprint(max)})
	}
	for _, r := range v {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return invalid("requests.text", field, nil)
		}
	}
	return nil
}

func checkPerson(prefix string, p Person, now time.Time, zone *time.Location, full bool) error {
	if err := checkText(prefix+".name", p.Name, MaxName, true); err != nil {
		return err
	}
	if ph := NormalizePhone(p.Phone); len(ph) < 9 || len(ph) > 11 || len(p.Phone) > 20 {
		if strings.TrimSpace(p.Phone) == "" && full {
			return invalid("requests.missing", prefix+".phone", nil)
		}
		if strings.TrimSpace(p.Phone) != "" || full {
			return invalid("requests.phone", prefix+".phone", nil)
		}
	}
	if strings.TrimSpace(p.Birth) == "" {
		if full {
			return invalid("requests.missing", prefix+".birth", nil)
		}
	} else {
		b, err := time.ParseInLocation("2006-01-02", p.Birth, zone)
		if !birthRE.MatchString(p.Birth) || err != nil || b.After(now) || b.Year() < 1900 {
			return invalid("requests.birth", prefix+".birth", nil)
		}
	}
	if err := checkText(prefix+".address", p.Address, MaxAddress, full); err != nil {
		return err
	}
	return checkText(prefix+".relation", p.Relation, MaxRelation, full)
}

// Validate checks in against the form's rules at now, in the institution's
// zone: at least one type and none twice; the 청구인 in full (name, phone,
// date of birth, address, relation) and the 정보주체's name (the rest is
// optional when the requester is the subject); a period that has ended,
// not longer than MaxSpan; cameras (each known to camera, all on site) or
// a described place; a purpose; every text within its limit and without
// control characters. The error's code names the rule and its params the
// field, never its value.
func Validate(in Input, now time.Time, zone *time.Location, camera func(id string) (site string, ok bool)) error {
	if len(in.Types) == 0 {
		return invalid("requests.missing", "types", nil)
	}
	for i, t := range in.Types {
		if !t.valid() || slices.Contains(in.Types[:i], t) {
			return invalid("requests.type", "types", nil)
		}
	}
	p := in.Personal
	if err := checkPerson("requester", p.Requester, now, zone, true); err != nil {
		return err
	}
	if err := checkPerson("subject", p.Subject, now, zone, false); err != nil {
		return err
	}
	switch {
	case in.From.IsZero():
		return invalid("requests.missing", "from", nil)
	case in.To.IsZero():
		return invalid("requests.missing", "to", nil)
	case !in.To.After(in.From):
		return invalid("requests.range_order", "to", nil)
	case in.To.After(now):
		return invalid("requests.range_future", "to", nil)
	case in.To.Sub(in.From) > MaxSpan:
		return invalid("requests.range_long", "to", errs.Params{"hours": fmt.Sprint(int(MaxSpan.Hours()))})
	}
	if len(in.Cameras) > MaxCameras {
		return invalid("requests.cameras", "cameras", errs.Params{"max": fmt.Sprint(MaxCameras)})
	}
	for i, c := range in.Cameras {
		site, ok := "", false
		if camera != nil {
			site, ok = camera(c)
		}
		if !ok || slices.Contains(in.Cameras[:i], c) || (in.Site != "" && site != in.Site) {
			return invalid("requests.camera", "cameras", nil)
		}
	}
	if len(in.Cameras) == 0 && strings.TrimSpace(p.Place) == "" {
		return invalid("requests.missing", "place", nil)
	}
	if err := checkText("place", p.Place, MaxPlace, false); err != nil {
		return err
	}
	return checkText("purpose", p.Purpose, MaxPurpose, true)
}

// receiptAlphabet has no 0/O, 1/I/L: read aloud over the phone.
const receiptAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewCheck returns the random part of a receipt number.
func NewCheck() string {
	b := make([]byte, 4)
	rand.Read(b)
	for i := range b {
		b[i] = receiptAlphabet[int(b[i])%len(receiptAlphabet)]
	}
	return string(b)
}

// FormatReceipt is the receipt number: the year of receipt in the
// institution's zone, the request's number within that year, and four
// random letters that keep the numbers from being guessed one after the
// other: "2026-0042-K7QF".
func FormatReceipt(year, seq int, check string) string {
	return fmt.Sprintf("%04d-%04d-%s", year, seq, check)
}

var receiptRE = regexp.MustCompile(`^\d{4}-\d{4,}-[` + receiptAlphabet + `]{4}$`)

// ValidReceipt reports whether s has the shape of a receipt number.
func ValidReceipt(s string) bool { return receiptRE.MatchString(s) }
