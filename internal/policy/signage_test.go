package policy

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/registry"
)

func TestSignPDF(t *testing.T) {
	for _, tc := range []struct {
		registry, site string
		want           []string
		absent         []string
	}{
		{"seogwangju", "sangmu1", []string{"CCTV 설치 안내", "시설안전 및 화재 예방", "우편물 도난 방지 등", "광주상무1동우체국 22대", "영업창구, 365코너 출입구 등", "24시간", "관리책임자 국장 ☎ 062-371-2005"},
			[]string{"062-603-7105", "위탁"}},
		{"seogwangju", "seogwangju", []string{"서광주우체국 75대", "총괄 책임자 지원과 지원과장 ☎ 062-603-7105", "운영 책임자 영업과 영업과장 ☎ 062-603-7130", "운영 책임자 우편물류과 우편물류과장 ☎ 062-603-7170"},
			[]string{"062-371-2005", "보안담당"}},
		{"guro", "market", []string{"시장지점 24대", "365코너 · 화각 84.5˚, 45.8˚", "24시간 연속촬영 및 녹화", "관리책임자 경영관리부장 ☎ 02-852-0071", "차량도난 및 파손방지"},
			[]string{"02-861-4767"}},
		{"jeonbuk", "hq", []string{"전북지방중소기업청 12대", "청사부지내 건물 내외부 및 부속시설 (카메라로부터 반경 약 50m 이내)", "관리책임자 창업성장지원과 과장 ☎ 063-210-6410", "범죄예방 및 수사"},
			[]string{"위탁 받는 자"}},
	} {
		t.Run(tc.registry+"/"+tc.site, func(t *testing.T) {
			r := loadSeed(t, tc.registry)
			text := pdfText(t, func(w *bytes.Buffer) error { return SignPDF(r, tc.site, w) })
			for _, s := range tc.want {
				if !strings.Contains(text, squash(s)) {
					t.Errorf("sign lacks %q", s)
				}
			}
			for _, s := range tc.absent {
				if strings.Contains(text, squash(s)) {
					t.Errorf("sign shows %q, which belongs elsewhere", s)
				}
			}
		})
	}
	r := loadSeed(t, "guro")
	if err := SignPDF(r, "nowhere", &bytes.Buffer{}); !errs.Is(err, errs.NotExist) {
		t.Fatalf("unknown site: %v", err)
	}
}

func TestSignShowsContractor(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	r.Outsourcing.Vendors = append(r.Outsourcing.Vendors, registry.Vendor{Name: "전북보안", ContactPerson: "김담당", Phone: "063-111-2222"})
	lines, err := SignLines(r, "hq")
	if err != nil {
		t.Fatal(err)
	}
	last := lines[len(lines)-1]
	if last[0] != "위탁 받는 자" || last[1] != "전북보안 (담당자 김담당 ☎ 063-111-2222)" {
		t.Fatalf("contractor line = %q", last)
	}
}

func TestRequestFormPDF(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	text := pdfText(t, func(w *bytes.Buffer) error { return RequestFormPDF(r, w) })
	for _, s := range []string{"[별지 제1호 서식]", "개인영상정보( □ 존재확인 □ 열람) 청구서", "처리기한 : 10일 이내",
		"※ 아래 유의사항을 읽고 굵은 선 안쪽의 사항만 적어 주시기 바랍니다.", "청구인", "성명", "전화번호", "생년월일", "정보주체와의 관계", "주소",
		"정보주체의 인적사항", "영상정보 기록기간", "(예 : 2011.01.01 18:30 ~ 2011.01.01 19:00)", "영상정보 처리기기 설치장소",
		"(예 : 전북지방중소기업청 청사부지내 건물 내외부 및 부속시설 CCTV)", "청구 목적 및 사유",
		"「표준 개인정보 보호지침」 제52조에 따라 위와 같이 개인영상정보의 존재확인, 열람을 청구합니다.", "(서명 또는 인)",
		"전북지방중소기업청 귀하", "담당자의 청구인에 대한 확인 서명", "접수처 : 영상정보처리기기 접근권한자", "063-210-6410", "063-210-6499"} {
		if !strings.Contains(text, squash(s)) {
			t.Errorf("form lacks %q", s)
		}
	}
}
