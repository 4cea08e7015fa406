package policy

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/policy golden files")

// TestGoldenMarkdown pins the whole rendered text of each seed registry, on
// top of the fact lists: any wording change shows up in review as a diff of
// testdata/policy/*.md (go test ./internal/policy -run Golden -update).
func TestGoldenMarkdown(t *testing.T) {
	for _, sc := range seeds {
		r := loadSeed(t, sc.registry)
		got := Build(r, sc.facts.Declared(r), Options{}).Markdown()
		path := "../../testdata/policy/" + sc.registry + ".md"
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to create)", err)
		}
		if string(want) != got {
			for _, l := range Diff(string(want), got) {
				if l.Op != " " {
					t.Errorf("%s: %s %s", sc.registry, l.Op, l.Text)
				}
			}
		}
	}
}
