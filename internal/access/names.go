package access

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"

	"github.com/gwanje/gwanje/internal/errs"
)

// MaxNameRunes is the longest login name, and the most of a typed name a
// failed login writes to the ledger.
const MaxNameRunes = 64

// NormalizeName returns the stored form of a login name: PRECIS
// UsernameCaseMapped (RFC 8265: width-mapped, case-folded, NFC), which
// refuses control characters (ESC, NUL), spaces and unassigned code
// points. gwanje further refuses '/', '\', ':' and '*', names longer than
// MaxNameRunes, and names mixing Latin, Greek and Cyrillic letters (the
// homoglyphs of "admin" in another script). Two names that normalize alike
// are the same name.
func NormalizeName(name string) (string, error) {
	const op = "access.NormalizeName"
	bad := func(why string) error {
		return errs.E(op, errs.Invalid, errs.Code("user.name"), errs.Params{"max": fmt.Sprint(MaxNameRunes)},
			fmt.Errorf("user name %s: %s", LedgerName(name), why))
	}
	if name == "" || utf8.RuneCountInString(name) > 4*MaxNameRunes {
		return "", bad("empty or far too long")
	}
	n, err := precis.UsernameCaseMapped.String(name)
	if err != nil {
		return "", bad(err.Error())
	}
	if n == "" || utf8.RuneCountInString(n) > MaxNameRunes {
		return "", bad("empty or too long")
	}
	if strings.ContainsAny(n, "/\\:*") {
		return "", bad("contains / \\ : or *")
	}
	var scripts int
	for _, t := range []*unicode.RangeTable{unicode.Latin, unicode.Greek, unicode.Cyrillic} {
		if strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(t, r) }) {
			scripts++
		}
	}
	if scripts > 1 {
		return "", bad("mixes Latin, Greek or Cyrillic letters")
	}
	return n, nil
}

// LedgerName is what a failed login writes to the ledger of a name a
// stranger typed: at most MaxNameRunes characters, control and format
// characters (ESC, NUL, bidirectional overrides) escaped as \uXXXX, invalid
// UTF-8 as \ufffd, and "…" when cut. A client cannot grow the ledger by
// typing a long name, nor put terminal escapes into it.
func LedgerName(name string) string {
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n == MaxNameRunes {
			b.WriteString("…")
			break
		}
		switch {
		case r == utf8.RuneError:
			b.WriteString(`\ufffd`)
		case unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\\':
			if r == '\\' {
				b.WriteString(`\\`)
			} else {
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
		n++
	}
	return b.String()
}

// cleanDisplay checks a display name (the real name written to the ledger
// with the role): 1-100 characters, no control or format characters. An
// empty one is the login name.
func cleanDisplay(display, name string) (string, error) {
	display = strings.TrimSpace(display)
	if display == "" {
		return name, nil
	}
	if utf8.RuneCountInString(display) > 100 || !utf8.ValidString(display) ||
		strings.ContainsFunc(display, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) }) {
		return "", errs.E("access.User", errs.Invalid, errs.Code("user.display"), errs.Params{"max": "100"},
			fmt.Errorf("display name %s", LedgerName(display)))
	}
	return display, nil
}
