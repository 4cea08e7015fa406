package i18n

import (
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

func TestCatalogueComplete(t *testing.T) {
	if len(dup) > 0 {
		t.Errorf("keys registered twice: %v", dup)
	}
	for _, k := range Keys() {
		m := catalogue[k]
		if m.Ko == "" || m.En == "" {
			t.Errorf("%s: a wording is empty (ko %q, en %q)", k, m.Ko, m.En)
			continue
		}
		pk, pe := placeholder.FindAllString(m.Ko, -1), placeholder.FindAllString(m.En, -1)
		slices.Sort(pk)
		slices.Sort(pe)
		if !slices.Equal(slices.Compact(pk), slices.Compact(pe)) {
			t.Errorf("%s: placeholders differ: ko %v, en %v", k, pk, pe)
		}
	}
}

func TestEveryKindHasAMessage(t *testing.T) {
	for k := errs.Other; k <= errs.Canceled; k++ {
		if !Has(string(k.Code())) {
			t.Errorf("kind %v: code %q has no message", k, k.Code())
		}
	}
}

func TestT(t *testing.T) {
	add(map[string]Message{"test.param": {"최대 {max}", "at most {max}"}})
	defer delete(catalogue, "test.param")
	if got := T(En, "test.param", map[string]string{"max": "1h"}); got != "at most 1h" {
		t.Fatalf("got %q", got)
	}
	if got := T(Ko, "test.param", map[string]string{"max": "1시간"}); got != "최대 1시간" {
		t.Fatalf("got %q", got)
	}
	if got := T(Ko, "no.such.key", nil); got != "⟦no.such.key⟧" {
		t.Fatalf("missing key shown as %q", got)
	}
}

func TestFromRequest(t *testing.T) {
	r := httptest.NewRequest("GET", "/", nil)
	if FromRequest(r) != Ko {
		t.Fatal("default is not Korean")
	}
	r.Header.Set("Cookie", CookieName+"=en")
	if FromRequest(r) != En {
		t.Fatal("cookie en not honoured")
	}
}
