package web

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/stills"
)

// noiseStill is a 320×180 JPEG of grey noise: a zone hidden in it is
// told from the picture by its variance.
func noiseStill(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, zW, zH))
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(64 + rng.IntN(160))
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegStills holds still 1 of cam-a, a real JPEG, at at.
type jpegStills struct {
	at  time.Time
	img []byte
}

func (f jpegStills) Get(_ context.Context, id int64) (stills.Still, error) {
	if id != 1 {
		return stills.Still{}, errs.Errorf("fake", errs.NotExist, "no still")
	}
	return stills.Still{ID: 1, Camera: "cam-a", RecordedAt: f.at}, nil
}
func (f jpegStills) List(context.Context, string, time.Time, time.Time) ([]stills.Still, error) {
	return nil, nil
}
func (f jpegStills) Image(ctx context.Context, id int64) (stills.Still, []byte, error) {
	s, err := f.Get(ctx, id)
	return s, f.img, err
}

// zoneHidden reports the zone's mean and variance in a served still.
func zoneHidden(t *testing.T, b []byte) (mean, variance float64) {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("the still is not a JPEG: %v", err)
	}
	g := image.NewGray(img.Bounds())
	for y := range zH {
		for x := range zW {
			g.Set(x, y, img.At(x, y))
		}
	}
	return boxStats(g.Pix, zoneInside)
}

// A still of a camera with privacy zones hides them from a 접근권한자 (in
// Go, without ffmpeg) and its row says so; the 관리책임자 gets the stored
// picture byte for byte (decision 53).
func TestStillMasksZonesForRolesThatMustNotSeeThem(t *testing.T) {
	pic := noiseStill(t)
	h, _ := newZoneHarness(t, "", func(o *Options) { o.Stills = jpegStills{at: time.Date(2026, 6, 1, 12, 0, 1, 0, time.UTC), img: pic} })
	get := func(user string) (*http.Response, []byte) {
		resp := h.do("POST", "/api/cameras/cam-a/stills/1/views", user, h.viewBody())
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("%s: still view %d", user, resp.StatusCode)
		}
		v := decode[viewResponse](t, resp)
		resp = h.do("GET", v.URL, user, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: still %d", user, resp.StatusCode)
		}
		return resp, b
	}
	resp, b := get("viewer")
	if resp.Header.Get("X-Gwanje-Form") != "masked" {
		t.Fatalf("viewer's still not marked masked")
	}
	if m, v := zoneHidden(t, b); m > 10 || v > 20 {
		t.Errorf("viewer's still: the zone has mean %.0f, variance %.0f: not hidden", m, v)
	}
	if _, v := zoneHidden(t, pic); v < 500 {
		t.Fatalf("the source's zone has variance %.0f: the test cannot tell", v)
	}
	rows := h.ledger(ledger.Playback)
	if len(rows) != 1 || rows[0].Form != maskedStill || rows[0].Role != "접근권한자" {
		t.Fatalf("viewer's rows %+v", rows)
	}
	resp, b = get("boss")
	if resp.Header.Get("X-Gwanje-Form") != "" || !bytes.Equal(b, pic) {
		t.Errorf("the 관리책임자's still is not the stored picture (form %q)", resp.Header.Get("X-Gwanje-Form"))
	}
}

// A still shown to a data subject under their request hides the zones
// though a 관리책임자 shows it (decision 54).
func TestRequestStillMasksZones(t *testing.T) {
	pic := noiseStill(t)
	fh := newFlowHarnessWith(t, func(o *Options) {
		withZones("")(o)
		o.Stills = jpegStills{at: time.Date(2026, 6, 1, 12, 0, 3, 0, time.UTC), img: pic}
	})
	fh.post("/decision", "mgr2", map[string]any{"types": []map[string]string{{"type": "existence", "outcome": "approved"},
		{"type": "view", "outcome": "approved"}}})
	fh.post("/view-grant", "mgr2", nil)
	fh.reset()
	resp := fh.do("POST", "/api/requests/"+fh.rid+"/stills/1/views", "mgr", nil)
	v := decode[viewResponse](t, resp)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("still view: %d", resp.StatusCode)
	}
	resp = fh.do("GET", v.URL, "mgr", nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Gwanje-Form") != "masked" {
		t.Fatalf("still: %d form %q", resp.StatusCode, resp.Header.Get("X-Gwanje-Form"))
	}
	if m, v := zoneHidden(t, b); m > 10 || v > 20 {
		t.Errorf("the zone has mean %.0f, variance %.0f: not hidden", m, v)
	}
	if rows := fh.ledger(ledger.Playback); len(rows) != 1 || rows[0].Form != "현장 열람 (정보주체 열람) · 마스킹" || rows[0].Ref != fh.receipt {
		t.Fatalf("rows %+v", rows)
	}
}
