// Package report writes the 관리대장 (the official register of use,
// provision, viewing and destruction of personal video information) from
// ledger entries, as CSV (UTF-8 with a BOM so Excel reads Korean), XLSX and
// PDF (landscape A4 with a Korean font), with the official columns and a
// sign-off column for the manager.
package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/xuri/excelize/v2"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
)

// Columns are the official 관리대장 columns, then the manager's sign-off.
var Columns = []string{
	"번호", "구분", "일시", "파일명/형태", "담당자", "목적/사유",
	"이용·제공받는 제3자/열람등 요구자", "이용·제공 근거", "이용·제공 형태", "기간", "관리책임자 확인",
}

// KST is the time zone of the register (fixed, so no tzdata is needed).
var KST = time.FixedZone("KST", 9*60*60)

// Meta describes the export for its title block.
type Meta struct {
	Institution string    // 기관명
	Site        string    // site id, or "" for every site
	From, To    time.Time // the period covered
	Generated   time.Time // when the export was made
	// Zone is the institution's time zone every time is printed in
	// (nil: KST).
	Zone *time.Location
}

func (m Meta) zone() *time.Location {
	if m.Zone != nil {
		return m.Zone
	}
	return KST
}

func (m Meta) title() string {
	t := "영상정보 관리대장"
	if m.Institution != "" {
		t = m.Institution + " " + t
	}
	return t
}

func (m Meta) subtitle() string {
	site := m.Site
	if site == "" {
		site = "전체"
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return "…"
		}
		return t.In(m.zone()).Format("2006-01-02 15:04")
	}
	return fmt.Sprintf("장소: %s   기간: %s ~ %s   출력: %s", site, day(m.From), day(m.To), day(m.Generated))
}

// Row returns the register row of one entry. 번호 is the ledger sequence
// number, so every row can be traced to its place in the verified chain.
func Row(e ledger.Entry) []string { return RowIn(e, KST) }

// RowIn is Row with the times in loc, the institution's zone.
func RowIn(e ledger.Entry, loc *time.Location) []string {
	cat := string(e.Kind.Category())
	if cat == "" {
		cat = e.Kind.Label()
	}
	object := e.Object
	if object == "" && (len(e.Cameras) > 0 || !e.From.IsZero()) {
		object = strings.Join(e.Cameras, ", ")
		if !e.From.IsZero() {
			object += fmt.Sprintf(" (%s ~ %s)", e.From.In(loc).Format("2006-01-02 15:04:05"), e.To.In(loc).Format("15:04:05"))
		}
	}
	if e.Site != "" && object != "" {
		object = e.Site + ": " + object
	}
	actor := e.Actor
	if e.Role != "" {
		actor += " (" + e.Role + ")"
	}
	purpose := e.Purpose
	if purpose == "" {
		purpose = e.Detail
	}
	if e.PurposeCategory != "" {
		purpose = "[" + e.PurposeCategory + "] " + purpose
	}
	if e.Ref != "" {
		// The request's receipt or the letter's number: the document the
		// row answers, which the 목적/사유 column names.
		purpose += " (접수·문서번호 " + e.Ref + ")"
	}
	return []string{
		strconv.FormatUint(e.Seq, 10), cat, e.Time.In(loc).Format("2006-01-02 15:04:05"), object, actor, purpose,
		e.Party, e.LegalBasis, e.Form, e.Period, "",
	}
}

// CSVCell makes a cell safe to open in a spreadsheet: a cell starting
// with = + - @, a tab or a carriage return would be read as a formula
// (a login name "=HYPERLINK(...)" is typed by whoever tries to log in),
// so it gets a leading apostrophe, as OWASP recommends for CSV
// injection. The register's own cells (numbers, times, Korean labels)
// never start with one of those.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the register as UTF-8 CSV with a byte-order mark.
func WriteCSV(w io.Writer, es []ledger.Entry) error { return writeCSV(w, es, KST) }

func writeCSV(w io.Writer, es []ledger.Entry, loc *time.Location) error {
	const op = "report.WriteCSV"
	if _, err := w.Write([]byte("\uFEFF")); err != nil {
		return errs.E(op, errs.IO, err)
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true // what Excel expects
	cw.Write(Columns)
	for _, e := range es {
		r := RowIn(e, loc)
		for i := range r {
			r[i] = CSVCell(r[i])
		}
		cw.Write(r)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// SheetName is the XLSX worksheet holding the register.
const SheetName = "관리대장"

// WriteXLSX writes the register as an XLSX workbook: a title, the period,
// the header row and one row per entry, text wrapped. Every cell is
// written as a string, never a formula, so a cell typed as "=..." by a
// user stays text.
func WriteXLSX(w io.Writer, es []ledger.Entry, m Meta) error {
	const op = "report.WriteXLSX"
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", SheetName); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	wrap, _ := f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Border: []excelize.Border{{Type: "left", Style: 1}, {Type: "right", Style: 1}, {Type: "top", Style: 1}, {Type: "bottom", Style: 1}}})
	head, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDDDDD"}},
		Alignment: &excelize.Alignment{WrapText: true, Horizontal: "center", Vertical: "center"},
		Border:    []excelize.Border{{Type: "left", Style: 1}, {Type: "right", Style: 1}, {Type: "top", Style: 1}, {Type: "bottom", Style: 1}}})
	bold, _ := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	f.SetCellStr(SheetName, "A1", m.title())
	f.SetCellStyle(SheetName, "A1", "A1", bold)
	f.SetCellStr(SheetName, "A2", m.subtitle())
	widths := []float64{8, 8, 20, 36, 18, 36, 24, 24, 14, 14, 14}
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		f.SetColWidth(SheetName, col, col, wd)
	}
	const first = 4
	if err := f.SetSheetRow(SheetName, fmt.Sprintf("A%d", first), &Columns); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	last, _ := excelize.ColumnNumberToName(len(Columns))
	f.SetCellStyle(SheetName, fmt.Sprintf("A%d", first), fmt.Sprintf("%s%d", last, first), head)
	for i, e := range es {
		r := RowIn(e, m.zone())
		if err := f.SetSheetRow(SheetName, fmt.Sprintf("A%d", first+1+i), &r); err != nil {
			return errs.E(op, errs.Internal, err)
		}
	}
	if len(es) > 0 {
		f.SetCellStyle(SheetName, fmt.Sprintf("A%d", first+1), fmt.Sprintf("%s%d", last, first+len(es)), wrap)
	}
	if err := f.Write(w); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// DefaultFont is Debian's fonts-nanum NanumGothic.
const DefaultFont = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"

// WritePDF writes the register as a landscape A4 PDF with the TrueType
// font at fontPath (DefaultFont when ""); cells wrap, the header repeats
// on every page, and pages are numbered.
func WritePDF(w io.Writer, es []ledger.Entry, m Meta, fontPath string) error {
	const op = "report.WritePDF"
	if fontPath == "" {
		fontPath = DefaultFont
	}
	font, err := os.ReadFile(fontPath)
	if err != nil {
		return errs.Errorf(op, errs.NotExist, "Korean font %s: %v (install fonts-nanum or pass another TrueType font)", fontPath, err)
	}
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.AddUTF8FontFromBytes("kr", "", font)
	pdf.SetMargins(10, 12, 10)
	pdf.SetAutoPageBreak(false, 12)
	pdf.SetTitle(m.title(), true)
	pdf.SetCreator("gwanje", true)
	widths := []float64{11, 12, 23, 38, 25, 38, 29, 27, 24, 16, 25} // 268 mm of 277
	const lineH = 4.2
	_, pageH := pdf.GetPageSize()
	bottom := pageH - 12
	page := 0
	header := func() {
		pdf.AddPage()
		page++
		pdf.SetFont("kr", "", 13)
		pdf.CellFormat(0, 7, m.title(), "", 1, "L", false, 0, "")
		pdf.SetFont("kr", "", 8)
		pdf.CellFormat(0, 5, m.subtitle()+fmt.Sprintf("   쪽: %d", page), "", 1, "L", false, 0, "")
		pdf.Ln(1)
		pdf.SetFillColor(221, 221, 221)
		row(pdf, widths, Columns, lineH, true)
	}
	header()
	pdf.SetFont("kr", "", 7.5)
	for _, e := range es {
		cells := RowIn(e, m.zone())
		if pdf.GetY()+rowHeight(pdf, widths, cells, lineH) > bottom {
			header()
			pdf.SetFont("kr", "", 7.5)
		}
		row(pdf, widths, cells, lineH, false)
	}
	if len(es) == 0 {
		pdf.CellFormat(0, 8, "해당 기간에 기록이 없습니다.", "1", 1, "C", false, 0, "")
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return errs.E(op, errs.Internal, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

func rowHeight(pdf *fpdf.Fpdf, widths []float64, cells []string, lineH float64) float64 {
	n := 1
	for i, c := range cells {
		if l := len(pdf.SplitText(c, widths[i])); l > n {
			n = l
		}
	}
	return float64(n)*lineH + 1
}

// row draws one table row: every cell as tall as the tallest wrapped cell.
func row(pdf *fpdf.Fpdf, widths []float64, cells []string, lineH float64, fill bool) {
	h := rowHeight(pdf, widths, cells, lineH)
	x, y := pdf.GetXY()
	for i, c := range cells {
		// fpdf has no "draw then write" cell with wrapping, so the
		// border is a rectangle and the lines are placed one by one.
		style := "D"
		if fill {
			style = "FD"
		}
		pdf.Rect(x, y, widths[i], h, style)
		for j, line := range pdf.SplitText(c, widths[i]) {
			pdf.SetXY(x, y+0.5+float64(j)*lineH)
			pdf.CellFormat(widths[i], lineH, line, "", 0, "L", false, 0, "")
		}
		x += widths[i]
	}
	left, _, _, _ := pdf.GetMargins()
	pdf.SetXY(left, y+h)
}

// Format is an export format.
type Format string

// The export formats.
const (
	CSV  Format = "csv"
	XLSX Format = "xlsx"
	PDF  Format = "pdf"
)

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case CSV, XLSX, PDF:
		return f, nil
	}
	return "", errs.Errorf("report.ParseFormat", errs.Invalid, "unknown format %q (want csv, xlsx or pdf)", s)
}

// Write writes es in format f.
func Write(w io.Writer, f Format, es []ledger.Entry, m Meta, fontPath string) error {
	switch f {
	case CSV:
		return writeCSV(w, es, m.zone())
	case XLSX:
		return WriteXLSX(w, es, m)
	case PDF:
		return WritePDF(w, es, m, fontPath)
	}
	return errs.Errorf("report.Write", errs.Invalid, "unknown format %q", f)
}
