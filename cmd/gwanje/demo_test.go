package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
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

// listedCamera is a camera as /api/cameras lists it.
type listedCamera struct {
	ID, State, Codec string
	Oldest, Newest   *time.Time
}

// startDemo runs `gwanje demo` with n cameras and returns a client logged
// in with the printed one-time password, already changed (checking on the
// way that the password is one-time and opens nothing else).
func startDemo(t *testing.T, n int) *client {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"demo", "-addr", "127.0.0.1:0", "-cameras", fmt.Sprint(n)}, pw, io.Discard)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("demo exited %d", code)
		}
	})
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
	return c
}

// waitRecorded polls /api/cameras until every camera records and holds at
// least d of footage.
func (c *client) waitRecorded(n int, d, limit time.Duration) []listedCamera {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		resp, b := c.do("GET", "/api/cameras", nil)
		if resp.StatusCode != 200 {
			c.t.Fatalf("cameras: %d %s", resp.StatusCode, b)
		}
		var cams []listedCamera
		json.Unmarshal(b, &cams)
		ready := len(cams) == n
		for _, cm := range cams {
			ready = ready && cm.State == "recording" && cm.Newest != nil && cm.Newest.Sub(*cm.Oldest) >= d
		}
		if ready {
			return cams
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("cameras have not recorded %v after %v: %+v", d, limit, cams)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// view asks for a viewing with a purpose and fetches the MP4.
func (c *client) view(camera string, start, end time.Time) (*http.Response, []byte) {
	c.t.Helper()
	resp, b := c.do("POST", "/api/cameras/"+camera+"/views", map[string]any{
		"start": start, "end": end, "purpose": "시스템점검", "reason": "녹화 점검"})
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("%s: view: %d %s", camera, resp.StatusCode, b)
	}
	var v struct {
		URL string `json:"url"`
	}
	json.Unmarshal(b, &v)
	return c.do("GET", v.URL, nil)
}

// TestDemo runs `gwanje demo` and uses it as a person would through the
// page's API: log in with the printed one-time password, change it, list
// the cameras, and play the last minute of each.
func TestDemo(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil && os.Getenv("CI") != "" {
		t.Fatal("ffprobe is required in CI")
	}
	c := startDemo(t, 4)
	cams := c.waitRecorded(4, 3*time.Second, 60*time.Second)
	dir := t.TempDir()
	for _, cm := range cams {
		end := time.Now()
		resp, mp4 := c.view(cm.ID, end.Add(-time.Minute), end)
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

// TestFiveMinuteRecordingPlaysBack records the simulator for five minutes
// of real time and plays the five minutes back through the endpoint, for
// an H.264 and an H.265 camera: ffprobe reports the duration within one
// frame per segment boundary, and ffmpeg decodes it without one error.
func TestFiveMinuteRecordingPlaysBack(t *testing.T) {
	if testing.Short() {
		t.Skip("records for five minutes")
	}
	t.Parallel()
	ffprobe, err1 := exec.LookPath("ffprobe")
	ffmpeg, err2 := exec.LookPath("ffmpeg")
	if err1 != nil || err2 != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg and ffprobe are required in CI")
		}
		t.Skip("ffmpeg not installed")
	}
	c := startDemo(t, 4) // demo-1 is H.264, demo-4 H.265
	const span = 5 * time.Minute
	cams := c.waitRecorded(4, span, span+2*time.Minute)
	dir := t.TempDir()
	for _, cm := range cams {
		if cm.ID != "demo-1" && cm.ID != "demo-4" {
			continue
		}
		start := *cm.Oldest
		resp, mp4 := c.view(cm.ID, start, start.Add(span))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", cm.ID, resp.StatusCode)
		}
		p := filepath.Join(dir, cm.ID+".mp4")
		os.WriteFile(p, mp4, 0o600)
		out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:stream=codec_name",
			"-of", "default=nw=1:nk=1", p).Output()
		if err != nil {
			t.Fatalf("%s: ffprobe: %v", cm.ID, err)
		}
		f := strings.Fields(string(out))
		var dur float64
		fmt.Sscan(f[len(f)-1], &dur)
		// Segments are about a minute: allow one 40 ms frame per boundary.
		boundaries := int(span/time.Minute) + 1
		if tol := float64(boundaries) * 0.04; dur < span.Seconds()-tol || dur > span.Seconds()+tol {
			t.Errorf("%s (%s): ffprobe duration %.3f s, want %.0f ± %.2f s", cm.ID, f[0], dur, span.Seconds(), tol)
		}
		var stderr bytes.Buffer
		dec := exec.Command(ffmpeg, "-v", "error", "-i", p, "-f", "null", "-")
		dec.Stderr = &stderr
		if err := dec.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("%s: ffmpeg decode: %v %s", cm.ID, err, stderr.String())
		}
		t.Logf("%s (%s): %.3f s, %d bytes", cm.ID, f[0], dur, len(mp4))
	}
}
