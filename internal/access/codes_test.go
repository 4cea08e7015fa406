package access

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gwanje/gwanje/internal/i18n"
)

// TestEveryCodeInCatalogue: every errs.Code the access package raises has
// a message in the catalogue, so no account route answers with Go text or
// a bare key.
func TestEveryCodeInCatalogue(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	re := regexp.MustCompile(`errs\.Code\("([^"]+)"\)|bad\("([a-z_.]+)"`)
	n := 0
	for _, f := range files {
		if filepath.Ext(f) != ".go" || len(f) > 8 && f[len(f)-8:] == "_test.go" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			code := m[1] + m[2]
			n++
			if !i18n.Has(code) {
				t.Errorf("%s raises code %q, which the catalogue lacks", f, code)
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d codes: the pattern is stale", n)
	}
}
