package ingest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
)

// testCamera is a scripted RTSP camera on gortsplib's server: the test
// decides what packets it sends and when it misbehaves.
type testCamera struct {
	t      *testing.T
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
	video  *description.Media
	user   string
	pass   string

	mu       sync.Mutex
	setups   []string // URLs of SETUP requests
	sessions []*gortsplib.ServerSession
	describe int
	authFail int
	played   chan struct{}
}

type cameraOpts struct {
	codec      media.Codec
	sdpParams  bool
	audio      bool
	user, pass string
	methods    []auth.VerifyMethod
	udp        bool
}

// freeUDPPair finds an even UDP port whose successor is free too, as
// gortsplib's server needs for RTP and RTCP.
func freeUDPPair(t *testing.T) int {
	t.Helper()
	for range 100 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		if port%2 != 0 {
			a.Close()
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		a.Close()
		if err == nil {
			b.Close()
			return port
		}
	}
	t.Fatal("no free pair of UDP ports")
	return 0
}

func newTestCamera(t *testing.T, o cameraOpts) *testCamera {
	t.Helper()
	c := loadClip(t, o.codec)
	var vf format.Format
	switch o.codec {
	case media.CodecH264:
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
		if o.sdpParams {
			f.SPS, f.PPS = c.Params.SPS, c.Params.PPS
		}
		vf = f
	default:
		f := &format.H265{PayloadTyp: 96}
		if o.sdpParams {
			f.VPS, f.SPS, f.PPS = c.Params.VPS, c.Params.SPS, c.Params.PPS
		}
		vf = f
	}
	tc := &testCamera{t: t, user: o.user, pass: o.pass, played: make(chan struct{}, 16)}
	desc := &description.Session{}
	if o.audio {
		// Audio first: ingest must skip it, not just take the first media.
		desc.Medias = append(desc.Medias, &description.Media{
			Type: description.MediaTypeAudio, Formats: []format.Format{&format.G711{PayloadTyp: 0, MULaw: true, SampleRate: 8000, ChannelCount: 1}},
		})
	}
	tc.video = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{vf}}
	desc.Medias = append(desc.Medias, tc.video)
	tc.srv = &gortsplib.Server{
		Handler:        tc,
		RTSPAddress:    "127.0.0.1:0",
		WriteQueueSize: 4096,
		AuthMethods:    o.methods,
	}
	if o.udp {
		rtpPort := freeUDPPair(t)
		tc.srv.UDPRTPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort)
		tc.srv.UDPRTCPAddress = fmt.Sprintf("127.0.0.1:%d", rtpPort+1)
	}
	if err := tc.srv.Start(); err != nil {
		t.Fatal(err)
	}
	tc.stream = &gortsplib.ServerStream{Server: tc.srv, Desc: desc}
	if err := tc.stream.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		tc.stream.Close()
		tc.srv.Close()
	})
	return tc
}

func (tc *testCamera) url() string {
	return "rtsp://" + tc.srv.NetListener().Addr().String() + "/cam"
}

func (tc *testCamera) checkAuth(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error, bool) {
	if tc.user == "" || conn.VerifyCredentials(req, tc.user, tc.pass) {
		return nil, nil, true
	}
	tc.mu.Lock()
	tc.authFail++
	tc.mu.Unlock()
	return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}, false
}

func (tc *testCamera) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err, ok := tc.checkAuth(ctx.Conn, ctx.Request); !ok {
		return res, nil, err
	}
	tc.mu.Lock()
	tc.describe++
	tc.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, tc.stream, nil
}

func (tc *testCamera) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err, ok := tc.checkAuth(ctx.Conn, ctx.Request); !ok {
		return res, nil, err
	}
	tc.mu.Lock()
	tc.setups = append(tc.setups, ctx.Request.URL.String())
	tc.mu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, tc.stream, nil
}

func (tc *testCamera) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	tc.mu.Lock()
	tc.sessions = append(tc.sessions, ctx.Session)
	tc.mu.Unlock()
	tc.played <- struct{}{}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// waitPlay waits until a client has sent PLAY. The server answers PLAY
// before it adds the reader to the stream, so the test then waits until a
// probe write reaches it (sequence numbers continue, so probes are real
// packets of the stream: the next frames).
func (tc *testCamera) waitPlay() {
	tc.t.Helper()
	select {
	case <-tc.played:
	case <-time.After(10 * time.Second):
		tc.t.Fatal("no PLAY within 10 s")
	}
}

// closeSessions drops every client connection, as a camera rebooting does.
func (tc *testCamera) closeSessions() {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	for _, s := range tc.sessions {
		s.Close()
	}
	tc.sessions = nil
}

// sender streams a clip to a testCamera.
type sender struct {
	tc *testCamera
	pk *packetizer
	c  *clip.Clip
	i  int
}

func (tc *testCamera) sender(codec media.Codec) *sender {
	return &sender{tc: tc, pk: newPacketizer(tc.t, codec), c: loadClip(tc.t, codec)}
}

func (s *sender) send(n int) {
	for range n {
		au := s.c.AUs[s.i%len(s.c.AUs)].NALUs
		for _, k := range s.pk.packets(s.tc.t, au, uint32(s.i*clip.FrameDuration)) {
			if err := s.tc.stream.WritePacketRTP(s.tc.video, k); err != nil {
				s.tc.t.Fatal(err)
			}
		}
		s.i++
	}
}

// skipTo moves the sender to the next key frame, as a camera that was not
// sending does when it resumes (the packets still advance sequence numbers
// in between only if sent; here they are simply not sent).
func (s *sender) skipToKey() {
	for s.c.AUs[s.i%len(s.c.AUs)].Key == false {
		s.i++
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// syncSink is a recSink whose frames can be waited for.
func frameCount(s *recSink) func() int { return func() int { return len(s.frames()) } }

// startSupervisor runs a supervisor until the test ends.
func startSupervisor(t *testing.T, cam Camera, sink Sink, opts Options) *Supervisor {
	t.Helper()
	sup, err := New(cam, sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return sup
}

// streamUntilRecording sends the clip until the sink has n frames: the
// first packets may reach the server before the client is a reader.
func streamUntil(t *testing.T, snd *sender, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out streaming until %s", what)
		}
		snd.send(5)
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSupervisorRecordsAndNeverSetsUpAudio(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			tc := newTestCamera(t, cameraOpts{codec: codec, sdpParams: true, audio: true})
			sink := &recSink{}
			sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), ReadTimeout: 5 * time.Second}, sink, Options{})
			tc.waitPlay()
			snd := tc.sender(codec)
			streamUntil(t, snd, "30 frames", func() bool { return len(sink.frames()) >= 30 })

			tc.mu.Lock()
			setups := append([]string(nil), tc.setups...)
			tc.mu.Unlock()
			if len(setups) != 1 {
				t.Fatalf("SETUP requests %v: want exactly one, for the video", setups)
			}
			frames := sink.frames()
			if !frames[0].Key || !frames[0].Params.Complete() {
				t.Fatal("first frame is not a key frame with complete params")
			}
			for i := 1; i < len(frames); i++ {
				if frames[i].Wall-frames[i-1].Wall != clip.FrameDuration {
					t.Fatalf("frame %d: Wall step %d", i, frames[i].Wall-frames[i-1].Wall)
				}
			}
			st := sup.State()
			if st.Status != Recording || st.Frames < 30 || st.KeyFrames < 1 {
				t.Fatalf("state %+v: want recording with frames counted", st)
			}
		})
	}
}

func TestSupervisorUDP(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264, udp: true})
	sink := &recSink{}
	startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), Transport: UDP, ReadTimeout: 5 * time.Second}, sink, Options{})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "10 frames over UDP", func() bool { return len(sink.frames()) >= 10 })
}

func TestSupervisorNoVideo(t *testing.T) {
	// A camera offering only audio: nothing is set up, the error says why.
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264, audio: true})
	tc.stream.Desc.Medias = tc.stream.Desc.Medias[:1]
	sink := &recSink{}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), BackoffMin: time.Hour}, sink, Options{})
	waitFor(t, "down", func() bool { return sup.State().Status == Down })
	if st := sup.State(); !strings.Contains(st.LastError, "no H.264 or H.265 video") || !strings.Contains(st.LastError, "audio") {
		t.Fatalf("LastError %q: want it to say no video was offered", st.LastError)
	}
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if len(tc.setups) != 0 {
		t.Fatalf("SETUP %v for a stream without video", tc.setups)
	}
}

// A camera that closes the connection: the supervisor goes down, waits
// its backoff on the injected clock, reconnects and records again from a
// key frame, with a Break between.
func TestSupervisorReconnectsWithBackoff(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	sink := &recSink{}
	fc := clock.NewFake(t0)
	var asked []int64
	var mu sync.Mutex
	rnd := func(n int64) int64 {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, n)
		return n - 1 // the longest delay
	}
	cam := Camera{ID: "cam1", URL: tc.url(), ReadTimeout: time.Hour, BackoffMin: time.Second, BackoffMax: 8 * time.Second}
	sup := startSupervisor(t, cam, sink, Options{Clock: fc, Rand: rnd})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "frames", func() bool { return len(sink.frames()) >= 5 })

	tc.closeSessions()
	waitFor(t, "down", func() bool { return sup.State().Status == Down })
	if got := sink.breaks(); len(got) == 0 || got[len(got)-1] != "connection ended" {
		t.Fatalf("breaks %v, want one for the lost connection", got)
	}
	// The delay is on the injected clock: nothing happens until it passes.
	fc.Advance(999 * time.Millisecond)
	if sup.State().Reconnects != 0 {
		t.Fatal("reconnected before the backoff passed")
	}
	fc.Advance(time.Millisecond)
	tc.waitPlay()
	before := len(sink.frames())
	snd.skipToKey()
	streamUntil(t, snd, "frames after reconnect", func() bool { return len(sink.frames()) >= before+5 })
	st := sup.State()
	if st.Reconnects != 1 || st.LastError == "" {
		t.Fatalf("state %+v: want one reconnect and the error that caused it", st)
	}
	if f := sink.frames()[before]; !f.Key {
		t.Fatal("first frame after reconnecting is not a key frame")
	}
}

func TestBackoff(t *testing.T) {
	max := func(n int64) int64 { return n - 1 }
	zero := func(int64) int64 { return 0 }
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30}
	for i, w := range want {
		if got := Backoff(i, time.Second, 30*time.Second, max); got != w*time.Second {
			t.Fatalf("attempt %d: max delay %v, want %v", i, got, w*time.Second)
		}
		if got := Backoff(i, time.Second, 30*time.Second, zero); got != time.Second {
			t.Fatalf("attempt %d: min delay %v, want 1s", i, got)
		}
	}
	if got := Backoff(1000, time.Second, time.Minute, max); got != time.Minute {
		t.Fatalf("attempt 1000: %v, want the max", got)
	}
}

// A camera that stops sending without closing the socket: the read
// timeout ends the connection and the supervisor reconnects.
func TestSupervisorSilentCamera(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	sink := &recSink{}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), ReadTimeout: 300 * time.Millisecond, BackoffMin: time.Millisecond, BackoffMax: time.Millisecond}, sink, Options{})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "frames", func() bool { return len(sink.frames()) >= 5 })
	// Go silent. The supervisor times out and reconnects.
	tc.waitPlay()
	st := sup.State()
	if st.Reconnects < 1 || !strings.Contains(st.LastError, "timeout") && !strings.Contains(st.LastError, "no video") {
		t.Fatalf("state %+v: want a reconnect after a read timeout", st)
	}
}

// Digest (and Basic) authentication works, and the password appears in no
// log line nor in State.
func TestSupervisorAuth(t *testing.T) {
	const pass = "s3cr3t-Pa55"
	for _, m := range []auth.VerifyMethod{auth.VerifyMethodDigestMD5, auth.VerifyMethodBasic} {
		tc := newTestCamera(t, cameraOpts{codec: media.CodecH264, user: "admin", pass: pass, methods: []auth.VerifyMethod{m}})
		var logs bytes.Buffer
		var lmu sync.Mutex
		log := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &lmu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

		// First with a wrong password in the URL: the error is logged, redacted.
		bad := strings.Replace(tc.url(), "rtsp://", "rtsp://admin:wrong-"+pass+"@", 1)
		sink := &recSink{}
		ctx, cancel := context.WithCancel(context.Background())
		sup, err := New(Camera{ID: "cam1", URL: bad, BackoffMin: time.Hour}, sink, Options{Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { sup.Run(ctx); close(done) }()
		waitFor(t, "down", func() bool { return sup.State().Status == Down })
		cancel()
		<-done
		if st := sup.State(); !strings.Contains(st.LastError, "401") && !strings.Contains(st.LastError, "nauthorized") {
			t.Fatalf("method %v: LastError %q, want unauthorized", m, st.LastError)
		}

		// Then the right credentials, given as fields.
		sup2 := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), Username: "admin", Password: pass}, sink, Options{Logger: log})
		tc.waitPlay()
		snd := tc.sender(media.CodecH264)
		streamUntil(t, snd, "frames", func() bool { return len(sink.frames()) >= 5 })
		tc.mu.Lock()
		fails := tc.authFail
		tc.mu.Unlock()
		if fails == 0 {
			t.Fatalf("method %v: the camera never challenged", m)
		}
		lmu.Lock()
		out := logs.String()
		lmu.Unlock()
		if strings.Contains(out, pass) || strings.Contains(sup.State().LastError, pass) || strings.Contains(sup2.State().LastError, pass) {
			t.Fatalf("method %v: password in logs or state:\n%s", m, out)
		}
		if !strings.Contains(out, "admin:xxxxx@") {
			t.Fatalf("method %v: want the URL logged redacted, got:\n%s", m, out)
		}
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// A subscriber that never reads misses frames and is told so; recording
// is unaffected.
func TestSubscribeSlowViewer(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	sink := &recSink{}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url()}, sink, Options{})
	slow := sup.Subscribe(2)
	fast := sup.Subscribe(1000)
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "80 frames", func() bool { return len(sink.frames()) >= 80 })
	first := <-fast.C
	if !first.Frame.Key || first.Gap {
		t.Fatal("a subscription must start at a key frame, without a gap")
	}
	if slow.Missed() == 0 {
		t.Fatal("the slow subscriber missed nothing")
	}
	// Drain the slow one: after its two buffered frames comes a key frame
	// flagged as a gap.
	<-slow.C
	<-slow.C
	snd.send(30)
	var lf LiveFrame
	select {
	case lf = <-slow.C:
	case <-time.After(10 * time.Second):
		t.Fatal("slow subscriber got nothing more")
	}
	if !lf.Gap || !lf.Frame.Key {
		t.Fatalf("after missing frames: Gap %v Key %v, want a key frame flagged as a gap", lf.Gap, lf.Frame.Key)
	}
	if st := sup.State(); st.Overruns != 0 {
		t.Fatalf("recording overran (%d) because of a viewer", st.Overruns)
	}
	slow.Close()
	fast.Close()
}

// blockingSink blocks in WriteFrame until released.
type blockingSink struct {
	recSink
	release chan struct{}
}

func (b *blockingSink) WriteFrame(f *media.Frame) error {
	<-b.release
	return b.recSink.WriteFrame(f)
}

// Over UDP frames are queued to the sink's goroutine: a sink that falls
// QueueFrames behind is reported, and recording resumes at a key frame.
func TestSlowSinkIsReported(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264, udp: true})
	sink := &blockingSink{release: make(chan struct{})}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), Transport: UDP, ReadTimeout: 5 * time.Second, QueueFrames: 10}, sink, Options{})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "an overrun", func() bool { return sup.State().Overruns > 0 })
	close(sink.release)
	snd.skipToKey()
	streamUntil(t, snd, "a break and recovery", func() bool {
		for _, b := range sink.breaks() {
			if b == "sink too slow" {
				return true
			}
		}
		return false
	})
	ev := sink.snapshot()
	for i, e := range ev {
		if e.brk == "sink too slow" {
			waitFor(t, "frame after the break", func() bool { return len(sink.snapshot()) > i+1 })
			if f := sink.snapshot()[i+1].frame; f == nil || !f.Key {
				t.Fatal("after a sink overrun the next frame must be a key frame")
			}
			break
		}
	}
}

// Over TCP the poller writes to the sink itself: a sink that blocks holds
// the camera's bytes in the socket, and once it resumes every frame is
// there, in order, with no overrun and no break.
func TestBlockedSinkOverTCPLosesNothing(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	sink := &gateSink{entered: make(chan struct{}), release: make(chan struct{})}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url(), ReadTimeout: time.Minute}, sink, Options{})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "the sink to block", func() bool {
		select {
		case <-sink.entered:
			return true
		default:
			return false
		}
	})
	// While the sink blocks, State still answers (health pages must see
	// a stalled camera), and 100 more frames are sent.
	_ = sup.State()
	snd.send(100)
	close(sink.release)
	waitFor(t, "every frame written", func() bool {
		n := len(sink.frames())
		return n >= 100 && uint64(n) == sup.State().Frames
	})
	if st := sup.State(); st.Overruns != 0 || st.Breaks != 0 || st.LostPackets != 0 {
		t.Fatalf("state %+v: want no overrun, break or loss", st)
	}
	frames := sink.frames()
	for i := 1; i < len(frames); i++ {
		if frames[i].Wall-frames[i-1].Wall != clip.FrameDuration {
			t.Fatalf("frame %d: Wall step %d, want %d", i, frames[i].Wall-frames[i-1].Wall, clip.FrameDuration)
		}
	}
}

// gateSink blocks its first WriteFrame until released.
type gateSink struct {
	recSink
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gateSink) WriteFrame(f *media.Frame) error {
	g.once.Do(func() { close(g.entered) })
	<-g.release
	return g.recSink.WriteFrame(f)
}

// copySink is a FrameCopier: it keeps copies of the frames' bytes and the
// Data slices it was handed, to see them reused.
type copySink struct {
	mu     sync.Mutex
	copies [][]byte
	given  [][]byte
}

func (c *copySink) WriteFrame(f *media.Frame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.copies = append(c.copies, bytes.Clone(f.Data))
	c.given = append(c.given, f.Data)
	return nil
}
func (c *copySink) Break(string)       {}
func (c *copySink) CopiesFrames() bool { return true }
func (c *copySink) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.copies)
}

// With a sink that copies frames, the supervisor reuses frame memory, but
// never that of a frame a live viewer was given: the viewer's frames keep
// their bytes while recording goes on.
func TestFrameMemoryReusedButNeverAViewers(t *testing.T) {
	tc := newTestCamera(t, cameraOpts{codec: media.CodecH264})
	sink := &copySink{}
	sup := startSupervisor(t, Camera{ID: "cam1", URL: tc.url()}, sink, Options{})
	tc.waitPlay()
	snd := tc.sender(media.CodecH264)
	streamUntil(t, snd, "60 frames", func() bool { return sink.n() >= 60 })

	// Frames no viewer saw were recycled: some later frame was handed
	// over in the memory of an earlier one.
	sink.mu.Lock()
	seen := map[*byte]bool{}
	reused := false
	for _, d := range sink.given {
		p := unsafe.SliceData(d[:1])
		reused = reused || seen[p]
		seen[p] = true
	}
	sink.mu.Unlock()
	if !reused {
		t.Fatal("no frame memory was reused for a sink that copies frames")
	}

	// Counted before subscribing: a frame may reach both the viewer and
	// the sink before Subscribe returns.
	start := sink.n()
	view := sup.Subscribe(1000)
	streamUntil(t, snd, "60 more frames", func() bool { return sink.n() >= start+60 })
	view.Close()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	var got []LiveFrame
	for lf := range view.C {
		got = append(got, lf)
	}
	if len(got) < 30 {
		t.Fatalf("the viewer got %d frames", len(got))
	}
	// Match each viewer frame to the sink's copy of the same frame by
	// position: the viewer's first frame is the first key frame the sink
	// got after subscribing.
	i := start
	for i < len(sink.copies) && !bytes.Equal(sink.copies[i], got[0].Frame.Data) {
		i++
	}
	if i+len(got) > len(sink.copies) {
		t.Fatal("the viewer's first frame is not among the frames the sink wrote: its bytes changed")
	}
	for j, lf := range got {
		if !bytes.Equal(lf.Frame.Data, sink.copies[i+j]) {
			t.Fatalf("viewer frame %d changed after the sink wrote it: its memory was reused", j)
		}
	}
}
