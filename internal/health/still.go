package health

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os/exec"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/media"
)

// FFmpegStill is a StillChecker that decodes one key frame with ffmpeg to
// a small gray image and judges it: too dark (black: lens cap, dead IR,
// cut video), too uniform (covered or sprayed lens), or too little detail
// (badly defocused). Thresholds are on 8-bit luma at 160x90.
type FFmpegStill struct {
	// FFmpeg is the ffmpeg binary; "" means "ffmpeg" on PATH.
	FFmpeg string
	// BlackMean: mean luma below this is black (default 20).
	BlackMean float64
	// UniformStdDev: luma standard deviation below this is a covered lens
	// (default 6).
	UniformStdDev float64
	// SharpLaplacian: variance of the Laplacian below this is defocused
	// (default 15). Scenes differ: tune per site from a healthy camera's
	// value (Stats).
	SharpLaplacian float64
}

// StillStats are the measurements of a decoded still.
type StillStats struct {
	Mean, StdDev, Laplacian float64
}

const stillW, stillH = 160, 90

// annexB returns the key frame f with its parameter sets as an Annex B
// elementary stream, and ffmpeg's name for its format.
func annexB(f *media.Frame) ([]byte, string, error) {
	if f == nil || !f.Key || !f.Params.Complete() {
		return nil, "", errors.New("need a key frame with complete parameter sets")
	}
	nalus, err := media.SplitAVCC(f.Data)
	if err != nil {
		return nil, "", err
	}
	var in bytes.Buffer
	for _, n := range append(f.Params.ParamNALUs(), nalus...) {
		in.Write([]byte{0, 0, 0, 1})
		in.Write(n)
	}
	format := "h264"
	if f.Params.Codec == media.CodecH265 {
		format = "hevc"
	}
	return in.Bytes(), format, nil
}

// ffmpeg decodes the key frame f and writes its first picture with the
// given output arguments to stdout.
func (s FFmpegStill) ffmpeg(ctx context.Context, op string, f *media.Frame, out ...string) ([]byte, error) {
	in, format, err := annexB(f)
	if err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	bin := s.FFmpeg
	if bin == "" {
		bin = "ffmpeg"
	}
	args := append([]string{"-hide_banner", "-loglevel", "error", "-f", format, "-i", "pipe:0", "-frames:v", "1"}, out...)
	cmd := exec.CommandContext(ctx, bin, append(args, "pipe:1")...)
	cmd.Stdin = bytes.NewReader(in)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, errs.Errorf(op, errs.Unavailable, "ffmpeg: %v: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.Bytes(), nil
}

// Decode returns the key frame f as a stillW×stillH 8-bit gray image.
func (s FFmpegStill) Decode(ctx context.Context, f *media.Frame) ([]byte, error) {
	const op = "health.FFmpegStill.Decode"
	b, err := s.ffmpeg(ctx, op, f, "-vf", fmt.Sprintf("scale=%d:%d", stillW, stillH), "-pix_fmt", "gray", "-f", "rawvideo")
	if err != nil {
		return nil, err
	}
	if len(b) != stillW*stillH {
		return nil, errs.Errorf(op, errs.Corrupt, "ffmpeg returned %d bytes, want %d", len(b), stillW*stillH)
	}
	return b, nil
}

// StillImage returns the key frame f as a JPEG picture at the camera's
// resolution, for a person to look at (the picture the check kept).
func (s FFmpegStill) StillImage(ctx context.Context, f *media.Frame) ([]byte, error) {
	const op = "health.FFmpegStill.StillImage"
	b, err := s.ffmpeg(ctx, op, f, "-c:v", "mjpeg", "-q:v", "4", "-f", "image2")
	if err != nil {
		return nil, err
	}
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return nil, errs.Errorf(op, errs.Corrupt, "ffmpeg did not return a JPEG (%d bytes)", len(b))
	}
	return b, nil
}

// Measure computes mean luma, its standard deviation and the variance of
// the 4-neighbour Laplacian of a w×h gray image.
func Measure(img []byte, w, h int) StillStats {
	var sum, sq float64
	for _, v := range img {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(img))
	mean := sum / n
	st := StillStats{Mean: mean, StdDev: math.Sqrt(max(0, sq/n-mean*mean))}
	var ls, lsq, ln float64
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			c := float64(img[y*w+x])
			l := float64(img[y*w+x-1]) + float64(img[y*w+x+1]) + float64(img[(y-1)*w+x]) + float64(img[(y+1)*w+x]) - 4*c
			ls += l
			lsq += l * l
			ln++
		}
	}
	if ln > 0 {
		m := ls / ln
		st.Laplacian = lsq/ln - m*m
	}
	return st
}

// Judge names the problems of a still with these stats.
func (s FFmpegStill) Judge(st StillStats) []string {
	black, uniform, sharp := s.BlackMean, s.UniformStdDev, s.SharpLaplacian
	if black == 0 {
		black = 20
	}
	if uniform == 0 {
		uniform = 6
	}
	if sharp == 0 {
		sharp = 15
	}
	// Findings go to the 관리대장 and the still's record: in Korean, the
	// catalogue's words (msg_health.go), with the measure that decided.
	f := func(key, value string) []string {
		return []string{i18n.T(i18n.Ko, key, map[string]string{"value": value})}
	}
	switch {
	case st.Mean < black:
		return f("health.still.black", fmt.Sprintf("%.0f", st.Mean))
	case st.StdDev < uniform:
		return f("health.still.covered", fmt.Sprintf("%.1f", st.StdDev))
	case st.Laplacian < sharp:
		return f("health.still.defocused", fmt.Sprintf("%.1f", st.Laplacian))
	}
	return nil
}

// CheckStill decodes f and judges it.
func (s FFmpegStill) CheckStill(ctx context.Context, camera string, f *media.Frame) ([]string, error) {
	img, err := s.Decode(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.Judge(Measure(img, stillW, stillH)), nil
}
