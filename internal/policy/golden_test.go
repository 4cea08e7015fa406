package policy

import (
	"flag"
	"os"
	"strings"
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

// TestEnglishPolicy: the English policy is rendered from the registry's
// english: table, with no Korean left; a text without English is named by
// its registry path.
func TestEnglishPolicy(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	doc, err := BuildEnglish(r, jeonbukFacts(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := doc.Markdown()
	if hasHangul(got) {
		for _, l := range strings.Split(got, "\n") {
			if hasHangul(l) {
				t.Errorf("Korean left: %s", l)
			}
		}
	}
	for _, want := range []string{"# Policy on the Operation and Management of Video Information Processing Devices",
		"Jeonbuk Regional Office of SMBA installs and operates video information processing devices under Article 25(1) of the Personal Information Protection Act",
		"| Jeonbuk Regional Office of SMBA | 12 cameras | Inside and outside the buildings on the office grounds, and ancillary facilities<br>within about 50 m of the camera |",
		"| 24 hours | 10 days from the recording date | Computer room |", "| None |  |  |",
		"processed within 10 days of its receipt", "This policy was enacted on 30 July 2013.",
		"- Announced: 30 July 2013 / Effective: 30 July 2013"} {
		if !strings.Contains(got, want) {
			t.Errorf("English policy lacks %q", want)
		}
	}
	path := "../../testdata/policy/jeonbuk.en.md"
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	} else if want, err := os.ReadFile(path); err != nil || string(want) != got {
		for _, l := range Diff(string(want), got) {
			if l.Op != " " {
				t.Errorf("jeonbuk.en: %s %s", l.Op, l.Text)
			}
		}
	}
	delete(r.English, "전산실")
	r.Purposes = append(r.Purposes, "주차 질서 유지")
	if _, err := BuildEnglish(r, jeonbukFacts(), Options{}); err == nil ||
		!strings.Contains(err.Error(), `sites[0].storage: "전산실"`) || !strings.Contains(err.Error(), `purposes[2]: "주차 질서 유지"`) {
		t.Fatalf("missing English: %v", err)
	}
}
