package health

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/stills"
)

func TestStillJudge(t *testing.T) {
	const w, h = stillW, stillH
	flat := func(v byte) []byte {
		b := make([]byte, w*h)
		for i := range b {
			b[i] = v
		}
		return b
	}
	checker := make([]byte, w*h)
	for i := range checker {
		if (i%w/4+i/w/4)%2 == 0 {
			checker[i] = 200
		} else {
			checker[i] = 50
		}
	}
	// A smooth gradient: bright and varied, but no edges (defocused).
	grad := make([]byte, w*h)
	for i := range grad {
		grad[i] = byte(40 + (i%w)*150/w)
	}
	s := FFmpegStill{}
	for name, c := range map[string]struct {
		img  []byte
		want string
	}{
		"black":     {flat(3), "검은 화면(평균 밝기 3)"},
		"covered":   {flat(128), "균일한 화면"},
		"defocused": {grad, "초점 흐림"},
		"sharp":     {checker, ""},
	} {
		got := s.Judge(Measure(c.img, w, h))
		if c.want == "" && len(got) != 0 || c.want != "" && (len(got) != 1 || !strings.Contains(got[0], c.want)) {
			t.Errorf("%s: %v, want %q", name, got, c.want)
		}
	}
}

// TestStillFromClip decodes a real key frame of each embedded clip with
// ffmpeg: the camera simulator's picture must pass.
func TestStillFromClip(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg missing on CI")
		}
		t.Skip("ffmpeg not installed")
	}
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		c, err := clip.Load(codec)
		if err != nil {
			t.Fatal(err)
		}
		f := keyFrameOf(t, c)
		s := FFmpegStill{}
		img, err := s.Decode(context.Background(), f)
		if err != nil {
			t.Fatal(err)
		}
		st := Measure(img, stillW, stillH)
		if probs := s.Judge(st); len(probs) != 0 {
			t.Errorf("%v: healthy clip judged %v (%+v)", codec, probs, st)
		}
		t.Logf("%v: %+v", codec, st)
	}
	if _, err := (FFmpegStill{}).Decode(context.Background(), &media.Frame{}); err == nil {
		t.Fatal("a non-key frame was accepted")
	}
}

func keyFrameOf(t *testing.T, c *clip.Clip) *media.Frame {
	t.Helper()
	for _, au := range c.AUs {
		if au.Key {
			data, err := media.ToAVCC(au.NALUs)
			if err != nil {
				t.Fatal(err)
			}
			return &media.Frame{Key: true, Params: c.Params, Data: data}
		}
	}
	t.Fatal("clip has no key frame")
	return nil
}

type stillFunc func(camera string, f *media.Frame) ([]string, error)

func (s stillFunc) CheckStill(_ context.Context, camera string, f *media.Frame) ([]string, error) {
	return s(camera, f)
}

// TestCheckRecordsStillFindings: the scheduled check judges each camera's
// latest key frame and records what it sees in the ledger.
func TestCheckRecordsStillFindings(t *testing.T) {
	led := &fakeLedger{}
	var judged []byte
	still := stillFunc(func(camera string, f *media.Frame) ([]string, error) {
		judged = f.Data
		return []string{"black picture (mean luma 3)"}, nil
	})
	r := newRig(t, Options{Ledger: led, Still: still}, "cam1", "cam2")
	for range 3 {
		r.second(func() { r.cams["cam1"].stream(25); r.cams["cam2"].stream(25) })
	}
	r.m.mu.Lock()
	r.m.cams[0].frame(ingest.LiveFrame{Frame: &media.Frame{Key: true, Data: []byte("idr")}}, r.clk.Now(), r.m.th)
	r.m.mu.Unlock()
	if _, err := r.m.RunCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	if string(judged) != "idr" {
		t.Fatalf("judged %q", judged)
	}
	if d := led.e[0].Detail; !strings.Contains(d, "정지화상: black picture") {
		t.Fatalf("cam1 detail %q", d)
	}
	if d := led.e[1].Detail; !strings.Contains(d, "키 프레임을 받지 못했습니다") {
		t.Fatalf("cam2 detail %q", d)
	}
	if a, ok := r.am.ActiveFor(alarm.ImageProblem, "cam1"); !ok || !strings.Contains(a.Message, "black picture") {
		t.Fatalf("no image_problem alarm for cam1: %+v", a)
	}
	if _, ok := r.am.ActiveFor(alarm.ImageProblem, "cam2"); ok {
		t.Fatal("image_problem alarm for cam2, which had no picture to judge")
	}
}

// With ffmpeg, the scheduled check keeps each camera's picture sealed and
// names it in the ledger entry; the picture is the camera's, as a JPEG,
// recorded at the frame's time.
func TestCheckKeepsStill(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ffmpeg missing on CI")
		}
		t.Skip("ffmpeg not installed")
	}
	ctx := context.Background()
	keys, err := seal.NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	stills, err := stills.Open(ctx, stills.Config{Dir: t.TempDir(), Keys: keys, Clock: clock.NewFake(t0)})
	if err != nil {
		t.Fatal(err)
	}
	defer stills.Close()
	led := &fakeLedger{}
	r := newRig(t, Options{Ledger: led, Still: FFmpegStill{}, Stills: stills}, "cam1")
	for range 3 {
		r.second(func() { r.cams["cam1"].stream(25) })
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	f := keyFrameOf(t, c)
	f.Wall = media.Time90k(t0.Add(-time.Second))
	r.m.mu.Lock()
	r.m.cams[0].frame(ingest.LiveFrame{Frame: f}, r.clk.Now(), r.m.th)
	r.m.mu.Unlock()
	res, err := r.m.RunCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Still == 0 {
		t.Fatalf("no still kept: %+v", res[0])
	}
	if d := led.e[0].Detail; !strings.Contains(d, "정지화상") {
		t.Fatalf("ledger detail %q does not name the still", d)
	}
	st, img, err := stills.Image(ctx, res[0].Still)
	if err != nil {
		t.Fatal(err)
	}
	if len(img) < 1000 || img[0] != 0xFF || img[1] != 0xD8 {
		t.Fatalf("kept picture is not a JPEG (%d bytes)", len(img))
	}
	if !st.RecordedAt.Equal(media.FromTime90k(f.Wall)) {
		t.Fatalf("recorded at %v, want the frame's time %v", st.RecordedAt, media.FromTime90k(f.Wall))
	}
}
