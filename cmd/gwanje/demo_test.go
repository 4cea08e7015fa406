package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// client is a browser-like HTTP client of the demo: cookies and the CSRF
// token of its session.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (c *client) do(method, path string, body any) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != "GET" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, b
}

// TestDemo runs `gwanje demo` and uses it as a person would through the
// page's API: log in with the printed one-time password, change it, list
// the cameras, and play the last minute of each; every viewing is in the
// ledger, the policy is public, and nothing else is.
func TestDemo(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("ffprobe is required in CI")
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "-addr", "127.0.0.1:0", "-cameras", "4"}, pw, io.Discard)
		pw.Close()
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	}()
	var url, password string
	sc := bufio.NewScanner(pr)
	for sc.Scan() && (url == "" || password == "") {
		line := sc.Text()
		if m := regexp.MustCompile(`open\s+(http://\S+)`).FindStringSubmatch(line); m != nil {
			url = strings.TrimSuffix(m[1], "/")
		}
		if m := regexp.MustCompile(`^\s+password\s+(\S+)`).FindStringSubmatch(line); m != nil {
			password = m[1]
		}
	}
	go io.Copy(io.Discard, pr)
	if url == "" || password == "" {
		t.Fatal("demo did not print the URL and the password")
	}
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: url, hc: &http.Client{Jar: jar}}

	// Nothing but the page, the policy and login is reachable without a
	// session.
	if resp, _ := c.do("GET", "/api/cameras", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("cameras without a session: %d", resp.StatusCode)
	}
	if resp, b := c.do("GET", "/policy", nil); resp.StatusCode != 200 || !strings.Contains(string(b), "영상정보처리기기") {
		t.Errorf("public policy: %d", resp.StatusCode)
	}
	resp, b := c.do("POST", "/api/login", map[string]string{"name": "manager", "password": password})
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	var login struct {
		CSRF       string `json:"csrf"`
		MustChange bool   `json:"must_change_password"`
	}
	json.Unmarshal(b, &login)
	c.csrf = login.CSRF
	if !login.MustChange {
		t.Error("the printed password is not one-time")
	}
	// A one-time password opens nothing but the password change.
	if resp, _ := c.do("GET", "/api/cameras", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("cameras before the password change: %d", resp.StatusCode)
	}
	if resp, b := c.do("POST", "/api/password", map[string]string{"old": password, "new": "demo-Passw0rd-changed"}); resp.StatusCode/100 != 2 {
		t.Fatalf("password change: %d %s", resp.StatusCode, b)
	}

	type camera struct {
		ID, State, Codec string
		Oldest, Newest   *time.Time
	}
	var cams []camera
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, b := c.do("GET", "/api/cameras", nil)
		if resp.StatusCode != 200 {
			t.Fatalf("cameras: %d %s", resp.StatusCode, b)
		}
		cams = nil
		json.Unmarshal(b, &cams)
		ready := len(cams) == 4
		for _, cm := range cams {
			// At least 3 s recorded, so "the last minute" has footage.
			ready = ready && cm.State == "recording" && cm.Newest != nil && cm.Newest.Sub(*cm.Oldest) >= 3*time.Second
		}
		if ready {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cameras not recording after 60 s: %+v", cams)
		}
		time.Sleep(200 * time.Millisecond)
	}
	dir := t.TempDir()
	for _, cm := range cams {
		end := time.Now()
		resp, b := c.do("POST", "/api/cameras/"+cm.ID+"/views", map[string]any{
			"start": end.Add(-time.Minute), "end": end, "purpose": "시스템점검", "reason": "데모 점검"})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: view: %d %s", cm.ID, resp.StatusCode, b)
		}
		var v struct {
			URL string `json:"url"`
		}
		json.Unmarshal(b, &v)
		resp, mp4 := c.do("GET", v.URL, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/mp4" || len(mp4) < 100_000 {
			t.Fatalf("%s: playback: %d %q %d bytes", cm.ID, resp.StatusCode, resp.Header.Get("Content-Type"), len(mp4))
		}
		if ffprobe != "" {
			p := filepath.Join(dir, cm.ID+".mp4")
			os.WriteFile(p, mp4, 0o600)
			out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", p).CombinedOutput()
			got := strings.TrimSpace(string(out))
			if err != nil || (got != "h264" && got != "hevc") {
				t.Errorf("%s: ffprobe: %v %q", cm.ID, err, out)
			}
		}
	}
}
