package policy

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool skips when a Debian tool is missing on a developer machine and
// fails on CI, where the lead's script installs it.
func needTool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s not installed (Debian package %s)", name, pkg)
		}
		t.Skipf("%s not installed (Debian package %s)", name, pkg)
	}
}

func needFonts(t *testing.T) {
	t.Helper()
	if _, err := FontPath("NanumGothic.ttf"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// pdfText renders with fn and returns pdftotext's output, whitespace
// removed so line breaks inside table cells do not matter.
func pdfText(t *testing.T, fn func(w *bytes.Buffer) error) string {
	t.Helper()
	needFonts(t)
	needTool(t, "pdftotext", "poppler-utils")
	var b bytes.Buffer
	if err := fn(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	path := filepath.Join(t.TempDir(), "out.pdf")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return squash(string(out))
}

func TestPolicyPDFKoreanContent(t *testing.T) {
	for _, sc := range seeds {
		t.Run(sc.registry, func(t *testing.T) {
			r := loadSeed(t, sc.registry)
			doc := Build(r, sc.facts.Declared(r), Options{})
			text := pdfText(t, func(w *bytes.Buffer) error { return doc.PDF(w) })
			// Every fact part, wherever the PDF broke its lines.
			for _, f := range sc.list {
				for _, p := range f {
					p = strings.NewReplacer("|", "", "#", "", "**", "").Replace(p)
					p = strings.TrimPrefix(strings.TrimSpace(p), "- ")
					if strings.HasPrefix(p, "[") { // a Markdown link: the PDF prints text and address
						p = strings.TrimPrefix(p[:strings.Index(p, "]")], "[")
					}
					if q := squash(p); q != "" && !strings.Contains(text, q) {
						t.Errorf("PDF lacks %q", p)
					}
				}
			}
		})
	}
}

func TestFontPathNamesPackage(t *testing.T) {
	old := FontDir
	FontDir = t.TempDir()
	defer func() { FontDir = old }()
	_, err := FontPath("NanumGothic.ttf")
	if err == nil || !strings.Contains(err.Error(), "fonts-nanum") {
		t.Fatalf("err = %v, want a hint to install fonts-nanum", err)
	}
	if err := (Document{Title: "x"}).PDF(&bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "fonts-nanum") {
		t.Fatalf("PDF without fonts: %v", err)
	}
}
