package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/ledger"
)

const registryTestdata = "../../testdata/registry/"

// gwanje runs the command line and returns its exit status and output.
func gwanje(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestRegistryCheckSpeaksKorean: a bad registry's problems are printed,
// all of them, as file:line: path: message, in Korean by default and in
// English on request.
func TestRegistryCheckSpeaksKorean(t *testing.T) {
	good, err := os.ReadFile(registryTestdata + "jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(good), "    storage: 전산실\n", "    storrage: 전산실\n", 1)
	path := filepath.Join(t.TempDir(), "jeonbuk.yaml")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := gwanje(t, "registry", "check", path)
	if code != 1 || !strings.Contains(stderr, path+":21: sites[0].storrage: 알 수 없는 키 \"storrage\"입니다. \"storage\"의 오타가") ||
		!strings.Contains(stderr, path+":17: sites[0].storage: 보관장소 항목이 없습니다.") || !strings.Contains(stderr, "문제가 2개 있습니다") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	code, _, stderr = gwanje(t, "registry", "check", "-lang", "en", path)
	if code != 1 || !strings.Contains(stderr, path+":21: sites[0].storrage: unknown key \"storrage\" (did you mean \"storage\"?)") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

// TestRegistryImportRecorded: an import keeps the file as written and
// writes a 관리대장 row naming who changed which promise.
func TestRegistryImportRecorded(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := gwanje(t, "registry", "import", "-data", data, "-actor", "kim", registryTestdata+"jeonbuk.yaml"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	good, _ := os.ReadFile(registryTestdata + "jeonbuk.yaml")
	changed := filepath.Join(t.TempDir(), "jeonbuk.yaml")
	os.WriteFile(changed, bytes.Replace(good, []byte("    retention: 10d\n"), []byte("    retention: 30d # 2026 개정\n"), 1), 0o600)
	if code, _, stderr := gwanje(t, "registry", "import", "-data", data, "-actor", "lee", changed); code != 0 {
		t.Fatalf("second import: %s", stderr)
	}
	_, out, _ := gwanje(t, "registry", "export", "-data", data)
	if !strings.Contains(out, "# 전북지방중소기업청") || !strings.Contains(out, "retention: 30d # 2026 개정") {
		t.Fatalf("export lost the comments:\n%s", out)
	}
	ents, err := ledger.QueryDir(context.Background(), data, ledger.Filter{Kinds: []ledger.Kind{ledger.RegistryChange}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[0].Actor != "kim" || ents[0].Detail != "first registry" || ents[1].Actor != "lee" ||
		ents[1].Detail != "sites[hq].retention: 10d → 30d" || !strings.Contains(ents[1].Object, "sha256=") {
		t.Fatalf("ledger rows: %+v", ents)
	}
}

// TestPolicyAdoptAndPublishRecorded: the policy in force comes in with its
// past dates through adopt (publish refuses them), and every version is a
// 관리대장 row naming who, which version and what changed.
func TestPolicyAdoptAndPublishRecorded(t *testing.T) {
	data := t.TempDir()
	if code, _, stderr := gwanje(t, "registry", "import", "-data", data, "-actor", "kim", registryTestdata+"jeonbuk.yaml"); code != 0 {
		t.Fatalf("import: %s", stderr)
	}
	facts := "encryption,access-logging,differentiated"
	if code, _, stderr := gwanje(t, "policy", "publish", "-data", data, "-facts", facts); code != 1 || !strings.Contains(stderr, "공고일자 2013-07-30이(가) 이미 지났습니다") || !strings.Contains(stderr, "gwanje policy adopt") {
		t.Fatalf("publish with 2013 dates: exit %d %s", code, stderr)
	}
	code, out, stderr := gwanje(t, "policy", "adopt", "-data", data, "-facts", facts, "-actor", "park")
	if code != 0 || !strings.Contains(out, "adopted version 1: announced 2013-07-30, effective 2013-07-30") {
		t.Fatalf("adopt: exit %d %s %s", code, out, stderr)
	}
	if _, out, _ := gwanje(t, "policy", "versions", "-data", data); !strings.Contains(out, "(adopted: in force before gwanje)") {
		t.Fatalf("versions: %s", out)
	}
	ents, err := ledger.QueryDir(context.Background(), data, ledger.Filter{Kinds: []ledger.Kind{ledger.RegistryChange}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 2 || ents[1].Actor != "park" || !strings.HasPrefix(ents[1].Object, "policy version 1 sha256=") ||
		!strings.Contains(ents[1].Purpose, "도입") || !strings.Contains(ents[1].Detail, "announced 2013-07-30, effective 2013-07-30; 제정") {
		t.Fatalf("ledger rows: %+v", ents)
	}
}
