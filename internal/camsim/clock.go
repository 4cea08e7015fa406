package camsim

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"

	"github.com/gwanje/gwanje/internal/errs"
)

// Clock pictures: a simulated camera whose every frame shows the wall
// clock at which it was made, for measuring live view's end-to-end
// latency in a browser on the same machine (docs/benchmarks.md). ffmpeg
// draws ClockBits black-or-white bars across the top of a ClockWidth ×
// ClockHeight picture, most significant first, each ClockBarWidth pixels
// wide: the low ClockBits bits of the Unix time in milliseconds when the
// frame was made, and encodes it live as H.264 (25 fps, a key frame a
// second, no B-frames). The camera serves it over RTSP at /clock.
const (
	ClockBits     = 24
	ClockBarWidth = 26
	ClockWidth    = ClockBits * ClockBarWidth
	ClockHeight   = 48
)

// ClockCamera is a running clock camera.
type ClockCamera struct {
	rtsp   *gortsplib.Server
	cmd    *exec.Cmd
	log    *slog.Logger
	ready  chan struct{}
	mu     sync.Mutex
	stream *gortsplib.ServerStream
	media  *description.Media
	done   chan struct{}
}

// StartClock starts ffmpeg (the binary at ffmpeg) and an RTSP server on
// addr serving its picture.
func StartClock(addr, ffmpeg string, log *slog.Logger) (*ClockCamera, error) {
	const op = "camsim.StartClock"
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &ClockCamera{log: log, ready: make(chan struct{}), done: make(chan struct{})}
	c.rtsp = &gortsplib.Server{Handler: clockHandler{c}, RTSPAddress: addr}
	if err := c.rtsp.Start(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	bits := fmt.Sprintf("255*mod(floor(mod(floor(T*1000),%d)/pow(2,%d-floor(X/%d))),2)", 1<<ClockBits, ClockBits-1, ClockBarWidth)
	c.cmd = exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", fmt.Sprintf("color=c=gray:s=%dx%d:r=25", ClockWidth, ClockHeight),
		"-vf", "settb=1/1000,setpts=RTCTIME/1000,geq=lum='"+bits+"':cb=128:cr=128",
		"-fps_mode", "passthrough", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
		"-g", "25", "-bf", "0", "-x264-params", "slices=1:repeat-headers=1", "-b:v", "1M",
		"-bsf:v", "h264_metadata=aud=insert", "-flush_packets", "1", "-f", "h264", "-")
	out, err := c.cmd.StdoutPipe()
	if err != nil {
		c.rtsp.Close()
		return nil, errs.E(op, errs.Internal, err)
	}
	if err := c.cmd.Start(); err != nil {
		c.rtsp.Close()
		return nil, errs.E(op, errs.IO, err)
	}
	go c.run(out)
	return c, nil
}

// URL is the camera's RTSP URL.
func (c *ClockCamera) URL() string {
	return "rtsp://" + c.rtsp.NetListener().Addr().String() + "/clock"
}

// Close stops ffmpeg and the server.
func (c *ClockCamera) Close() error {
	c.cmd.Process.Kill()
	<-c.done
	c.cmd.Wait()
	c.mu.Lock()
	if c.stream != nil {
		c.stream.Close()
	}
	c.mu.Unlock()
	c.rtsp.Close()
	return nil
}

// run reads ffmpeg's Annex-B stream and sends each access unit as soon as
// its picture's slice has arrived: ffmpeg flushes every frame, so a read
// that ends with a slice ends the access unit.
func (c *ClockCamera) run(out io.Reader) {
	defer close(c.done)
	r := bufio.NewReaderSize(out, 1<<16)
	buf := make([]byte, 1<<16)
	var pending []byte // the start of a NAL unit not yet complete
	var au [][]byte
	var enc *rtph264.Encoder
	var sps, pps []byte
	for {
		n, err := r.Read(buf)
		if err != nil {
			return
		}
		nalus := splitNALUs(append(pending, buf[:n]...))
		// A read that does not end with a slice may end inside a NAL
		// unit: keep the last one for the next read.
		pending = nil
		if k := len(nalus) - 1; k >= 0 && nalus[k][0]&0x1f != 1 && nalus[k][0]&0x1f != 5 {
			pending = append([]byte{0, 0, 1}, nalus[k]...)
			nalus = nalus[:k]
		}
		for i, nal := range nalus {
			typ := nal[0] & 0x1f
			switch typ {
			case 9: // access unit delimiter: a new access unit
				au = au[:0]
				continue
			case 7:
				sps = bytes.Clone(nal)
			case 8:
				pps = bytes.Clone(nal)
			}
			au = append(au, bytes.Clone(nal))
			last := i == len(nalus)-1
			if (typ == 1 || typ == 5) && last {
				if enc == nil && sps != nil && pps != nil {
					if enc, err = c.initStream(sps, pps); err != nil {
						c.log.Error("clock camera", "err", err)
						return
					}
				}
				if enc != nil {
					c.send(enc, au)
				}
				au = au[:0]
			}
		}
	}
}

// initStream creates the RTSP stream once the parameters are known.
func (c *ClockCamera) initStream(sps, pps []byte) (*rtph264.Encoder, error) {
	f := &format.H264{PayloadTyp: 96, PacketizationMode: 1, SPS: sps, PPS: pps}
	m := &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{f}}
	s := &gortsplib.ServerStream{Server: c.rtsp, Desc: &description.Session{Medias: []*description.Media{m}}}
	if err := s.Initialize(); err != nil {
		return nil, err
	}
	enc := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.stream, c.media = s, m
	c.mu.Unlock()
	close(c.ready)
	return enc, nil
}

func (c *ClockCamera) send(enc *rtph264.Encoder, au [][]byte) {
	now := time.Now()
	pkts, err := enc.Encode(au)
	if err != nil {
		return
	}
	ts := uint32(now.UnixMilli() * 90)
	for _, p := range pkts {
		p.Timestamp = ts
		_ = c.stream.WritePacketRTPWithNTP(c.media, p, now)
	}
}

// splitNALUs splits an Annex-B buffer at its start codes.
func splitNALUs(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+3 <= len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				if end > start {
					out = append(out, b[start:end])
				}
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}

type clockHandler struct{ c *ClockCamera }

var (
	_ gortsplib.ServerHandlerOnDescribe = clockHandler{}
	_ gortsplib.ServerHandlerOnSetup    = clockHandler{}
	_ gortsplib.ServerHandlerOnPlay     = clockHandler{}
)

func (h clockHandler) streamFor(path string) *gortsplib.ServerStream {
	if path != "/clock" {
		return nil
	}
	select {
	case <-h.c.ready:
	case <-time.After(10 * time.Second):
		return nil
	}
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.stream
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (h clockHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	s := h.streamFor(ctx.Path)
	if s == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, s, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (h clockHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	s := h.streamFor(ctx.Path)
	if s == nil {
		return &base.Response{StatusCode: base.StatusNotFound}, nil, nil
	}
	return &base.Response{StatusCode: base.StatusOK}, s, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (h clockHandler) OnPlay(*gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	return &base.Response{StatusCode: base.StatusOK}, nil
}
