package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/retention"
	"github.com/gwanje/gwanje/internal/store"
)

// manyCameras is n recording cameras on 8 sites, each with a day of
// one-minute segments and one gap.
type manyCameras struct{ n int }

func (m manyCameras) Camera(id string) (CameraInfo, bool) {
	var i int
	if _, err := fmt.Sscanf(id, "cam-%d", &i); err != nil || i < 1 || i > m.n {
		return CameraInfo{}, false
	}
	return CameraInfo{ID: id, Name: fmt.Sprintf("%d번 카메라 정문 출입구 방향", i), Site: fmt.Sprintf("site-%d", i%8),
		SiteName: fmt.Sprintf("제%d 지점 민원실", i%8)}, true
}

func (m manyCameras) List() []CameraInfo {
	out := make([]CameraInfo, 0, m.n)
	for i := 1; i <= m.n; i++ {
		c, _ := m.Camera(fmt.Sprintf("cam-%d", i))
		out = append(out, c)
	}
	return out
}

func (manyCameras) State(id string) (ingest.State, bool) {
	return ingest.State{Camera: id, Status: ingest.Recording, Since: time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)}, true
}
func (manyCameras) Subscribe(string) (Feed, bool) { return nil, false }

// daySource answers Segments with a day of one-minute segments and a gap,
// the same slice every time: the benchmark measures the page, not a store.
type daySource struct {
	day  int64
	segs []store.Segment
}

func (d *daySource) Segments(_ context.Context, camera string, start, end int64) ([]store.Segment, error) {
	if d.segs != nil {
		return d.segs, nil
	}
	var out []store.Segment
	for t := max(start, d.day); t+60*media.Hz <= end; t += 60 * media.Hz {
		if (t-d.day)/(60*media.Hz) == 100 {
			continue // a gap of a minute
		}
		out = append(out, store.Segment{Camera: camera, Start: t, End: t + 60*media.Hz, Codec: media.CodecH264, Frames: 1500, Bytes: 1 << 20})
	}
	d.segs = out
	return out, nil
}

func (*daySource) Open(context.Context, int64) (playback.SegmentData, error) {
	return nil, errs.E("bench", errs.NotExist)
}

type manyRetention struct{ *fakeRetention }

func (manyRetention) Status(context.Context) (*retention.Status, error) {
	st := &retention.Status{Bytes: 1 << 40, FSTotal: 4 << 40, FSFree: 3 << 40}
	for i := 1; i <= 240; i++ {
		st.Cameras = append(st.Cameras, retention.CameraStatus{Camera: fmt.Sprintf("cam-%d", i), Promised: "30d", PromisedKorean: "30일",
			Oldest: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), Bytes: 20 << 30})
	}
	return st, nil
}

// BenchmarkHomePage240 renders the home page of a 관리책임자 of 240
// cameras on 8 sites with a day of one-minute segments each (docs/benchmarks.md).
func BenchmarkHomePage240(b *testing.B) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC) // 18:00 KST
	clk := clock.NewFake(now)
	am := alarm.New(alarm.Options{Clock: clk})
	for i := 1; i <= 12; i++ {
		am.Raise(alarm.CameraDown, fmt.Sprintf("cam-%d", i*20), alarm.Critical, "no video")
	}
	sites := []string{}
	for i := 0; i < 8; i++ {
		sites = append(sites, fmt.Sprintf("site-%d", i))
	}
	day := time.Date(2026, 12, 3, 0, 0, 0, 0, defaultZone)
	ctx := context.Background()
	lg := ledger.AppenderFunc(func(_ context.Context, e ledger.Entry) (ledger.Entry, error) { return e, nil })
	svc, err := access.Open(ctx, access.Config{Dir: b.TempDir(), Ledger: lg, Clock: clk, Logger: discardLogger(),
		Argon2: fastArgon, IdleTimeout: 24 * time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	local := netip.MustParseAddr("127.0.0.1")
	pw, _, _ := svc.EnsureAdmin(ctx, "admin")
	s, err := svc.Login(ctx, "admin", pw, "", local)
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.ChangePassword(ctx, s.Principal, pw, testPassword); err != nil {
		b.Fatal(err)
	}
	_, otp, err := svc.CreateUser(ctx, s.Principal, "manager", "manager", []access.Grant{{Role: access.Manager, Sites: sites}})
	if err != nil {
		b.Fatal(err)
	}
	m, _ := svc.Login(ctx, "manager", otp, "", local)
	if err := svc.ChangePassword(ctx, m.Principal, otp, testPassword); err != nil {
		b.Fatal(err)
	}
	m, _ = svc.Login(ctx, "manager", testPassword, "", local)
	srv, err := New(Options{
		Guard: AccessGuard{S: svc, Clock: clk}, Acks: svc,
		Cameras:   manyCameras{240},
		Footage:   &daySource{day: media.Time90k(day)},
		Ledger:    lg,
		Retention: manyRetention{&fakeRetention{}},
		Alarms:    am,
		Clock:     clk,
		Logger:    discardLogger(),
	})
	if err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "127.0.0.1:1234"
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: m.Token})
	var size int
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
		size = w.Body.Len()
	}
	b.ReportMetric(float64(size)/1024, "KiB/page")
}
