// Package camsim simulates RTSP cameras for tests and load trials: one
// Server serves any number of cameras on one port, path /cam/1, /cam/2, …,
// each looping an embedded clip (internal/clip) in real time with RTP
// timestamps that advance monotonically across loops, as a camera's would.
//
// Each clip is packetized into RTP payloads once at start-up; a camera
// only fills in its own sequence numbers and timestamps when sending. One
// scheduler goroutine paces every camera. Faults (stop, stall, freeze, a
// lower frame rate, packet loss) can be switched per camera at run time
// with SetFault, to test the recorder's monitoring.
package camsim

import (
	"crypto/rand"
	"encoding/binary"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// Config describes a set of simulated cameras.
type Config struct {
	// Addr is the RTSP (TCP) listen address, "127.0.0.1:8554". Port 0
	// picks a free port; Server.Addr reports it.
	Addr string
	// UDPRTPAddr and UDPRTCPAddr, both set or both empty, enable the UDP
	// transport. The RTP port must be even and the RTCP port the next one.
	UDPRTPAddr, UDPRTCPAddr string
	// Cameras is the number of cameras, at least 1.
	Cameras int
	// Codecs lists the codecs in turn: camera n streams
	// Codecs[(n-1)%len(Codecs)]. Empty means H.264 only.
	Codecs []media.Codec
	// User and Pass, when User is set, are required from every client
	// (Basic or Digest). Pass is never logged.
	User, Pass string
	// Stagger delays camera n's first frame by (n-1)*Stagger, so that
	// cameras do not all send their key frames at the same instant. The
	// first camera sends its first frame (a key frame) one frame interval
	// after Start. A camera answers DESCRIBE before its first frame.
	Stagger time.Duration
	// Clock paces the cameras; nil means the system clock.
	Clock clock.Clock
	// Rand draws each camera's initial RTP timestamp and sequence number
	// and decides packet loss. It is used by one goroutine at a time. Nil
	// means a source seeded from crypto/rand.
	Rand *mrand.Rand
	// Logger receives connection and fault events; nil discards them.
	Logger *slog.Logger
}

// Fault is an injected camera fault. The zero Fault is a healthy camera.
// Stop takes precedence over Stall; Freeze, Every and Loss combine.
type Fault struct {
	// Stop closes the camera's sessions and refuses new ones with
	// 503 Service Unavailable, like a camera that is off.
	Stop bool
	// Stall keeps sessions open but sends nothing.
	Stall bool
	// Freeze repeats the key frame of the current GOP at the normal frame
	// rate with advancing timestamps, like a camera whose sensor hung.
	Freeze bool
	// Every, when above 1, sends only every Every-th frame (timestamps
	// then advance by Every frame durations).
	Every int
	// Loss is the probability, from 0 to 1, that each RTP packet is
	// dropped. Dropped packets still use up sequence numbers.
	Loss float64
}

func (f Fault) String() string {
	switch {
	case f.Stop:
		return "stop"
	case f.Stall:
		return "stall"
	}
	s := ""
	if f.Freeze {
		s += "freeze "
	}
	if f.Every > 1 {
		s += "every=" + strconv.Itoa(f.Every) + " "
	}
	if f.Loss > 0 {
		s += "loss=" + strconv.FormatFloat(f.Loss, 'g', 3, 64) + " "
	}
	if s == "" {
		return "none"
	}
	return s[:len(s)-1]
}

// frameDur is the wall-clock duration of one frame (25 fps).
const frameDur = time.Second * 3600 / media.Hz

// Server serves simulated cameras over RTSP.
type Server struct {
	cfg     Config
	clk     clock.Clock
	log     *slog.Logger
	rtsp    *gortsplib.Server
	cams    []*camera // cams[n-1] is camera n; set before ready is closed
	ready   chan struct{}
	stopped chan struct{}
	done    chan struct{}

	// waiting, when set (tests), is called each time the scheduler is about
	// to block until the next frame is due.
	waiting func()
}

// camera is one simulated camera. Fields below mu are shared with the RTSP
// handler; the rest belong to the scheduler goroutine.
type camera struct {
	n      int
	path   string
	clip   *packetized
	stream *gortsplib.ServerStream
	media  *description.Media

	start    time.Time // wall time of frame 0
	tsOffset uint32    // RTP timestamp of frame 0
	seq      uint16    // next RTP sequence number
	next     int64     // index of the next frame since frame 0
	frozen   int       // clip frame repeated while frozen, or -1
	pkt      rtp.Packet
	lastSeq  uint16 // sequence number of the last packet written
	wrote    bool   // whether any packet was written

	readers atomic.Int32 // sessions set up on this camera

	mu       sync.Mutex
	fault    Fault
	sessions map[*gortsplib.ServerSession]struct{}
}

// Start validates cfg, packetizes the clips, listens and starts streaming.
// Close stops it.
func Start(cfg Config) (*Server, error) { return start(cfg, nil) }

// start is Start with a hook the scheduler calls each time it is about to
// wait for the next frame (tests use it to step a fake clock).
func start(cfg Config, waiting func()) (*Server, error) {
	const op = "camsim.Start"
	if cfg.Cameras < 1 {
		return nil, errs.Errorf(op, errs.Invalid, "camera count %d: need at least 1", cfg.Cameras)
	}
	if cfg.Addr == "" {
		return nil, errs.Errorf(op, errs.Invalid, "no listen address")
	}
	if (cfg.UDPRTPAddr == "") != (cfg.UDPRTCPAddr == "") {
		return nil, errs.Errorf(op, errs.Invalid, "UDP RTP and RTCP addresses must be set together")
	}
	if cfg.Stagger < 0 {
		return nil, errs.Errorf(op, errs.Invalid, "negative stagger %v", cfg.Stagger)
	}
	if cfg.User == "" && cfg.Pass != "" {
		return nil, errs.Errorf(op, errs.Invalid, "password given without a user name")
	}
	if len(cfg.Codecs) == 0 {
		cfg.Codecs = []media.Codec{media.CodecH264}
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Rand == nil {
		var seed [16]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return nil, errs.E(op, errs.Internal, err)
		}
		cfg.Rand = mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}

	clips := map[media.Codec]*packetized{}
	for _, c := range cfg.Codecs {
		if clips[c] != nil {
			continue
		}
		p, err := packetize(c)
		if err != nil {
			return nil, errs.E(op, err)
		}
		clips[c] = p
	}

	s := &Server{
		cfg:     cfg,
		clk:     cfg.Clock,
		log:     cfg.Logger,
		stopped: make(chan struct{}),
		done:    make(chan struct{}),
		ready:   make(chan struct{}),
		waiting: waiting,
	}
	s.rtsp = &gortsplib.Server{
		Handler:        &handler{s: s},
		RTSPAddress:    cfg.Addr,
		UDPRTPAddress:  cfg.UDPRTPAddr,
		UDPRTCPAddress: cfg.UDPRTCPAddr,
	}
	if err := s.rtsp.Start(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}

	// The RTSP server must run before streams can be made, so requests
	// that arrive meanwhile wait for ready.
	defer close(s.ready)
	var cams []*camera
	t0 := s.clk.Now()
	for n := 1; n <= cfg.Cameras; n++ {
		p := clips[cfg.Codecs[(n-1)%len(cfg.Codecs)]]
		c := &camera{
			n:        n,
			path:     "/cam/" + strconv.Itoa(n),
			clip:     p,
			media:    &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{p.format()}},
			start:    t0.Add(frameDur + time.Duration(n-1)*cfg.Stagger),
			tsOffset: cfg.Rand.Uint32(),
			seq:      uint16(cfg.Rand.Uint32()),
			frozen:   -1,
			sessions: map[*gortsplib.ServerSession]struct{}{},
		}
		c.stream = &gortsplib.ServerStream{
			Server: s.rtsp,
			Desc:   &description.Session{Medias: []*description.Media{c.media}},
		}
		if err := c.stream.Initialize(); err != nil {
			for _, d := range cams {
				d.stream.Close()
			}
			s.rtsp.Close()
			return nil, errs.E(op, errs.Internal, err)
		}
		cams = append(cams, c)
	}
	s.cams = cams
	go s.schedule()
	s.log.Info("camera simulator started", "addr", s.Addr(), "cameras", cfg.Cameras,
		"auth", cfg.User != "")
	return s, nil
}

// Addr returns the RTSP listen address, with the port actually bound.
func (s *Server) Addr() string { return s.rtsp.NetListener().Addr().String() }

// Cameras returns the number of cameras.
func (s *Server) Cameras() int { return len(s.cams) }

// Codec returns the codec camera n streams.
func (s *Server) Codec(n int) media.Codec {
	if n < 1 || n > len(s.cams) {
		return media.CodecUnknown
	}
	return s.cams[n-1].clip.codec
}

// URL returns the RTSP URL of camera n (1-based), without credentials.
func (s *Server) URL(n int) string {
	host, port, _ := net.SplitHostPort(s.Addr())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	u := url.URL{Scheme: "rtsp", Host: net.JoinHostPort(host, port), Path: "/cam/" + strconv.Itoa(n)}
	return u.String()
}

// SetFault sets camera n's fault (1-based); the zero Fault heals it. It
// takes effect from the camera's next frame; Stop closes its sessions at
// once.
func (s *Server) SetFault(n int, f Fault) error {
	const op = "camsim.SetFault"
	if n < 1 || n > len(s.cams) {
		return errs.Errorf(op, errs.NotExist, "camera %d: the simulator has cameras 1 to %d", n, len(s.cams))
	}
	if f.Loss < 0 || f.Loss > 1 {
		return errs.Errorf(op, errs.Invalid, "camera %d: loss probability %v is outside 0..1", n, f.Loss)
	}
	if f.Every < 0 {
		return errs.Errorf(op, errs.Invalid, "camera %d: negative frame interval %d", n, f.Every)
	}
	c := s.cams[n-1]
	c.mu.Lock()
	c.fault = f
	var closing []*gortsplib.ServerSession
	if f.Stop {
		for ss := range c.sessions {
			closing = append(closing, ss)
		}
	}
	c.mu.Unlock()
	for _, ss := range closing {
		ss.Close()
	}
	s.log.Info("camera fault set", "camera", n, "fault", f.String())
	return nil
}

// Fault returns camera n's current fault.
func (s *Server) Fault(n int) Fault {
	if n < 1 || n > len(s.cams) {
		return Fault{}
	}
	c := s.cams[n-1]
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fault
}

// Close stops streaming, closes every session and the listeners.
func (s *Server) Close() error {
	select {
	case <-s.stopped:
		return nil
	default:
	}
	close(s.stopped)
	<-s.done
	for _, c := range s.cams {
		c.stream.Close()
	}
	s.rtsp.Close()
	return nil
}

// cameraFor parses a request path, "/cam/3", into its camera.
func (s *Server) cameraFor(path string) *camera {
	<-s.ready
	rest, ok := strings.CutPrefix(path, "/cam/")
	if !ok {
		return nil
	}
	n, err := strconv.Atoi(rest)
	if err != nil || n < 1 || n > len(s.cams) || strconv.Itoa(n) != rest {
		return nil
	}
	return s.cams[n-1]
}

// ParseCodecs parses a codec choice: "h264", "h265" or "mix" (cameras
// alternate H.264 and H.265).
func ParseCodecs(s string) ([]media.Codec, error) {
	switch strings.ToLower(s) {
	case "h264", "h.264", "avc":
		return []media.Codec{media.CodecH264}, nil
	case "h265", "h.265", "hevc":
		return []media.Codec{media.CodecH265}, nil
	case "mix":
		return []media.Codec{media.CodecH264, media.CodecH265}, nil
	}
	return nil, errs.Errorf("camsim.ParseCodecs", errs.Invalid, "codec %q: want h264, h265 or mix", s)
}
