package policy

import (
	"io"
	"os"
	"path/filepath"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/gwanje/gwanje/internal/errs"
)

// FontDir is where Debian's fonts-nanum installs NanumGothic.
var FontDir = "/usr/share/fonts/truetype/nanum"

// FontPath returns the path of a Nanum font file (NanumGothic.ttf,
// NanumGothicBold.ttf), or an error naming the Debian package to install.
func FontPath(file string) (string, error) {
	const op = "policy.FontPath"
	p := filepath.Join(FontDir, file)
	if _, err := os.Stat(p); err != nil {
		return "", errs.Errorf(op, errs.Unavailable, "Korean font %s not found in %s: install the Debian package fonts-nanum (apt-get install fonts-nanum)", file, FontDir)
	}
	return p, nil
}

const (
	fontFamily = "nanum"
	margin     = 18.0 // mm
)

// pdfDoc wraps fpdf with the Korean fonts and a few layout helpers.
type pdfDoc struct {
	*fpdf.Fpdf
	width float64 // usable width
}

func newPDF(title string) (*pdfDoc, error) {
	const op = "policy.newPDF"
	regular, err := FontPath("NanumGothic.ttf")
	if err != nil {
		return nil, errs.E(op, err)
	}
	bold, err := FontPath("NanumGothicBold.ttf")
	if err != nil {
		return nil, errs.E(op, err)
	}
	f := fpdf.New("P", "mm", "A4", filepath.Dir(regular))
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	f.AddUTF8Font(fontFamily, "", filepath.Base(regular))
	f.AddUTF8Font(fontFamily, "B", filepath.Base(bold))
	f.SetTitle(title, true)
	f.SetCreator("gwanje", true)
	f.SetFont(fontFamily, "", 10)
	if f.Err() {
		return nil, errs.E(op, errs.Internal, f.Error())
	}
	w, _ := f.GetPageSize()
	return &pdfDoc{Fpdf: f, width: w - 2*margin}, nil
}

func (p *pdfDoc) text(size float64, style, s string, align string) {
	p.SetFont(fontFamily, style, size)
	p.MultiCell(p.width, size*0.5, s, "", align, false)
}

func (p *pdfDoc) gap(mm float64) { p.Ln(mm) }

// table draws a table whose column widths follow the length of their text;
// a row never splits across pages and the header repeats on a new page.
func (p *pdfDoc) table(header []string, rows [][]string, size float64) {
	p.tableWeighted(header, rows, size, nil)
}

// tableWeighted is table with fixed relative column widths (nil: by content).
func (p *pdfDoc) tableWeighted(header []string, rows [][]string, size float64, weights []float64) {
	p.SetFont(fontFamily, "", size)
	n := len(header)
	if len(weights) != n {
		weights = make([]float64, n)
	}
	for c := range n {
		if weights[c] > 0 {
			continue
		}
		weights[c] = 4
		for _, r := range append([][]string{header}, rows...) {
			if c < len(r) {
				for _, l := range strings.Split(r[c], "\n") {
					weights[c] = max(weights[c], min(float64(len([]rune(l))), 40))
				}
			}
		}
	}
	total := 0.0
	for _, w := range weights {
		total += w
	}
	widths := make([]float64, n)
	for c := range n {
		widths[c] = p.width * weights[c] / total
	}
	lh := size * 0.5
	_, pageH := p.GetPageSize()
	draw := func(cells []string, style string, fill bool) {
		p.SetFont(fontFamily, style, size)
		lines := make([][]string, n)
		h := 0.0
		for c := range n {
			v := ""
			if c < len(cells) {
				v = cells[c]
			}
			for _, l := range strings.Split(v, "\n") {
				split := p.SplitText(l, widths[c])
				if len(split) == 0 {
					split = []string{""}
				}
				lines[c] = append(lines[c], split...)
			}
			h = max(h, float64(len(lines[c]))*lh+2)
		}
		if p.GetY()+h > pageH-margin {
			p.AddPage()
		}
		x, y := p.GetX(), p.GetY()
		for c := range n {
			if fill {
				p.SetFillColor(235, 235, 235)
				p.Rect(x, y, widths[c], h, "FD")
			} else {
				p.Rect(x, y, widths[c], h, "D")
			}
			p.SetXY(x, y+1)
			p.MultiCell(widths[c], lh, strings.Join(lines[c], "\n"), "", "L", false)
			x += widths[c]
		}
		p.SetXY(margin, y+h)
	}
	draw(header, "B", true)
	for _, r := range rows {
		draw(r, "", false)
	}
	p.gap(2)
}

func (p *pdfDoc) output(w io.Writer) error {
	const op = "policy.PDF"
	if p.Err() {
		return errs.E(op, errs.Internal, p.Error())
	}
	if err := p.Output(w); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// PDF writes the document as an A4 PDF in NanumGothic.
func (d Document) PDF(w io.Writer) error {
	p, err := newPDF(d.Title)
	if err != nil {
		return err
	}
	p.AddPage()
	p.text(18, "B", d.Title, "C")
	p.gap(2)
	for _, s := range d.Subtitle {
		p.text(10, "", s, "C")
	}
	p.gap(4)
	for _, s := range d.Intro {
		p.text(10, "", s, "L")
		p.gap(2)
	}
	for _, s := range d.Sections {
		p.gap(3)
		p.text(12, "B", s.Heading, "L")
		p.gap(1)
		for _, b := range s.Blocks {
			if b.Title != "" {
				p.text(10, "B", b.Title, "L")
			}
			switch b.Kind {
			case Para, Note:
				p.text(10, "", b.Text, "L")
				p.gap(1)
			case List:
				for _, it := range b.Items {
					p.text(10, "", "- "+it, "L")
				}
				p.gap(1)
			case Link:
				p.text(10, "", b.Text+" ("+b.Href+")", "L")
			case Table:
				p.table(b.Header, b.Rows, 9)
			}
		}
	}
	p.gap(6)
	for _, c := range d.Closing {
		p.text(10, "", c, "R")
	}
	return p.output(w)
}
