package export

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// produce exports req from rec into a fresh directory and returns the
// package's path.
func produce(t *testing.T, rec *recording, key *Key, g *fakeGate, req Request) (string, *Manifest) {
	t.Helper()
	x := &Exporter{Source: StoreSource{rec.s}, Key: key, Now: func() time.Time { return media.FromTime90k(t0 + 3600*sec) }}
	path := filepath.Join(t.TempDir(), "evidence.zip")
	m, err := x.Export(context.Background(), g.gate, req, path)
	if err != nil {
		t.Fatal(err)
	}
	return path, m
}

// The acceptance: an export across segment boundaries and a recording gap
// is a standard MP4 (ffprobe, a full decode without a message) stamped
// with the recording's start, its decoded frames are those of the recorded
// access units, and the manifest names the gap and the parts missing.
func TestExportClipIsExactAcrossSegmentsAndGap(t *testing.T) {
	ffprobe := needTool(t, "ffprobe")
	ffmpeg := needTool(t, "ffmpeg")
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			rec := newRecording(t, codec)
			g := newFakeGate()
			// From 2 s before the recording to 3 s after it.
			path, m := produce(t, rec, newKey(t), g, testRequest(t0-2*sec, rec.end2+3*sec, "cam-1"))
			if len(g.reqs) != 1 || g.reqs[0].Way != access.WayExport || m.LedgerSeq != 42 {
				t.Fatalf("gate requests %+v, manifest seq %d", g.reqs, m.LedgerSeq)
			}
			if len(m.Clips) != 1 {
				t.Fatalf("clips %+v", m.Clips)
			}
			c := m.Clips[0]
			if len(c.Segments) < 5 {
				t.Fatalf("clip reads %d segments; the test needs several", len(c.Segments))
			}
			for _, s := range c.Segments {
				if len(s.SHA256) != 64 {
					t.Errorf("segment %d has no hash from the index: %q", s.ID, s.SHA256)
				}
			}
			if len(c.Gaps) != 1 || c.Gaps[0].To.Sub(c.Gaps[0].From) != 5*time.Second {
				t.Errorf("gaps %+v, want one of 5 s", c.Gaps)
			}
			// Missing: the 2 s before, the 5 s gap, the 3 s after.
			var miss []time.Duration
			for _, s := range m.Missing {
				miss = append(miss, s.To.Sub(s.From))
			}
			if len(miss) != 3 || miss[0] != 2*time.Second || miss[1] != 5*time.Second || miss[2] != 3*time.Second {
				t.Errorf("missing %v, want [2s 5s 3s]", miss)
			}
			if v := verifyFile(t, path, Trust{}); !v.OK() {
				t.Fatalf("a fresh package does not verify: %v", v.Problems)
			}

			dir := t.TempDir()
			mp4 := extract(t, path, c.File, dir)
			out, err := exec.Command(ffprobe, "-v", "error", "-show_entries", "format=duration:format_tags=creation_time,date",
				"-of", "default=nw=1", mp4).CombinedOutput()
			if err != nil {
				t.Fatalf("ffprobe: %v: %s", err, out)
			}
			probe := string(out)
			if !strings.Contains(probe, "creation_time=2026-05-01T00:00:00") {
				t.Errorf("ffprobe shows no creation_time of the recording's start:\n%s", probe)
			}
			if !strings.Contains(probe, "date=2026-05-01T09:00:00.000+09:00") {
				t.Errorf("ffprobe shows no ©day of the recording's start in KST:\n%s", probe)
			}
			var stderr bytes.Buffer
			cmd := exec.Command(ffmpeg, "-v", "error", "-i", mp4, "-f", "null", "-")
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil || stderr.Len() > 0 {
				t.Errorf("ffmpeg decode: %v: %s", err, stderr.String())
			}

			// Decoded frames: the recorded access units, in order.
			raw, err := clip.Raw(codec)
			if err != nil {
				t.Fatal(err)
			}
			src := filepath.Join(dir, "src."+map[media.Codec]string{media.CodecH264: "h264", media.CodecH265: "hevc"}[codec])
			if err := os.WriteFile(src, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			loop := frameHashes(t, ffmpeg, src)
			got := frameHashes(t, ffmpeg, mp4)
			var want []string
			for _, n := range []int{25 * 25, 20 * 25} {
				for i := 0; i < n; i++ {
					want = append(want, loop[i%len(loop)])
				}
			}
			if len(got) != len(want) {
				t.Fatalf("the clip decodes to %d frames, recorded %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("frame %d differs from the recorded one", i)
				}
			}
		})
	}
}

// frameHashes decodes path and returns the MD5 of every decoded frame, in
// order, one per coded frame (no frame dropped or duplicated).
func frameHashes(t *testing.T, ffmpeg, path string) []string {
	t.Helper()
	out, err := exec.Command(ffmpeg, "-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
		"-f", "framemd5", "-").Output()
	if err != nil {
		t.Fatalf("framemd5 of %s: %v", path, err)
	}
	var hs []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		f := strings.Split(l, ",")
		hs = append(hs, strings.TrimSpace(f[len(f)-1]))
	}
	return hs
}

func extract(t *testing.T, zipPath, name, dir string) string {
	t.Helper()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	rc, err := zr.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	p := filepath.Join(dir, filepath.Base(name))
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, rc); err != nil {
		t.Fatal(err)
	}
	return p
}

// The clip's bytes are the playback MP4's but for the metadata: the same
// frames from the same segments (no second muxer).
func TestExportClipIsThePlaybackFileWithMetadata(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	path, m := produce(t, rec, newKey(t), newFakeGate(), testRequest(t0, rec.end2, "cam-1"))
	pc, err := playback.Build(context.Background(), playback.StoreSource{Store: rec.s}, "cam-1", t0, rec.end2)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	var want bytes.Buffer
	if _, err := io.Copy(&want, pc.File.NewReader()); err != nil {
		t.Fatal(err)
	}
	zr, _ := zip.OpenReader(path)
	defer zr.Close()
	rc, err := zr.Open(m.Clips[0].File)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	delta := len(got) - want.Len()
	if delta <= 0 || delta > 64 {
		t.Fatalf("exported %d bytes, playback %d: the metadata should add a small udta box", len(got), want.Len())
	}
	// The sample data (everything after the mdat header) is identical.
	w, g := want.Bytes(), got
	if !bytes.Equal(w[pc.File.HeaderSize():], g[pc.File.HeaderSize()+int64(delta):]) {
		t.Fatal("the exported samples differ from the playback file's")
	}
}

// A range without footage is refused before the gate (no ledger row),
// naming the cameras and range.
func TestExportOfNothingIsRefusedNamingTheRange(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	g := newFakeGate()
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	path := filepath.Join(t.TempDir(), "p.zip")
	_, err := x.Export(context.Background(), g.gate, testRequest(rec.end2+10*sec, rec.end2+20*sec, "cam-1", "cam-2"), path)
	if errs.CodeOf(err) != "export.none" || !errs.Is(err, errs.NotExist) {
		t.Fatalf("err %v (code %q), want export.none", err, errs.CodeOf(err))
	}
	p := errs.ParamsOf(err)
	if p["cameras"] != "cam-1, cam-2" || p["from"] != "2026-05-01 09:01:00" || p["to"] != "2026-05-01 09:01:10" {
		t.Errorf("params %v", p)
	}
	if len(g.reqs) != 0 {
		t.Errorf("the gate was asked (a ledger row for nothing): %+v", g.reqs)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a package was written: %v", err)
	}
	// The gap inside the recording is "nothing" too.
	_, err = x.Export(context.Background(), g.gate, testRequest(rec.end1+sec, rec.end1+4*sec, "cam-1"), path)
	if errs.CodeOf(err) != "export.none" {
		t.Fatalf("export of the gap: %v", err)
	}
}

// Two cameras, one recorded only for part of the range: one clip each, and
// the manifest says which part of which camera is missing. The gate is
// asked once for both, with the provision's columns.
func TestExportOfTwoCamerasNamesTheMissingPart(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	g := newFakeGate()
	req := testRequest(t0, t0+20*sec, "cam-1", "cam-2")
	_, m := produce(t, rec, newKey(t), g, req)
	if len(m.Clips) != 2 || m.Clips[0].Camera != "cam-1" || m.Clips[1].Camera != "cam-2" {
		t.Fatalf("clips %+v", m.Clips)
	}
	if len(m.Missing) != 1 || m.Missing[0].Camera != "cam-2" || m.Missing[0].To.Sub(m.Missing[0].From) != 10*time.Second {
		t.Errorf("missing %+v, want cam-2's last 10 s", m.Missing)
	}
	r := g.reqs[0]
	if len(r.Cameras) != 2 || r.Party != req.Recipient || r.LegalBasis != req.LegalBasis || r.Period != req.Period ||
		r.Request != req.Letter || r.Purpose != req.Purpose {
		t.Errorf("gate request %+v", r)
	}
	if m.Recipient != req.Recipient || m.Letter != req.Letter || m.RequestedBy != "kim" || m.ApprovedBy != "lee" ||
		m.Purpose != "제3자 제공: 절도 사건 수사" {
		t.Errorf("manifest %+v", m)
	}
}

// A refused gate means no package and no footage read.
func TestExportRefusedByTheGateWritesNothing(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	g := newFakeGate()
	g.refuse = errs.E("access.Gate.Begin", errs.Permission, errs.Code("grant.missing"), "no")
	dir := t.TempDir()
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	_, err := x.Export(context.Background(), g.gate, testRequest(t0, t0+5*sec, "cam-1"), filepath.Join(dir, "p.zip"))
	if !errs.Is(err, errs.Permission) {
		t.Fatalf("err %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left: %v", ents)
	}
}

// cancelling wraps a Source and calls cancel when the n-th segment is
// opened for reading, midway through the export.
type cancelling struct {
	Source
	n      int
	cancel func()
}

func (c *cancelling) Open(ctx context.Context, id int64) (playback.SegmentData, error) {
	c.n--
	if c.n == 0 {
		c.cancel()
	}
	return c.Source.Open(ctx, id)
}

// A cancelled export, or one whose access is revoked midway, leaves no
// package and no temporary file.
func TestCancelledExportLeavesNothing(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	for _, how := range []string{"cancel", "revoke"} {
		t.Run(how, func(t *testing.T) {
			g := newFakeGate()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := cancel
			if how == "revoke" {
				stop = g.cancel
			}
			// Build opens each of cam-1's segments once for its
			// layout; the 8th open is the reading of the clip.
			src := &cancelling{Source: StoreSource{rec.s}, n: 8, cancel: stop}
			x := &Exporter{Source: src, Key: newKey(t)}
			dir := t.TempDir()
			_, err := x.Export(ctx, g.gate, testRequest(t0, rec.end2, "cam-1"), filepath.Join(dir, "p.zip"))
			if err == nil {
				t.Fatal("the export finished")
			}
			if src.n > 0 {
				t.Fatalf("cancelled before reading began (%d opens to go): the test proves nothing", src.n)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Errorf("files left: %v", ents)
			}
		})
	}
}

// An existing file is never overwritten.
func TestExportDoesNotOverwrite(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	path := filepath.Join(t.TempDir(), "p.zip")
	os.WriteFile(path, []byte("other"), 0o600)
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	_, err := x.Export(context.Background(), newFakeGate().gate, testRequest(t0, t0+5*sec, "cam-1"), path)
	if !errs.Is(err, errs.Exist) {
		t.Fatalf("err %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "other" {
		t.Error("overwritten")
	}
}

// Bad requests are refused with a code naming the field.
func TestExportRequestValidation(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	x := &Exporter{Source: StoreSource{rec.s}, Key: newKey(t)}
	good := testRequest(t0, t0+5*sec, "cam-1")
	for _, tc := range []struct {
		code string
		mod  func(*Request)
	}{
		{"export.cameras", func(r *Request) { r.Cameras = nil }},
		{"export.range", func(r *Request) { r.To = r.From }},
		{"export.recipient", func(r *Request) { r.Recipient = " " }},
		{"export.field", func(r *Request) { r.Letter = "a\nb" }},
	} {
		r := good
		tc.mod(&r)
		_, err := x.Export(context.Background(), newFakeGate().gate, r, filepath.Join(t.TempDir(), "p.zip"))
		if string(errs.CodeOf(err)) != tc.code {
			t.Errorf("%s: got %v", tc.code, err)
		}
	}
}

// The manifest is readable JSON and lists what the brief names.
func TestManifestFields(t *testing.T) {
	rec := newRecording(t, media.CodecH264)
	path, _ := produce(t, rec, newKey(t), newFakeGate(), testRequest(t0, t0+12*sec, "cam-1"))
	zr, _ := zip.OpenReader(path)
	defer zr.Close()
	rc, _ := zr.Open(ManifestName)
	b, _ := io.ReadAll(rc)
	var f struct {
		Manifest map[string]any `json:"manifest"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"format", "cameras", "from", "to", "recipient", "purpose", "legal_basis", "letter",
		"ledger_seq", "requested_by", "approved_by", "clips"} {
		if _, ok := f.Manifest[k]; !ok {
			t.Errorf("manifest has no %q", k)
		}
	}
	if seq, _ := f.Manifest["ledger_seq"].(float64); strconv.Itoa(int(seq)) != "42" {
		t.Errorf("ledger_seq %v", f.Manifest["ledger_seq"])
	}
	var names []string
	for _, e := range zr.File {
		names = append(names, e.Name)
	}
	want := []string{"clips/cam-1_20260501T090000.mp4", ManifestName, PublicKeyName, SumsName, ReadmeName}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("entries %v, want %v", names, want)
	}
}
