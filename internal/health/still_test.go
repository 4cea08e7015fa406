package health

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/alarm"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
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
		"black":     {flat(3), "black"},
		"covered":   {flat(128), "uniform"},
		"defocused": {grad, "defocused"},
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
	if d := led.e[0].Detail; !strings.Contains(d, "still frame: black picture") {
		t.Fatalf("cam1 detail %q", d)
	}
	if d := led.e[1].Detail; !strings.Contains(d, "no key frame received") {
		t.Fatalf("cam2 detail %q", d)
	}
	if a, ok := r.am.ActiveFor(alarm.ImageProblem, "cam1"); !ok || !strings.Contains(a.Message, "black picture") {
		t.Fatalf("no image_problem alarm for cam1: %+v", a)
	}
	if _, ok := r.am.ActiveFor(alarm.ImageProblem, "cam2"); ok {
		t.Fatal("image_problem alarm for cam2, which had no picture to judge")
	}
}
