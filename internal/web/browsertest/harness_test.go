package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/store"
)

// registryYAML is the test institution: two sites, three H.264 cameras
// and one H.265, names long enough to test the layout.
const registryYAML = `format: 1
organization:
  name: 브라우저시험 기관
  short_name: 본 기관
  timezone: Asia/Seoul
legal_basis:
  - law: 개인정보보호법
    article: 제25조 제1항
purposes:
  - 시설안전 및 화재 예방
  - 범죄예방
recording:
  hours: 24h
sites:
  - id: hq
    name: 본관
    kind: 본점
    retention: 30d
    storage: 전산실
    groups:
      - id: lobby
        location: 1층 출입구 및 로비
        radius_m: 20
        cameras:
          - id: cam-1
            name: 1층 정문 출입구
            stream: {url: "{{index . 0}}"}
          - id: cam-2
            name: 주차장 진입로
            stream: {url: "{{index . 1}}"}
  - id: branch
    name: 서울특별시 종로구 세종대로 남쪽 별관 지하 1층 민원실
    kind: 지점
    retention: 30d
    storage: 전산실
    groups:
      - id: hall
        location: 민원실
        radius_m: 10
        cameras:
          - id: cam-3
            name: 지하 1층 민원실 번호표 발급기 및 대기석 전체 방향
            stream: {url: "{{index . 2}}"}
          - id: cam-4
            name: 민원실 후문(H.265)
            stream: {url: "{{index . 3}}"}
personnel:
  - {role: manager, department: 총무과, title: 과장, phone: 02-000-0000}
  - {role: access, department: 총무과, title: 담당, phone: 02-000-0001}
processing:
  - 보관기간 만료 시 복원이 불가능한 방법으로 영구 삭제합니다.
outsourcing:
  vendors: []
confirmation:
  method: 영상정보 관리책임자에게 미리 연락하고 방문하시면 확인 가능합니다.
  place: 본관 총무과
requests:
  contact: 영상정보 관리책임자
  deadline_days: 10
policy:
  notice_days: 7
  notice_channel: 본 기관 홈페이지
  enacted: 2026-01-01
  history:
    - announced: 2026-01-01
      effective: 2026-01-01
      immediate_reason: 시험
      summary: 제정
`

var seoul = func() *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return l
}()

// run is a recorded run of yesterday's fixture footage.
type run struct{ from, to time.Time }

// gwanje is a running gwanje for the browser.
type gwanje struct {
	url     string
	dir     string
	app     *app.App
	sim     *camsim.Server
	day     time.Time // yesterday 00:00 in the institution's zone
	runs    map[string][]run
	admin   string // the administrator's password (changed from the one-time one)
	oneTime map[string]string
}

// yesterdayRuns are the fixture's recordings, as offsets from yesterday
// 10:00: cam-1 has a gap of one minute, cam-2 and cam-3 one run.
var yesterdayRuns = map[string][][2]time.Duration{
	"cam-1": {{0, 2 * time.Minute}, {3 * time.Minute, 5 * time.Minute}},
	"cam-2": {{0, 3 * time.Minute}},
	"cam-3": {{0, 2 * time.Minute}},
}

func startGwanje(t *testing.T) *gwanje {
	t.Helper()
	return startGwanjeOn(t, nil)
}

// startGwanjeOn starts gwanje on clk (the real clock when nil): its
// access, gate, ledger, web, health and retention tell time by clk, and
// "yesterday" is clk's. The recorder's ingest is on the real clock: the
// simulated cameras' footage arrives in real time.
func startGwanjeOn(t *testing.T, clk *clock.Fake) *gwanje {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: 4,
		Codecs: []media.Codec{media.CodecH264, media.CodecH264, media.CodecH264, media.CodecH265}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	var b strings.Builder
	template.Must(template.New("r").Parse(registryYAML)).Execute(&b, []string{sim.URL(1), sim.URL(2), sim.URL(3), sim.URL(4)})
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Registry = regPath
	cfg.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	g := &gwanje{dir: dir, sim: sim, runs: map[string][]run{}, oneTime: map[string]string{}}
	now := time.Now().In(seoul)
	opt := app.Options{}
	if clk != nil {
		now, opt.Clock = clk.Now().In(seoul), clk
	}
	g.day = time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, seoul)
	writeYesterday(t, cfg, g, log)

	a, err := app.StartWith(ctx, cfg, log, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	g.app = a
	g.url = strings.TrimSuffix(a.URL(), "/")
	g.users(t)
	return g
}

// writeYesterday writes the fixture runs into the data directory's store
// before gwanje opens it.
func writeYesterday(t *testing.T, cfg *config.Config, g *gwanje, log *slog.Logger) {
	t.Helper()
	ctx := context.Background()
	keys, err := app.LoadKeys(cfg.KeyFile(), true, log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{Dir: cfg.DataDir, Keys: keys, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	base := g.day.Add(10 * time.Hour)
	for cam, runs := range yesterdayRuns {
		w, err := st.Writer(cam)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			from, to := base.Add(r[0]), base.Add(r[1])
			g.runs[cam] = append(g.runs[cam], run{from, to})
			t0 := media.Time90k(from)
			n := int((to.Sub(from)) / (time.Second / 25))
			for i := 0; i < n; i++ {
				au := c.AUs[i%len(c.AUs)]
				data, err := media.ToAVCC(au.NALUs)
				if err != nil {
					t.Fatal(err)
				}
				f := &media.Frame{Wall: t0 + int64(i)*clip.FrameDuration, Key: au.Key, Params: c.Params, Data: data}
				if err := w.WriteFrame(f); err != nil {
					t.Fatal(err)
				}
			}
			w.Break("fixture gap")
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}

// client is an HTTP API client with its own session.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
	csrf string
}

func (g *gwanje) login(t *testing.T, name, pw string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: g.url, hc: &http.Client{Jar: jar}}
	var ans struct {
		CSRF string `json:"csrf"`
	}
	c.call("POST", "/api/login", map[string]string{"name": name, "password": pw}, &ans, 200)
	c.csrf = ans.CSRF
	return c
}

func (c *client) call(method, path string, body, out any, want int) {
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
	req.Header.Set("X-CSRF-Token", c.csrf)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != want/100 {
		c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

const strongPassword = "초록 사과 세 개와 구름-2026"

// users: the administrator changes its one-time password and creates a
// 관리책임자 (every site, one-time password left for the browser), a
// 접근권한자 of hq and a 감사, whose passwords are changed here.
func (g *gwanje) users(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.dir, app.AdminPasswordName))
	if err != nil {
		t.Fatal(err)
	}
	first := strings.TrimSpace(string(b))
	admin := g.login(t, "admin", first)
	admin.call("POST", "/api/password", map[string]string{"old": first, "new": strongPassword}, nil, 204)
	g.admin = strongPassword
	admin = g.login(t, "admin", g.admin)
	for _, u := range []struct {
		name, role string
		sites      []string
	}{{"manager", "manager", []string{"*"}}, {"guard-hq", "authorized", []string{"hq"}}, {"auditor", "auditor", []string{"*"}}} {
		var ans struct {
			Password string `json:"one_time_password"`
		}
		admin.call("POST", "/api/users", map[string]any{"name": u.name, "display": u.name,
			"grants": []map[string]any{{"role": u.role, "sites": u.sites}}}, &ans, 201)
		g.oneTime[u.name] = ans.Password
		if u.name != "manager" {
			c := g.login(t, u.name, ans.Password)
			c.call("POST", "/api/password", map[string]string{"old": ans.Password, "new": strongPassword}, nil, 204)
		}
	}
}

// footageRows counts the ledger's playback rows and refusals naming camera.
func (g *gwanje) footageRows(t *testing.T, camera string) int {
	t.Helper()
	es, err := ledger.QueryDir(context.Background(), g.dir, ledger.Filter{Kinds: []ledger.Kind{ledger.Playback, ledger.AccessRefused}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		for _, c := range e.Cameras {
			if c == camera {
				n++
			}
		}
	}
	return n
}

// playbackEntries are the ledger's playback rows.
func (g *gwanje) playbackEntries(t *testing.T) []ledger.Entry {
	t.Helper()
	es, err := ledger.QueryDir(context.Background(), g.dir, ledger.Filter{Kinds: []ledger.Kind{ledger.Playback}})
	if err != nil {
		t.Fatal(err)
	}
	return es
}
