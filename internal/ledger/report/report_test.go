package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ledger"
)

var t0 = time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC) // 10:00 KST

// entries builds a real ledger with the four official kinds and a login,
// and returns what the 관리대장 export selects.
func entries(t *testing.T, n int) []ledger.Entry {
	t.Helper()
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	l, err := ledger.Open(context.Background(), ledger.Options{Dir: dir, Clock: clk, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	add := func(e ledger.Entry) {
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Minute)
	}
	add(ledger.Entry{Kind: ledger.Login, Actor: "kim"})
	for i := 0; i < n; i++ {
		add(ledger.Entry{Kind: ledger.Playback, Actor: "kim", Role: "접근권한자", Site: "guro", Cameras: []string{"cam1", "cam2"},
			From: t0.Add(-2 * time.Hour), To: t0.Add(-time.Hour), PurposeCategory: "incident",
			Purpose: fmt.Sprintf("주차장 접촉사고 확인 %d: 차량 번호와 시각을 확인하기 위하여 정문과 주차장 카메라를 재생함", i), Form: "재생 열람"})
	}
	add(ledger.Entry{Kind: ledger.Provision, Actor: "park", Role: "관리책임자", Site: "guro", Object: "cam1_20260303.mp4 (MP4 사본)",
		Purpose: "절도 사건 수사", Party: "서울구로경찰서 형사과", LegalBasis: "개인정보 보호법 제18조제2항제7호", Form: "USB 사본 제공", Period: "수사 종료 시까지", Ref: "형사과-2026-0311"})
	add(ledger.Entry{Kind: ledger.Use, Actor: "park", Role: "관리책임자", Site: "guro", Object: "cam2", Purpose: "시설 안전 점검", LegalBasis: "제18조제2항", Form: "내부 이용"})
	add(ledger.Entry{Kind: ledger.Destruction, Actor: "system", Site: "guro", Object: "cam1 2026-01-01 보관기간 경과분", Purpose: "보관기간(60일) 만료", Form: "영구 삭제"})
	es, err := l.Query(context.Background(), ledger.Filter{Site: "guro", Official: true})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestCSV(t *testing.T) {
	es := entries(t, 2)
	var b bytes.Buffer
	if err := WriteCSV(&b, es); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte("\xEF\xBB\xBF")) {
		t.Fatal("no UTF-8 BOM")
	}
	recs, err := csv.NewReader(bytes.NewReader(b.Bytes()[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], "|") != strings.Join(Columns, "|") || len(recs) != 1+len(es) {
		t.Fatalf("header %v, %d rows", recs[0], len(recs))
	}
	cats := ""
	for _, r := range recs[1:] {
		cats += r[1]
	}
	if cats != "열람열람제공이용파기" {
		t.Fatalf("구분 column %q (login must be filtered out)", cats)
	}
	prov := recs[3]
	if prov[2] != "2026-03-03 10:03:00" || prov[6] != "서울구로경찰서 형사과" || prov[7] != "개인정보 보호법 제18조제2항제7호" || prov[9] != "수사 종료 시까지" ||
		prov[5] != "절도 사건 수사 (접수·문서번호 형사과-2026-0311)" {
		t.Fatalf("provision row %q", prov)
	}
}

func TestXLSXReadsBack(t *testing.T) {
	es := entries(t, 2)
	var b bytes.Buffer
	if err := WriteXLSX(&b, es, Meta{Institution: "구로신협", Site: "guro", From: t0, To: t0.Add(24 * time.Hour), Generated: t0}); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&b)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(SheetName)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(rows[0][0], "구로신협 영상정보 관리대장") || strings.Join(rows[3], "|") != strings.Join(Columns[:len(rows[3])], "|") {
		t.Fatalf("title/header: %q / %q", rows[0], rows[3])
	}
	if len(rows) != 4+len(es) {
		t.Fatalf("%d rows, want %d", len(rows), 4+len(es))
	}
	for i, e := range es {
		want := Row(e)
		got := rows[4+i]
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("row %d col %s: %q want %q", i, Columns[j], got[j], want[j])
			}
		}
	}
}

func TestPDFHasKoreanColumns(t *testing.T) {
	if _, err := os.Stat(DefaultFont); err != nil {
		need(t, "fonts-nanum")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		need(t, "pdftotext (poppler-utils)")
	}
	es := entries(t, 40) // several pages
	path := filepath.Join(t.TempDir(), "report.pdf")
	var b bytes.Buffer
	if err := WritePDF(&b, es, Meta{Institution: "구로신협", Site: "guro", From: t0, To: t0.Add(24 * time.Hour), Generated: t0}, ""); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, b.Bytes(), 0o600)
	if p := os.Getenv("REGISTER_PDF_OUT"); p != "" {
		os.WriteFile(p, b.Bytes(), 0o600)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	text := string(out)
	for _, w := range []string{"영상정보 관리대장", "번호", "구분", "일시", "파일명/형태", "담당자", "목적/사유", "요구자", "이용·제공 근거", "이용·제공 형태", "기간", "관리책임자 확인",
		"서울구로경찰서", "파기", "제공", "이용", "열람"} {
		if !strings.Contains(text, w) {
			t.Errorf("PDF text lacks %q", w)
		}
	}
	if pages := strings.Count(text, "\f"); pages < 2 {
		t.Errorf("%d pages for %d entries; the table should run over several", pages, len(es))
	}
	if strings.Count(text, "파일명/형태") < 2 {
		t.Error("header not repeated on the next page")
	}
}

func TestPDFMissingFont(t *testing.T) {
	err := WritePDF(&bytes.Buffer{}, nil, Meta{}, "/nonexistent/font.ttf")
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/font.ttf") {
		t.Fatalf("missing font: %v", err)
	}
}

// need skips when a tool is missing outside CI and fails on CI.
func need(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required on CI", what)
	}
	t.Skipf("%s not installed", what)
}
