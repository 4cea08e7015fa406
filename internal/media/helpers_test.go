package media_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// needTool returns the path of an external tool, skipping the test when it
// is missing outside CI and failing when CI=true, so CI cannot silently skip.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required on CI: %v", name, err)
		}
		t.Skipf("%s not installed; skipping (set CI=true to make this fatal)", name)
	}
	return p
}

// run runs a tool with a deadline and returns stdout and stderr.
func run(t testing.TB, name string, args ...string) (stdout, stderr string) {
	t.Helper()
	path := needTool(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String(), errb.String()
}

// loadClip returns a parsed sample clip.
func loadClip(t testing.TB, c media.Codec) *clip.Clip {
	t.Helper()
	cl, err := clip.Load(c)
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// frames is a list of stored frames and the sample list a playback layer
// would derive from it.
type frames struct {
	params  *media.Params
	data    [][]byte
	samples []media.Sample
}

func (f *frames) add(p *media.Params, data []byte, key bool, dur uint32) {
	f.data = append(f.data, data)
	f.samples = append(f.samples, media.Sample{Duration: dur, Key: key, Size: uint32(len(data)), Params: p})
}

func (f *frames) fetch(i int) ([]byte, error) { return f.data[i], nil }

// whole concatenates what the File should contain after its header.
func (f *frames) newFile(t testing.TB) *media.File {
	t.Helper()
	file, err := media.NewFile(f.params, f.samples, f.fetch)
	if err != nil {
		t.Fatal(err)
	}
	return file
}

// clipFrames lists n frames of cl starting at frame from, looping the clip
// with continuing timestamps.
func clipFrames(t testing.TB, cl *clip.Clip, from, n int) *frames {
	t.Helper()
	f := &frames{params: cl.Params}
	for i := from; i < from+n; i++ {
		au := cl.AUs[i%len(cl.AUs)]
		data, err := media.ToAVCC(au.NALUs)
		if err != nil {
			t.Fatal(err)
		}
		f.add(cl.Params, data, au.Key, clip.FrameDuration)
	}
	return f
}

// readAll reads the whole of file through ReadAt.
func readAll(t testing.TB, file *media.File) []byte {
	t.Helper()
	b := make([]byte, file.Size())
	n, err := file.ReadAt(b, 0)
	if err != nil || int64(n) != file.Size() {
		t.Fatalf("ReadAt whole file: n=%d size=%d err=%v", n, file.Size(), err)
	}
	return b
}

// writeTemp writes b to a file in the test's temporary directory.
func writeTemp(t testing.TB, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// probeDuration returns ffprobe's format duration in seconds.
func probeDuration(t testing.TB, path string) float64 {
	t.Helper()
	out, _ := run(t, "ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", path)
	d, err := strconv.ParseFloat(strings.TrimSpace(out), 64)
	if err != nil {
		t.Fatalf("ffprobe duration %q: %v", out, err)
	}
	return d
}

// probePackets returns the number of video packets (samples) ffprobe reads;
// decodeClean checks that they decode.
func probePackets(t testing.TB, path string) int {
	t.Helper()
	out, _ := run(t, "ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_packets", "-of", "default=nw=1:nk=1", path)
	n, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil {
		t.Fatalf("ffprobe frame count %q: %v", out, err)
	}
	return n
}

// decodeClean fails the test if ffmpeg reports anything decoding path.
// Extra arguments go before -i (for example a seek).
func decodeClean(t testing.TB, path string, inputArgs ...string) {
	t.Helper()
	args := append([]string{"-nostdin", "-v", "error"}, inputArgs...)
	args = append(args, "-i", path, "-f", "null", "-")
	out, errOut := run(t, "ffmpeg", args...)
	if out != "" || errOut != "" {
		t.Errorf("ffmpeg %v decoding %s printed:\n%s%s", inputArgs, filepath.Base(path), out, errOut)
	}
}

// demuxClean fails the test if ffmpeg reports anything reading every
// packet of path without decoding.
func demuxClean(t testing.TB, path string) {
	t.Helper()
	out, errOut := run(t, "ffmpeg", "-nostdin", "-v", "error", "-i", path, "-c", "copy", "-f", "null", "-")
	if out != "" || errOut != "" {
		t.Errorf("ffmpeg demuxing %s printed:\n%s%s", filepath.Base(path), out, errOut)
	}
}
