package web

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/mask"
)

// zoneCams are the harness's cameras with privacy zones on cam-a.
type zoneCams struct {
	*liveCameras
	mu    sync.Mutex
	zones []mask.Zone
}

func (c *zoneCams) PrivacyZones(id string) []mask.Zone {
	c.mu.Lock()
	defer c.mu.Unlock()
	if id != "cam-a" {
		return nil
	}
	return c.zones
}

func (c *zoneCams) set(z []mask.Zone) {
	c.mu.Lock()
	c.zones = z
	c.mu.Unlock()
}

// The zone: the upper right of the picture.
var testZone = []mask.Zone{{Name: "옆집 창문", Points: []mask.Point{{X: 0.5, Y: 0.1}, {X: 0.9, Y: 0.1}, {X: 0.9, Y: 0.5}, {X: 0.5, Y: 0.5}}}}

// Decoded frames are scaled to 320×180; in them the zone is x 160–288,
// y 18–90.
const zW, zH = 320, 180

var (
	zoneInside  = box{x: 168, y: 24, w: 112, h: 60}
	zoneOutside = box{x: 16, y: 100, w: 120, h: 70}
)

type box struct{ x, y, w, h int }

func boxStats(f []byte, b box) (mean, variance float64) {
	var s, s2, n float64
	for y := b.y; y < b.y+b.h; y++ {
		for x := b.x; x < b.x+b.w; x++ {
			v := float64(f[y*zW+x])
			s, s2, n = s+v, s2+v*v, n+1
		}
	}
	mean = s / n
	return mean, s2/n - mean*mean
}

// grey decodes an MP4 to 320×180 8-bit luma frames.
func grey(t *testing.T, body []byte) [][]byte { return decodeGrey(t, body, false) }

// greyPartial decodes what there is of a cut stream.
func greyPartial(t *testing.T, body []byte) [][]byte { return decodeGrey(t, body, true) }

func decodeGrey(t *testing.T, body []byte, partial bool) [][]byte {
	t.Helper()
	p := filepath.Join(t.TempDir(), "v.mp4")
	if err := os.WriteFile(p, body, 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-i", p,
		"-vf", "scale=320:180", "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil && !partial {
		t.Fatalf("decoding: %v", err)
	}
	var fs [][]byte
	for b := out.Bytes(); len(b) >= zW*zH; b = b[zW*zH:] {
		fs = append(fs, b[:zW*zH])
	}
	return fs
}

func needFFmpeg(t *testing.T) string {
	t.Helper()
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ffmpeg is required in CI")
		}
		t.Skip("no ffmpeg")
	}
	return ff
}

// newZoneHarness is a harness whose cam-a has a privacy zone, with
// ffmpeg at ffmpeg ("" none); users: viewer (접근권한자) and boss
// (관리책임자) of site-a.
func newZoneHarness(t *testing.T, ffmpeg string, opt func(*Options)) (*harness, *zoneCams) {
	zc := &zoneCams{zones: testZone}
	h := newHarnessWith(t, 1, func(o *Options) {
		zc.liveCameras = o.Cameras.(*liveCameras)
		o.Cameras, o.Transcode = zc, ffmpeg
		if opt != nil {
			opt(o)
		}
	})
	h.addUser(h.admin, "boss", access.Grant{Role: access.Manager, Sites: []string{"site-a"}})
	h.reset()
	return h, zc
}

func (h *harness) playback(user string) (*http.Response, []byte) {
	h.t.Helper()
	resp := h.do("POST", "/api/cameras/cam-a/views", user, map[string]any{
		"start": h.t0, "end": h.t0.Add(2 * time.Second), "purpose": "complaint", "reason": "분실물 확인"})
	if resp.StatusCode != 201 {
		return resp, nil
	}
	var v viewResponse
	decodeJSON(h.t, resp, &v)
	resp = h.do("GET", v.URL, user, nil)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, body
}

// A 접근권한자's playback of a camera with a privacy zone is masked in
// every frame (and only there), and the 관리대장 row says so; a
// 관리책임자's is the untouched recording, byte for byte what is served
// for a camera without zones.
func TestPlaybackMasksZonesForRolesThatMustNotSeeThem(t *testing.T) {
	ff := needFFmpeg(t)
	h, zc := newZoneHarness(t, ff, nil)

	resp, masked := h.playback("viewer")
	if resp.StatusCode != 200 || resp.Header.Get("X-Gwanje-Form") != "masked" {
		t.Fatalf("viewer: %d, form %q", resp.StatusCode, resp.Header.Get("X-Gwanje-Form"))
	}
	rows := h.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Form != maskedPlayback || rows[0].Role != "접근권한자" {
		t.Fatalf("viewer's rows: %+v", rows)
	}

	resp, plain := h.playback("boss")
	if resp.StatusCode != 200 || resp.Header.Get("X-Gwanje-Form") != "" {
		t.Fatalf("boss: %d, form %q", resp.StatusCode, resp.Header.Get("X-Gwanje-Form"))
	}
	rows = h.ledger(ledger.Playback)
	if len(rows) != 2 || rows[1].Form == maskedPlayback || rows[1].Role != "관리책임자" {
		t.Fatalf("boss's row: %+v", rows[1:])
	}
	zc.set(nil)
	_, unzoned := h.playback("boss")
	if !bytes.Equal(plain, unzoned) || len(plain) < 1000 {
		t.Errorf("the 관리책임자's view (%d bytes) is not the unmasked path's (%d bytes)", len(plain), len(unzoned))
	}

	sf, mf := grey(t, plain), grey(t, masked)
	if len(mf) != len(sf) || len(mf) == 0 {
		t.Fatalf("masked %d frames, recorded %d", len(mf), len(sf))
	}
	for i := range mf {
		if _, v := boxStats(sf[i], zoneInside); v < 100 {
			t.Fatalf("frame %d: the recording's zone has variance %.0f: the test cannot tell", i, v)
		}
		if m, v := boxStats(mf[i], zoneInside); m > 40 || v > 20 {
			t.Errorf("frame %d: inside the zone mean %.0f, variance %.0f: not masked", i, m, v)
		}
		sm, _ := boxStats(sf[i], zoneOutside)
		mm, _ := boxStats(mf[i], zoneOutside)
		if d := mm - sm; d > 8 || d < -8 {
			t.Errorf("frame %d: outside the zone the mean moved by %.1f", i, d)
		}
	}
}

// Without ffmpeg a 접근권한자's view of a camera with zones is refused with
// zones.ffmpeg before any footage is read or ledgered; the 관리책임자's is
// served as recorded.
func TestZonesWithoutFFmpegRefused(t *testing.T) {
	h, _ := newZoneHarness(t, "", nil)
	for _, path := range []string{"/api/cameras/cam-a/views", "/api/cameras/cam-a/live"} {
		h.cams.record("cam-a")
		resp := h.do("POST", path, "viewer", map[string]any{
			"start": h.t0, "end": h.t0.Add(2 * time.Second), "purpose": "complaint", "reason": "분실물 확인"})
		var e struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 503 || e.Code != "zones.ffmpeg" {
			t.Errorf("%s: %d %q, want 503 zones.ffmpeg", path, resp.StatusCode, e.Code)
		}
	}
	if rows := h.ledger(ledger.Playback, ledger.LiveView); len(rows) != 0 {
		t.Errorf("rows of a refused view: %+v", rows)
	}
	for _, ev := range h.ev.list() {
		if ev == "read" {
			t.Fatal("footage was read")
		}
	}
	resp, body := h.playback("boss")
	if resp.StatusCode != 200 || len(body) < 1000 {
		t.Errorf("boss: %d, %d bytes", resp.StatusCode, len(body))
	}
}

// A live view of a camera with zones is masked for a 접근권한자 from its
// first frame, and its row says so.
func TestLiveViewMasksZones(t *testing.T) {
	ff := needFFmpeg(t)
	h, _ := newZoneHarness(t, ff, nil)
	h.cams.record("cam-a")
	frames := liveFrames(t, h.t0)
	resp := h.do("POST", "/api/cameras/cam-a/live", "viewer", map[string]string{"purpose": "monitoring", "reason": "정문 관제"})
	var v viewResponse
	decodeJSON(t, resp, &v)
	if rows := h.ledger(ledger.LiveView); len(rows) != 1 || rows[0].Form != maskedLive {
		t.Fatalf("rows: %+v", rows)
	}
	req, _ := http.NewRequest("GET", h.ts.URL+v.URL, nil)
	req.AddCookie(&http.Cookie{Name: access.CookieName, Value: h.users["viewer"].token})
	var (
		mu   sync.Mutex
		body []byte
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			mu.Lock()
			body = append(body, buf[:n]...)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	waitUntil(t, "the live stream subscribed", func() bool { return h.cams.subscribers("cam-a") == 1 })
	h.cams.mu.Lock()
	feed := h.cams.feeds["cam-a"][0]
	h.cams.mu.Unlock()
	// The clip and more, as a camera sends it: ffmpeg writes a fragment
	// at each key frame of its own (every 250 frames).
	span := int64(len(frames)) * clip.FrameDuration
	for i := range 2 * len(frames) {
		g := *frames[i%len(frames)]
		g.Wall += int64(i/len(frames)) * span
		feed <- ingest.LiveFrame{Frame: &g}
	}
	// ffmpeg encodes at its own pace on a shared machine: a generous
	// deadline, checked often, for ten decodable frames (not a byte count:
	// how many frames 64 KiB holds depends on the encoder's first key frame).
	var mf [][]byte
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		mu.Lock()
		b := bytes.Clone(body)
		mu.Unlock()
		if len(b) > 32<<10 {
			if mf = greyPartial(t, b); len(mf) >= 10 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes, %d decodable frames of masked live view in 30 s", len(b), len(mf))
		}
	}
	h.srv.Close()
	<-done
	for i := range mf {
		if m, v := boxStats(mf[i], zoneInside); m > 40 || v > 20 {
			t.Errorf("frame %d: inside the zone mean %.0f, variance %.0f: not masked", i, m, v)
		}
	}
}

// A plain export of a camera with zones is refused for a role that must
// not see them (even holding the export permission) and made for the
// 관리책임자.
func TestExportOfZonesRefusedForRolesThatMustNotSeeThem(t *testing.T) {
	key := export.NewKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32)))
	dir := filepath.Join(t.TempDir(), "exports")
	h, _ := newZoneHarness(t, "", func(o *Options) {
		o.Exporter = &export.Exporter{Source: o.Footage.(*source), Key: key}
		o.ExportDir = dir
	})
	h.addUser(h.admin, "clerk", access.Grant{Role: access.Authorized, Sites: []string{"site-a"},
		Perms: access.Set(access.LiveView, access.Playback, access.Export)})
	h.reset()
	body := h.viewBody()
	body["purpose"], body["recipient"], body["letter"] = "provision", "구로경찰서", "수사-77"
	for _, path := range []string{"/api/cameras/cam-a/exports", "/api/cameras/cam-a/export-jobs"} {
		resp := h.do("POST", path, "clerk", body)
		var e struct{ Code string }
		json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != 403 || e.Code != "zones.export" {
			t.Errorf("%s by a 접근권한자: %d %q, want 403 zones.export", path, resp.StatusCode, e.Code)
		}
	}
	if rows := h.ledger(ledger.Export); len(rows) != 0 {
		t.Errorf("rows: %+v", rows)
	}
	resp := h.do("POST", "/api/cameras/cam-a/exports", "boss", body)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(h.ledger(ledger.Export)) != 1 {
		t.Errorf("the 관리책임자's export: %d", resp.StatusCode)
	}
}
