package mask

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
)

// DefaultFont is NanumGothic from the Debian package fonts-nanum, the
// font of the watermark.
const DefaultFont = "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"

// Renderer runs ffmpeg to mask clips. The zero value uses "ffmpeg" from
// PATH, libx264 preset veryfast at CRF 20, and DefaultFont.
type Renderer struct {
	FFmpeg string // path or name of ffmpeg; ffprobe is looked up beside it
	Font   string
	Preset string // libx264 preset
	CRF    int
}

// Job is one clip to mask.
type Job struct {
	// Input is the source MP4's path.
	Input string
	// Width and Height are the picture's size in pixels, and Duration the
	// clip's length; when zero they are read with ffprobe.
	Width, Height int
	Duration      time.Duration
	// Recorded, when set, is the wall-clock time of the first frame,
	// written as the copy's creation_time (mvhd) and date (©day) tags as
	// the unmasked clip carries them (ffmpeg drops creation_time).
	Recorded time.Time
	// Progress, when set, is called as ffmpeg reports (about twice a
	// second) and once at the end.
	Progress func(Progress)
}

// Progress is how far a render is.
type Progress struct {
	Done, Total time.Duration
	Frames      int
	End         bool // ffmpeg has finished writing
}

// Percent is Done of Total in 0..100 (0 when the total is unknown).
func (p Progress) Percent() float64 {
	if p.Total <= 0 {
		return 0
	}
	return math.Min(100, 100*float64(p.Done)/float64(p.Total))
}

func (r *Renderer) ffmpeg() (string, error) {
	name := r.FFmpeg
	if name == "" {
		name = "ffmpeg"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errs.E("mask.ffmpeg", errs.Unavailable, errs.Code("mask.ffmpeg"), errs.Params{"path": name},
			fmt.Errorf("ffmpeg is not installed (%s): install the Debian package ffmpeg: %w", name, err))
	}
	return p, nil
}

func (r *Renderer) ffprobe(ffmpeg string) (string, error) {
	p := filepath.Join(filepath.Dir(ffmpeg), "ffprobe")
	if _, err := os.Stat(p); err == nil {
		return p, nil
	}
	if p, err := exec.LookPath("ffprobe"); err == nil {
		return p, nil
	}
	return "", errs.E("mask.ffprobe", errs.Unavailable, errs.Code("mask.ffmpeg"), errs.Params{"path": "ffprobe"},
		"ffprobe is not installed: install the Debian package ffmpeg")
}

// Probe reads a video's picture size and duration with ffprobe.
func (r *Renderer) Probe(ctx context.Context, path string) (w, h int, d time.Duration, err error) {
	const op = "mask.Probe"
	ff, err := r.ffmpeg()
	if err != nil {
		return 0, 0, 0, err
	}
	fp, err := r.ffprobe(ff)
	if err != nil {
		return 0, 0, 0, err
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, fp, "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=width,height:format=duration", "-of", "json", path)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, 0, 0, errs.E(op, errs.Invalid, fmt.Errorf("ffprobe %s: %v: %s", filepath.Base(path), err, tail(stderr.Bytes())))
	}
	var v struct {
		Streams []struct{ Width, Height int }
		Format  struct{ Duration string }
	}
	if err := json.Unmarshal(out, &v); err != nil || len(v.Streams) == 0 || v.Streams[0].Width <= 0 {
		return 0, 0, 0, errs.Errorf(op, errs.Invalid, "%s has no video stream", filepath.Base(path))
	}
	sec, _ := strconv.ParseFloat(v.Format.Duration, 64)
	return v.Streams[0].Width, v.Streams[0].Height, time.Duration(sec * float64(time.Second)), nil
}

// Render writes the masked copy of job's clip to out, an MP4 with one
// H.264 video stream, frame for frame the source's (none dropped or
// duplicated, timestamps kept). Audio is dropped: voices are personal
// data too, and cameras here record none. ffmpeg writes to a temporary
// file beside out, which is fsynced and linked to out when ffmpeg
// succeeds; if ctx ends
// first, ffmpeg is killed and the temporary file removed, so out is whole
// or absent. An existing out is not replaced. Personal data (the
// watermark's text) goes to ffmpeg in files, not on its command line,
// where every local user could read it.
func (r *Renderer) Render(ctx context.Context, spec *Spec, job Job, out string) (err error) {
	const op = "mask.Render"
	if err := spec.Validate(); err != nil {
		return errs.E(op, err)
	}
	ff, err := r.ffmpeg()
	if err != nil {
		return errs.E(op, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return errs.Errorf(op, errs.Exist, "%s already exists", out)
	}
	if job.Width <= 0 || job.Height <= 0 || job.Duration <= 0 {
		w, h, d, err := r.Probe(ctx, job.Input)
		if err != nil {
			return errs.E(op, err)
		}
		if job.Width <= 0 || job.Height <= 0 {
			job.Width, job.Height = w, h
		}
		if job.Duration <= 0 {
			job.Duration = d
		}
	}
	dir := filepath.Dir(out)
	work, err := os.MkdirTemp(dir, "."+filepath.Base(out)+".*.d")
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer os.RemoveAll(work)
	g, err := r.graph(spec, job.Width, job.Height, work, job.Duration.Seconds())
	if err != nil {
		return errs.E(op, err)
	}
	script := filepath.Join(work, "graph.txt")
	if err := os.WriteFile(script, []byte(g.filter), 0o600); err != nil {
		return errs.E(op, errs.IO, err)
	}
	tmp := filepath.Join(work, "out.mp4")
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-nostats", "-progress", "pipe:1",
		"-i", job.Input}
	for _, in := range g.inputs {
		args = append(args, "-i", in)
	}
	preset, crf := r.Preset, r.CRF
	if preset == "" {
		preset = "veryfast"
	}
	if crf <= 0 {
		crf = 20
	}
	if !job.Recorded.IsZero() {
		args = append(args, "-metadata", "creation_time="+job.Recorded.UTC().Format("2006-01-02T15:04:05.000000Z"),
			"-metadata", "date="+job.Recorded.Format("2006-01-02T15:04:05.000Z07:00"))
	}
	// One filter thread: the graph's filters work on small areas, where
	// the slice threads' hand-offs (every scale filter has its own pool)
	// cost more than they save; the encoder keeps its own threads.
	args = append(args, "-filter_complex_threads", "1", "-filter_complex_script", script, "-map", "[out]", "-fps_mode", "passthrough", "-an", "-sn", "-dn",
		"-c:v", "libx264", "-preset", preset, "-crf", strconv.Itoa(crf), "-pix_fmt", "yuv420p",
		"-movflags", "+faststart", "-f", "mp4", tmp)
	cmd := exec.CommandContext(ctx, ff, args...)
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = FFmpegEnv()
	var stderr limited
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return errs.E(op, errs.Internal, err)
	}
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return errs.E(op, errs.Canceled, context.Cause(ctx))
		}
		return errs.E(op, errs.Unavailable, errs.Code("mask.ffmpeg"), errs.Params{"path": ff}, err)
	}
	// All of ffmpeg's output is read before Wait (os/exec's rule).
	readProgress(stdout, job.Duration, job.Progress)
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return errs.E(op, errs.Canceled, context.Cause(ctx))
	}
	if werr != nil {
		return errs.E(op, errs.Internal, fmt.Errorf("ffmpeg: %v: %s", werr, tail(stderr.Bytes())))
	}
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(serr, cerr); err != nil {
		return errs.E(op, errs.IO, err)
	}
	// Link, not rename: a file that appeared at out meanwhile is kept.
	if err := os.Link(tmp, out); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if d, err := os.Open(dir); err == nil {
		serr := d.Sync()
		d.Close()
		if serr != nil {
			return errs.E(op, errs.IO, serr)
		}
	}
	return nil
}

// FFmpegEnv is the environment of an ffmpeg running a masking graph: gwanje's own, with
// glibc's heap kept rather than trimmed. Each overlay of the graph copies
// the whole frame into a newly allocated buffer (libavfilter's framesync
// cannot hand it the frame it still holds); with glibc's defaults the
// heap is given back to the kernel after every frame and faulted in again
// for the next, which cost as much system time as the copies themselves
// (docs/benchmarks.md). Other C libraries ignore the variable.
func FFmpegEnv() []string {
	const tune = "glibc.malloc.trim_threshold=67108864:glibc.malloc.mmap_threshold=33554432"
	env := os.Environ()
	for i, kv := range env {
		if v, ok := strings.CutPrefix(kv, "GLIBC_TUNABLES="); ok {
			env[i] = "GLIBC_TUNABLES=" + v + ":" + tune
			return env
		}
	}
	return append(env, "GLIBC_TUNABLES="+tune)
}

// readProgress parses ffmpeg's -progress output: key=value lines, each
// block ending with progress=continue or progress=end.
func readProgress(r io.Reader, total time.Duration, report func(Progress)) {
	sc := bufio.NewScanner(r)
	var p Progress
	p.Total = total
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "out_time_us":
			if us, err := strconv.ParseInt(v, 10, 64); err == nil && us >= 0 {
				p.Done = time.Duration(us) * time.Microsecond
			}
		case "frame":
			p.Frames, _ = strconv.Atoi(v)
		case "progress":
			p.End = v == "end"
			if p.End && p.Total > 0 {
				p.Done = max(p.Done, p.Total)
			}
			if report != nil {
				report(p)
			}
		}
	}
	io.Copy(io.Discard, r)
}

// limited keeps the last 4 KiB written to it (ffmpeg's error messages).
type limited struct{ b []byte }

func (l *limited) Write(p []byte) (int, error) {
	l.b = append(l.b, p...)
	if len(l.b) > 4096 {
		l.b = l.b[len(l.b)-4096:]
	}
	return len(p), nil
}

func (l *limited) Bytes() []byte { return l.b }

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if i := strings.LastIndexByte(s, '\n'); i >= 0 && len(s)-i < 200 {
		// the last line is usually the cause; keep two
		if j := strings.LastIndexByte(s[:i], '\n'); j >= 0 {
			return s[j+1:]
		}
	}
	if len(s) > 600 {
		s = s[len(s)-600:]
	}
	return s
}
