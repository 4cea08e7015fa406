package web

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"time"

	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
)

// H.265 for browsers that cannot play it (docs/design/decisions.md): when
// Options.Transcode names an ffmpeg, a view of H.265 footage is converted
// to H.264 on the fly, live and playback alike, and its ledger row says so
// (TranscodedForm). The converted stream is fragmented MP4 without byte
// ranges: the page seeks within what it has received. Without ffmpeg the
// pages say the browser cannot play the format and offer the download.

// Ledger forms and objects of a converted view.
const (
	transcodedPlayback = "재생 열람(H.264 변환)"
	transcodedLive     = "실시간 열람(H.264 변환)"
	transcodedSuffix   = " (H.264 변환)"
)

// needsTranscode reports whether camera's footage in [from, to) is H.265
// and this server converts it.
func (s *Server) needsTranscode(ctx context.Context, camera string, from, to time.Time) bool {
	if s.opt.Transcode == "" {
		return false
	}
	segs, err := s.opt.Footage.Segments(ctx, camera, media.Time90k(from), media.Time90k(to))
	if err != nil {
		return false
	}
	for _, sg := range segs {
		if sg.Codec == media.CodecH265 {
			return true
		}
	}
	return false
}

// transcoder is an ffmpeg converting the MP4 written to it into
// fragmented H.264 MP4 written to a response as it comes.
type transcoder struct {
	http.ResponseWriter
	in   io.WriteCloser
	cmd  *exec.Cmd
	done chan struct{}
}

// startTranscode starts ffmpeg for one response; ctx ends it. The caller
// writes the source MP4 (plain or fragmented) to the transcoder and then
// calls finish. filter are arguments after the source's input (the
// privacy zones' masking, zones.go). A live stream is read without
// buffering, for latency; a playback is not: ffmpeg reading a whole MP4
// from a pipe that way loses its last frames.
func (s *Server) startTranscode(ctx context.Context, w http.ResponseWriter, live bool, filter ...string) (*transcoder, error) {
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if live {
		args = append(args, "-fflags", "+nobuffer")
	}
	args = append(args, "-f", "mp4", "-i", "pipe:0")
	args = append(args, filter...)
	args = append(args, "-an", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
		"-f", "mp4", "-movflags", "frag_keyframe+empty_moov+default_base_moof", "pipe:3")
	cmd := exec.CommandContext(ctx, s.opt.Transcode, args...)
	cmd.Env = mask.FFmpegEnv() // glibc's heap kept: the zones' overlays copy every frame
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	// Output on a pipe of its own, so ffmpeg's messages cannot mix in.
	pr, pw, err := pipe()
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, pw)
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	pw.Close()
	t := &transcoder{ResponseWriter: w, in: in, cmd: cmd, done: make(chan struct{})}
	flusher, _ := w.(http.Flusher)
	go func() {
		defer close(t.done)
		defer pr.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := pr.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					return
				}
				if flusher != nil {
					flusher.Flush()
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return t, nil
}

// Write feeds the source to ffmpeg.
func (t *transcoder) Write(b []byte) (int, error) { return t.in.Write(b) }

// Flush does nothing: the output side flushes what ffmpeg writes.
func (t *transcoder) Flush() {}

// finish ends the input, waits for the output to be written and for
// ffmpeg to exit.
func (t *transcoder) finish() error {
	t.in.Close()
	<-t.done
	return t.cmd.Wait()
}

// serveTranscoded answers a playback view of H.265 footage with its H.264
// conversion: the whole view from its start, no byte ranges.
func (s *Server) serveTranscoded(w http.ResponseWriter, r *http.Request, src io.Reader) {
	h := w.Header()
	h.Del("ETag")
	h.Set("X-Gwanje-Form", "h264")
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	t, err := s.startTranscode(r.Context(), w, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(t, src); err != nil {
		s.log.Info("transcoding ended", "err", err)
	}
	if err := t.finish(); err != nil && r.Context().Err() == nil {
		s.log.Warn("ffmpeg", "err", err)
	}
}
