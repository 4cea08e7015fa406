// Package i18n is gwanje's one message catalogue: every text a user reads
// (page labels, error messages, states, documents) is a key here with a
// Korean and an English wording. Korean is the default; English is chosen
// per user. Errors reach clients as a stable code (errs.Code) whose message
// is looked up here, so server-internal text never reaches a page.
//
// Messages are registered by area in files of this package (msg_*.go), each
// with add in an init function; a key registered twice, or with either
// wording empty, or with placeholders that differ between the languages,
// fails the package's tests.
package i18n

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
)

// Lang is a language of the catalogue.
type Lang string

const (
	Ko Lang = "ko" // the default
	En Lang = "en"
)

// Langs lists the catalogue's languages, the default first.
var Langs = []Lang{Ko, En}

// Parse returns the Lang named by s ("ko", "en", "en-US", "ko-KR"), or Ko.
func Parse(s string) Lang {
	s = strings.ToLower(strings.TrimSpace(s))
	if strings.HasPrefix(s, "en") {
		return En
	}
	return Ko
}

// CookieName is the cookie that carries a browser's chosen language until
// its user's own setting is known.
const CookieName = "gwanje_lang"

// FromRequest is the language for r: the request's language cookie, else
// Korean. (A signed-in user's own setting, when the caller knows it, wins
// over this; see web.)
func FromRequest(r *http.Request) Lang {
	if c, err := r.Cookie(CookieName); err == nil {
		return Parse(c.Value)
	}
	return Ko
}

// Message is one key's wordings.
type Message struct{ Ko, En string }

var catalogue = map[string]Message{}

// dup lists keys registered more than once (a test fails on any).
var dup []string

// add registers messages; called from init functions of msg_*.go.
func add(m map[string]Message) {
	for k, v := range m {
		if _, ok := catalogue[k]; ok {
			dup = append(dup, k)
		}
		catalogue[k] = v
	}
}

// Has reports whether key is in the catalogue.
func Has(key string) bool { _, ok := catalogue[key]; return ok }

// Keys lists every key, sorted.
func Keys() []string {
	out := make([]string, 0, len(catalogue))
	for k := range catalogue {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var placeholder = regexp.MustCompile(`\{[a-z_][a-z0-9_]*\}`)

// T is key's wording in lang with {name} placeholders filled from params.
// A key missing from the catalogue yields the key itself, marked so a
// test of the pages catches it: "⟦key⟧".
func T(lang Lang, key string, params map[string]string) string {
	m, ok := catalogue[key]
	if !ok {
		return "⟦" + key + "⟧"
	}
	s := m.Ko
	if lang == En {
		s = m.En
	}
	if len(params) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		name := p[1 : len(p)-1]
		v, ok := params[name]
		if !ok {
			return p
		}
		if name == "field" {
			return FieldLabel(lang, key, v)
		}
		return v
	})
}

// FieldLabel is how the message of code calls the input field: the label
// of "field.<area>.<field>" (area: code up to its first dot), else of
// "field.<field>", else field itself (msg_fields.go).
func FieldLabel(lang Lang, code, field string) string {
	area, _, _ := strings.Cut(code, ".")
	for _, k := range []string{"field." + area + "." + field, "field." + field} {
		if m, ok := catalogue[k]; ok {
			if lang == En {
				return m.En
			}
			return m.Ko
		}
	}
	return field
}

// Missing is the mark T puts around a key the catalogue lacks; a page test
// fails when it finds one.
const Missing = "⟦"
