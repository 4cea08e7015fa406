package policy

import (
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/registry"
)

// TestCapacityRuleRendered: the note announcing early deletion by capacity
// comes from the structured rule the retention engine obeys: one note when
// every site has it, the sites named when one overrides it, none when no
// site has it.
func TestCapacityRuleRendered(t *testing.T) {
	r := loadSeed(t, "guro")
	if md := Build(r, Facts{}, Options{}).Markdown(); strings.Contains(md, "자동으로 삭제") {
		t.Fatal("early deletion stated without the rule")
	}
	yes, no := true, false
	r.Capacity = registry.Capacity{EarlyDeletion: &yes, Wording: "영상정보 용량에 따라 보관기간 전후 자동 삭제"}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	md := Build(r, Facts{}, Options{}).Markdown()
	if !strings.Contains(md, "\n※ 영상정보 용량에 따라 보관기간 전후 자동 삭제\n") {
		t.Fatalf("institution rule not rendered:\n%s", md)
	}
	r.Sites[2].Capacity = &registry.Capacity{EarlyDeletion: &no}
	md = Build(r, Facts{}, Options{}).Markdown()
	if !strings.Contains(md, "※ 본점, 시장지점: 영상정보 용량에 따라 보관기간 전후 자동 삭제") || strings.Contains(md, "천왕역지점: 영상정보 용량") {
		t.Fatalf("site override not rendered:\n%s", md)
	}
	// A wording without the rule is refused: it would announce what the
	// retention engine treats as a broken promise.
	r.Capacity.EarlyDeletion = nil
	r.Sites[2].Capacity = nil
	if err := r.Validate(); err == nil || !strings.Contains(err.Error(), "capacity.wording") {
		t.Fatalf("wording without the rule: %v", err)
	}
	// The default wording when the rule has none.
	r.Capacity = registry.Capacity{EarlyDeletion: &yes}
	if md := Build(r, Facts{}, Options{}).Markdown(); !strings.Contains(md, "※ 저장 공간이 부족하면 보관기간이 끝나기 전이라도 가장 오래된 영상정보부터 자동으로 삭제될 수 있습니다.") {
		t.Fatalf("default wording:\n%s", md)
	}
}

// TestStorageShared: one storage place may serve several sites; the
// summary must be a wording of the places the sites use.
func TestStorageShared(t *testing.T) {
	r := loadSeed(t, "guro")
	r.Sites[0].Storage = "본점 전산실"
	r.Sites[1].Storage = "본점 전산실" // 시장지점's footage is kept at the head office
	r.Sites[2].Storage = "천왕역지점 서버실"
	r.StorageSummary = "본점 전산실 및 천왕역지점 서버실"
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	if md := Build(r, Facts{}, Options{}).Markdown(); !strings.Contains(md, "| 24시간 연속촬영 및 녹화 | 6개월내외 | 본점 전산실 및 천왕역지점 서버실 |") {
		t.Fatalf("shared storage:\n%s", md)
	}
	r.StorageSummary = "본점 전산실 및 각 지점"
	err := r.Validate()
	if err == nil || !strings.Contains(err.Error(), `storage_summary names "각 지점", which no site uses`) ||
		!strings.Contains(err.Error(), `storage_summary leaves out "천왕역지점 서버실"`) {
		t.Fatalf("free-floating summary: %v", err)
	}
}

// revisedTwice is jeonbuk's policy as amended twice after its enactment.
func revisedTwice(t *testing.T) *registry.Registry {
	r := loadSeed(t, "jeonbuk")
	r.Policy.History = append(r.Policy.History,
		registry.Revision{Announced: date("2018-03-02"), Effective: date("2018-03-12"), Summary: "관리책임자 변경"},
		registry.Revision{Announced: date("2023-06-01"), Effective: date("2023-06-08"), Summary: "보관기간 30일로 변경"})
	r.Sites[0].Retention = registry.Retention{Days: 30}
	if err := r.Validate(); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHistoryRendered: a policy revised twice states its enactment and
// each amendment, oldest first, with dates and summaries, as real policies
// do; the current revision's dates close the section.
func TestHistoryRendered(t *testing.T) {
	md := Build(revisedTwice(t), Facts{}, Options{}).Markdown()
	for _, want := range []string{
		"이 영상정보처리기기 운영·관리 방침은 2013년 7월 30일에 제정되어 2018년 3월 2일, 2023년 6월 1일에 개정되었으며, 법령·정책",
		"**방침 변경 이력**\n\n| 구분 | 공고일자 | 시행일자 | 주요 내용 |\n| --- | --- | --- | --- |\n" +
			"| 제정 | 2013년 7월 30일 | 2013년 7월 30일 | 제정 |\n" +
			"| 개정 | 2018년 3월 2일 | 2018년 3월 12일 | 관리책임자 변경 |\n" +
			"| 개정 | 2023년 6월 1일 | 2023년 6월 8일 | 보관기간 30일로 변경 |\n",
		"- 공고일자 : 2023년 6월 1일 / 시행일자 : 2023년 6월 8일",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("history lacks %q:\n%s", want, md)
		}
	}
	// A history that begins with a later amendment (the earliest ones not
	// listed) names the enactment by its date only.
	r := revisedTwice(t)
	r.Policy.History = r.Policy.History[2:]
	md = Build(r, Facts{}, Options{}).Markdown()
	if !strings.Contains(md, "2013년 7월 30일에 제정되어 2023년 6월 1일에 개정되었으며") || strings.Contains(md, "| 제정 |") {
		t.Errorf("history from an amendment:\n%s", md)
	}
}

// TestExampleCityPolicy: a policy shaped unlike the seeds says exactly
// what it promises: a 본청 and 사업소 sharing a storage place, 1년 of
// retention, early deletion by capacity announced where it applies, only
// 지체 없이 for requests, and its history from the enactment.
func TestExampleCityPolicy(t *testing.T) {
	r := loadSeed(t, "example-city")
	md := Build(r, Facts{EncryptionAtRest: true}, Options{}).Markdown()
	lines := strings.Split(md, "\n")
	for _, f := range []fact{
		{"예시시청은", "「개인정보 보호법」 제25조 제1항 제2호 및 「개인정보 보호법」 제25조 제1항 제3호에 따라"},
		{"| 예시시청 |", "고정 : 20대, 회전형(PTZ) : 4대", "본관 1층 민원실 12대", "지하 주차장 8대", "청사 외곽 4대"},
		{"| 상수도사업소 |", "6대", "정문 및 출입구"},
		{"| 합계 |", "33대"},
		{"| 예시시청 | 24시간 | 촬영일로부터 1년 | 본청 통합관제센터 |"},
		{"| 상수도사업소 | 24시간 | 촬영일로부터 1년 | 본청 통합관제센터 |"},
		{"| 기록관 | 24시간 | 촬영일로부터 30일 | 기록관 서버실 |"},
		{"※ 예시시청, 상수도사업소: 영상정보 용량에 따라 보관기간 전후 자동 삭제"},
		{"예시시청은 개인영상정보에 관하여", "지체 없이 필요한 조치를 하겠습니다."},
		{"2015년 3월 2일에 제정되어 2019년 6월 3일, 2024년 2월 1일에 개정되었으며"},
		{"| 제정 | 2015년 3월 2일 | 2015년 3월 10일 | 제정 |"},
		{"| 개정 | 2019년 6월 3일 | 2019년 6월 11일 | 상수도사업소 카메라 추가 |"},
		{"| 개정 | 2024년 2월 1일 | 2024년 2월 8일 | 보관기간 1년으로 변경, 용량에 따른 자동 삭제 안내 |"},
		{"공고일자 : 2024년 2월 1일 / 시행일자 : 2024년 2월 8일"},
	} {
		if findFact(lines, f) == "" {
			t.Errorf("fact not rendered: %q", f)
		}
	}
	if strings.Contains(md, "일 이내") || strings.Contains(md, "기록관: 영상정보 용량") {
		t.Errorf("promises what the registry does not:\n%s", md)
	}
	if d := SnapshotOf(r); d.Sites[0].Capacity != "early" || d.Sites[2].Capacity != "" {
		t.Errorf("snapshot capacity: %+v", d.Sites)
	}
}
