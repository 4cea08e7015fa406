package requests_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/requests"
)

// pdfText is the text of a PDF as pdftotext reads it (poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		t.Skip("pdftotext (poppler-utils) not installed")
	}
	p := filepath.Join(t.TempDir(), "n.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	// One space for any run of blanks: -layout spreads table cells.
	return strings.Join(strings.Fields(string(out)), " ")
}

var issuer = requests.Issuer{Organization: "전북지방중소기업청", Department: "운영지원과", Contact: "영상정보처리기기 관리책임자",
	Phone: "063-210-6400", Signatory: "전북지방중소기업청장"}

func noticeRequest() requests.Request {
	cal := requests.Calendar{Zone: seoul}
	recv := kst(2026, 3, 2, 10, 0, 0)
	return requests.Request{Receipt: "2026-0042-K7QF", Types: []requests.Type{requests.Existence, requests.View},
		From: kst(2026, 2, 28, 18, 30, 0), To: kst(2026, 2, 28, 19, 0, 0), Received: recv, Due: cal.Due(recv),
		State: requests.Received}
}

func TestNoticeAnswerPDF(t *testing.T) {
	n := requests.Notice{Kind: requests.NoticeAnswer, Issuer: issuer, Request: noticeRequest(), Requester: "홍길동",
		Place: "1층 정문 출입구", Issued: kst(2026, 3, 5, 9, 0, 0), Zone: seoul,
		Answer: []string{"존재확인: 청구하신 기간의 영상정보가 있습니다.", "열람: 청구하신 기간의 영상정보 열람을 허용합니다."},
		When:   "2026-03-10 14:00", Where: "본관 2층 운영지원과 열람실"}
	var b bytes.Buffer
	if err := n.PDF(&b); err != nil {
		t.Fatal(err)
	}
	txt := pdfText(t, b.Bytes())
	for _, want := range []string{"개인영상정보 열람 등 통지서", "홍길동 귀하", "2026-0042-K7QF", "2026년 3월 2일", "존재확인·열람",
		"2026-02-28 18:30 ~ 2026-02-28 19:00", "1층 정문 출입구", "청구하신 기간의 영상정보가 있습니다",
		"열람 일시", "2026-03-10 14:00", "열람 장소", "본관 2층 운영지원과 열람실", "신분증", "2026년 3월 5일",
		"전북지방중소기업청장", "담당부서: 운영지원과", "연락처: 063-210-6400"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the answer notice lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "이의제기") {
		t.Errorf("an answer notice tells how to object:\n%s", txt)
	}
	// A viewing needs when and where.
	n.Where = ""
	if err := n.PDF(&bytes.Buffer{}); errs.CodeOf(err) != "requests.missing" || errs.ParamsOf(err)["field"] != "where" {
		t.Fatalf("an answer to a viewing without a place: %v", err)
	}
	n.Answer = nil
	if err := n.Check(); errs.CodeOf(err) != "requests.missing" {
		t.Fatalf("an answer without content: %v", err)
	}
}

func TestNoticeRefusalPDF(t *testing.T) {
	cal := requests.Calendar{Zone: seoul}
	r := noticeRequest()
	p, err := cal.Postpone(r, kst(2026, 3, 20, 0, 0, 0), "수사기관의 자료 요청과 겹쳐 확인이 필요합니다", kst(2026, 3, 9, 9, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	n := requests.Notice{Kind: requests.NoticeRefusal, Issuer: issuer, Request: p, Requester: "홍길동", Place: "정문 앞 주차장",
		Issued: kst(2026, 3, 9, 9, 0, 0), Zone: seoul, Reason: p.PostponeReason}
	var b bytes.Buffer
	if err := n.PDF(&b); err != nil {
		t.Fatal(err)
	}
	txt := pdfText(t, b.Bytes())
	for _, want := range []string{"개인영상정보 열람 등 연기·거절 통지서", "처리를 연기함을 알려 드립니다", "■ 연기 □ 거절",
		"수사기관의 자료 요청과 겹쳐 확인이 필요합니다", "연기된 처리기한", "2026년 3월 20일까지", "이의제기 방법", "이의신청",
		"전북지방중소기업청 운영지원과(063-210-6400)", "행정심판", "「행정심판법」", "90일", "행정소송", "「행정소송법」", "118",
		"분쟁조정"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the postponement notice lacks %q:\n%s", want, txt)
		}
	}

	n.Refused, n.Reason = true, "「개인정보 보호법」 제35조제4항제3호: 범죄의 수사에 관한 업무에 중대한 지장을 초래하는 경우"
	b.Reset()
	if err := n.PDF(&b); err != nil {
		t.Fatal(err)
	}
	txt = pdfText(t, b.Bytes())
	for _, want := range []string{"처리를 거절함을 알려 드립니다", "□ 연기 ■ 거절", "제35조제4항제3호", "행정심판", "행정소송"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the refusal notice lacks %q:\n%s", want, txt)
		}
	}
	if strings.Contains(txt, "연기된 처리기한") {
		t.Errorf("a refusal names a postponed due date:\n%s", txt)
	}

	// Neither postponed nor refused: nothing to notify.
	if err := (requests.Notice{Kind: requests.NoticeRefusal, Request: r, Reason: "x"}).Check(); !errs.Is(err, errs.Conflict) {
		t.Fatalf("a refusal notice of a request neither postponed nor refused: %v", err)
	}
	n.Reason = " "
	if err := n.Check(); errs.CodeOf(err) != "requests.missing" {
		t.Fatalf("a refusal without a reason: %v", err)
	}
}
