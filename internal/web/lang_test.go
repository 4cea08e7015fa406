package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/i18n"
)

// apiError decodes an error response.
func apiError(t *testing.T, resp *http.Response) (int, ErrorBody) {
	t.Helper()
	defer resp.Body.Close()
	var b ErrorBody
	json.NewDecoder(resp.Body).Decode(&b)
	return resp.StatusCode, b
}

// putLang sets user's language through the route, with or without the
// session's CSRF token, from a browser whose cookie says Korean.
func putLang(t *testing.T, h *harness, user, lang string, withCSRF bool) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("PUT", h.ts.URL+"/api/me/lang", strings.NewReader(`{"lang":"`+lang+`"}`))
	req.Header.Set("Content-Type", "application/json")
	s := h.users[user]
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: s.token})
	req.AddCookie(&http.Cookie{Name: i18n.CookieName, Value: "ko"})
	if withCSRF {
		req.Header.Set("X-CSRF-Token", s.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestUserLangInPagesAndErrors: a user who chose English reads English
// pages and error messages whatever the browser's cookie says, in this
// session and the next; another user stays Korean; the setting needs the
// session's CSRF token and a known language.
func TestUserLangInPagesAndErrors(t *testing.T) {
	h, _, _ := pageServer(t, nil)

	// Without the CSRF token: refused, nothing changes.
	if code, b := apiError(t, putLang(t, h, "viewer", "en", false)); code != http.StatusForbidden || b.Code != "forbidden" {
		t.Fatalf("PUT /api/me/lang without CSRF: %d %+v", code, b)
	}
	if _, page := getPage(t, h, "/", "viewer", i18n.Ko); !strings.Contains(page, `<html lang="ko">`) {
		t.Fatal("the refused setting changed the page's language")
	}
	if code, b := apiError(t, putLang(t, h, "viewer", "fr", true)); code != http.StatusBadRequest || b.Code != "lang.unknown" ||
		b.Message != i18n.T(i18n.Ko, "lang.unknown", nil) {
		t.Fatalf("PUT fr: %d %+v", code, b)
	}
	resp := putLang(t, h, "viewer", "en", true)
	var got map[string]string
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got["lang"] != "en" {
		t.Fatalf("PUT en: %d %v", resp.StatusCode, got)
	}

	// /api/me says so.
	resp = h.do("GET", "/api/me", "viewer", nil)
	var meBody map[string]any
	json.NewDecoder(resp.Body).Decode(&meBody)
	resp.Body.Close()
	if meBody["lang"] != "en" {
		t.Fatalf("/api/me: %v", meBody)
	}

	// Pages: English for viewer though the cookie says Korean; Korean for
	// manager on the same kind of browser.
	if code, page := getPage(t, h, "/", "viewer", i18n.Ko); code != 200 || !strings.Contains(page, `<html lang="en">`) ||
		!strings.Contains(page, i18n.T(i18n.En, "ui.logout", nil)) {
		t.Fatalf("viewer's home page is not English (%d)", code)
	}
	if _, page := getPage(t, h, "/", "manager", i18n.Ko); !strings.Contains(page, `<html lang="ko">`) ||
		!strings.Contains(page, i18n.T(i18n.Ko, "ui.logout", nil)) {
		t.Fatal("manager's home page is not Korean")
	}
	// The error page of a page viewer may not use.
	if code, page := getPage(t, h, "/users", "viewer", i18n.Ko); code != http.StatusForbidden ||
		!strings.Contains(page, i18n.T(i18n.En, "ui.error.forbidden", nil)) {
		t.Fatalf("viewer's error page: %d, not in English", code)
	}

	// API errors: a handler's refusal and the guard's own (CSRF) speak
	// the user's language; manager's the default.
	for _, c := range []struct {
		user string
		lang i18n.Lang
	}{{"viewer", i18n.En}, {"manager", i18n.Ko}} {
		req, _ := http.NewRequest("POST", h.ts.URL+"/api/cameras/cam-a/views", strings.NewReader(`{`))
		req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users[c.user].token})
		req.Header.Set("X-CSRF-Token", h.users[c.user].csrf)
		code, b := apiError(t, mustDo(t, req))
		if code != http.StatusBadRequest || b.Message != i18n.T(c.lang, string(b.Code), b.Params) {
			t.Errorf("%s: bad body: %d %+v, want the %s message", c.user, code, b, c.lang)
		}
		req, _ = http.NewRequest("POST", h.ts.URL+"/api/logout", nil)
		req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users[c.user].token})
		code, b = apiError(t, mustDo(t, req))
		if code != http.StatusForbidden || b.Message != i18n.T(c.lang, "forbidden", nil) {
			t.Errorf("%s: no CSRF: %d %+v, want the %s message", c.user, code, b, c.lang)
		}
	}

	// A new session of viewer's (another browser, no cookie) is English
	// too; the login page before anyone is known follows the cookie.
	sess, err := h.svc.Login(context.Background(), "viewer", testPassword, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	h.users["viewer2"] = &userSession{token: sess.Token, csrf: sess.CSRF}
	if _, page := getPage(t, h, "/", "viewer2", ""); !strings.Contains(page, `<html lang="en">`) {
		t.Fatal("viewer's next session is not English")
	}
	if _, page := getPage(t, h, "/login", "", i18n.Ko); !strings.Contains(page, `<html lang="ko">`) {
		t.Fatal("the login page of a stranger does not follow the cookie (ko)")
	}
	if _, page := getPage(t, h, "/login", "", i18n.En); !strings.Contains(page, `<html lang="en">`) {
		t.Fatal("the login page of a stranger does not follow the cookie (en)")
	}
}

func mustDo(t *testing.T, req *http.Request) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}
