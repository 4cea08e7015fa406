// Package ingest records cameras: a Supervisor per camera connects over
// RTSP, sets up the video track only (never audio: PIPA Art. 25⑤ forbids
// recording sound), turns RTP into complete access units with a Pipeline
// and hands them to the store's Sink, reconnecting with exponential backoff
// when anything fails. Over TCP (the default) gwanje's own RTSP client
// (internal/rtsp) sets the session up and a few pollers read every
// camera's socket on a timer tick; over UDP gortsplib's Client does both
// and frames reach the sink through a queue and a goroutine per camera.
// docs/design/ingest.md describes the pipeline and how clocks are handled.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

// Status is what a camera's supervisor is doing.
type Status uint8

const (
	Connecting Status = iota // connecting, or connected and waiting for the first key frame
	Recording                // frames are being handed to the sink
	Down                     // the last attempt failed; waiting to retry (or stopped)
)

func (s Status) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Recording:
		return "recording"
	case Down:
		return "down"
	}
	return fmt.Sprintf("status(%d)", s)
}

// State is a snapshot of a supervisor, for health pages and metrics.
type State struct {
	Camera string
	Status Status
	Since  time.Time // when Status last changed
	// LastError is the latest error, with secrets redacted; empty if none.
	LastError string
	// Counters of the pipeline, summed over connections.
	Counters
	Reconnects uint64 // connection attempts after the first
	// SinkErrors counts WriteFrame failures; Overruns counts frames dropped
	// because the sink fell QueueFrames behind.
	SinkErrors uint64
	Overruns   uint64
	// Clock is the latest RTCP sender report mapping (zero if none).
	Clock ClockMapping
}

// Options are a supervisor's dependencies; zero fields get real ones.
type Options struct {
	Logger *slog.Logger
	Clock  clock.Clock
	// Rand returns a uniform random integer in [0, n); it is the backoff
	// jitter, injectable so tests are deterministic.
	Rand func(n int64) int64
}

// Supervisor records one camera. Create it with New and call Run.
type Supervisor struct {
	cam  Camera
	red  redactor
	sink Sink
	log  *slog.Logger
	clk  clock.Clock
	rnd  func(int64) int64

	pmu  sync.Mutex // the pipeline, driven by gortsplib's goroutines
	pipe *Pipeline

	mu         sync.Mutex
	status     Status
	since      time.Time
	lastErr    string
	reconnects uint64
	sinkErrs   uint64
	overruns   uint64
	lastLog    time.Time // rate limit of per-packet error logs
	suppressed int
	// The pipeline's counters and mapping as of the last snapshotLocked.
	snapCounters Counters
	snapMapping  ClockMapping

	q      chan item
	direct bool // frames go to the sink from the pipeline's goroutine, not through q, unless async
	async  bool // guarded by pmu: direct, but frames go through q until the sink goroutine has caught up
	waits  Waiter
	// failed: the sink failed and frames are skipped to a key frame. It
	// is used by the pipeline's goroutine while writing directly, by the
	// sink goroutine otherwise; async changes hands under pmu.
	failed     bool
	copies     bool // the sink is a FrameCopier: frames it wrote may be reused
	overrun    bool // guarded by pmu: dropping until a key frame
	lastPacket atomic.Int64

	smu  sync.Mutex
	subs map[*Subscription]struct{}
}

// item is one entry of the queue to the sink: a frame or a Break. reuse
// says no live viewer was given the frame, so its memory may be reused once
// a FrameCopier sink has written it.
type item struct {
	f     *media.Frame
	brk   string
	reuse bool
}

// New returns a supervisor for cam handing frames to sink. It validates
// cam.
func New(cam Camera, sink Sink, opts Options) (*Supervisor, error) {
	const op = "ingest.New"
	if err := cam.Validate(); err != nil {
		return nil, errs.E(op, err)
	}
	if sink == nil {
		return nil, errs.E(op, errs.Invalid, "nil sink")
	}
	cam = cam.withDefaults()
	s := &Supervisor{
		cam:  cam,
		red:  newRedactor(cam),
		sink: sink,
		log:  opts.Logger,
		clk:  opts.Clock,
		rnd:  opts.Rand,
		subs: map[*Subscription]struct{}{},
	}
	if fc, ok := sink.(FrameCopier); ok && fc.CopiesFrames() {
		s.copies = true
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("camera", cam.ID)
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.rnd == nil {
		s.rnd = rand.Int64N
	}
	s.pipe = NewPipeline(fanout{s}, PipelineOptions{MaxAccessUnit: cam.MaxAccessUnit, Reanchor: cam.Reanchor})
	s.pipe.pooled = s.copies
	// Over TCP, a poller goroutine serving many cameras runs the pipeline
	// and writes to the sink itself: a goroutine per camera woken for
	// every frame cost more than the writing (docs/design/ingest.md,
	// "Supervisor"). A sink that blocks holds the camera's bytes in the kernel's
	// socket buffer, then TCP makes the camera wait.
	s.direct = cam.Transport != UDP
	s.waits, _ = sink.(Waiter)
	s.status, s.since = Connecting, s.clk.Now()
	return s, nil
}

// State returns a snapshot of the supervisor.
// It never waits for a sink that blocks: the pipeline's counters are then
// those of the last read (State must show a stalled camera as stalled).
func (s *Supervisor) State() State {
	if s.pmu.TryLock() {
		s.snapshotLocked()
		s.pmu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return State{
		Camera: s.cam.ID, Status: s.status, Since: s.since, LastError: s.lastErr,
		Counters: s.snapCounters, Reconnects: s.reconnects, SinkErrors: s.sinkErrs, Overruns: s.overruns,
		Clock: s.snapMapping,
	}
}

// snapshotLocked copies the pipeline's counters and clock mapping for
// State. Called with pmu held.
func (s *Supervisor) snapshotLocked() {
	c, m := s.pipe.Counters(), s.pipe.Mapping()
	s.mu.Lock()
	s.snapCounters, s.snapMapping = c, m
	s.mu.Unlock()
}

func (s *Supervisor) setStatus(st Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status != st {
		s.status, s.since = st, s.clk.Now()
	}
}

// noteErr records err as the last error and logs it, at most once a second
// for per-packet errors so a broken camera cannot flood the log.
func (s *Supervisor) noteErr(err error, perPacket bool) string {
	msg := s.red.String(err.Error())
	s.mu.Lock()
	s.lastErr = msg
	now := s.clk.Now()
	if perPacket && now.Sub(s.lastLog) < time.Second {
		s.suppressed++
		s.mu.Unlock()
		return msg
	}
	n := s.suppressed
	s.lastLog, s.suppressed = now, 0
	s.mu.Unlock()
	if perPacket {
		s.log.Warn("camera stream error", "err", msg, "suppressed", n)
	}
	return msg
}

// Run records the camera until ctx is done: it connects, records, and on
// any failure reconnects after an exponential backoff with jitter. It
// returns ctx's error once every goroutine it started has ended, after
// closing every Subscription. Call Run once per Supervisor.
func (s *Supervisor) Run(ctx context.Context) error {
	done := make(chan struct{})
	s.q = make(chan item, s.cam.QueueFrames)
	go s.drain(done)
	defer func() {
		close(s.q)
		<-done
		s.closeSubs()
	}()

	attempt := 0
	for {
		s.setStatus(Connecting)
		s.log.Info("connecting", "url", s.red.String(s.cam.URL), "transport", string(s.cam.Transport))
		recorded, err := s.session(ctx)
		if ctx.Err() != nil {
			s.setStatus(Down)
			s.log.Info("stopped")
			return ctx.Err()
		}
		msg := s.noteErr(err, false)
		if recorded {
			attempt = 0
		}
		d := Backoff(attempt, s.cam.BackoffMin, s.cam.BackoffMax, s.rnd)
		attempt++
		retry := s.clk.After(d) // before Down is visible, so a test that sees Down may advance a fake clock
		s.setStatus(Down)
		s.log.Warn("camera connection failed", "err", msg, "retry_in", d)
		select {
		case <-ctx.Done():
			s.log.Info("stopped")
			return ctx.Err()
		case <-retry:
		}
		s.mu.Lock()
		s.reconnects++
		s.mu.Unlock()
	}
}

// Backoff returns the delay before reconnection attempt number attempt
// (0 for the first retry): a uniformly random duration between min and a
// ceiling that doubles with every attempt up to max ("full jitter", so
// cameras that failed together do not retry together). rnd(n) returns a
// uniform integer in [0, n).
func Backoff(attempt int, min, max time.Duration, rnd func(int64) int64) time.Duration {
	ceil := max
	if attempt < 32 {
		if c := min << attempt; c > 0 && c < max {
			ceil = c
		}
	}
	if ceil <= min {
		return min
	}
	return min + time.Duration(rnd(int64(ceil-min)+1))
}

// session runs one connection. It reports whether any frame was handed
// over, and why the connection ended.
func (s *Supervisor) session(ctx context.Context) (recorded bool, err error) {
	if s.cam.Transport != UDP {
		return s.sessionTCP(ctx)
	}
	return s.sessionUDP(ctx)
}

// sessionUDP runs one connection with RTP over UDP, on gortsplib's Client.
func (s *Supervisor) sessionUDP(ctx context.Context) (recorded bool, err error) {
	const op = "ingest.connect"
	u, err := s.cameraURL()
	if err != nil {
		return false, err
	}
	proto := gortsplib.ProtocolUDP
	c := &gortsplib.Client{
		Scheme:      u.Scheme,
		Host:        u.Host,
		ReadTimeout: s.cam.ReadTimeout,
		Protocol:    &proto,
		// Loss and decode errors are detected and reported by the
		// pipeline; gortsplib's own reports would repeat them.
		OnPacketsLost: func(uint64) {},
		OnDecodeError: func(error) {},
	}
	if err := c.Start(); err != nil {
		return false, errs.E(op, errs.Unavailable, err)
	}
	framesBefore := s.frames()
	defer func() { recorded = s.endConnection(framesBefore) }()
	defer c.Close()

	desc, _, err := c.Describe(u)
	if err != nil {
		kind := errs.Unavailable
		if isAuthError(err) {
			kind = errs.Unauthorized
		}
		return false, errs.E(op, kind, fmt.Errorf("DESCRIBE: %w", err))
	}
	medi, forma, track, err := pickVideo(desc)
	if err != nil {
		return false, errs.E(op, err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return false, errs.E(op, errs.Unavailable, fmt.Errorf("SETUP: %w", err))
	}
	s.pmu.Lock()
	err = s.pipe.Start(track)
	s.pmu.Unlock()
	if err != nil {
		return false, errs.E(op, err)
	}
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		now := s.clk.Now()
		s.lastPacket.Store(now.UnixNano())
		s.pmu.Lock()
		err := s.pipe.Packet(pkt, now)
		s.pmu.Unlock()
		if err != nil {
			s.noteErr(err, true)
		}
	})
	c.OnPacketRTCP(medi, func(p rtcp.Packet) {
		if sr, ok := p.(*rtcp.SenderReport); ok {
			now := s.clk.Now()
			s.pmu.Lock()
			s.pipe.SenderReport(sr, now)
			s.pmu.Unlock()
		}
	})
	s.lastPacket.Store(s.clk.Now().UnixNano())
	if _, err := c.Play(nil); err != nil {
		return false, errs.E(op, errs.Unavailable, fmt.Errorf("PLAY: %w", err))
	}
	s.log.Info("playing", "codec", track.Codec.String(), "sdp_params", track.Params.Complete())

	waitErr := make(chan error, 1)
	go func() { waitErr <- c.Wait() }()
	tick := s.cam.ReadTimeout / 4
	for {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case err := <-waitErr:
			return false, errs.E(op, errs.Unavailable, err)
		case <-s.clk.After(tick):
			last := time.Unix(0, s.lastPacket.Load())
			if idle := s.clk.Now().Sub(last); idle >= s.cam.ReadTimeout {
				return false, errs.Errorf(op, errs.Unavailable, "no video from the camera for %v (read timeout)", idle.Round(time.Millisecond))
			}
		}
	}
}

// cameraURL parses the camera's URL and puts the credentials in it.
func (s *Supervisor) cameraURL() (*base.URL, error) {
	u, err := base.ParseURL(s.cam.URL)
	if err != nil {
		return nil, errs.Errorf("ingest.connect", errs.Invalid, "camera %q: url %s: %v", s.cam.ID, s.red.String(s.cam.URL), err)
	}
	if s.cam.Username != "" {
		u.User = url.UserPassword(s.cam.Username, s.cam.Password)
	}
	return u, nil
}

// endConnection ends the pipeline's run when a connection ends, and
// reports whether frames were handed over since framesBefore.
func (s *Supervisor) endConnection(framesBefore uint64) bool {
	s.pmu.Lock()
	s.pipe.Stop("connection ended")
	s.pmu.Unlock()
	return s.frames() > framesBefore
}

func (s *Supervisor) frames() uint64 {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	return s.pipe.Counters().Frames
}

func isAuthError(err error) bool {
	var e liberrors.ErrClientBadStatusCode
	return errors.As(err, &e) && e.Code == base.StatusUnauthorized
}

// pickVideo chooses the first H.264 or H.265 video media of desc. Other
// medias, audio above all, are never set up.
func pickVideo(desc *description.Session) (*description.Media, format.Format, Track, error) {
	const op = "ingest.pickVideo"
	var offered []string
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			offered = append(offered, fmt.Sprintf("%s/%s", m.Type, f.Codec()))
			switch f := f.(type) {
			case *format.H264:
				sps, pps := f.SafeParams()
				return m, f, Track{
					Codec:             media.CodecH264,
					Params:            &media.Params{Codec: media.CodecH264, SPS: sps, PPS: pps},
					PacketizationMode: f.PacketizationMode,
				}, nil
			case *format.H265:
				vps, sps, pps := f.SafeParams()
				return m, f, Track{
					Codec:      media.CodecH265,
					Params:     &media.Params{Codec: media.CodecH265, VPS: vps, SPS: sps, PPS: pps},
					MaxDONDiff: f.MaxDONDiff,
				}, nil
			}
		}
	}
	return nil, nil, Track{}, errs.Errorf(op, errs.Invalid, "the camera offers no H.264 or H.265 video (offered: %v)", offered)
}

// fanout is the pipeline's sink: it feeds live subscribers and queues
// frames for the store's sink. It runs under pmu.
type fanout struct{ s *Supervisor }

func (o fanout) WriteFrame(f *media.Frame) error {
	s := o.s
	s.setStatus(Recording)
	reuse := !s.publish(f) && s.copies
	if s.direct && !s.async {
		if s.waits == nil || !s.waits.WouldWait(f) {
			s.failed = s.write(f, reuse, s.failed)
			return nil
		}
		// Writing f would wait for the index and the disk: the camera's
		// own goroutine writes it, and the frames after it until it has
		// caught up, so the poller's other cameras do not wait.
		s.async = true
	}
	if s.overrun {
		if !f.Key {
			s.countOverrun()
			s.release(f, reuse)
			return nil
		}
		select {
		case s.q <- item{brk: "sink too slow"}:
			s.overrun = false
		default:
			s.countOverrun()
			s.release(f, reuse)
			return nil
		}
	}
	select {
	case s.q <- item{f: f, reuse: reuse}:
	default:
		s.release(f, reuse)
		// The sink is QueueFrames behind. Dropping here keeps the camera
		// connection alive; the sink gets a Break and resumes at the next
		// key frame. This is counted and logged, never silent.
		s.overrun = true
		s.countOverrun()
		s.log.Warn("sink too slow: dropping frames until the next key frame", "queue", cap(s.q))
	}
	return nil
}

func (o fanout) Break(reason string) {
	s := o.s
	s.gapSubs()
	if s.direct && !s.async {
		s.sink.Break(reason)
		s.failed = false
		return
	}
	if s.overrun {
		return // a Break is sent before the next key frame anyway
	}
	select {
	case s.q <- item{brk: reason}:
	default:
		s.overrun = true
	}
}

func (s *Supervisor) countOverrun() {
	s.mu.Lock()
	s.overruns++
	s.mu.Unlock()
}

// drain hands queued items to the sink, from this camera's one sink
// goroutine. After a WriteFrame error it breaks and skips to the next key
// frame.
func (s *Supervisor) drain(done chan<- struct{}) {
	defer close(done)
	for it := range s.q {
		if it.f == nil {
			s.sink.Break(it.brk)
			s.failed = false
		} else {
			s.failed = s.write(it.f, it.reuse, s.failed)
		}
		if s.direct && len(s.q) == 0 {
			// Caught up: the pipeline's goroutine writes again, from the
			// next frame on (it enqueues under pmu, so nothing can be
			// left behind in q).
			s.pmu.Lock()
			if len(s.q) == 0 {
				s.async = false
			}
			s.pmu.Unlock()
		}
	}
}

// write hands f to the sink, unless an earlier write failed (failed) and
// f is not a key frame. It reports whether the stream is still skipping to
// a key frame after a sink error.
func (s *Supervisor) write(f *media.Frame, reuse, failed bool) bool {
	defer s.release(f, reuse)
	if failed && !f.Key {
		return true
	}
	if err := s.sink.WriteFrame(f); err != nil {
		s.mu.Lock()
		s.sinkErrs++
		s.mu.Unlock()
		msg := s.noteErr(err, true)
		s.log.Error("sink failed to write a frame", "err", msg)
		s.sink.Break("sink error")
		return true
	}
	return false
}

// release gives f's memory back for later frames when reuse is set:
// nothing refers to it any more.
func (s *Supervisor) release(f *media.Frame, reuse bool) {
	if reuse {
		putFrameBuf(f.Data)
		f.Data = nil
	}
}

// Waiter is a Sink that can tell which frames would make WriteFrame wait
// for slow storage. The store's writer is one: starting a segment commits
// an index row. Over TCP, where a poller writes the frames of many cameras
// itself, such a frame and those after it go to the camera's own goroutine
// until it has caught up, so that one camera's wait is not every camera's.
type Waiter interface {
	WouldWait(f *media.Frame) bool
}

// LiveFrame is a frame for a live viewer. Gap is true when frames were
// missed before this one (the viewer was too slow or the stream broke):
// it is then a key frame, and the viewer should restart decoding from it.
type LiveFrame struct {
	Frame *media.Frame // shared: read only
	Gap   bool
}

// Subscription is a live viewer's feed of a camera's frames. A viewer that
// falls behind misses frames and resumes at the next key frame; it never
// slows recording.
type Subscription struct {
	// C delivers frames; it is closed by Close or when Run returns.
	C <-chan LiveFrame

	c       chan LiveFrame
	s       *Supervisor
	waiting bool // for a key frame
	gap     bool
	missed  atomic.Uint64
}

// Subscribe starts a live feed with room for buffer frames. The first
// frame delivered is a key frame.
func (s *Supervisor) Subscribe(buffer int) *Subscription {
	if buffer < 1 {
		buffer = 1
	}
	c := make(chan LiveFrame, buffer)
	sub := &Subscription{C: c, c: c, s: s, waiting: true}
	s.smu.Lock()
	s.subs[sub] = struct{}{}
	s.smu.Unlock()
	return sub
}

// Missed returns how many frames the subscriber missed by being slow.
func (sub *Subscription) Missed() uint64 { return sub.missed.Load() }

// Close ends the subscription and closes C.
func (sub *Subscription) Close() {
	s := sub.s
	s.smu.Lock()
	defer s.smu.Unlock()
	if _, ok := s.subs[sub]; ok {
		delete(s.subs, sub)
		close(sub.c)
	}
}

func (s *Supervisor) closeSubs() {
	s.smu.Lock()
	defer s.smu.Unlock()
	for sub := range s.subs {
		delete(s.subs, sub)
		close(sub.c)
	}
}

// publish offers f to every live viewer; it reports whether any took it.
func (s *Supervisor) publish(f *media.Frame) (taken bool) {
	s.smu.Lock()
	defer s.smu.Unlock()
	for sub := range s.subs {
		if sub.waiting && !f.Key {
			if sub.gap {
				sub.missed.Add(1)
			}
			continue
		}
		select {
		case sub.c <- LiveFrame{Frame: f, Gap: sub.gap}:
			sub.waiting, sub.gap = false, false
			taken = true
		default:
			sub.waiting, sub.gap = true, true
			sub.missed.Add(1)
		}
	}
	return taken
}

func (s *Supervisor) gapSubs() {
	s.smu.Lock()
	defer s.smu.Unlock()
	for sub := range s.subs {
		if !sub.waiting {
			sub.waiting, sub.gap = true, true
		}
	}
}
