package policy

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
)

var seoul = func() *time.Location { l, _ := time.LoadLocation("Asia/Seoul"); return l }()

func kst(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, seoul)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) registry.Date {
	d, err := registry.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func jeonbukFacts() Facts {
	return Facts{EncryptionAtRest: true, DifferentiatedAccess: true, AccessLogging: true}
}

// amend adds a revision to the registry's history.
func amend(r *registry.Registry, announced, effective, reason string) {
	rev := registry.Revision{Effective: date(effective), ImmediateReason: reason, Summary: "보관기간 변경"}
	if announced != "" {
		rev.Announced = date(announced)
	}
	r.Policy.History = append(r.Policy.History, rev)
	r.English["보관기간 변경"] = "Retention changed"
}

func TestPublishVersionsAndServe(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(kst("2013-07-30 09:00"))
	st, err := OpenStore(dir, clk)
	if err != nil {
		t.Fatal(err)
	}
	r := loadSeed(t, "jeonbuk")
	v1, err := st.Publish(r, jeonbukFacts())
	if err != nil {
		t.Fatalf("publish the enactment (immediate, with a reason): %v", err)
	}
	if v1.Number != 1 || v1.Effective != "2013-07-30" || !v1.EffectiveAt.Equal(kst("2013-07-30 00:00")) {
		t.Fatalf("v1 = %d %s %v", v1.Number, v1.Effective, v1.EffectiveAt)
	}

	// An amendment: 30 days of retention, announced 1 August.
	clk.Set(kst("2013-08-01 10:00"))
	r.Sites[0].Retention = registry.Retention{Days: 30}
	amend(r, "2013-08-01", "2013-08-10", "")
	st.NoticeDays = 14 // the system may demand more notice than the registry promises
	if _, err := st.Publish(r, jeonbukFacts()); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "14-day notice period") {
		t.Fatalf("9 days' notice against 14 required: %v", err)
	}
	r.Policy.History[1].Effective = date("2013-08-15")
	v2, err := st.Publish(r, jeonbukFacts())
	if err != nil {
		t.Fatal(err)
	}
	if v2.Number != 2 {
		t.Fatalf("v2.Number = %d", v2.Number)
	}
	// Publishing again without a new revision is refused.
	if _, err := st.Publish(r, jeonbukFacts()); !errs.Is(err, errs.Conflict) {
		t.Fatalf("same effective date again: %v", err)
	}
	// A published version is immutable: the file is read-only and the
	// store never overwrites it.
	if err := writeOnce(dir, versionName(1), []byte("{}")); !errs.Is(err, errs.Exist) {
		t.Fatalf("overwrite version 1: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, versionName(1))); fi.Mode().Perm()&0o222 != 0 {
		t.Fatalf("version file is writable: %v", fi.Mode())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}

	// A fresh store on the same directory sees both; on 14 August the
	// enactment is still in effect until midnight and the amendment is announced.
	clk.Set(kst("2013-08-14 23:59"))
	st2, _ := OpenStore(dir, clk)
	srv := httptest.NewServer(st2.Handler(nil))
	defer srv.Close()
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get("/policy")
	if code != 200 || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(body, "촬영일로부터 10일") || !strings.Contains(body, "시행일자 2013-08-15") {
		t.Fatalf("/policy before the amendment: %d %s\n%s", code, ctype, body)
	}
	clk.Set(kst("2013-08-15 00:00"))
	if _, _, body := get("/policy"); !strings.Contains(body, "촬영일로부터 30일") || strings.Contains(body, "촬영일로부터 10일") {
		t.Fatalf("/policy on the effective date does not show the amendment:\n%s", body)
	}
	if _, ctype, body := get("/policy.md"); !strings.HasPrefix(ctype, "text/markdown") || !strings.Contains(body, "| 24시간 | 촬영일로부터 30일 | 전산실 |") {
		t.Fatalf("/policy.md: %s\n%s", ctype, body)
	}
	if code, ctype, body := get("/policy.pdf"); code == 200 && (ctype != "application/pdf" || !strings.HasPrefix(body, "%PDF-")) {
		t.Fatalf("/policy.pdf: %d %s", code, ctype)
	}
	if _, _, body := get("/policy?lang=en"); !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "10 days from the recording date") && !strings.Contains(body, "30 days from the recording date") {
		t.Fatalf("/policy?lang=en:\n%s", body)
	}
	if _, _, body := get("/policy"); !strings.Contains(body, `href="/policy?lang=en"`) {
		t.Fatalf("/policy does not link its English version:\n%s", body)
	}
	_, _, list := get("/policy/versions")
	if !strings.Contains(list, `href="/policy/versions/1"`) || !strings.Contains(list, `href="/policy/versions/2"`) || !strings.Contains(list, "보관기간 변경") {
		t.Fatalf("/policy/versions:\n%s", list)
	}
	_, _, v2page := get("/policy/versions/2")
	if !strings.Contains(v2page, "<del>- | 24시간 | 촬영일로부터 10일 | 전산실 |</del>") || !strings.Contains(v2page, "<ins>+ | 24시간 | 촬영일로부터 30일 | 전산실 |</ins>") {
		t.Fatalf("version 2 lacks its diff against version 1:\n%s", v2page)
	}
	for _, p := range []string{"/policy/versions/3", "/policy/versions/0", "/policy/versions/x"} {
		if code, _, body := get(p); code != 404 || strings.Contains(body, "policy.") {
			t.Fatalf("%s: %d %q", p, code, body)
		}
	}
}

func TestPublishRules(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	st, _ := OpenStore(t.TempDir(), clock.NewFake(kst("2013-07-31 09:00")))
	if _, err := st.Publish(r, jeonbukFacts()); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "in the past") {
		t.Fatalf("back-dated announcement: %v", err)
	}
	// An immediate amendment is allowed only with a recorded reason.
	st, _ = OpenStore(t.TempDir(), clock.NewFake(kst("2013-07-30 09:00")))
	if _, err := st.Publish(r, jeonbukFacts()); err != nil {
		t.Fatal(err)
	}
	r.Sites[0].Storage = "서버실"
	r.English["서버실"] = "Server room"
	amend(r, "", "2013-07-31", "") // announced: today (30 July)
	if err := r.Validate(); err != nil {
		t.Fatalf("registry with unannounced revision: %v", err)
	}
	if _, err := st.Publish(r, jeonbukFacts()); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "immediate_reason") {
		t.Fatalf("immediate change without reason: %v", err)
	}
	r.Policy.History[1].ImmediateReason = "전산실 이전 공사로 보관장소 즉시 변경"
	v, err := st.Publish(r, jeonbukFacts())
	if err != nil || v.Announced != "2013-07-30" || v.ImmediateReason == "" {
		t.Fatalf("immediate change with reason: %+v %v", v, err)
	}
	// No version is in effect before the first effective date.
	early, _ := OpenStore(t.TempDir(), clock.NewFake(kst("2013-07-30 09:00")))
	amend(r, "", "2013-08-20", "")
	if _, err := early.Publish(r, jeonbukFacts()); err != nil {
		t.Fatal(err)
	}
	if _, pending, err := early.Current(); !errs.Is(err, errs.NotExist) || pending == nil {
		t.Fatalf("Current before any effective date: %v, pending %v", err, pending)
	}
}

func TestHTMLEscapes(t *testing.T) {
	r := loadSeed(t, "jeonbuk")
	r.Purposes = append(r.Purposes, `<script>alert("x")</script>`)
	body, err := Build(r, Facts{}, Options{}).HTML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(body), "<script>") || !strings.Contains(string(body), "&lt;script&gt;") {
		t.Fatal("purpose not escaped")
	}
}

func TestDiff(t *testing.T) {
	d := Diff("a\nb\nc\nd", "a\nc\nx\nd")
	var got []string
	for _, l := range d {
		got = append(got, l.Op+l.Text)
	}
	if strings.Join(got, ",") != " a,-b, c,+x, d" {
		t.Fatalf("diff = %q", got)
	}
	if Changed(Diff("same", "same")) || !Changed(d) {
		t.Fatal("Changed")
	}
}

// TestAdoptPastVersions: an institution adopting gwanje brings in the
// versions already in force with their own past dates; they are published
// and diffable like any other; once gwanje has published a version, past
// dates are refused again.
func TestAdoptPastVersions(t *testing.T) {
	clk := clock.NewFake(kst("2026-12-03 10:00"))
	st, _ := OpenStore(t.TempDir(), clk)
	var rows []ledger.Entry
	st.Ledger = ledger.AppenderFunc(func(_ context.Context, e ledger.Entry) (ledger.Entry, error) { rows = append(rows, e); return e, nil })
	enacted := loadSeed(t, "jeonbuk")
	if _, err := st.Publish(enacted, jeonbukFacts()); !errs.Is(err, errs.Invalid) || errs.CodeOf(err) != "policy.past_announcement" {
		t.Fatalf("publish with past dates: %v", err)
	}
	v1, err := st.Adopt(enacted, jeonbukFacts())
	if err != nil || v1.Number != 1 || !v1.Adopted || v1.Announced != "2013-07-30" || !v1.EffectiveAt.Equal(kst("2013-07-30 00:00")) {
		t.Fatalf("adopt the enactment: %+v %v", v1, err)
	}
	r := loadSeed(t, "jeonbuk")
	r.English["보관기간 30일로 변경"] = "Retention changed to 30 days"
	r.English["보관장소 변경"] = "Storage place changed"
	r.English["서버실"] = "Server room"
	r.Policy.History = append(r.Policy.History,
		registry.Revision{Announced: date("2023-06-01"), Effective: date("2023-06-08"), Summary: "보관기간 30일로 변경"})
	r.Sites[0].Retention = registry.Retention{Days: 30}
	v2, err := st.Adopt(r, jeonbukFacts())
	if err != nil || v2.Number != 2 || v2.Effective != "2023-06-08" {
		t.Fatalf("adopt the amendment in force: %+v %v", v2, err)
	}
	cur, pending, err := st.Current()
	if err != nil || cur.Number != 2 || pending != nil {
		t.Fatalf("in force: %v %v %v", cur, pending, err)
	}
	if d := Diff(v1.Document.Markdown(), v2.Document.Markdown()); !Changed(d) {
		t.Fatal("adopted versions do not differ")
	}
	// Announced after today: that is a new revision, not an adoption.
	future := loadSeed(t, "jeonbuk")
	future.Policy.History = append(r.Policy.History, registry.Revision{Announced: date("2026-12-04"), Effective: date("2026-12-20")})
	if _, err := st.Adopt(future, jeonbukFacts()); errs.CodeOf(err) != "policy.adopt_future" {
		t.Fatalf("adopt a future announcement: %v", err)
	}
	// Now gwanje publishes an amendment; past dates are closed.
	r.Policy.History = append(r.Policy.History, registry.Revision{Effective: date("2026-12-20"), Summary: "보관장소 변경"})
	r.Sites[0].Storage = "서버실"
	if v3, err := st.Publish(r, jeonbukFacts()); err != nil || v3.Adopted || v3.Announced != "2026-12-03" {
		t.Fatalf("publish after adoption: %+v %v", v3, err)
	}
	older := loadSeed(t, "jeonbuk")
	if _, err := st.Adopt(older, jeonbukFacts()); !errs.Is(err, errs.Conflict) || errs.CodeOf(err) != "policy.adopt_after_publish" {
		t.Fatalf("adopt after a publication: %v", err)
	}
	// Every version is a 관리대장 row, naming what changed.
	if len(rows) != 3 || rows[0].Kind != ledger.RegistryChange || !strings.Contains(rows[1].Detail, "changed since version 1: sites[hq].retention: 10d → 30d") ||
		!strings.Contains(rows[2].Detail, "announced 2026-12-03, effective 2026-12-20; 보관장소 변경; changed since version 2: sites[hq].storage: 전산실 → 서버실") ||
		rows[2].Purpose != "운영·관리 방침 게시" || !strings.HasPrefix(rows[2].Object, "policy version 3 ") {
		t.Fatalf("ledger rows: %+v", rows)
	}
	srv := httptest.NewServer(st.Handler(nil))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/policy/versions")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.Count(string(b), "gwanje 도입 전 시행본") != 2 {
		t.Fatalf("versions list does not mark the adopted versions:\n%s", b)
	}
}
