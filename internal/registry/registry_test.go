package registry

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

const testdata = "../../testdata/registry/"

func load(t *testing.T, name string) *Registry {
	t.Helper()
	r, err := Load(testdata + name + ".yaml")
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return r
}

// TestSeedRetentionPerCamera: the registries that render the seed policies
// drive retention, and every camera gets what its policy states.
func TestSeedRetentionPerCamera(t *testing.T) {
	for _, tc := range []struct {
		file    string
		want    Retention
		cameras int // cameras listed by id
		total   int // cameras the policy counts
		words   string
	}{
		{"seogwangju", Retention{Days: 60}, 8, 240, "촬영일로부터 60일"},
		{"guro", Retention{Months: 6}, 8, 82, "6개월내외"},
		{"jeonbuk", Retention{Days: 10}, 12, 12, "촬영일로부터 10일"},
	} {
		r := load(t, tc.file)
		if got := r.CameraCount(); got != tc.total {
			t.Errorf("%s: %d cameras, policy says %d", tc.file, got, tc.total)
		}
		n := 0
		for _, s := range r.Sites {
			if s.RetentionText() != tc.words {
				t.Errorf("%s/%s: retention wording %q, policy says %q", tc.file, s.ID, s.RetentionText(), tc.words)
			}
			for _, g := range s.Groups {
				for _, c := range g.Cameras {
					n++
					got, err := r.RetentionFor(c.ID)
					if err != nil || got != tc.want {
						t.Errorf("%s: camera %s retention %v, %v; want %v", tc.file, c.ID, got, err, tc.want)
					}
				}
			}
		}
		if n != tc.cameras {
			t.Errorf("%s: %d listed cameras, want %d", tc.file, n, tc.cameras)
		}
	}
}

func TestRetentionForUnknownCameraAndDefault(t *testing.T) {
	r := load(t, "jeonbuk")
	if _, err := r.RetentionFor("nope"); !errs.Is(err, errs.NotExist) {
		t.Fatalf("unknown camera: %v, want NotExist", err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	if got := r.RetentionOrDefault("nope", log); got != DefaultRetention || got != (Retention{Days: 30}) {
		t.Fatalf("default = %v", got)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "camera=nope") {
		t.Fatalf("no warning logged: %q", logs.String())
	}
	logs.Reset()
	if got := r.RetentionOrDefault("jb-01", log); got != (Retention{Days: 10}) || logs.Len() != 0 {
		t.Fatalf("jb-01: %v, log %q", got, logs.String())
	}
	var nilReg *Registry
	if got := nilReg.RetentionOrDefault("x", nil); got != DefaultRetention {
		t.Fatalf("nil registry: %v", got)
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]Retention{"10d": {Days: 10}, "60d": {Days: 60}, "6mo": {Months: 6}, "1y": {Months: 12}} {
		got, err := ParseRetention(in)
		if err != nil || got != want || got.String() != strings.Replace(in, "1y", "12mo", 1) {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "10", "-1d", "0d", "6m", "abc", "1.5d"} {
		if _, err := ParseRetention(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestExpiryEdges(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	at := func(s string) time.Time {
		t.Helper()
		v, err := time.ParseInLocation("2006-01-02 15:04:05", s, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		ret      Retention
		recorded string
		due      string
	}{
		// Day D with 10d: kept through D+10, due at the start of D+11.
		{Retention{Days: 10}, "2026-03-01 00:00:00", "2026-03-12 00:00:00"},
		{Retention{Days: 10}, "2026-03-01 23:59:59", "2026-03-12 00:00:00"},
		{Retention{Days: 10}, "2026-03-02 00:00:00", "2026-03-13 00:00:00"},
		{Retention{Days: 60}, "2024-01-24 12:00:00", "2024-03-25 00:00:00"}, // leap February
		{Retention{Days: 10}, "2026-12-25 08:00:00", "2027-01-05 00:00:00"}, // year end
		// Months are calendar months, not 30 days.
		{Retention{Months: 6}, "2026-01-15 10:00:00", "2026-07-16 00:00:00"},
		{Retention{Months: 6}, "2026-08-31 10:00:00", "2027-03-01 00:00:00"}, // no 31 February: last day of February
		{Retention{Months: 6}, "2027-08-31 10:00:00", "2028-03-01 00:00:00"}, // leap year: 29 February kept
		{Retention{Months: 1}, "2026-01-31 23:59:59", "2026-03-01 00:00:00"},
		{Retention{Months: 12}, "2024-02-29 09:00:00", "2025-03-01 00:00:00"},
	} {
		if got := tc.ret.Expiry(at(tc.recorded), seoul); !got.Equal(at(tc.due)) {
			t.Errorf("%v recorded %s: due %s, want %s", tc.ret, tc.recorded, got.In(seoul), tc.due)
		}
	}
	// 2027-08-31 + 6mo keeps 29 February 2028 (leap), which 180 days would not be.
	if (Retention{Months: 6}).LastDay(Date{2027, 8, 31}) != (Date{2028, 2, 29}) {
		t.Error("6mo from 31 Aug 2027 should end 29 Feb 2028")
	}
	// The recording day is taken in the organisation's zone: 15:30 UTC on
	// 1 March is already 2 March in Seoul.
	utc := time.Date(2026, 3, 1, 15, 30, 0, 0, time.UTC)
	if got := (Retention{Days: 10}).Expiry(utc, seoul); !got.Equal(at("2026-03-13 00:00:00")) {
		t.Errorf("zone: %v", got.In(seoul))
	}
}

func TestStreamCameras(t *testing.T) {
	r := load(t, "guro")
	got := r.StreamCameras()
	want := []StreamCamera{
		{ID: "cw-atm-1", Site: "cheonwang", Group: "atm", URL: "rtsp://192.168.10.21:554/Streaming/Channels/101", Transport: "tcp", Username: "admin", PasswordFile: "/etc/gwanje/secrets/cheonwang"},
		{ID: "cw-atm-2", Site: "cheonwang", Group: "atm", URL: "rtsp://192.168.10.22:554/Streaming/Channels/101", Transport: "tcp", Username: "admin", PasswordFile: "/etc/gwanje/secrets/cheonwang"},
		{ID: "cw-atm-3", Site: "cheonwang", Group: "atm", URL: "rtsp://192.168.10.23:554/Streaming/Channels/101", Transport: "udp", Username: "admin", PasswordFile: "/etc/gwanje/secrets/cheonwang"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("StreamCameras = %+v", got)
	}
	s, _ := r.Site("cheonwang")
	if s.CameraCount() != 24 || s.Connected() != 3 {
		t.Fatalf("cheonwang: %d cameras, %d connected", s.CameraCount(), s.Connected())
	}
	jb := load(t, "jeonbuk").StreamCameras()
	if len(jb) != 12 || jb[0].Transport != "tcp" || jb[0].PasswordEnv != "GWANJE_JB_PASSWORD" {
		t.Fatalf("jeonbuk streams: %+v", jb)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	for _, f := range []string{"seogwangju", "guro", "jeonbuk", "example-city"} {
		r := load(t, f)
		out, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("export.yaml", out)
		if err != nil {
			t.Fatalf("%s: exported YAML does not import: %v\n%s", f, err, out)
		}
		r.loc, back.loc = nil, nil
		if !reflect.DeepEqual(r, back) {
			t.Errorf("%s: round trip changed the registry", f)
		}
	}
}

// TestValidation: each class of bad input is reported with the file, the
// line of the offending value and what is wrong.
func TestValidation(t *testing.T) {
	good, err := os.ReadFile(testdata + "jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lineOf := func(src, needle string) int {
		i := strings.Index(src, needle)
		if i < 0 {
			t.Fatalf("fixture lacks %q", needle)
		}
		return strings.Count(src[:i], "\n") + 1
	}
	for _, tc := range []struct {
		name, old, new string
		at             string // text on the line the error must name
		path           string // key path the error must name
		msg            string
	}{
		{"unknown key", "    storage: 전산실\n", "    storage: 전산실\n    storrage: 서버실\n", "storrage:", "sites[0].storrage", `unknown key "storrage" (did you mean "storage"?)`},
		{"unknown key far from any", "    storage: 전산실\n", "    storage: 전산실\n    colour: blue\n", "colour:", "sites[0].colour", `unknown key "colour"`},
		{"repeated key", "    storage: 전산실\n", "    storage: 전산실\n    storage: 서버실\n", "storage: 서버실", "sites[0].storage", `key "storage" is already given at line`},
		{"negative count", "        radius_m: 50\n        cameras:\n", "        radius_m: 50\n        count: -3\n        cameras:\n", "count: -3", "sites[0].groups[0].count", "count -3 is negative"},
		{"count not a number", "        radius_m: 50\n        cameras:\n", "        radius_m: 50\n        count: twelve\n        cameras:\n", "count: twelve", "sites[0].groups[0].count", `"twelve" is not a whole number`},
		{"retention missing", "    retention: 10d\n", "", "- id: hq", "sites[0].retention", "retention is missing"},
		{"retention malformed", "    retention: 10d\n", "    retention: ten days\n", "retention: ten days", "sites[0].retention", "want a positive number"},
		{"phone malformed", "phone: 063-210-6410}", "phone: 063-2106410}", "phone: 063-2106410", "personnel[0].phone", `phone "063-2106410" is malformed`},
		{"effective inside notice period", "      immediate_reason: 최초 제정으로 공고와 동시에 시행\n", "", "effective: 2013-07-30", "policy.history[0].effective", "inside the 7-day notice period"},
		{"count disagrees with cameras", "        radius_m: 50\n        cameras:\n", "        radius_m: 50\n        count: 11\n        cameras:\n", "count: 11", "sites[0].groups[0].count", "count 11 disagrees with the 12 cameras"},
		{"password in url", `"rtsp://10.63.210.101:554/live"`, `"rtsp://admin:secret@10.63.210.101:554/live"`, "admin:secret@", "sites[0].groups[0].cameras[0].stream.url", "url carries a password"},
		{"unknown site", "phone: 063-210-6499}", "phone: 063-210-6499, sites: [annex]}", "sites: [annex]", "personnel[1].sites[0]", `unknown site "annex"`},
		{"wording contradicts period", "    retention: 10d\n", "    retention: 10d\n    retention_wording: 촬영일로부터 30일\n", "retention_wording:", "sites[0].retention_wording", "does not state the retention 10d"},
		{"duplicate camera", "          - id: jb-02\n", "          - id: jb-01\n", "- id: jb-01\n            stream: {url: \"rtsp://10.63.210.102", "sites[0].groups[0].cameras[1].id", `camera id "jb-01" is already used`},
		{"bad date", "enacted: 2013-07-30", "enacted: 2013-7-30", "enacted: 2013-7-30", "policy.enacted", `date "2013-7-30" is not YYYY-MM-DD`},
		{"recording hours missing", "recording:\n  hours: 24h\n", "recording:\n  wording: 24시간\n", "recording:", "recording.hours", "recording hours (recording.hours, e.g. 24h) is missing"},
		{"format missing", "format: 1\n", "", "organization:", "format", "format (the registry format number, 1) is missing"},
		{"map where a list belongs", "purposes:\n  - 시설안전 및 화재 예방\n  - 범죄예방 및 수사\n", "purposes: {a: 1}\n", "purposes: {a: 1}", "purposes", "want a list (- item) here"},
		{"list where text belongs", "  name: 전북지방중소기업청\n", "  name: [전북, 청]\n", "name: [전북, 청]", "organization.name", "want a single value here"},
		{"deadline zero", "  deadline_days: 10\n", "  deadline_days: 0\n", "deadline_days: 0", "requests.deadline_days", "deadline 0 days: want 1 to 10"},
		{"storage summary names an unused place", "requests:\n", "storage_summary: 전산실 및 서고\nrequests:\n", "storage_summary:", "storage_summary", `storage_summary names "서고", which no site uses`},
		{"capacity note is not a rule", "    retention: 10d\n", "    retention: 10d\n    capacity_note: 용량에 따라 자동 삭제\n", "capacity_note:", "sites[0].capacity_note", "capacity_note is replaced by capacity"},
		{"revision before the enactment", "  enacted: 2013-07-30\n", "  enacted: 2013-08-30\n", "- announced: 2013-07-30", "policy.history[0]", "revision date 2013-07-30 is before the enactment 2013-08-30"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(string(good), tc.old, tc.new, 1)
			if src == string(good) {
				t.Fatal("mutation did not apply")
			}
			_, err := Parse("jeonbuk.yaml", []byte(src))
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want Invalid", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("no ValidationError in %v", err)
			}
			want := lineOf(src, tc.at)
			for _, p := range ve.Problems {
				if strings.Contains(p.Msg, tc.msg) {
					if p.Line != want || p.File != "jeonbuk.yaml" || p.Path != tc.path {
						t.Fatalf("%q reported at %s:%d %s, want line %d %s", tc.msg, p.File, p.Line, p.Path, want, tc.path)
					}
					if !strings.Contains(err.Error(), "jeonbuk.yaml:"+strconv.Itoa(want)+": "+tc.path+": ") {
						t.Fatalf("error text lacks file:line: path: %v", err)
					}
					if len(ve.Problems) != 1 {
						t.Errorf("one mistake, %d problems reported:\n%v", len(ve.Problems), err)
					}
					ko := p.Text(i18n.Ko)
					if ko == p.String() || strings.Contains(ko, i18n.Missing) || !strings.HasPrefix(ko, "jeonbuk.yaml:"+strconv.Itoa(want)+": "+tc.path+": ") {
						t.Errorf("Korean wording %q", ko)
					}
					return
				}
			}
			t.Fatalf("no problem %q in:\n%v", tc.msg, err)
		})
	}
}

// TestSyntaxErrors: a file that is not YAML is reported at the line of the
// mistake (the parser names the line where the enclosing block began), in
// plain words rather than the parser's.
func TestSyntaxErrors(t *testing.T) {
	good, err := os.ReadFile(testdata + "jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, old, new string
		at             string
		path           string
		msg, ko        string
	}{
		{"second colon", "  place: 본 기관 창업성장지원과\n", "  place: 본 기관: 창업성장지원과\n", "place: 본 기관: ", "confirmation.place", "put a value containing ': ' in quotes", "따옴표로 감싸십시오"},
		{"second colon in a list item", "    storage: 전산실\n", "    storage: 본관: 전산실\n", "storage: 본관:", "sites[0].storage", "put a value containing ': ' in quotes", "따옴표로 감싸십시오"},
		{"tab", "  contact: 영상정보처리기기 접근권한자\n", "\tcontact: 영상정보처리기기 접근권한자\n", "\tcontact", "requests.contact", "indent with spaces", "공백으로 들여쓰십시오"},
		{"indentation", "  place: 본 기관 창업성장지원과\n", " place: 본 기관 창업성장지원과\n", " place: 본 기관", "confirmation.place", "indentation of this line does not match", "들여쓰기가 위 줄들과 맞지 않습니다"},
		{"unclosed bracket", "phone: 063-210-6410}", "phone: 063-210-6410", "phone: 063-210-6410", "", "never closed", "닫히지 않았습니다"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(string(good), tc.old, tc.new, 1)
			if src == string(good) {
				t.Fatal("mutation did not apply")
			}
			_, err := Parse("jeonbuk.yaml", []byte(src))
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) != 1 {
				t.Fatalf("err = %v", err)
			}
			p := ve.Problems[0]
			want := strings.Count(src[:strings.Index(src, tc.at)], "\n") + 1
			if p.Line != want || p.Path != tc.path || !strings.Contains(p.Msg, tc.msg) || strings.Contains(p.Msg, "mapping values") || strings.Contains(p.Msg, "did not find") {
				t.Fatalf("reported %s:%d %s %q, want line %d %s %q", p.File, p.Line, p.Path, p.Msg, want, tc.path, tc.msg)
			}
			if !strings.Contains(p.Text(i18n.Ko), tc.ko) {
				t.Fatalf("Korean: %q", p.Text(i18n.Ko))
			}
		})
	}
}

// TestEveryProblemTogether: unknown keys, values of the wrong type and the
// format's rules are reported in one pass, in line order.
func TestEveryProblemTogether(t *testing.T) {
	good, err := os.ReadFile(testdata + "jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := string(good)
	for _, m := range [][2]string{
		{"  short_name: 본 기관\n", "  short_name: 본 기관\n  nmae: x\n  short: y\n  shortname: y\n"}, // unknown keys
		{"    retention: 10d\n", "    retention: forever\n"},                                    // type
		{"    storage: 전산실\n", ""},                                                              // missing
		{"phone: 063-210-6410}", "phone: 063-2106410}"},                                         // rule
		{"  deadline_days: 10\n", "  deadline_days: 11\n"},                                      // rule
	} {
		if !strings.Contains(src, m[0]) {
			t.Fatalf("fixture lacks %q", m[0])
		}
		src = strings.Replace(src, m[0], m[1], 1)
	}
	_, err = Parse("jeonbuk.yaml", []byte(src))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	var paths []string
	last := 0
	for _, p := range ve.Problems {
		paths = append(paths, p.Path)
		if p.Line < last {
			t.Errorf("problems out of line order:\n%v", err)
		}
		last = p.Line
	}
	want := []string{"organization.nmae", "organization.short", "organization.shortname", "sites[0].storage", "sites[0].retention", "personnel[0].phone", "requests.deadline_days"}
	if !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %v, want %v\n%v", paths, want, err)
	}
}

// TestPeriodsAndKinds: years and Korean units are periods; a site kind is
// the institution's own word.
func TestPeriodsAndKinds(t *testing.T) {
	for in, want := range map[string]Retention{"1y": {Months: 12}, "1년": {Months: 12}, "2 년": {Months: 24}, "6개월": {Months: 6}, "30일": {Days: 30}} {
		if got, err := ParseRetention(in); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if (Retention{Months: 12}).Korean() != "1년" || (Retention{Months: 18}).Korean() != "18개월" {
		t.Error("Korean wording of years")
	}
	good, _ := os.ReadFile(testdata + "jeonbuk.yaml")
	src := strings.Replace(string(good), "    kind: 청사\n    retention: 10d\n", "    kind: 본청\n    retention: 1년\n    retention_wording: 촬영일로부터 12개월\n", 1)
	r, err := Parse("jeonbuk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if r.Sites[0].Kind != "본청" || r.Sites[0].Retention != (Retention{Months: 12}) {
		t.Fatalf("site = %+v", r.Sites[0])
	}
}

// TestImportKeepsComments: import stores the file as written, comments
// included, and export gives it back.
func TestImportKeepsComments(t *testing.T) {
	dir := t.TempDir()
	dst := dir + "/registry.yaml"
	src := testdata + "guro.yaml"
	orig, _ := os.ReadFile(src)
	if !bytes.Contains(orig, []byte("# 구로신협")) {
		t.Fatal("fixture has no comment")
	}
	r, old, err := Import(src, dst)
	if err != nil || old != nil || r.CameraCount() != 82 {
		t.Fatalf("first import: %v %v", old, err)
	}
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, orig) {
		t.Fatal("import changed the file")
	}
	_, old, err = Import(testdata+"jeonbuk.yaml", dst)
	if err != nil || old == nil || old.Organization.Name != "구로신협" {
		t.Fatalf("second import: replaced %v, %v", old, err)
	}
	bad := dir + "/bad.yaml"
	os.WriteFile(bad, []byte("format: 1\n"), 0o600)
	if _, _, err := Import(bad, dst); !errs.Is(err, errs.Invalid) {
		t.Fatalf("bad import: %v", err)
	}
	if again, _ := os.ReadFile(dst); bytes.Contains(again, []byte("format: 1\n")) && len(again) < 20 {
		t.Fatal("a refused import replaced the registry")
	}
}

func TestValidateBuiltInCode(t *testing.T) {
	r := load(t, "jeonbuk")
	r.Sites[0].Storage = ""
	if err := r.Validate(); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "sites[0].storage: storage place (보관장소) is missing") {
		t.Fatalf("Validate = %v", err)
	}
}

func TestSaveLoad(t *testing.T) {
	r := load(t, "guro")
	path := t.TempDir() + "/registry.yaml"
	if err := r.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.CameraCount() != 82 || len(back.StreamCameras()) != 3 {
		t.Fatalf("saved registry differs: %d cameras", back.CameraCount())
	}
	r.Sites[0].Retention = Retention{}
	if err := r.Save(path); !errs.Is(err, errs.Invalid) {
		t.Fatalf("saving an invalid registry: %v", err)
	}
	if again, err := Load(path); err != nil || again.Sites[0].Retention != (Retention{Months: 6}) {
		t.Fatalf("a refused save changed the file: %v", err)
	}
}
