package app

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/retention"
	_ "github.com/gwanje/gwanje/internal/sqlitedb" // the SQLite driver
	"github.com/gwanje/gwanje/internal/store"
)

// homeNow is the benchmark's clock: 18:00 KST, 1,080 minutes into the day.
var homeNow = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// BenchmarkHomePage240Stores renders the home page (GET /) of a 관리책임자
// of 240 cameras on 8 sites through gwanje as it runs (internal/app): the
// segment index in SQLite with a month of one-minute segments per camera
// (GWANJE_BENCH_DAYS, default 30: 10.3 million rows), the retention
// engine's status, the alarm store with 12 alarms, 3 holds, the access
// service's session and permission checks. The index is built once into
// GWANJE_BENCH_HOME (a temporary directory when unset) and reused:
//
//	GWANJE_BENCH_HOME=/tmp/gwbench/home go test -run XXX -bench HomePage240Stores -benchtime 20x ./internal/app/
//
// It reports the server time per page, the page's size and its size
// gzipped (docs/benchmarks.md, "Home page with 240 cameras").
func BenchmarkHomePage240Stores(b *testing.B) {
	ctx := context.Background()
	const cams = 240
	days := 30
	if n, err := strconv.Atoi(os.Getenv("GWANJE_BENCH_DAYS")); err == nil && n > 0 {
		days = n
	}
	cache := os.Getenv("GWANJE_BENCH_HOME")
	if cache == "" {
		cache = b.TempDir()
	}
	cache = filepath.Join(cache, fmt.Sprintf("%dx%d", cams, days))
	if err := homeIndex(ctx, b, cache, cams, days); err != nil {
		b.Fatal(err)
	}
	// A fresh data directory around the cached index (a hard link: the
	// run writes nothing to it but its own migrations).
	dir := b.TempDir()
	for _, f := range []string{"index.db"} {
		if err := os.Link(filepath.Join(cache, f), filepath.Join(dir, f)); err != nil {
			b.Fatal(err)
		}
	}
	regPath := filepath.Join(dir, "registry.yaml")
	if err := os.WriteFile(regPath, []byte(homeRegistry(cams)), 0o600); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.MasterKeyFile = filepath.Join(cache, "master.key")
	cfg.Registry = regPath
	cfg.Listen = "127.0.0.1:0"
	cfg.Health.StillCheck = false
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	clk := clock.NewFake(homeNow)
	t0 := time.Now()
	a, err := StartWith(ctx, cfg, slog.New(slog.DiscardHandler), Options{Clock: clk})
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	b.Logf("gwanje started on the index in %v", time.Since(t0).Round(time.Millisecond))
	for i := 1; i <= 12; i++ {
		a.alarms.Raise(alarm.CameraDown, homeCamera(i*20), alarm.Critical, "no video")
	}
	holds := a.retention.engine.Holds()
	for i := range 3 {
		from := homeNow.AddDate(0, 0, -3*(i+1))
		if _, err := holds.Add(ctx, retention.Hold{Owner: retention.OwnerManual, Reason: "수사 협조", Actor: "admin",
			Cameras: []string{homeCamera(1 + i), homeCamera(100 + i)}, From: from, To: from.Add(2 * time.Hour)}); err != nil {
			b.Fatal(err)
		}
	}
	token := homeManager(ctx, b, a)
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:1234"
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: token})
	var body []byte
	render := func() {
		w := httptest.NewRecorder()
		a.web.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body.Bytes())
		}
		body = w.Body.Bytes()
	}
	t1 := time.Now()
	render() // the first page: caches cold (the page cache holds whatever the build left)
	b.Logf("first page: %v", time.Since(t1).Round(time.Millisecond))
	for _, want := range []string{homeCamera(240), "수사 협조"} {
		if !bytes.Contains(body, []byte(want)) {
			b.Fatalf("the page lacks %q", want)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		render()
	}
	b.StopTimer()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(body)
	zw.Close()
	b.ReportMetric(float64(len(body))/1024, "KiB/page")
	b.ReportMetric(float64(z.Len())/1024, "KiB-gzip/page")
}

func homeCamera(i int) string { return fmt.Sprintf("cam-%03d", i) }

// homeManager creates a 관리책임자 of every site and returns a session.
func homeManager(ctx context.Context, b *testing.B, a *App) string {
	local := netip.MustParseAddr("127.0.0.1")
	const pw = "초록 사과 세 개와 구름-2026"
	s, err := a.access.Login(ctx, "admin", a.adminPassword, "", local)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.access.ChangePassword(ctx, s.Principal, a.adminPassword, pw); err != nil {
		b.Fatal(err)
	}
	_, otp, err := a.access.CreateUser(ctx, s.Principal, "manager", "manager", []access.Grant{{Role: access.Manager, Sites: []string{"*"}}})
	if err != nil {
		b.Fatal(err)
	}
	m, err := a.access.Login(ctx, "manager", otp, "", local)
	if err != nil {
		b.Fatal(err)
	}
	if err := a.access.ChangePassword(ctx, m.Principal, otp, pw); err != nil {
		b.Fatal(err)
	}
	if m, err = a.access.Login(ctx, "manager", pw, "", local); err != nil {
		b.Fatal(err)
	}
	return m.Token
}

// homeRegistry is n cameras on 8 sites with 30 days promised. Their
// streams point at a port where nothing listens: no camera records, so
// the run adds no row to the shared index.
func homeRegistry(n int) string {
	var b strings.Builder
	b.WriteString(`format: 1
organization: {name: 벤치마크 기관, short_name: 본 기관, timezone: Asia/Seoul}
legal_basis: [{law: 개인정보보호법, article: 제25조 제1항}]
purposes: [시설안전 및 화재 예방, 범죄예방]
recording: {hours: 24h}
sites:
`)
	for s := 0; s < 8; s++ {
		fmt.Fprintf(&b, "  - id: site-%d\n    name: 제%d 지점 민원실\n    kind: 지점\n    retention: 30d\n    storage: 전산실\n    groups:\n      - id: g%d\n        location: 출입구\n        radius_m: 10\n        cameras:\n", s, s+1, s)
		for i := 1; i <= n; i++ {
			if i%8 == s {
				fmt.Fprintf(&b, "          - id: %s\n            name: %d번 카메라 정문 출입구 방향\n            stream: {url: \"rtsp://127.0.0.1:9/%d\"}\n", homeCamera(i), i, i)
			}
		}
	}
	b.WriteString(`personnel:
  - {role: manager, department: 총무과, title: 과장, phone: 02-000-0000}
processing: [보관기간 만료 시 복원이 불가능한 방법으로 영구 삭제합니다.]
outsourcing: {vendors: []}
confirmation: {method: 영상정보 관리책임자에게 미리 연락하고 방문하시면 확인 가능합니다., place: 본관 총무과}
requests: {contact: 영상정보 관리책임자, deadline_days: 10}
policy:
  notice_days: 7
  notice_channel: 본 기관 홈페이지
  enacted: 2026-01-01
  history: [{announced: 2026-01-01, effective: 2026-01-01, immediate_reason: 시험, summary: 제정}]
`)
	return b.String()
}

// homeIndex builds, in dir, index.db with cams cameras' one-minute
// segments from days-1 days before homeNow's day to homeNow, one gap of a
// minute each today, and the key file. Two real segments are written
// through the store first (a minute of the 25 fps clip and a two-frame
// stand-in); every row is a copy of one of them under its own camera and
// time, inserted in bulk: today's rows copy the real minute (their frame
// index is what a real minute's is, about 8 KiB), older rows the
// stand-in's small one with the real minute's file size. There are no
// segment files: the home page reads only the index.
func homeIndex(ctx context.Context, b *testing.B, dir string, cams, days int) error {
	if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
		return nil
	}
	t0 := time.Now()
	os.RemoveAll(dir)
	keys, err := LoadKeys(filepath.Join(dir, "master.key"), true, nil)
	if err != nil {
		return err
	}
	st, err := store.OpenFixture(ctx, store.Config{Dir: dir, Keys: keys})
	if err != nil {
		return err
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		return err
	}
	w, err := st.Writer("template")
	if err != nil {
		return err
	}
	base := media.Time90k(homeNow.AddDate(-1, 0, 0))
	// A writer's first segment is cut short (the store staggers cameras'
	// cuts): spend it on a primer.
	primer := media.Frame{Key: true, Params: c.Params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}, Wall: base - 600*media.Hz}
	if err := w.WriteFrame(&primer); err != nil {
		return err
	}
	w.Break("primer")
	for i := 0; i < 1500; i++ {
		au := c.AUs[i%len(c.AUs)]
		data, err := media.ToAVCC(au.NALUs)
		if err != nil {
			return err
		}
		if err := w.WriteFrame(&media.Frame{Wall: base + int64(i)*clip.FrameDuration, Key: au.Key, Params: c.Params, Data: data}); err != nil {
			return err
		}
	}
	w.Break("template")
	key := media.Frame{Key: true, Params: c.Params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}, Wall: base + 120*media.Hz}
	delta := media.Frame{Params: c.Params, Data: []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}, Wall: base + 150*media.Hz}
	if err := w.WriteFrame(&key); err != nil {
		return err
	}
	if err := w.WriteFrame(&delta); err != nil {
		return err
	}
	w.Break("template")
	if err := w.Close(); err != nil {
		return err
	}
	if err := st.Close(); err != nil {
		return err
	}
	os.RemoveAll(filepath.Join(dir, "segments"))
	os.Remove(filepath.Join(dir, "store.lock"))

	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "index.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF`); err != nil {
		return err
	}
	type tmpl struct {
		codec                                            int
		params, wrapped, sha, index                      []byte
		keyID                                            string
		frames, keyFrames, mediaBytes, fileBytes, length int64
	}
	var real, stand tmpl
	rows, err := db.QueryContext(ctx, `SELECT codec, params_sealed, key_id, wrapped_key, frames, key_frames, media_bytes, file_bytes, sha256, frame_index, end_90k - start_90k
		FROM segment WHERE camera = 'template' ORDER BY start_90k`)
	if err != nil {
		return err
	}
	for _, t := range []*tmpl{{}, &real, &stand} {
		if !rows.Next() {
			rows.Close()
			return fmt.Errorf("template rows missing")
		}
		if err := rows.Scan(&t.codec, &t.params, &t.keyID, &t.wrapped, &t.frames, &t.keyFrames, &t.mediaBytes, &t.fileBytes, &t.sha, &t.index, &t.length); err != nil {
			rows.Close()
			return err
		}
	}
	rows.Close()
	if _, err := db.ExecContext(ctx, `DELETE FROM segment WHERE camera = 'template'`); err != nil {
		return err
	}
	const minute = 60 * media.Hz
	y, m, d := homeNow.In(seoulZone()).Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, seoulZone())
	first, todayStart, end := media.Time90k(today.AddDate(0, 0, -(days-1))), media.Time90k(today), media.Time90k(homeNow)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key,
		frames, key_frames, media_bytes, file_bytes, sha256, frame_index) VALUES (?, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	n := 0
	for i := 1; i <= cams; i++ {
		cam := homeCamera(i)
		gap := todayStart + int64(100+i)*minute // a minute missing today
		disc := 1
		for t := first; t+minute <= end; t += minute {
			if t == gap {
				disc = 1
				continue
			}
			s := &stand
			if t >= todayStart {
				s = &real
			}
			if _, err := ins.ExecContext(ctx, cam, t, t+minute, disc, s.codec, s.params, s.keyID, s.wrapped, s.frames, s.keyFrames,
				s.mediaBytes, real.fileBytes, s.sha, s.index); err != nil {
				return err
			}
			disc = 0
			if n++; n%200000 == 0 {
				if err := tx.Commit(); err != nil {
					return err
				}
				if tx, err = db.BeginTx(ctx, nil); err != nil {
					return err
				}
				if ins, err = tx.PrepareContext(ctx, `INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key,
		frames, key_frames, media_bytes, file_bytes, sha256, frame_index) VALUES (?, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); err != nil {
					return err
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return err
	}
	b.Logf("index: %d rows of %d cameras in %v (real frame index %d bytes, stand-in %d)", n, cams, time.Since(t0).Round(time.Second), len(real.index), len(stand.index))
	return os.WriteFile(filepath.Join(dir, "ready"), nil, 0o600)
}

func seoulZone() *time.Location {
	l, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		panic(err)
	}
	return l
}
