package i18n

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// fieldUses finds, in gwanje's Go sources, every field key an error names
// together with the code (or, where the code is chosen elsewhere, the
// package) of its message: the shapes the validators use to build errors.
var fieldUses = []struct {
	re *regexp.Regexp
	// code and field are submatch indexes; code 0 means the package's
	// name is the area. prefixes expand a field built as prefix+".x".
	code, field int
	prefixes    []string
}{
	{re: regexp.MustCompile(`(?:invalid|badField)\("([a-z_.]+)",\s*(?:[a-z]+,\s*)?"([a-z_.]+)"`), code: 1, field: 2},
	{re: regexp.MustCompile(`errs\.Code\("([a-z_.]+)"\),\s*errs\.Params\{"field":\s*"([a-z_]+)"`), code: 1, field: 2},
	{re: regexp.MustCompile(`errs\.Code\("([a-z_.]+)"\),\s*errs\.Params\{"name":\s*[a-z]+,\s*"field":\s*"([a-z_]+)"`), code: 1, field: 2},
	{re: regexp.MustCompile(`checkText\("([a-z_.]+)"`), field: 1},
	{re: regexp.MustCompile(`(?:checkText|invalid\("[a-z_.]+",)\s*prefix\+"\.([a-z]+)"`), field: 1, prefixes: []string{"requester", "subject"}},
	{re: regexp.MustCompile(`\{"([a-z_]+)", in\.[A-Z]`), field: 1},
	{re: regexp.MustCompile(`"([a-z_]+)": [rw]\.[A-Z][A-Za-z]+[,}]`), field: 1},
	{re: regexp.MustCompile(`parseRequestTime\("([a-z_]+)"`), field: 1},
}

// TestEveryFieldHasALabel fails when an error names a field that the
// catalogue has no label for: the user would read the field's key.
func TestEveryFieldHasALabel(t *testing.T) {
	found := 0
	err := filepath.WalkDir("..", func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		pkg := filepath.Base(filepath.Dir(path))
		if pkg == "web" {
			pkg = "requests" // the staff and public pages of requests parse their own fields
		}
		for _, u := range fieldUses {
			for _, m := range u.re.FindAllStringSubmatch(string(b), -1) {
				code := pkg + ".x"
				if u.code > 0 {
					code = m[u.code]
				}
				fields := []string{m[u.field]}
				if u.prefixes != nil {
					fields = nil
					for _, p := range u.prefixes {
						fields = append(fields, p+"."+m[u.field])
					}
				}
				for _, f := range fields {
					found++
					area, _, _ := strings.Cut(code, ".")
					if !Has("field."+area+"."+f) && !Has("field."+f) {
						t.Errorf("%s: the message %s names field %q, which has no label (add field.%s.%s to msg_fields.go)", path, code, f, area, f)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 40 {
		t.Errorf("found only %d field uses in the sources: the patterns no longer match how errors are built", found)
	}
}

func TestFieldLabelInMessages(t *testing.T) {
	got := T(Ko, "requests.missing", map[string]string{"field": "requester.phone"})
	if !strings.Contains(got, "청구인 전화번호") || strings.Contains(got, "requester.phone") {
		t.Errorf("ko: %q", got)
	}
	got = T(En, "provision.required", map[string]string{"field": "letter"})
	if !strings.Contains(got, "letter number") {
		t.Errorf("en: %q", got)
	}
	// A field without a label is printed as it is.
	if got := FieldLabel(Ko, "requests.missing", "no_such_field"); got != "no_such_field" {
		t.Errorf("unlabelled field: %q", got)
	}
}
