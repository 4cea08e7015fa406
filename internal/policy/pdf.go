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
	// headingRoom is the least room below a heading for it to stay on
	// the page: itself and a few lines of what follows.
	headingRoom = 24.0
	// tableSize is the type size of the policy's tables.
	tableSize = 9.0
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

// table draws a table whose column widths follow the length of their text.
func (p *pdfDoc) table(header []string, rows [][]string, size float64) {
	p.tableWeighted(header, rows, size, nil)
}

// cellPad is the vertical padding of a table row, top and bottom together.
const cellPad = 2.0

// room is the height left on the current page above the bottom margin.
func (p *pdfDoc) room() float64 {
	_, pageH := p.GetPageSize()
	return pageH - margin - p.GetY()
}

// keepWithNext starts a new page unless h mm fit below the current line,
// so a heading is never left alone at the foot of a page.
func (p *pdfDoc) keepWithNext(h float64) {
	if p.room() < h {
		p.AddPage()
	}
}

// columnWidths gives each column at least the width of its longest word
// (so a short label such as 촬영시간 is never broken mid-word) and shares
// the rest by the length of the column's text, or by weights when given.
func (p *pdfDoc) columnWidths(header []string, rows [][]string, size float64, weights []float64) []float64 {
	n := len(header)
	if len(weights) != n {
		weights = make([]float64, n)
	}
	minW := make([]float64, n)
	for c := range n {
		for ri, r := range append([][]string{header}, rows...) {
			if c >= len(r) {
				continue
			}
			style := ""
			if ri == 0 {
				style = "B"
			}
			p.SetFont(fontFamily, style, size)
			for _, l := range strings.Split(r[c], "\n") {
				for _, word := range strings.Fields(l) {
					minW[c] = max(minW[c], p.GetStringWidth(word)+2*p.GetCellMargin()+0.5)
				}
			}
		}
	}
	auto := make([]float64, n)
	for c := range n {
		auto[c] = weights[c]
		if auto[c] > 0 {
			continue
		}
		auto[c] = 4
		for _, r := range append([][]string{header}, rows...) {
			if c < len(r) {
				for _, l := range strings.Split(r[c], "\n") {
					auto[c] = max(auto[c], min(float64(len([]rune(l))), 40))
				}
			}
		}
	}
	total, sumMin := 0.0, 0.0
	for c := range n {
		total += auto[c]
		sumMin += minW[c]
	}
	widths := make([]float64, n)
	if sumMin >= p.width { // words wider than the page: shrink in proportion
		for c := range n {
			widths[c] = p.width * minW[c] / sumMin
		}
		return widths
	}
	// Share by weight; a column below its minimum takes its minimum and
	// the others share what is left, until every column fits.
	fixed := make([]bool, n)
	for {
		left, weight := p.width, 0.0
		for c := range n {
			if fixed[c] {
				left -= widths[c]
			} else {
				weight += auto[c]
			}
		}
		changed := false
		for c := range n {
			if !fixed[c] {
				widths[c] = left * auto[c] / weight
				if widths[c] < minW[c] {
					widths[c], fixed[c], changed = minW[c], true, true
				}
			}
		}
		if !changed {
			return widths
		}
	}
}

// tableLayout is a table measured for drawing.
type tableLayout struct {
	widths []float64
	lh     float64 // line height
	headH  float64 // height of the header row
	usable float64 // height of a page between the margins
}

func (p *pdfDoc) layout(header []string, rows [][]string, size float64, weights []float64) *tableLayout {
	t := &tableLayout{widths: p.columnWidths(header, rows, size, weights), lh: size * 0.5}
	_, pageH := p.GetPageSize()
	t.usable = pageH - 2*margin
	t.headH = float64(height(p.splitRow(t, header, "B", size)))*t.lh + cellPad
	return t
}

// splitRow breaks each cell of a row into the lines it prints as.
func (p *pdfDoc) splitRow(t *tableLayout, cells []string, style string, size float64) [][]string {
	p.SetFont(fontFamily, style, size)
	lines := make([][]string, len(t.widths))
	for c := range t.widths {
		v := ""
		if c < len(cells) {
			v = cells[c]
		}
		for _, l := range strings.Split(v, "\n") {
			parts := p.SplitText(l, t.widths[c])
			if len(parts) == 0 {
				parts = []string{""}
			}
			lines[c] = append(lines[c], parts...)
		}
	}
	return lines
}

func height(lines [][]string) int {
	h := 0
	for _, l := range lines {
		h = max(h, len(l))
	}
	return h
}

// move reports whether a row of height h that does not fit in room goes
// whole to the next page: when it fits on a fresh page and moving wastes
// at most a third of this one. Otherwise it is split.
func (t *tableLayout) move(h, room float64) bool {
	return t.headH+h <= t.usable && room <= t.usable/3 || int((room-cellPad)/t.lh) < 1
}

// breaksBefore reports whether the table, begun with room left on the
// page, starts on the next page: its header goes with its first row, or
// with the part of it that starts here when it is split, never alone.
func (p *pdfDoc) breaksBefore(t *tableLayout, rows [][]string, size, room float64) bool {
	if len(rows) == 0 {
		return room < t.headH
	}
	h := float64(height(p.splitRow(t, rows[0], "", size)))*t.lh + cellPad
	r := room - t.headH
	return h > r && (t.move(h, r) || r < 2*t.lh+cellPad)
}

// tableWeighted is table with fixed relative column widths (nil: by
// content). The header repeats at the top of every page the table runs
// onto and is never left alone at the foot of a page. A row that does not
// fit in the room left is moved to the next page when that wastes at most
// a third of the page, else split across pages, as is a row taller than a
// page.
func (p *pdfDoc) tableWeighted(header []string, rows [][]string, size float64, weights []float64) {
	t := p.layout(header, rows, size, weights)
	n := len(header)
	lh := t.lh
	// drawPart draws k lines of each cell as one box.
	drawPart := func(lines [][]string, k int, style string, fill bool) {
		p.SetFont(fontFamily, style, size)
		x, y := margin, p.GetY()
		h := float64(k)*lh + cellPad
		for c := range n {
			if fill {
				p.SetFillColor(235, 235, 235)
				p.Rect(x, y, t.widths[c], h, "FD")
			} else {
				p.Rect(x, y, t.widths[c], h, "D")
			}
			if k > 0 && len(lines[c]) > 0 {
				p.SetXY(x, y+cellPad/2)
				p.MultiCell(t.widths[c], lh, strings.Join(lines[c][:min(k, len(lines[c]))], "\n"), "", "L", false)
			}
			x += t.widths[c]
		}
		p.SetXY(margin, y+h)
	}
	head := p.splitRow(t, header, "B", size)
	drawHeader := func() { drawPart(head, height(head), "B", true) }

	auto, bm := p.GetAutoPageBreak()
	p.SetAutoPageBreak(false, bm) // this function places every line itself
	defer p.SetAutoPageBreak(auto, bm)

	if p.breaksBefore(t, rows, size, p.room()) {
		p.AddPage()
	}
	drawHeader()
	for _, r := range rows {
		lines := p.splitRow(t, r, "", size)
		for {
			need := height(lines)
			h := float64(need)*lh + cellPad
			if h <= p.room() {
				drawPart(lines, need, "", false)
				break
			}
			if t.move(h, p.room()) {
				p.AddPage()
				drawHeader()
				continue
			}
			fit := int((p.room() - cellPad) / lh)
			drawPart(lines, fit, "", false)
			for c := range lines {
				lines[c] = lines[c][min(fit, len(lines[c])):]
			}
			p.AddPage()
			drawHeader()
		}
	}
	p.gap(2)
}

// headingHeight is the height text(size, "B", s) takes.
func (p *pdfDoc) headingHeight(s string, size float64) float64 {
	p.SetFont(fontFamily, "B", size)
	return float64(len(p.SplitText(s, p.width))) * size * 0.5
}

// keepHeading starts a new page before a heading (and a block's title)
// unless what follows can start below it on this page: a few lines, or
// for a table its header with its first row.
func (p *pdfDoc) keepHeading(h float64, next *Block, size float64) {
	room := p.room() - h
	if room < headingRoom-h {
		p.AddPage()
		return
	}
	if next != nil && next.Kind == Table {
		t := p.layout(next.Header, next.Rows, size, nil)
		if p.breaksBefore(t, next.Rows, size, room) {
			p.AddPage()
		}
	}
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
		h := p.headingHeight(s.Heading, 12) + 1
		var first *Block
		if len(s.Blocks) > 0 {
			first = &s.Blocks[0]
			if first.Title != "" {
				h += p.headingHeight(first.Title, 10)
			}
		}
		p.keepHeading(h, first, tableSize)
		p.text(12, "B", s.Heading, "L")
		p.gap(1)
		for i, b := range s.Blocks {
			if b.Title != "" {
				if i > 0 {
					p.keepHeading(p.headingHeight(b.Title, 10), &s.Blocks[i], tableSize)
				}
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
				p.table(b.Header, b.Rows, tableSize)
			}
		}
	}
	p.gap(6)
	for _, c := range d.Closing {
		p.text(10, "", c, "R")
	}
	return p.output(w)
}
