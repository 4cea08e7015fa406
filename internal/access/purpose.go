package access

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

// Purposes are the stable codes of why footage is looked at: what the
// seeds publish as purposes of installation, plus the operational ones and
// the two that later workflows bind to a case (정보주체 열람 to a request
// number, 제3자 제공 to a provision). The list is append-only: codes are
// written to the ledger. Each code's label is the catalogue's
// "purpose.<code>" (Korean: the 관리대장's wording).
var Purposes = []string{
	"facility",   // 시설안전
	"crime",      // 범죄예방
	"complaint",  // 민원확인
	"incident",   // 사건·사고 확인
	"monitoring", // 실시간 관제
	"check",      // 시스템점검
	"subject",    // 정보주체 열람
	"provision",  // 제3자 제공
	"other",      // 기타
}

// legacyPurposes are the labels the first web page sent before the codes;
// still accepted so that pages built on them keep working.
var legacyPurposes = map[string]string{"정보주체요구": "subject"}

// MaxReason is the longest purpose reason, in characters.
const MaxReason = 200

// PurposeLabel is the label of a purpose code in lang.
func PurposeLabel(lang i18n.Lang, code string) string { return i18n.T(lang, "purpose."+code, nil) }

// ParsePurpose accepts a purpose code ("facility") or its Korean or
// English label ("시설안전") and returns the code.
func ParsePurpose(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if c, ok := legacyPurposes[s]; ok {
		return c, true
	}
	for _, c := range Purposes {
		if s == c || s == PurposeLabel(i18n.Ko, c) || strings.EqualFold(s, PurposeLabel(i18n.En, c)) {
			return c, true
		}
	}
	return "", false
}

// Purpose is why footage is accessed: a code of Purposes and a free-text
// reason (what is looked for and why).
type Purpose struct {
	Code   string
	Reason string
}

// Label is the purpose's Korean label, as the 관리대장 shows it.
func (p Purpose) Label() string { return PurposeLabel(i18n.Ko, p.Code) }

// Validate reports what is missing from a purpose, with the public code
// purpose.category (no or an unknown purpose) or purpose.reason (no or too
// long a reason).
func (p Purpose) Validate() error {
	const op = "access.Purpose"
	if !slices.Contains(Purposes, p.Code) {
		return errs.E(op, errs.Invalid, errs.Code("purpose.category"), "no purpose")
	}
	r := strings.TrimSpace(p.Reason)
	if r == "" || utf8.RuneCountInString(r) > MaxReason {
		return errs.E(op, errs.Invalid, errs.Code("purpose.reason"), errs.Params{"max": "200"}, "no reason, or too long")
	}
	return nil
}
