package requests

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/policy"
)

// The notices of a request (docs/design/requests.md, "Notices"): the
// 열람 등 통지서 tells the person what was decided and, for a viewing,
// when and where; the 연기·거절 통지서 tells them that the answer is
// postponed or refused, why, and how to object (개인정보 보호법 제35조③④,
// 시행령 제42조: a postponement or refusal is told with its reason and the
// way to object). Both are A4 PDFs in NanumGothic, in the institution's
// words: its name, the department and the contact the registry names.

// NoticeKind is which notice. Values are in URLs: never rename one.
type NoticeKind string

const (
	NoticeAnswer  NoticeKind = "answer"  // 열람 등 통지서
	NoticeRefusal NoticeKind = "refusal" // 연기·거절 통지서
)

// Issuer is who sends a notice, in the registry's words.
type Issuer struct {
	Organization string // organization.name
	Department   string // 담당부서: the department of the 관리책임자 (personnel)
	Contact      string // to whom requests go (requests.contact)
	Phone        string // the department's phone
	Signatory    string // organization.signatory; the organization's name when empty
}

// Notice is one notice of a request. It is made when it is printed and
// never stored: the person's name comes from the sealed record.
type Notice struct {
	Kind    NoticeKind
	Issuer  Issuer
	Request Request
	// Requester is the 청구인's name, to whom the notice is addressed.
	Requester string
	// Place is the 설치장소: the cameras' names, or the described place.
	Place  string
	Issued time.Time
	Zone   *time.Location

	// 열람 등 통지서: what was decided (one line per type answered), and
	// for a viewing on site when (열람 일시) and where (열람 장소).
	Answer []string
	When   string
	Where  string

	// 연기·거절 통지서: postponed (Request.Due is the new due time) or
	// refused, and why.
	Refused bool
	Reason  string
}

// MaxNoticeText bounds the texts staff type into a notice.
const MaxNoticeText = 200

// Check reports what a notice lacks: an answer needs what was decided,
// and, for a viewing, when and where; a postponement or refusal its
// reason. The error names the field.
func (n Notice) Check() error {
	switch n.Kind {
	case NoticeAnswer:
		if len(n.Answer) == 0 {
			return invalid("requests.missing", "answer", nil)
		}
		if n.When != "" || n.Where != "" || n.viewing() {
			if err := checkText("when", n.When, MaxNoticeText, n.viewing()); err != nil {
				return err
			}
			if err := checkText("where", n.Where, MaxNoticeText, n.viewing()); err != nil {
				return err
			}
		}
	case NoticeRefusal:
		if !n.Refused && n.Request.Postponed.IsZero() {
			return errs.E("requests.Notice", errs.Conflict, errs.Code("requests.notice_none"),
				"neither postponed nor refused")
		}
		return checkText("reason", n.Reason, MaxPurpose, true)
	default:
		return invalid("requests.notice_kind", "kind", nil)
	}
	return nil
}

// viewing: the answer grants a viewing on site.
func (n Notice) viewing() bool {
	for _, t := range n.Request.Types {
		if t == View {
			return true
		}
	}
	return false
}

// typeNames are the types in the form's words.
var typeNames = map[Type]string{Existence: "존재확인", View: "열람", Deletion: "삭제"}

// TypeNames is the request's types in Korean, in the form's order.
func TypeNames(ts []Type) string {
	var out []string
	for _, t := range Types {
		for _, u := range ts {
			if u == t {
				out = append(out, typeNames[t])
			}
		}
	}
	return strings.Join(out, "·")
}

func (n Notice) zone() *time.Location {
	if n.Zone == nil {
		return time.UTC
	}
	return n.Zone
}

// lastDay is the last day of a period ending at due (an end-of-day instant).
func lastDay(due time.Time, z *time.Location) string {
	return due.In(z).Add(-time.Nanosecond).Format("2006년 1월 2일")
}

// Objection is how to object to a postponement or a refusal, in the
// order a person would take the steps: ask the institution again, then
// the administrative appeal and the court (for a public body's answer,
// which is a 처분), and the bodies any person may turn to.
func (n Notice) Objection() []string {
	who := n.Issuer.Organization
	if n.Issuer.Department != "" {
		who += " " + n.Issuer.Department
	}
	if n.Issuer.Phone != "" {
		who += "(" + n.Issuer.Phone + ")"
	}
	return []string{
		"1. 이의신청: 이 통지를 받은 날부터 30일 이내에 " + who + "에 서면으로 이의를 신청할 수 있습니다(「행정기본법」 제36조).",
		"2. 행정심판: 처분이 있음을 안 날부터 90일 이내, 처분이 있은 날부터 180일 이내에 「행정심판법」에 따라 행정심판을 청구할 수 있습니다.",
		"3. 행정소송: 처분이 있음을 안 날부터 90일 이내, 처분이 있은 날부터 1년 이내에 「행정소송법」에 따라 행정소송을 제기할 수 있습니다.",
		"4. 그 밖에 개인정보침해 신고센터(국번 없이 118)에 신고하거나 개인정보 분쟁조정위원회(1833-6972)에 분쟁조정을 신청할 수 있습니다.",
	}
}

// Title is the notice's title.
func (n Notice) Title() string {
	if n.Kind == NoticeRefusal {
		return "개인영상정보 열람 등 연기·거절 통지서"
	}
	return "개인영상정보 열람 등 통지서"
}

// rows are the notice's table: label, value.
func (n Notice) rows() [][2]string {
	z := n.zone()
	r := n.Request
	rows := [][2]string{
		{"접수번호", r.Receipt},
		{"접수일", r.Received.In(z).Format("2006년 1월 2일")},
		{"청구인", n.Requester},
		{"청구 구분", TypeNames(r.Types)},
		{"영상정보 기록기간", r.From.In(z).Format("2006-01-02 15:04") + " ~ " + r.To.In(z).Format("2006-01-02 15:04") +
			" (" + r.From.In(z).Format("MST") + ")"},
		{"설치장소", n.Place},
	}
	switch n.Kind {
	case NoticeAnswer:
		rows = append(rows, [2]string{"통지 내용", strings.Join(n.Answer, "\n")})
		if n.When != "" || n.Where != "" {
			rows = append(rows, [2]string{"열람 일시", n.When}, [2]string{"열람 장소", n.Where})
		}
	case NoticeRefusal:
		what := "■ 연기  □ 거절"
		if n.Refused {
			what = "□ 연기  ■ 거절"
		}
		rows = append(rows, [2]string{"통지 구분", what}, [2]string{"사유", n.Reason})
		if !n.Refused {
			rows = append(rows, [2]string{"연기된 처리기한", lastDay(r.Due, z) + "까지"})
		}
	}
	return rows
}

// PDF writes the notice as an A4 PDF in NanumGothic.
func (n Notice) PDF(w io.Writer) error {
	const op = "requests.Notice.PDF"
	if err := n.Check(); err != nil {
		return err
	}
	regular, err := policy.FontPath("NanumGothic.ttf")
	if err != nil {
		return errs.E(op, err)
	}
	bold, err := policy.FontPath("NanumGothicBold.ttf")
	if err != nil {
		return errs.E(op, err)
	}
	const margin, family = 20.0, "nanum"
	f := fpdf.New("P", "mm", "A4", filepath.Dir(regular))
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin)
	f.AddUTF8Font(family, "", filepath.Base(regular))
	f.AddUTF8Font(family, "B", filepath.Base(bold))
	f.SetTitle(n.Title()+" "+n.Request.Receipt, true)
	f.SetCreator("gwanje", true)
	f.AddPage()
	pw, _ := f.GetPageSize()
	width := pw - 2*margin

	f.SetFont(family, "B", 16)
	f.MultiCell(width, 9, n.Title(), "", "C", false)
	f.Ln(6)
	f.SetFont(family, "", 11)
	f.MultiCell(width, 6, n.Requester+" 귀하", "", "L", false)
	f.Ln(3)
	intro := "귀하께서 청구하신 개인영상정보의 열람 등 요구에 대하여 다음과 같이 알려 드립니다."
	if n.Kind == NoticeRefusal {
		intro = "귀하께서 청구하신 개인영상정보의 열람 등 요구에 대하여 「개인정보 보호법」 제35조에 따라 다음과 같이 그 처리를 "
		if n.Refused {
			intro += "거절함을 알려 드립니다."
		} else {
			intro += "연기함을 알려 드립니다."
		}
	}
	f.MultiCell(width, 6, intro, "", "L", false)
	f.Ln(4)

	label := 42.0
	f.SetFont(family, "", 10)
	for _, row := range n.rows() {
		lines := f.SplitText(row[1], width-label-4)
		if len(lines) == 0 {
			lines = []string{""}
		}
		h := float64(len(lines))*5.5 + 3
		if f.GetY()+h > 297-margin {
			f.AddPage()
		}
		x, y := f.GetXY()
		f.SetFont(family, "B", 10)
		f.SetFillColor(238, 238, 238)
		f.Rect(x, y, label, h, "DF")
		f.SetXY(x+2, y+1.5)
		f.MultiCell(label-4, 5.5, row[0], "", "L", false)
		f.SetFont(family, "", 10)
		f.Rect(x+label, y, width-label, h, "D")
		f.SetXY(x+label+2, y+1.5)
		f.MultiCell(width-label-4, 5.5, strings.Join(lines, "\n"), "", "L", false)
		f.SetXY(x, y+h)
	}
	f.Ln(6)

	switch n.Kind {
	case NoticeAnswer:
		if n.When != "" {
			f.MultiCell(width, 5.5, "열람하실 때에는 본인임을 확인할 수 있는 신분증(대리인은 위임장 등 대리 관계를 증명하는 서류)을 지참하여 주십시오. "+
				"열람은 청구하신 기간과 카메라의 영상에 한하며, 다른 사람이 알아볼 수 있는 부분은 가려질 수 있습니다.", "", "L", false)
			f.Ln(3)
		}
	case NoticeRefusal:
		f.SetFont(family, "B", 11)
		f.MultiCell(width, 6, "이의제기 방법", "", "L", false)
		f.SetFont(family, "", 10)
		for _, l := range n.Objection() {
			f.MultiCell(width, 5.5, l, "", "L", false)
			f.Ln(1)
		}
		f.Ln(3)
	}

	f.Ln(4)
	f.SetFont(family, "", 11)
	f.MultiCell(width, 6, n.Issued.In(n.zone()).Format("2006년 1월 2일"), "", "C", false)
	f.Ln(4)
	sig := n.Issuer.Signatory
	if sig == "" {
		sig = n.Issuer.Organization
	}
	f.SetFont(family, "B", 13)
	f.MultiCell(width, 7, sig, "", "C", false)
	f.Ln(6)
	f.SetFont(family, "", 9)
	var contact []string
	if n.Issuer.Department != "" {
		contact = append(contact, "담당부서: "+n.Issuer.Department)
	}
	if n.Issuer.Contact != "" {
		contact = append(contact, "담당: "+n.Issuer.Contact)
	}
	if n.Issuer.Phone != "" {
		contact = append(contact, "연락처: "+n.Issuer.Phone)
	}
	if len(contact) > 0 {
		f.MultiCell(width, 5, strings.Join(contact, "   "), "", "L", false)
	}
	if f.Err() {
		return errs.E(op, errs.Internal, f.Error())
	}
	if err := f.Output(w); err != nil {
		return errs.E(op, errs.IO, fmt.Errorf("writing the notice: %w", err))
	}
	return nil
}
