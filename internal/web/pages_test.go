package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/ledger/report"
)

// pageServer is the test harness (the real access service and gate) with
// pages, retention, alarms on both cameras and the storage, and users:
// viewer (접근권한자 of site-a), manager (관리책임자 of both sites),
// auditor (감사) and sysadmin (시스템관리자).
func pageServer(t *testing.T, loc *time.Location) (*harness, *httptest.Server, time.Time) {
	t.Helper()
	var am *alarm.Manager
	h := newHarnessWith(t, 1, func(o *Options) {
		am = alarm.New(alarm.Options{Clock: o.Clock})
		am.Raise(alarm.CameraDown, "cam-a", alarm.Critical, "no video")
		am.Raise(alarm.CameraDown, "cam-b", alarm.Critical, "no video")
		am.Raise(alarm.StorageLow, "data", alarm.Warning, "3% free")
		o.Alarms, o.Retention, o.Location = am, &fakeRetention{}, loc
	})
	both := []string{"site-a", "site-b"}
	h.addUser(h.admin, "manager", access.Grant{Role: access.Manager, Sites: both})
	h.addUser(h.admin, "auditor", access.Grant{Role: access.Auditor, Sites: both})
	h.addUser(h.admin, "sysadmin", access.Grant{Role: access.SystemAdmin, Sites: both})
	return h, h.ts, h.t0
}

func getPage(t *testing.T, h *harness, path, user string, lang i18n.Lang) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", h.ts.URL+path, nil)
	if s := h.users[user]; s != nil {
		req.AddCookie(&http.Cookie{Name: access.CookieName, Value: s.token})
	}
	req.AddCookie(&http.Cookie{Name: i18n.CookieName, Value: string(lang)})
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusSeeOther {
		return resp.StatusCode, resp.Header.Get("Location")
	}
	return resp.StatusCode, string(b)
}

var menuLink = regexp.MustCompile(`<nav[^>]*>.*?</nav>`)

// Every page, for every user: in the menu exactly when the user may use
// it, refused otherwise; a stranger is sent to the login page; every page
// links the public policy and shows no key missing from the catalogue, in
// both languages.
func TestPagesMenuAndRefusal(t *testing.T) {
	h, _, _ := pageServer(t, nil)
	users := map[string]map[Perm]bool{}
	for _, u := range []struct {
		name string
		role access.Role
	}{{"viewer", access.Authorized}, {"auditor", access.Auditor}, {"sysadmin", access.SystemAdmin}, {"manager", access.Manager}} {
		users[u.name] = map[Perm]bool{}
		for _, p := range access.DefaultPerms[u.role].List() {
			users[u.name][Perm(p.String())] = true
		}
	}
	for _, p := range pagesSorted() {
		path := "/" + p.Name
		if p.Name == "home" {
			path = "/"
		}
		code, loc := getPage(t, h, path, "", i18n.Ko)
		if !p.Public && (code != http.StatusSeeOther || loc != "/login") {
			t.Errorf("%s without a session: %d %q, want a redirect to /login", path, code, loc)
		}
		for user, perms := range users {
			for _, lang := range i18n.Langs {
				code, body := getPage(t, h, path, user, lang)
				allowed := p.Perm == "" || perms[p.Perm]
				nav := menuLink.FindString(strings.ReplaceAll(body, "\n", " "))
				inMenu := strings.Contains(nav, `href="`+path+`"`)
				switch {
				case !allowed && code != http.StatusForbidden:
					t.Errorf("%s as %s: %d, want 403", path, user, code)
				case allowed && code != http.StatusOK:
					t.Errorf("%s as %s: %d, want 200", path, user, code)
				}
				if p.Menu != 0 && inMenu != allowed {
					t.Errorf("%s as %s: in the menu %v, allowed %v", path, user, inMenu, allowed)
				}
				if strings.Contains(body, i18n.Missing) {
					i := strings.Index(body, i18n.Missing)
					t.Errorf("%s as %s in %s: a key missing from the catalogue: %q", path, user, lang, body[i:min(len(body), i+60)])
				}
				if !strings.Contains(body, `href="/policy"`) {
					t.Errorf("%s as %s: no link to the policy", path, user)
				}
			}
		}
	}
	if code, _ := getPage(t, h, "/no-such-page", "viewer", i18n.Ko); code != http.StatusNotFound {
		t.Errorf("an unknown page: %d", code)
	}
	if code, _ := getPage(t, h, "/home", "viewer", i18n.Ko); code != http.StatusNotFound {
		t.Errorf("/home: %d, want 404 (the home page is /)", code)
	}
}

// A viewer of site-a sees cam-a and its alarm on the home page, and
// nothing of cam-b; the admin's home page is not empty.
func TestHomePageScope(t *testing.T) {
	h, _, _ := pageServer(t, nil)
	_, body := getPage(t, h, "/", "viewer", i18n.Ko)
	if !strings.Contains(body, `data-id="cam-a"`) || strings.Contains(body, `data-id="cam-b"`) {
		t.Errorf("viewer of site-a: cam-a shown %v, cam-b shown %v", strings.Contains(body, `data-id="cam-a"`), strings.Contains(body, `data-id="cam-b"`))
	}
	if n := strings.Count(body, `class="kind">카메라 끊김`); n != 1 {
		t.Errorf("viewer: camera-down alarms shown %d times, want 1 (cam-a only)", n)
	}
	_, body = getPage(t, h, "/", "sysadmin", i18n.Ko)
	if !strings.Contains(body, `data-id="cam-a"`) || !strings.Contains(body, `data-id="cam-b"`) {
		t.Error("the administrator's home page does not list the cameras")
	}
}

var anyTime = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?[^<"]{0,8}`)

// Every time the home page prints is in the institution's zone and says
// so: the clock is 01:01 UTC, 10:01 KST; a page showing UTC would print
// "01:0x".
func TestHomePageTimesInInstitutionZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no zone data")
	}
	h, _, _ := pageServer(t, loc)
	for _, user := range []string{"manager", "sysadmin"} {
		_, body := getPage(t, h, "/", user, i18n.Ko)
		times := anyTime.FindAllString(body, -1)
		if len(times) < 3 {
			t.Fatalf("%s: only %d times on the home page", user, len(times))
		}
		for _, tm := range times {
			if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} KST`).MatchString(tm) {
				t.Errorf("%s: time %q is not printed in the institution's zone with its name", user, tm)
			}
			if strings.Contains(tm, " 01:0") {
				t.Errorf("%s: time %q is UTC", user, tm)
			}
		}
	}
}

// Every catalogue key a template or a script names exists, so no page can
// show ⟦key⟧ whatever its data.
func TestPageKeysInCatalogue(t *testing.T) {
	tkey := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	jkey := regexp.MustCompile(`\bT\("([a-z0-9_.]*[a-z0-9_])"`)
	check := func(dir string, re *regexp.Regexp, f fs.FS) {
		fs.WalkDir(f, dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, _ := fs.ReadFile(f, path)
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				if !i18n.Has(m[1]) {
					t.Errorf("%s names %q, which the catalogue lacks", path, m[1])
				}
			}
			return nil
		})
	}
	check("templates", tkey, templateFS)
	check("ui", jkey, uiFS)
	for _, p := range pagesSorted() {
		if !i18n.Has(p.Title) {
			t.Errorf("page %s: title %q missing from the catalogue", p.Name, p.Title)
		}
	}
	for _, o := range purposeOptions {
		if !i18n.Has(o.Key) {
			t.Errorf("purpose %s: %q missing", o.Value, o.Key)
		}
	}
	for _, k := range []alarm.Kind{alarm.CameraDown, alarm.CameraStalled, alarm.LowFrameRate, alarm.Frozen, alarm.ImageProblem,
		alarm.Gap, alarm.StorageUnwritable, alarm.StorageLow, alarm.StorageWriteErrors, alarm.RetentionBroken} {
		if !i18n.Has("ui.alarm." + string(k)) {
			t.Errorf("alarm kind %s has no name", k)
		}
	}
}

// A viewing's ledger row, as the 관리대장 export prints it, names every
// time in the institution's zone: the row's 일시 and the footage period in
// its 파일명/형태 alike (they once mixed KST and UTC in one row).
func TestLedgerExportTimesInInstitutionZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no zone data")
	}
	h := newHarnessWith(t, 1, func(o *Options) { o.Location = loc })
	resp := h.do("POST", "/api/cameras/cam-a/views", "viewer", h.viewBody())
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("view: %d", resp.StatusCode)
	}
	rows := h.ledger(ledger.Playback)
	if len(rows) != 1 {
		t.Fatalf("%d playback rows", len(rows))
	}
	row := strings.Join(report.Row(rows[0]), " | ")
	times := regexp.MustCompile(`\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\S*`).FindAllString(row, -1)
	if len(times) < 3 {
		t.Fatalf("row %q: %d times, want the entry's and the footage's", row, len(times))
	}
	// h.t0 is 12:00 UTC, 21:00 KST.
	if !strings.Contains(row, "2026-06-01 21:00:00 KST") {
		t.Errorf("the footage period is not in KST: %s", row)
	}
	if regexp.MustCompile(`T\d{2}:\d{2}|Z\b|\+00:00|UTC`).MatchString(row) {
		t.Errorf("a time in UTC in the export row: %s", row)
	}
}

// An alarm acknowledgement's ledger row names the alarm's time in the
// institution's zone too.
func TestAlarmAckRowInInstitutionZone(t *testing.T) {
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Skip("no zone data")
	}
	h, _, _ := pageServer(t, loc)
	h.reset()
	resp := h.do("POST", "/api/alarms/1/ack", "manager", map[string]string{"note": "현장 확인"})
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("ack: %d", resp.StatusCode)
	}
	rows := h.ledger(ledger.DeviceCheck)
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	if o := rows[0].Object; !strings.Contains(o, " KST") || regexp.MustCompile(`T\d{2}:|Z\b`).MatchString(o) {
		t.Errorf("ack row object %q is not in the institution's zone", o)
	}
}
