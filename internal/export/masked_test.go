package export

import (
	"bytes"
	"context"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// gray decodes a clip to 8-bit luma frames of w×h.
func gray(t *testing.T, ffmpeg, path string, w, h int) [][]byte {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-i", path, "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	var fs [][]byte
	for b := out.Bytes(); len(b) >= w*h; b = b[w*h:] {
		fs = append(fs, b[:w*h])
	}
	return fs
}

// A masked export is a package that verifies, whose clip is masked in the
// region's range (given from the request's start) and untouched elsewhere,
// and whose manifest traces it to its source: the same segments as an
// unmasked export of the range, and the hash of that export's clip.
func TestMaskedExportIsMaskedAndTraceable(t *testing.T) {
	ffmpeg := needTool(t, "ffmpeg")
	rec := newRecording(t, media.CodecH264)
	key := newKey(t)
	req := testRequest(t0+5*sec/2, t0+5*sec, "cam-1") // the clip starts at the key frame at 2 s
	plainPath, plain := produce(t, rec, key, newFakeGate(), req)

	region := mask.Rect{X: 0.6, Y: 0.5, W: 0.2, H: 0.2}
	spec := &mask.Spec{Style: mask.Fill, Regions: []mask.Region{{Name: "bystander", From: 0.5, To: 1.5, Rect: region}}}
	g := newFakeGate()
	x := &Exporter{Source: StoreSource{rec.s}, Key: key, Now: func() time.Time { return media.FromTime90k(t0 + 3600*sec) }}
	dir := t.TempDir()
	path := filepath.Join(dir, "masked.zip")
	var last mask.Progress
	m, err := x.ExportMasked(context.Background(), g.gate, req, Masking{
		Renderer: &mask.Renderer{Preset: "ultrafast"}, Specs: map[string]*mask.Spec{"cam-1": spec}, Reviewer: "park",
		Progress: func(cam string, p mask.Progress) { last = p }}, path)
	if err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("beside the package: %v, want only the package", ents)
	}
	if !last.End || last.Percent() != 100 {
		t.Errorf("last progress %+v", last)
	}
	if len(g.reqs) != 1 || !strings.Contains(g.reqs[0].Object, "마스킹") {
		t.Errorf("gate requests %+v, want one whose object says masked", g.reqs)
	}
	if v := verifyFile(t, path, Trust{PublicKey: key.Public()}); !v.OK() {
		t.Fatalf("export verify: %v", v.Problems)
	}
	c, pc := m.Clips[0], plain.Clips[0]
	mk := c.Masked
	if mk == nil || mk.Reviewer != "park" || mk.Style != mask.Fill || mk.Encoder == "" {
		t.Fatalf("masked record %+v", mk)
	}
	if mk.SourceSHA256 != pc.SHA256 || mk.SourceBytes != pc.Bytes || c.SHA256 == pc.SHA256 {
		t.Errorf("source %s (%d bytes), unmasked export's clip %s (%d bytes), masked %s", mk.SourceSHA256, mk.SourceBytes, pc.SHA256, pc.Bytes, c.SHA256)
	}
	if len(c.Segments) == 0 || len(c.Segments) != len(pc.Segments) || c.Segments[0].ID != pc.Segments[0].ID || c.Segments[0].SHA256 != pc.Segments[0].SHA256 {
		t.Errorf("segments %+v, unmasked %+v", c.Segments, pc.Segments)
	}
	if !c.Start.Equal(media.FromTime90k(t0 + 2*sec)) {
		t.Fatalf("clip starts %v, want the key frame at 2 s", c.Start)
	}
	// On the clip's timeline the region is 1.0–2.0 s.
	if r := mk.Regions; len(r) != 1 || r[0].From != 1 || r[0].To != 2 {
		t.Errorf("recorded regions %+v, want 1–2 s on the clip's timeline", r)
	}

	const w, h = 1280, 720
	plainClip, maskedClip := extract(t, plainPath, pc.File, t.TempDir()), extract(t, path, c.File, t.TempDir())
	// The copy carries the recording's start as the unmasked clip does.
	tags := func(p string) string {
		b, err := exec.Command(needTool(t, "ffprobe"), "-v", "error", "-show_entries", "format_tags=creation_time,date", "-of", "compact", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if a, b := tags(plainClip), tags(maskedClip); a != b || !strings.Contains(a, "creation_time=2026-05-01T00:00:02") || !strings.Contains(a, "date=2026-05-01T09:00:02.000+09:00") {
		t.Errorf("masked clip's tags %q, unmasked %q", b, a)
	}
	src := gray(t, ffmpeg, plainClip, w, h)
	out := gray(t, ffmpeg, maskedClip, w, h)
	if len(out) != len(src) || len(out) != c.Frames {
		t.Fatalf("%d masked frames, %d source frames, manifest %d", len(out), len(src), c.Frames)
	}
	in := [4]int{int(region.X*w) + 2, int(region.Y*h) + 2, int(region.W*w) - 4, int(region.H*h) - 4}
	mean := func(f []byte) float64 {
		var s float64
		for y := in[1]; y < in[1]+in[3]; y++ {
			for x := in[0]; x < in[0]+in[2]; x++ {
				s += float64(f[y*w+x])
			}
		}
		return s / float64(in[2]*in[3])
	}
	masked := 0
	for i := range out {
		ts := float64(i) / 25
		var d float64
		for j := 0; j < len(out[i]); j += 97 {
			d += math.Abs(float64(out[i][j]) - float64(src[i][j]))
		}
		d /= float64(len(out[i]) / 97)
		switch {
		case ts >= 1 && ts <= 2:
			masked++
			if m := mean(out[i]); m > 24 {
				t.Errorf("frame %d (%.2f s): region mean %.0f, want filled", i, ts, m)
			}
		case math.Abs(mean(out[i])-mean(src[i])) > 8 || d > 8:
			t.Errorf("frame %d (%.2f s) outside the range differs: region %.0f vs %.0f, picture by %.1f", i, ts, mean(out[i]), mean(src[i]), d)
		}
	}
	if masked != 26 {
		t.Errorf("%d frames in the range, want 26", masked)
	}
}

// A masked export without a reviewer, or without a spec for one of its
// cameras, is refused before the gate writes a ledger row.
func TestMaskedExportNeedsReviewerAndSpecs(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	g := newFakeGate()
	req := testRequest(t0, t0+5*sec, "cam-1", "cam-2")
	for _, c := range []struct {
		mk   Masking
		code errs.Code
	}{
		{Masking{Specs: map[string]*mask.Spec{"cam-1": {}, "cam-2": {}}}, "export.reviewer"},
		{Masking{Reviewer: "park", Specs: map[string]*mask.Spec{"cam-1": {}}}, "export.mask_camera"},
		{Masking{Reviewer: "park", Specs: map[string]*mask.Spec{"cam-1": {}, "cam-2": {Style: "smudge"}}}, "mask.style"},
	} {
		_, err := x.ExportMasked(context.Background(), g.gate, req, c.mk, filepath.Join(t.TempDir(), "p.zip"))
		if errs.CodeOf(err) != c.code {
			t.Errorf("got %v, want %s", err, c.code)
		}
	}
	if len(g.reqs) != 0 {
		t.Errorf("the gate was asked %d times", len(g.reqs))
	}
}

// Cancelling a masked export midway (while ffmpeg runs) leaves neither a
// package nor any of the decrypted or masked files beside it.
func TestCancelledMaskedExportLeavesNothing(t *testing.T) {
	needTool(t, "ffmpeg")
	rec := newRecording(t, media.CodecH264)
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	_, err := x.ExportMasked(ctx, newFakeGate().gate, testRequest(t0, t0+20*sec, "cam-1"), Masking{
		Renderer: &mask.Renderer{Preset: "ultrafast"}, Reviewer: "park",
		Specs:    map[string]*mask.Spec{"cam-1": {Style: mask.Blur, Regions: []mask.Region{{From: 0, To: 20, Rect: mask.Rect{W: .5, H: .5}}}}},
		Progress: func(string, mask.Progress) { cancel() }}, filepath.Join(dir, "p.zip"))
	if !errs.Is(err, errs.Canceled) {
		t.Fatalf("got %v, want Canceled", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("left behind: %v", ents)
	}
}

// H.265 footage is masked too (decoded by ffmpeg, the copy is H.264).
func TestMaskedExportOfH265(t *testing.T) {
	ffprobe := needTool(t, "ffprobe")
	rec := newRecording(t, media.CodecH265)
	key := newKey(t)
	x := &Exporter{Source: StoreSource{rec.s}, Key: key}
	path := filepath.Join(t.TempDir(), "p.zip")
	m, err := x.ExportMasked(context.Background(), newFakeGate().gate, testRequest(t0, t0+sec, "cam-1"), Masking{
		Renderer: &mask.Renderer{Preset: "ultrafast"}, Reviewer: "park",
		Specs: map[string]*mask.Spec{"cam-1": {Style: mask.Pixelate, Zones: []mask.Zone{
			mask.NewZone("door", [][]float64{{0.1, 0.1}, {0.4, 0.1}, {0.2, 0.6}})}}}}, path)
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyFile(t, path, Trust{PublicKey: key.Public()}); !v.OK() {
		t.Fatalf("export verify: %v", v.Problems)
	}
	clip := extract(t, path, m.Clips[0].File, t.TempDir())
	b, err := exec.Command(ffprobe, "-v", "error", "-count_frames", "-show_entries", "stream=codec_name,nb_read_frames", "-of", "csv=p=0", clip).Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(b)), "h264,"+strconv.Itoa(m.Clips[0].Frames); got != want {
		t.Errorf("ffprobe: %q, want %q", got, want)
	}
	if z := m.Clips[0].Masked.Zones; len(z) != 1 || z[0].Name != "door" {
		t.Errorf("zones %+v", z)
	}
}

// A spec's times move from the request's start to the clip's: a region
// over before the clip's first frame is dropped (even one ending exactly
// there), one that began before it starts at it, keyframes keep their
// path.
func TestShiftMovesRegionsToTheClip(t *testing.T) {
	r := mask.Rect{W: 0.1, H: 0.1}
	s := &mask.Spec{Style: mask.Blur, Regions: []mask.Region{
		{Name: "gone", From: 0, To: 1, Rect: r},
		{Name: "edge", From: 2, To: 3, Rect: r},
		{Name: "cut", From: 2, To: 5, Rect: r},
		{Name: "path", From: 4, To: 8, Keyframes: []mask.Keyframe{{T: 4, Rect: r}, {T: 8, Rect: mask.Rect{X: 0.5, W: 0.1, H: 0.1}}}},
	}}
	got := shift(s, -3) // the clip starts 3 s after the request's From
	if len(got.Regions) != 2 || got.Regions[0].Name != "cut" || got.Regions[0].From != 0 || got.Regions[0].To != 2 {
		t.Fatalf("shifted %+v", got.Regions)
	}
	p := got.Regions[1]
	if p.From != 1 || p.To != 5 || p.Keyframes[0].T != 1 || p.Keyframes[1].T != 5 || s.Regions[3].Keyframes[0].T != 4 {
		t.Errorf("path %+v (original %+v)", p, s.Regions[3])
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

// The picture's size, which the masking graph is cut to, is read from the
// clip's own parameter sets without ffprobe, and is the size ffprobe reads
// (H.264 and H.265).
func TestMaskedClipSizeFromItsParameterSets(t *testing.T) {
	needTool(t, "ffprobe")
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		rec := newRecording(t, codec)
		pc, err := playback.Build(context.Background(), playback.StoreSource{Store: rec.s}, "cam-1", t0, t0+5*sec)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "clip.mp4")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, pc.File.NewReader()); err != nil {
			t.Fatal(err)
		}
		f.Close()
		w, h := pictureSize(pc.File)
		pc.Close()
		pw, ph, _, err := (&mask.Renderer{}).Probe(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		if w <= 0 || w != pw || h != ph {
			t.Errorf("%v: size %dx%d from the parameter sets, ffprobe reads %dx%d", codec, w, h, pw, ph)
		}
	}
}
