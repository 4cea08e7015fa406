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
