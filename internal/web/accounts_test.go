package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/gwanje/gwanje/internal/access"
)

// TestAccountRoutesOverHTTP: the session cookie's attributes, CSRF on
// every state change of the account routes, refusal of each manage-users
// route to a user without it, and user management end to end.
func TestAccountRoutesOverHTTP(t *testing.T) {
	a := newAccountsServer(t)
	a.user("root", access.Grant{Role: access.SystemAdmin, Sites: []string{"*"}})
	a.user("staff1", access.Grant{Role: access.Staff, Sites: []string{"*"}})

	b, _ := json.Marshal(map[string]string{"name": "root", "password": grantsPW})
	resp, err := http.Post(a.ts.URL+"/api/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == access.CookieName {
			cookie = c
		}
	}
	if resp.StatusCode != 200 || cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure {
		t.Fatalf("login %d, session cookie %+v", resp.StatusCode, cookie)
	}

	root, _ := a.login("root", grantsPW)
	staff, _ := a.login("staff1", grantsPW)
	newUser := map[string]any{"name": "park", "grants": []map[string]any{{"role": "staff", "sites": []string{"main"}}}}
	for _, token := range []string{"", root.csrf + "x"} {
		s := &session{hc: root.hc, csrf: token}
		if c, _ := a.call(s, "POST", "/api/users", newUser); c != 403 {
			t.Errorf("POST /api/users with CSRF token %q: %d, want 403", token, c)
		}
		if c, _ := a.call(s, "DELETE", "/api/totp", map[string]string{"password": grantsPW}); c != 403 {
			t.Errorf("DELETE /api/totp with CSRF token %q: %d, want 403", token, c)
		}
	}
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/users", nil},
		{"POST", "/api/users", newUser},
		{"PUT", "/api/users/staff1/grants", map[string]any{"grants": []map[string]any{{"role": "auditor", "sites": []string{"*"}}}}},
		{"POST", "/api/users/staff1/deactivate", map[string]string{"reason": "transfer"}},
	} {
		if c, eb := a.call(staff, r.method, r.path, r.body); c != 403 || eb.Code != "forbidden" {
			t.Errorf("%s %s as staff: %d %q, want 403 forbidden", r.method, r.path, c, eb.Code)
		}
	}
	for _, step := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"POST", "/api/users", newUser, 201},
		{"PUT", "/api/users/park/grants", map[string]any{"grants": []map[string]any{{"role": "auditor", "sites": []string{"*"}}}}, 204},
		{"PUT", "/api/users/park/grants", map[string]any{"grants": []map[string]any{{"role": "emperor", "sites": []string{"*"}}}}, 400},
		{"POST", "/api/users/park/deactivate", map[string]string{"reason": "transfer", "note": "본점으로 전보"}, 204},
		{"POST", "/api/users/nobody/deactivate", map[string]string{"reason": "transfer"}, 404},
		{"GET", "/api/users", nil, 200},
	} {
		if c, eb := a.call(root, step.method, step.path, step.body); c != step.want {
			t.Errorf("%s %s as root: %d %+v, want %d", step.method, step.path, c, eb, step.want)
		}
	}
	us, err := a.svc.Users(context.Background(), a.svc.Operator("test"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Name == "park" && (u.Active || u.DeactivateReason != "전보") {
			t.Fatalf("park after deactivation over HTTP: %+v", u)
		}
	}
}
