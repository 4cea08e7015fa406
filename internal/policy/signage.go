package policy

import (
	"fmt"
	"io"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
)

// SignLines is the content of the 안내판 of a site (PIPA Art. 25④):
// purpose, location and range, hours, the manager's contact and any
// contractor's contact, as label/value pairs in print order.
func SignLines(r *registry.Registry, siteID string) ([][2]string, error) {
	const op = "policy.SignLines"
	s, ok := r.Site(siteID)
	if !ok {
		return nil, errs.Errorf(op, errs.NotExist, "site %q is not in the registry", siteID)
	}
	var where []string
	for _, g := range s.Groups {
		line := g.Location
		if rt := g.RangeText(); rt != "" {
			line += " (" + rt + ")"
		}
		if a := g.AnglesText(); a != "" {
			line += " · 화각 " + a
		}
		where = append(where, line)
	}
	out := [][2]string{
		{"설치 목적", strings.Join(r.Purposes, ", ")},
		{"설치 장소 및 촬영 범위", s.Name + " " + fmt.Sprintf("%d대", s.CameraCount()) + "\n" + strings.Join(where, "\n")},
		{"촬영 시간", r.Recording.Text()},
	}
	var contacts []string
	for _, role := range []registry.Role{registry.Manager, registry.GeneralManager, registry.OperationsManager} {
		for _, p := range r.Personnel {
			if p.Role != role || p.Phone == "" || !p.Covers(s.ID) || p.Rank == "부" {
				continue
			}
			contacts = append(contacts, strings.Join(nonEmpty(p.Role.Korean(), p.Department, p.Title, p.Name), " ")+" ☎ "+p.Phone)
		}
	}
	out = append(out, [2]string{"관리책임자 및 연락처", strings.Join(contacts, "\n")})
	if r.Outsourcing != nil && len(r.Outsourcing.Vendors) > 0 {
		var vs []string
		for _, v := range r.Outsourcing.Vendors {
			vs = append(vs, fmt.Sprintf("%s (담당자 %s ☎ %s)", v.Name, v.ContactPerson, v.Phone))
		}
		out = append(out, [2]string{"위탁 받는 자", strings.Join(vs, "\n")})
	}
	return out, nil
}

// Sign type sizes: the text starts at signMaxSize and shrinks a point at a
// time, down to signMinSize, until the sign fits one A4 page; a location
// list too long even then continues on a second page, its header repeated.
const (
	signMaxSize = 14.0
	signMinSize = 7.0
)

// SignPDF writes the A4 안내판 of a site, on one page.
func SignPDF(r *registry.Registry, siteID string, w io.Writer) error {
	lines, err := SignLines(r, siteID)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, l := range lines {
		rows = append(rows, []string{l[0], l[1]})
	}
	var p *pdfDoc
	for size := signMaxSize; size >= signMinSize; size-- {
		if p, err = signPage(r, rows, size); err != nil {
			return err
		}
		if p.PageCount() == 1 {
			break
		}
	}
	return p.output(w)
}

// signPage lays the sign out with the table's type at size points; the
// title and gaps shrink with it.
func signPage(r *registry.Registry, rows [][]string, size float64) (*pdfDoc, error) {
	p, err := newPDF("CCTV 설치 안내")
	if err != nil {
		return nil, err
	}
	k := size / signMaxSize
	p.AddPage()
	p.gap(10 * k)
	p.text(34*max(k, 0.7), "B", "CCTV 설치 안내", "C")
	p.gap(4 * k)
	p.text(14*max(k, 0.7), "", "영상정보처리기기 설치·운영 안내", "C")
	p.gap(12 * k)
	p.tableWeighted([]string{"항목", "내용"}, rows, size, []float64{1, 3})
	p.gap(10 * k)
	p.keepWithNext(16 * k)
	p.text(16*max(k, 0.7), "B", r.Organization.Name, "C")
	return p, nil
}

// RequestFormPDF writes the 개인영상정보 열람·존재확인 청구서 (별지 제1호
// 서식) with the institution's deadline, contacts and an example place
// taken from the registry.
func RequestFormPDF(r *registry.Registry, w io.Writer) error {
	p, err := newPDF("개인영상정보 열람·존재확인 청구서")
	if err != nil {
		return err
	}
	p.AddPage()
	p.text(9, "", "[별지 제1호 서식]", "L")
	p.gap(2)
	p.text(16, "B", "개인영상정보( □ 존재확인 □ 열람) 청구서", "C")
	p.gap(2)
	deadline, within := "지체 없이", "지체 없이"
	if d, ok := r.Requests.Deadline(); ok {
		deadline, within = fmt.Sprintf("%d일 이내", d), fmt.Sprintf("청구를 받은 날부터 %d일 이내에", d)
	}
	p.text(10, "", "처리기한 : "+deadline, "R")
	p.text(9, "", "※ 아래 유의사항을 읽고 굵은 선 안쪽의 사항만 적어 주시기 바랍니다.", "L")
	p.gap(2)
	example := ""
	if len(r.Sites) > 0 && len(r.Sites[0].Groups) > 0 {
		example = fmt.Sprintf("(예 : %s %s CCTV)", r.Sites[0].Name, r.Sites[0].Groups[0].Location)
	}
	rows := [][]string{
		{"청구인", "성명", "", "전화번호", ""},
		{"", "생년월일", "", "정보주체와의 관계", ""},
		{"", "주소", "", "", ""},
		{"정보주체의 인적사항", "성명", "", "전화번호", ""},
		{"", "생년월일", "", "", ""},
		{"", "주소", "", "", ""},
		{"청구내용\n(구체적으로 요청하지 않으면 처리가 곤란할 수 있음)", "영상정보 기록기간", "(예 : 2011.01.01 18:30 ~ 2011.01.01 19:00)", "", ""},
		{"", "영상정보 처리기기 설치장소", example, "", ""},
		{"", "청구 목적 및 사유", "\n\n", "", ""},
	}
	p.tableWeighted([]string{"구분", "항목", "기재란", "항목", "기재란"}, rows, 9, []float64{14, 12, 30, 12, 20})
	p.gap(4)
	p.text(10, "", "「표준 개인정보 보호지침」 제52조에 따라 위와 같이 개인영상정보의 존재확인, 열람을 청구합니다.", "L")
	p.gap(4)
	p.text(10, "", "년      월      일", "R")
	p.text(10, "", "청구인                    (서명 또는 인)", "R")
	p.gap(4)
	p.text(12, "B", r.Organization.Name+" 귀하", "L")
	p.gap(6)
	p.table([]string{"담당자의 청구인에 대한 확인 서명"}, [][]string{{"\n\n"}}, 10)
	p.gap(2)
	var contacts []string
	for _, pe := range r.Personnel {
		if pe.Phone != "" && (pe.Role == registry.Manager || pe.Role == registry.GeneralManager || pe.Role == registry.AccessHolder) && pe.Rank != "부" {
			contacts = append(contacts, strings.Join(nonEmpty(pe.Role.Korean(), pe.Department, pe.Title, pe.Name), " ")+" "+pe.Phone)
		}
	}
	p.text(9, "", "접수처 : "+r.Requests.Contact, "L")
	p.text(9, "", "문의 : "+strings.Join(contacts, ", "), "L")
	p.text(9, "", within+" 열람·존재확인 여부를 결정하여 알려 드립니다.", "L")
	return p.output(w)
}
