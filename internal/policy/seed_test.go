package policy

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/registry"
)

func loadSeed(t *testing.T, name string) *registry.Registry {
	t.Helper()
	r, err := registry.Load("../../testdata/registry/" + name + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fact is one statement of a seed policy: its parts must appear, in order,
// on one line of the rendered document (whitespace ignored), so "office X
// has 22 cameras" is checked as a row, not as two loose strings.
type fact []string

// seedCase is a seed policy: the registry that must reproduce it, the
// safety measures it claims, and every fact it states.
type seedCase struct {
	registry string
	seed     string
	facts    Facts
	list     []fact
}

var seeds = []seedCase{
	{
		registry: "seogwangju", seed: "000_7552170db6f7be3b.txt",
		facts: Facts{EncryptionAtRest: true, DifferentiatedAccess: true, AccessLogging: true},
		list: []fact{
			{"서광주우체국(소속 관내국 포함)은", "운영·관리 방침"},
			{"서광주우체국은", "「개인정보보호법」 제25조 제1항", "목적으로"},
			{"- 시설안전 및 화재 예방"}, {"- 고객의 안전을 위한 범죄 예방"}, {"- 차량도난 및 파손방지"}, {"- 우편물 도난 방지 등"},
			{"| 서광주우체국 |", "75", "영업창구, 365코너, 건물 내 · 외부, 주차장 등"},
			{"| 광주상무1동우체국 |", "22", "영업창구, 365코너 출입구 등"},
			{"| 광주농성동우체국 |", "17", "영업창구, 365코너 출입구 등"},
			{"| 광주광천동우체국 |", "19", "영업창구, 365코너 출입구 등"},
			{"| 광주금호동우체국 |", "16", "영업창구, 365코너 출입구 등"},
			{"| 광주치평동우체국 |", "17", "영업창구, 365코너 출입구 등"},
			{"| 광주풍암동우체국 |", "16", "영업창구, 365코너 출입구 등"},
			{"| 광주풍암마재우체국 |", "17", "영업창구, 365코너 출입구 등"},
			{"| 광주무진로우체국 |", "12", "영업창구, 365코너 출입구 등"},
			{"| 광주동천동우체국 |", "21", "영업창구, 365코너 출입구 등"},
			{"| 광주서창동우체국 |", "8", "영업창구, 365코너 출입구 등"},
			{"| 합계 |", "240대"},
			{"개인영상정보 보호책임자를 두고 있습니다"},
			{"| 서광주우체국 |", "총괄 책임자", "| 정 |", "지원과", "지원과장", "062-603-7105"},
			{"| 서광주우체국 |", "총괄 책임자", "| 부 |", "지원과", "보안담당", "062-603-7121"},
			{"| 서광주우체국 |", "운영 책임자", "| 정 |", "영업과", "영업과장", "062-603-7130"},
			{"| 서광주우체국 |", "운영 책임자", "| 부 |", "영업과", "금융팀장", "062-603-7140"},
			{"| 서광주우체국 |", "운영 책임자", "| 정 |", "우편 물류과", "우편물류과장", "062-603-7170"},
			{"| 서광주우체국 |", "운영 책임자", "| 부 |", "우편 물류과", "물류팀장", "062-603-7165"},
			{"| 광주상무1동우체국 |", "관리책임자", "국장", "062-371-2005"}, {"| 광주상무1동우체국 |", "운영책임자", "업무담당"},
			{"| 광주농성동우체국 |", "관리책임자", "국장", "062-366-3353"}, {"| 광주농성동우체국 |", "운영책임자", "업무담당"},
			{"| 광주광천동우체국 |", "관리책임자", "국장", "062-361-1174"}, {"| 광주광천동우체국 |", "운영책임자", "업무담당"},
			{"| 광주금호동우체국 |", "관리책임자", "국장", "062-383-0102"}, {"| 광주금호동우체국 |", "운영책임자", "업무담당"},
			{"| 광주치평동우체국 |", "관리책임자", "국장", "062-382-9493"}, {"| 광주치평동우체국 |", "운영책임자", "업무담당"},
			{"| 광주풍암동우체국 |", "관리책임자", "국장", "062-681-6988"}, {"| 광주풍암동우체국 |", "운영책임자", "업무담당"},
			{"| 광주풍암마재우체국 |", "관리책임자", "국장", "062-682-7012"}, {"| 광주풍암마재우체국 |", "운영책임자", "업무담당"},
			{"| 광주무진로우체국 |", "관리책임자", "국장", "062-600-4570"}, {"| 광주무진로우체국 |", "운영책임자", "업무담당"},
			{"| 광주동천동우체국 |", "관리책임자", "국장", "062-526-0557"}, {"| 광주동천동우체국 |", "운영책임자", "업무담당"},
			{"| 광주서창동우체국 |", "관리책임자", "국장", "062-373-1802"}, {"| 광주서창동우체국 |", "운영책임자", "업무담당"},
			{"| 24시간 | 촬영일로부터 60일 | 당직실 및 각 소속우체국 |"},
			{"※ 보관 기간 및 장소는 각 우체국 상황에 따라 상이"},
			{"목적 외 이용, 제 3자 제공, 파기, 열람 등 요구에 관한 사항을 기록·관리", "복원이 불가능한 방법으로 영구 삭제(출력물의 경우 파쇄 또는 소각)"},
			{"확인 방법 : 영상정보 관리책임자에게 미리 연락하고 서광주우체국을 방문하시면 확인 가능합니다."},
			{"확인 장소 : 각 우체국별 설치장소"},
			{"열람 또는 존재확인·삭제를 원하는 경우 언제든지 각 기관의 영상정보처리기기 운영자에게 요구", "급박한 생명, 신체, 재산의 이익"},
			{"서광주우체국은 개인영상정보에 관하여", "지체 없이 필요한 조치"},
			{"서광주우체국에서 처리하는 영상정보는 암호화 조치 등을 통하여 안전하게 관리"},
			{"접근 권한을 차등부여"},
			{"생성 일시, 열람 시 열람 목적·열람자·열람 일시 등을 기록하여 관리"},
			{"잠금장치를 설치"},
			{"2024년 1월 17일에 제정", "시행하기 최소 7일 전에 서광주우체국 홈페이지를 통해 변경사유 및 내용 등을 공지"},
			{"공고일자 : 2024년 1월 17일", "시행일자 : 2024년 1월 24일"},
			{"2024년 1월 24일"},
			{"서광주우체국 영상정보처리기기 관리책임관"},
		},
	},
	{
		registry: "guro", seed: "001_74baa3f7bc4f7717.txt",
		// The restricted viewing room is enforced by the running system
		// (its configuration), not declared in the registry alone.
		facts: Facts{PasswordProtected: true, DifferentiatedAccess: true, ViewingRoomRestricted: true},
		list: []fact{
			{"# 영상정보처리기기 운영 및 관리방법"},
			{"구로신협은 「개인정보보호법」 제25조 제7항 및 「개인정보보호법 시행령」 제25조에 따라", "사고 발생 예상지역에 설치·운영", "증거자료로 제공", "고객의 권익을 보호"},
			{"구로신협은 「개인정보보호법」 제25조 제1항에 따라 다음과 같은 목적으로"},
			{"- 고객 등의 안전을 위한 범죄 예방 및 보안 구역 출입 관리"}, {"- 시설 안전 및 화재 예방"}, {"- 차량도난 및 파손방지"},
			{"| 본점 |", "고정 : 34대", "지하주차장 5대", "1층 건물 외부 및 복도 6대", "365코너 5대", "1층 객장 및 금고 등 17대", "2층 회의실 1대", "고정형 : 84.5˚, 45.8˚"},
			{"| 시장지점 |", "고정 : 24대", "365코너 4대", "1층 객장 및 서고 등 10대", "계단 및 외벽 6대", "지하 회의실 3대", "지하 주차장 1대", "고정형 : 84.5˚, 45.8˚"},
			{"| 천왕역지점 |", "고정 : 24대", "365코너 6대", "건물외벽 2대", "1층 객장 16대", "고정형 : 84.5˚, 45.8˚"},
			{"| 합계 |", "82대"},
			{"| 전체 |", "관리책임자", "경영관리부장", "02-852-0071"},
			{"| 본점 |", "접근권한자", "총무과장", "02-852-0071"},
			{"| 시장지점 |", "접근권한자", "지점장", "02-837-3301"},
			{"| 천왕역지점 |", "접근권한자", "지점장", "02-861-4767"},
			{"| 24시간 연속촬영 및 녹화 | 6개월내외 | 전산실 |"},
			{"- 영상정보 실시간 녹화"}, {"- 제3자 제공, 열람, 파기 등에 관한 사항 기록·관리"}, {"- 보관기간 만료 시 복원이 불가능한 방법으로 영구 삭제"},
			{"확인 방법 : 영상정보 관리책임자 및 접근권한자에게 미리 연락하고 본회를 방문하시어 소정의 절차를 이행하시면 확인 가능합니다."},
			{"확인 장소 : 구로신협 각 지점"},
			{"언제든지 영상정보처리기기 운영자에게 요구", "급박한 생명, 신체, 재산의 이익"},
			{"구로신협은 개인영상정보에 관하여", "지체 없이 필요한 조치"},
			{"**기술적 조치**"}, {"비밀번호 설정 등 안전성 확보에 필요한 조치"},
			{"**관리적 조치**"}, {"관리책임자 및 접근권한자 등 지정된 최소한의 인원으로 제한"},
			{"전보, 퇴직 등 인사이동 사유가 발생하여 접근 권한이 변경된 경우에는 지체 없이 권한을 변경 또는 말소"},
			{"영상정보처리기기의 정상작동 여부를 정기적으로 점검"},
			{"**물리적 조치**"}, {"열람·재생되는 장소를 출입 제한구역으로 지정", "접근 권한이 부여된 자 외의 출입 및 열람·재생을 통제"},
			{"정보주체가 쉽게 인식할 수 있도록 본회 각 건물 주 출입구에 안내판을 부착"},
			{"2024년 4월 1일에 제정", "지체 없이 구로신협 홈페이지를 통해 변경사유 및 내용"},
			{"과거 공시 내용은 아래에서 확인하실 수 있습니다.", "객장 공시의 경우 담당자에게 문의하시기 바랍니다."},
			{"[이전 영상정보처리기기 운영 및 관리방법 바로가기](/policy/versions)"},
		},
	},
	{
		registry: "jeonbuk", seed: "003_8c2434f0d6942da9.txt",
		facts: Facts{EncryptionAtRest: true, DifferentiatedAccess: true, AccessLogging: true},
		list: []fact{
			{"# 영상정보처리기기 운영·관리 방침"},
			{"2013. 7."}, {"전북지방중소기업청"}, {"Jeonbuk Regional Office of SMBA"},
			{"전북지방중소기업청(이하 “본 기관”이라 함)은 영상정보처리기기 운영·관리 방침을 통해 본 기관에서 처리하는 영상정보"},
			{"본 기관은 「개인정보보호법」 제25조 제1항에 따라 다음과 같은 목적으로"},
			{"- 시설안전 및 화재 예방"}, {"- 범죄예방 및 수사"},
			{"12대", "청사부지내 건물 내외부 및 부속시설", "카메라로부터 반경 약 50m이내"},
			{"| 관리책임자 | 창업성장지원과 | 과장 | 063-210-6410 |"},
			{"| 접근권한자 | 창업성장지원과 | 담당 | 063-210-6499 |"},
			{"| 24시간 | 촬영일로부터 10일 | 전산실 |"},
			{"목적 외 이용, 제3자제공, 파기, 열람 등 요구에 관한 사항을 기록·관리", "복원이 불가능한 방법으로 영구 삭제(출력물의 경우 파쇄 또는 소각)"},
			{"## 5. 영상정보처리기기 설치 및 관리 등의 위탁에 관한 사항"},
			{"| 수탁업체 | 담당자 | 연락처 |"}, {"| 해당내역 없음 |"},
			{"확인 방법 : 영상정보처리기기 접근권한자에게 미리 연락하고 본 기관으로 방문하여 확인가능합니다."},
			{"확인 장소 : 본 기관 창업성장지원과"},
			{"언제든지 영상정보처리기기 접근권한자에게 요구", "급박한 생명, 신체, 재산의 이익"},
			{"본 기관은 개인영상정보에 관하여", "지체 없이 필요한 조치", "10일 이내"},
			{"본 기관에서 처리하는 영상정보는 암호화 조치 등을 통하여 안전하게 관리"},
			{"접근 권한을 차등부여"},
			{"생성 일시, 열람 시 열람 목적·열람자·열람 일시 등을 기록하여 관리"},
			{"2013년 7월 30일에 제정", "시행하기 최소 7일 전에 본 기관 홈페이지를 통해 변경사유 및 내용 등을 공지"},
			{"공고일자 : 2013년 7월 30일", "시행일자 : 2013년 7월 30일"},
		},
	},
}

// sectionOrder is the structure the seeds share.
var sectionOrder = []string{"설치 근거 및 설치 목적", "설치 대수, 설치 위치 및 촬영범위", "관리책임자 및 접근권한자",
	"촬영시간, 보관기간, 보관장소 및 처리방법", "확인 방법 및 장소", "열람 등 요구에 대한 조치", "안전성 확보조치", "방침 변경"}

func squash(s string) string { return strings.Join(strings.Fields(s), "") }

// findFact returns the line holding every part of f in order, or "".
func findFact(lines []string, f fact) string {
	for _, l := range lines {
		rest := squash(l)
		ok := true
		for _, p := range f {
			i := strings.Index(rest, squash(p))
			if i < 0 {
				ok = false
				break
			}
			rest = rest[i+len(squash(p)):]
		}
		if ok {
			return l
		}
	}
	return ""
}

func TestSeedFacts(t *testing.T) {
	for _, sc := range seeds {
		t.Run(sc.registry, func(t *testing.T) {
			r := loadSeed(t, sc.registry)
			doc := Build(r, sc.facts.Declared(r), Options{})
			md := doc.Markdown()
			lines := strings.Split(md, "\n")
			for _, f := range sc.list {
				if findFact(lines, f) == "" {
					t.Errorf("fact not rendered: %q", f)
				}
			}
			// Every seed's sections, in the seeds' order.
			at := 0
			for _, want := range sectionOrder {
				found := false
				for ; at < len(doc.Sections); at++ {
					if strings.Contains(doc.Sections[at].Heading, want) {
						found = true
						break
					}
				}
				if !found {
					t.Errorf("section %q missing or out of order", want)
				}
			}
			// The seed text itself states each non-structural fact too (a
			// guard against facts invented in this test).
			seed, err := os.ReadFile("../../../shared/seeds/" + sc.seed)
			if err == nil {
				flat := squash(string(seed))
				for _, f := range sc.list {
					for _, p := range f {
						p = strings.Trim(p, "|# -*")
						p = strings.NewReplacer("「", "", "」", "").Replace(p) // gwanje brackets law names; the seeds do not
						if q := squash(strings.ReplaceAll(p, "|", "")); len([]rune(q)) >= 6 && !strings.Contains(q, "[") && !strings.Contains(flat, q) && !derived[q] {
							t.Errorf("fact part %q is not in the seed %s", p, sc.seed)
						}
					}
				}
			}
		})
	}
}

// derived are fact parts gwanje words itself (sums, standard sentences with
// normalised dates or spacing) rather than copies of seed text.
var derived = map[string]bool{}

func init() {
	for _, s := range []string{
		"2024년1월17일에제정", "2024년4월1일에제정", "2013년7월30일에제정",
		"공고일자:2024년1월17일", "시행일자:2024년1월24일", "공고일자:2013년7월30일", "시행일자:2013년7월30일",
		"시행하기최소7일전에서광주우체국홈페이지를통해변경사유및내용등을공지", "시행하기최소7일전에본기관홈페이지를통해변경사유및내용등을공지",
		"지체없이구로신협홈페이지를통해변경사유및내용",
		"구로신협은개인정보보호법제25조제7항및개인정보보호법시행령제25조에따라",
		"전북지방중소기업청(이하“본기관”이라함)은영상정보처리기기운영·관리방침을통해본기관에서처리하는영상정보",
		"서광주우체국(소속관내국포함)은", "365코너5대", "365코너4대", "365코너6대", "지하주차장5대", "1층건물외부및복도6대",
		"1층객장및금고등17대", "2층회의실1대", "1층객장및서고등10대", "계단및외벽6대", "지하회의실3대", "지하주차장1대", "건물외벽2대", "1층객장16대",
		"고정형:84.5˚,45.8˚", "카메라로부터반경약50m이내", "확인방법:영상정보관리책임자에게미리연락하고서광주우체국을방문하시면확인가능합니다.",
		"확인장소:각우체국별설치장소", "확인방법:영상정보관리책임자및접근권한자에게미리연락하고본회를방문하시어소정의절차를이행하시면확인가능합니다.",
		"확인장소:구로신협각지점", "확인방법:영상정보처리기기접근권한자에게미리연락하고본기관으로방문하여확인가능합니다.", "확인장소:본기관창업성장지원과",
		"서광주우체국은개인영상정보에관하여", "서광주우체국에서처리하는영상정보는암호화조치등을통하여안전하게관리",
		"생성일시,열람시열람목적·열람자·열람일시등을기록하여관리", "2024년1월24일", "비밀번호설정등안전성확보에필요한조치",
		"열람·재생되는장소를출입제한구역으로지정", "영상정보처리기기운영및관리방법", "영상정보처리기기운영·관리방침",
		"2013.7.", "고정:34대", "고정:24대", "본기관은개인영상정보에관하여",
	} {
		derived[s] = true
	}
}

// TestSafetySentencesFollowFacts: a measure is claimed only when its fact
// holds, each one both ways.
func TestSafetySentencesFollowFacts(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	for _, tc := range []struct {
		name     string
		set      func(*Facts)
		sentence string
	}{
		{"encryption", func(f *Facts) { f.EncryptionAtRest = true }, "암호화 조치"},
		{"password", func(f *Facts) { f.PasswordProtected = true }, "비밀번호 설정"},
		{"differentiated", func(f *Facts) { f.DifferentiatedAccess = true }, "차등부여"},
		{"logging", func(f *Facts) { f.AccessLogging = true }, "열람 목적·열람자·열람 일시"},
		{"revoke", func(f *Facts) { f.RevokeOnTransfer = true }, "권한을 변경 또는 말소"},
		{"periodic", func(f *Facts) { f.PeriodicChecks = true }, "정기적으로 점검"},
		{"viewing room", func(f *Facts) { f.ViewingRoomRestricted = true }, "출입 제한구역"},
		{"lock", func(f *Facts) { f.LockedStorage = true }, "잠금장치"},
	} {
		var on Facts
		tc.set(&on)
		if md := Build(r, on, Options{}).Markdown(); !strings.Contains(md, tc.sentence) {
			t.Errorf("%s on: %q not stated", tc.name, tc.sentence)
		}
		all := Facts{true, true, true, true, true, true, true, true}
		off := all
		tc.set(&off) // off is all-true; now clear this one
		off = clear(off, tc.name)
		if md := Build(r, off, Options{}).Markdown(); strings.Contains(md, tc.sentence) {
			t.Errorf("%s off: %q claimed anyway", tc.name, tc.sentence)
		}
	}
	if md := Build(r, Facts{}, Options{}).Markdown(); !strings.Contains(md, SentenceNone) || strings.Contains(md, "조치**") {
		t.Error("no facts: the document must say no measure is in place")
	}
	// The registry's declarations add the physical measures.
	g := loadSeed(t, "guro")
	if f := (Facts{}).Declared(g); f.ViewingRoomRestricted || !f.RevokeOnTransfer || !f.PeriodicChecks || f.LockedStorage || f.EncryptionAtRest {
		t.Errorf("Declared(guro) = %+v", f)
	}
	// The viewing room is enforced, not declared: the registry asking for
	// it without the configuration is named as unbacked, and not stated.
	if u := Unbacked(g, (Facts{}).Declared(g)); len(u) != 1 || u[0] != "restricted_viewing_room" {
		t.Errorf("Unbacked(guro) = %v", u)
	}
	if md := Build(g, (Facts{}).Declared(g), Options{}).Markdown(); strings.Contains(md, "출입 제한구역") {
		t.Error("viewing room stated without the configuration enforcing it")
	}
	if u := Unbacked(g, Facts{ViewingRoomRestricted: true}); len(u) != 0 {
		t.Errorf("Unbacked with the room configured = %v", u)
	}
}

func clear(f Facts, name string) Facts {
	switch name {
	case "encryption":
		f.EncryptionAtRest = false
	case "password":
		f.PasswordProtected = false
	case "differentiated":
		f.DifferentiatedAccess = false
	case "logging":
		f.AccessLogging = false
	case "revoke":
		f.RevokeOnTransfer = false
	case "periodic":
		f.PeriodicChecks = false
	case "viewing room":
		f.ViewingRoomRestricted = false
	case "lock":
		f.LockedStorage = false
	}
	return f
}

// TestDeadlineOptional: a policy that promises only to act 지체 없이 says
// so, with no number of days anywhere; with a deadline, the number.
func TestDeadlineOptional(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	r.Requests.DeadlineDays = nil
	if err := r.Validate(); err != nil {
		t.Fatalf("a registry without deadline_days: %v", err)
	}
	md := Build(r, Facts{}, Options{}).Markdown()
	if !strings.Contains(md, "본 기관은 개인영상정보에 관하여 열람 또는 존재확인·삭제를 요구한 경우 지체 없이 필요한 조치를 하겠습니다.\n") || strings.Contains(md, "일 이내") {
		t.Fatalf("no deadline: %s", md)
	}
	text := pdfText(t, func(w *bytes.Buffer) error { return RequestFormPDF(r, w) })
	if !strings.Contains(text, squash("처리기한 : 지체 없이")) || strings.Contains(text, "일이내") {
		t.Fatalf("form without deadline: %s", text)
	}
}
