package policy

import (
	"bytes"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/registry"
)

func TestDrift(t *testing.T) {
	published := SnapshotOf(loadSeed(t, "seogwangju"))
	if d := Drift(published, SnapshotOf(loadSeed(t, "seogwangju"))); len(d) != 0 {
		t.Fatalf("unchanged registry drifts: %v", d)
	}
	live := loadSeed(t, "seogwangju")
	n := 76
	live.Sites[0].Groups[0].Count = &n                     // a camera added
	live.Sites[1].Retention = registry.Retention{Days: 90} // retention changed at one office
	live.Sites[2].Storage = "본국 서버실"                       // storage moved
	live.Personnel[0].Phone = "062-603-7999"               // the general manager's number changed
	live.Sites = live.Sites[:len(live.Sites)-1]            // an office closed
	snap := SnapshotOf(live)
	snap.Recording = "09:00-18:00" // the running configuration records office hours only
	got := Drift(published, snap)
	want := []Difference{
		{"recording.hours", "24h", "09:00-18:00"},
		{"sites[seogwangju].cameras", "75", "76"},
		{"sites[sangmu1].retention", "60d", "90d"},
		{"sites[nongseong].storage", "각 소속우체국", "본국 서버실"},
		{"sites[seochang]", "광주서창동우체국", ""},
		{"managers", "총괄 책임자 정 지원과 지원과장 062-603-7105 [seogwangju]", ""},
		{"managers", "", "총괄 책임자 정 지원과 지원과장 062-603-7999 [seogwangju]"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Drift =\n%v\nwant\n%v", got, want)
	}
	if s := got[1].String(); s != "sites[seogwangju].cameras: published 75, live 76" {
		t.Fatalf("String() = %q", s)
	}
	// Retention actually applied (not the registry's) is what counts.
	applied := SnapshotOf(loadSeed(t, "jeonbuk"))
	applied.Sites[0].Retention = registry.DefaultRetention.String()
	if d := Drift(SnapshotOf(loadSeed(t, "jeonbuk")), applied); len(d) != 1 || d[0].Field != "sites[hq].retention" || d[0].Live != "30d" {
		t.Fatalf("applied retention drift: %v", d)
	}
	// A new contractor is a drift too.
	r := loadSeed(t, "jeonbuk")
	r.Outsourcing.Vendors = []registry.Vendor{{Name: "전북보안", ContactPerson: "김담당", Phone: "063-111-2222"}}
	if d := Drift(SnapshotOf(loadSeed(t, "jeonbuk")), SnapshotOf(r)); len(d) != 1 || d[0].Field != "outsourcing.vendors" {
		t.Fatalf("vendor drift: %v", d)
	}
}

func TestParseFacts(t *testing.T) {
	f, err := ParseFacts("encryption, access-logging,lock")
	if err != nil || f != (Facts{EncryptionAtRest: true, AccessLogging: true, LockedStorage: true}) {
		t.Fatalf("ParseFacts = %+v, %v", f, err)
	}
	if _, err := ParseFacts("encryption,teleport"); err == nil {
		t.Fatal("unknown fact accepted")
	}
}

func TestCheckDriftLogs(t *testing.T) {
	clk := clock.NewFake(kst("2013-07-30 09:00"))
	st, _ := OpenStore(t.TempDir(), clk)
	r := loadSeed(t, "jeonbuk")
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if d, err := st.CheckDrift(SnapshotOf(r), log); err != nil || d != nil {
		t.Fatalf("nothing published: %v %v", d, err)
	}
	if _, err := st.Publish(r, jeonbukFacts()); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.CheckDrift(SnapshotOf(r), log); len(d) != 0 || logs.Len() != 0 {
		t.Fatalf("no change, yet drift %v / %q", d, logs.String())
	}
	live := SnapshotOf(r)
	live.Sites[0].Storage = "서버실"
	d, err := st.CheckDrift(live, log)
	if err != nil || len(d) != 1 {
		t.Fatalf("drift = %v, %v", d, err)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "field=sites[hq].storage") || !strings.Contains(logs.String(), "live=서버실") {
		t.Fatalf("log = %q", logs.String())
	}
}

func TestSeveralLegalBases(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	r.LegalBasis = append(r.LegalBasis, registry.LegalRef{Law: "주차장법 시행규칙", Article: "제6조제1항"})
	md := Build(r, Facts{}, Options{}).Markdown()
	if !strings.Contains(md, "본 기관은 「개인정보보호법」 제25조 제1항 및 「주차장법 시행규칙」 제6조제1항에 따라 다음과 같은 목적으로") {
		t.Fatal("second legal basis not stated")
	}
	// 「」 are the default; a name already bracketed keeps its own, and
	// law_brackets: false writes names bare.
	r.LegalBasis[1].Law = "「주차장법 시행규칙」"
	if md := Build(r, Facts{}, Options{}).Markdown(); !strings.Contains(md, "및 「주차장법 시행규칙」 제6조제1항에") {
		t.Fatal("bracketed name doubled")
	}
	off := false
	r.Policy.LawBrackets = &off
	r.LegalBasis[1].Law = "주차장법 시행규칙"
	if md := Build(r, Facts{}, Options{}).Markdown(); !strings.Contains(md, "본 기관은 개인정보보호법 제25조 제1항 및 주차장법 시행규칙 제6조제1항에 따라") {
		t.Fatal("law_brackets: false still brackets")
	}
}
