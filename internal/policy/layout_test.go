package policy

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/registry"
)

// pdfPages renders with fn and returns each page as pdftotext -layout
// prints it: the layout read back from the PDF.
func pdfPages(t *testing.T, fn func(w *bytes.Buffer) error) []string {
	t.Helper()
	needFonts(t)
	needTool(t, "pdftotext", "poppler-utils")
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	pages := strings.Split(string(out), "\f")
	if len(pages) > 1 && strings.TrimSpace(pages[len(pages)-1]) == "" {
		pages = pages[:len(pages)-1]
	}
	return pages
}

// lastLine is the last non-empty line of a page.
func lastLine(page string) string {
	ls := strings.Split(strings.TrimRight(page, "\n "), "\n")
	return strings.TrimSpace(ls[len(ls)-1])
}

// manyLocations gives the first site of jeonbuk n camera groups, one
// location line each.
func manyLocations(t *testing.T, n int) *registry.Registry {
	r := loadSeed(t, "jeonbuk")
	one := 1
	s := &r.Sites[0]
	s.Groups = s.Groups[:1]
	for i := 1; i < n; i++ {
		s.Groups = append(s.Groups, registry.Group{ID: fmt.Sprintf("g%d", i), Location: fmt.Sprintf("별관 %d층 복도 구역%03d", i%9+1, i), Count: &one})
	}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPDFRowSplitsAcrossPages: a site with 90 location lines is one table
// row taller than a page. It starts on the page of its section, below
// the header, instead of leaving that page empty; it continues on the
// following pages, each with the header repeated; every line is printed.
func TestPDFRowSplitsAcrossPages(t *testing.T) {
	r := manyLocations(t, 90)
	doc := Build(r, jeonbukFacts(), Options{})
	pages := pdfPages(t, func(w *bytes.Buffer) error { return doc.PDF(w) })
	const header = "설치 위치 및 촬영범위"
	start := -1
	for i, pg := range pages {
		if strings.Contains(pg, "2. 설치 대수") {
			start = i
			break
		}
	}
	if start < 0 {
		t.Fatal("section 2 not found")
	}
	if !strings.Contains(pages[start], "구역001") {
		t.Fatalf("the row was moved to a later page, leaving its section's page without it:\n%s", pages[start])
	}
	seen := 0
	for i, pg := range pages {
		n := strings.Count(pg, "별관 ")
		seen += n
		if n > 0 && !strings.Contains(pg, header) {
			t.Errorf("page %d continues the table without its header", i+1)
		}
	}
	if seen != 89 {
		t.Errorf("%d of 89 location lines printed", seen)
	}
	if !strings.Contains(strings.Join(pages, ""), "구역089") {
		t.Error("last location missing")
	}
}

// TestPDFHeadersNeverAloneAtFoot: however much text comes before it, a
// table's header row and a section heading are never the last thing on
// a page.
func TestPDFHeadersNeverAloneAtFoot(t *testing.T) {
	needFonts(t)
	needTool(t, "pdftotext", "poppler-utils")
	rows := [][]string{{"본점", "34대", "지하주차장 5대\n1층 건물 외부 및 복도 6대\n365코너 5대"}, {"시장지점", "24대", "365코너 4대\n1층 객장 및 서고 등 10대"}}
	for fill := 40; fill < 62; fill++ {
		var items []string
		for i := range fill {
			items = append(items, fmt.Sprintf("채움 문장 %d", i))
		}
		doc := Document{Title: "시험", Sections: []Section{
			{Heading: "1. 앞 절", Blocks: []Block{{Kind: List, Items: items}}},
			{Heading: "2. 표가 있는 절", Blocks: []Block{{Kind: Table, Header: []string{"구분", "설치대수", "설치 위치 및 촬영범위"}, Rows: rows}}},
		}}
		pages := pdfPages(t, func(w *bytes.Buffer) error { return doc.PDF(w) })
		for i, pg := range pages {
			last := lastLine(pg)
			if strings.Contains(last, "설치대수") || strings.HasPrefix(last, "2. 표가 있는 절") {
				t.Errorf("fill %d: page %d ends with %q", fill, i+1, last)
			}
		}
	}
}

// TestPDFShortLabelsWhole: a column is never narrower than its longest
// word, so labels such as 촬영시간 are printed whole, even beside long
// wordings.
func TestPDFShortLabelsWhole(t *testing.T) {
	r := loadSeed(t, "guro")
	r.Sites[1].Storage = "시장지점 전산실"
	r.Sites[2].Storage = "천왕역지점 전산실"
	for i := range r.Sites {
		r.Sites[i].RetentionWording = "6개월내외(영상정보 용량에 따라 보관기간 전후 자동 삭제되며 각 지점 사정에 따라 다를 수 있음)"
	}
	doc := Build(r, Facts{}, Options{})
	text := strings.Join(pdfPages(t, func(w *bytes.Buffer) error { return doc.PDF(w) }), "")
	for _, label := range []string{"촬영시간", "보관기간", "보관장소", "사업장", "설치대수", "연락처"} {
		if !strings.Contains(text, label) {
			t.Errorf("label %q broken or missing", label)
		}
	}
}

// TestSignOnePage: a sign fits one A4 page, its type shrinking for a long
// location list; a list too long even at the smallest type continues on a
// second page with its header.
func TestSignOnePage(t *testing.T) {
	for _, tc := range []struct {
		groups, pages int
	}{{1, 1}, {30, 1}, {90, 2}} {
		r := manyLocations(t, tc.groups)
		pages := pdfPages(t, func(w *bytes.Buffer) error { return SignPDF(r, "hq", w) })
		if len(pages) != tc.pages {
			t.Errorf("%d locations: %d pages, want %d", tc.groups, len(pages), tc.pages)
			continue
		}
		all := strings.Join(pages, "")
		if n := strings.Count(all, "별관 "); n != tc.groups-1 {
			t.Errorf("%d locations: %d printed", tc.groups, n)
		}
		for i, pg := range pages {
			if !strings.Contains(pg, "항목") {
				t.Errorf("%d locations: page %d lacks the header", tc.groups, i+1)
			}
		}
		if !strings.Contains(pages[len(pages)-1], "전북지방중소기업청") {
			t.Errorf("%d locations: the institution's name is missing", tc.groups)
		}
	}
}
