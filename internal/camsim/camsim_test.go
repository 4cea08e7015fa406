package camsim

import (
	"bytes"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
)

// sim is a Server on a fake clock that a test steps frame by frame.
type sim struct {
	*Server
	clk  *clock.Fake
	wait chan struct{}

	mu      sync.Mutex
	readers map[*reader]int // reader → camera, to keep in step with
}

func startSim(t *testing.T, cfg Config) *sim {
	t.Helper()
	fake := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	wait := make(chan struct{}, 1)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	cfg.Clock = fake
	if cfg.Rand == nil {
		cfg.Rand = mrand.New(mrand.NewPCG(1, 2))
	}
	s, err := start(cfg, func() {
		select {
		case wait <- struct{}{}:
		default:
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	sm := &sim{Server: s, clk: fake, wait: wait, readers: map[*reader]int{}}
	sm.idle(t)
	return sm
}

// idle waits until the scheduler is waiting for the clock.
func (s *sim) idle(t *testing.T) {
	t.Helper()
	select {
	case <-s.wait:
	case <-time.After(5 * time.Second):
		t.Fatal("scheduler did not come to rest")
	}
}

// step advances the clock by one frame, waits for the scheduler to send it
// and for every attached reader to receive it, so that the fake clock never
// runs ahead of the network.
func (s *sim) step(t *testing.T) {
	t.Helper()
	s.clk.Advance(frameDur)
	s.idle(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	for r, n := range s.readers {
		c := s.cams[n-1]
		if !c.wrote {
			continue
		}
		r.waitSeq(t, c.lastSeq)
	}
}

// attach plays camera n and keeps it in step with the clock.
func (s *sim) attach(t *testing.T, n int, proto gortsplib.Protocol) *reader {
	t.Helper()
	r := play(t, s.URL(n), proto)
	s.mu.Lock()
	s.readers[r] = n
	s.mu.Unlock()
	return r
}

func (s *sim) detach(r *reader) {
	s.mu.Lock()
	delete(s.readers, r)
	s.mu.Unlock()
}

// steps advances n frames.
func (s *sim) steps(t *testing.T, n int) {
	t.Helper()
	for range n {
		s.step(t)
	}
}

// until steps frames until cond holds, failing after a real-time deadline.
func (s *sim) until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		s.step(t)
	}
}

// reader plays one camera with gortsplib's client and records every packet.
type reader struct {
	c     *gortsplib.Client
	desc  *description.Session
	forma format.Format

	mu     sync.Mutex
	pkts   []*rtp.Packet
	frames int // packets with the marker bit
	notify chan struct{}
}

// waitSeq waits until the reader has received sequence number seq.
func (r *reader) waitSeq(t *testing.T, seq uint16) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got := len(r.pkts) > 0 && int16(r.pkts[len(r.pkts)-1].SequenceNumber-seq) >= 0
		r.mu.Unlock()
		if got {
			return
		}
		select {
		case <-r.notify:
		case <-deadline:
			t.Fatalf("reader did not receive packet %d", seq)
		}
	}
}

func (r *reader) frameCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.frames
}

func play(t *testing.T, url string, proto gortsplib.Protocol) *reader {
	t.Helper()
	r, err := tryPlay(url, proto)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.c.Close)
	return r
}

func tryPlay(url string, proto gortsplib.Protocol) (*reader, error) {
	u, err := base.ParseURL(url)
	if err != nil {
		return nil, err
	}
	r := &reader{
		c: &gortsplib.Client{
			Scheme: u.Scheme, Host: u.Host, Protocol: &proto,
			OnPacketsLost: func(uint64) {}, // the loss test counts them itself
			OnDecodeError: func(error) {},
		},
		notify: make(chan struct{}, 1),
	}
	if err := r.c.Start(); err != nil {
		return nil, err
	}
	desc, _, err := r.c.Describe(u)
	if err != nil {
		r.c.Close()
		return nil, err
	}
	r.desc = desc
	if len(desc.Medias) == 1 && len(desc.Medias[0].Formats) == 1 {
		r.forma = desc.Medias[0].Formats[0]
	}
	if err := r.c.SetupAll(desc.BaseURL, desc.Medias); err != nil {
		r.c.Close()
		return nil, err
	}
	r.c.OnPacketRTPAny(func(_ *description.Media, _ format.Format, pkt *rtp.Packet) {
		cp := *pkt
		cp.Payload = bytes.Clone(pkt.Payload)
		r.mu.Lock()
		r.pkts = append(r.pkts, &cp)
		if cp.Marker {
			r.frames++
		}
		r.mu.Unlock()
		select {
		case r.notify <- struct{}{}:
		default:
		}
	})
	if _, err := r.c.Play(nil); err != nil {
		r.c.Close()
		return nil, err
	}
	return r, nil
}

func (r *reader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pkts)
}

func (r *reader) packets() []*rtp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*rtp.Packet(nil), r.pkts...)
}

// au is a depacketized access unit.
type au struct {
	ts    uint32
	nalus [][]byte
	key   bool
	raw   []byte // concatenated NAL units, to compare frames
}

// aus depacketizes the received packets (which must have no losses).
func (r *reader) aus(t *testing.T) []au {
	t.Helper()
	var out []au
	var key func([][]byte) bool
	var decode func(*rtp.Packet) ([][]byte, error)
	switch f := r.forma.(type) {
	case *format.H264:
		d, err := f.CreateDecoder()
		if err != nil {
			t.Fatal(err)
		}
		decode, key = d.Decode, h264.IsRandomAccess
	case *format.H265:
		d, err := f.CreateDecoder()
		if err != nil {
			t.Fatal(err)
		}
		decode, key = d.Decode, h265.IsRandomAccess
	default:
		t.Fatalf("unexpected format %T", r.forma)
	}
	for _, p := range r.packets() {
		nalus, err := decode(p)
		if err != nil {
			continue // more packets needed
		}
		a := au{ts: p.Timestamp, nalus: nalus, key: key(nalus)}
		a.raw = bytes.Join(nalus, []byte{0, 0, 1})
		out = append(out, a)
	}
	return out
}

func checkSeq(t *testing.T, pkts []*rtp.Packet) {
	t.Helper()
	for i := 1; i < len(pkts); i++ {
		if pkts[i].SequenceNumber != pkts[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: sequence %d after %d", i, pkts[i].SequenceNumber, pkts[i-1].SequenceNumber)
		}
	}
}

// freeUDPPorts finds an even RTP port whose successor is also free.
func freeUDPPorts(t *testing.T) (rtpAddr, rtcpAddr string) {
	t.Helper()
	for range 50 {
		a, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := a.LocalAddr().(*net.UDPAddr).Port
		a.Close()
		if port%2 != 0 || port > 65000 {
			continue
		}
		a, err1 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		b, err2 := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port+1))
		if a != nil {
			a.Close()
		}
		if b != nil {
			b.Close()
		}
		if err1 == nil && err2 == nil {
			return fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("127.0.0.1:%d", port+1)
		}
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

func TestStream(t *testing.T) {
	rtpAddr, rtcpAddr := freeUDPPorts(t)
	s := startSim(t, Config{
		Cameras:     4,
		Codecs:      []media.Codec{media.CodecH264, media.CodecH265},
		UDPRTPAddr:  rtpAddr,
		UDPRTCPAddr: rtcpAddr,
	})
	if s.Codec(1) != media.CodecH264 || s.Codec(2) != media.CodecH265 || s.Codec(3) != media.CodecH264 {
		t.Fatalf("codecs %v %v %v, want H.264, H.265, H.264", s.Codec(1), s.Codec(2), s.Codec(3))
	}
	cases := []struct {
		cam   int
		proto gortsplib.Protocol
	}{
		{1, gortsplib.ProtocolTCP},
		{2, gortsplib.ProtocolTCP},
		{3, gortsplib.ProtocolUDP},
		{4, gortsplib.ProtocolUDP},
	}
	readers := make([]*reader, len(cases))
	for i, c := range cases {
		readers[i] = s.attach(t, c.cam, c.proto)
	}
	// Run past one loop of the clip (250 frames) so the test sees the
	// timestamps continue across it.
	const frames = 270
	s.steps(t, frames)
	s.until(t, "every reader to receive 270 frames", func() bool {
		for _, r := range readers {
			if r.frameCount() < frames {
				return false
			}
		}
		return true
	})

	ssrcs := map[uint32]bool{}
	for i, c := range cases {
		r := readers[i]
		name := fmt.Sprintf("camera %d %v", c.cam, c.proto)
		if len(r.desc.Medias) != 1 || r.desc.Medias[0].Type != description.MediaTypeVideo {
			t.Fatalf("%s: want one video media, got %d medias", name, len(r.desc.Medias))
		}
		switch f := r.forma.(type) {
		case *format.H264:
			if s.Codec(c.cam) != media.CodecH264 || f.SPS == nil || f.PPS == nil {
				t.Errorf("%s: H.264 SDP without SPS/PPS", name)
			}
		case *format.H265:
			if s.Codec(c.cam) != media.CodecH265 || f.VPS == nil || f.SPS == nil || f.PPS == nil {
				t.Errorf("%s: H.265 SDP without VPS/SPS/PPS", name)
			}
		default:
			t.Fatalf("%s: format %T", name, f)
		}
		pkts := r.packets()
		checkSeq(t, pkts)
		ssrcs[pkts[0].SSRC] = true
		aus := r.aus(t)
		if !aus[0].key {
			t.Errorf("%s: first frame is not a key frame", name)
		}
		keys := 0
		for j, a := range aus {
			if j > 0 && a.ts-aus[j-1].ts != 3600 {
				t.Fatalf("%s: frame %d: timestamp advanced by %d, want 3600", name, j, int32(a.ts-aus[j-1].ts))
			}
			if a.key {
				keys++
				if !hasParams(s.Codec(c.cam), a.nalus) {
					t.Errorf("%s: key frame %d without in-band parameter sets", name, j)
				}
			}
		}
		if keys < frames/25 {
			t.Errorf("%s: %d key frames in %d frames, want one a second", name, keys, len(aus))
		}
	}
	if len(ssrcs) != len(cases) {
		t.Errorf("SSRCs %v are not distinct per camera", ssrcs)
	}
}

func hasParams(codec media.Codec, nalus [][]byte) bool {
	seen := map[string]bool{}
	for _, n := range nalus {
		if codec == media.CodecH264 {
			switch n[0] & 0x1f {
			case 7:
				seen["sps"] = true
			case 8:
				seen["pps"] = true
			}
		} else {
			switch (n[0] >> 1) & 0x3f {
			case 32:
				seen["vps"] = true
			case 33:
				seen["sps"] = true
			case 34:
				seen["pps"] = true
			}
		}
	}
	if codec == media.CodecH265 {
		return len(seen) == 3
	}
	return len(seen) == 2
}

func TestFaultStall(t *testing.T) {
	s := startSim(t, Config{Cameras: 2})
	r := s.attach(t, 1, gortsplib.ProtocolTCP)
	other := s.attach(t, 2, gortsplib.ProtocolTCP)
	s.until(t, "frames", func() bool { return r.frameCount() >= 10 })
	if err := s.SetFault(1, Fault{Stall: true}); err != nil {
		t.Fatal(err)
	}
	s.steps(t, 50)
	before := other.count()
	if err := s.SetFault(1, Fault{}); err != nil {
		t.Fatal(err)
	}
	s.until(t, "frames after the stall", func() bool {
		pkts := r.packets()
		return pkts[len(pkts)-1].Timestamp-pkts[0].Timestamp > 80*3600
	})
	pkts := r.packets()
	checkSeq(t, pkts) // a stall is not a loss: nothing was sent
	var gap uint32
	for i := 1; i < len(pkts); i++ {
		gap = max(gap, pkts[i].Timestamp-pkts[i-1].Timestamp)
	}
	if gap < 45*3600 {
		t.Errorf("largest timestamp gap %d, want the stall (≥ %d)", gap, 45*3600)
	}
	if before == 0 {
		t.Error("camera 2 sent nothing while camera 1 stalled")
	}
}

func TestFaultFreeze(t *testing.T) {
	s := startSim(t, Config{Cameras: 1, Codecs: []media.Codec{media.CodecH265}})
	r := s.attach(t, 1, gortsplib.ProtocolTCP)
	s.until(t, "frames", func() bool { return r.frameCount() >= 37 })
	if err := s.SetFault(1, Fault{Freeze: true}); err != nil {
		t.Fatal(err)
	}
	s.steps(t, 30)
	if err := s.SetFault(1, Fault{}); err != nil {
		t.Fatal(err)
	}
	s.until(t, "frames after the freeze", func() bool { return r.frameCount() >= 80 })
	checkSeq(t, r.packets())
	aus := r.aus(t)
	run, best := 1, 1
	for i := 1; i < len(aus); i++ {
		if aus[i].ts-aus[i-1].ts != 3600 {
			t.Fatalf("frame %d: timestamp advanced by %d, want 3600", i, aus[i].ts-aus[i-1].ts)
		}
		if aus[i].key && bytes.Equal(aus[i].raw, aus[i-1].raw) {
			run++
			best = max(best, run)
		} else {
			run = 1
		}
	}
	if best < 25 {
		t.Errorf("longest run of the same key frame: %d frames, want ≥ 25", best)
	}
}

func TestFaultEvery(t *testing.T) {
	s := startSim(t, Config{Cameras: 1})
	r := s.attach(t, 1, gortsplib.ProtocolTCP)
	s.until(t, "frames", func() bool { return r.frameCount() >= 5 })
	if err := s.SetFault(1, Fault{Every: 5}); err != nil {
		t.Fatal(err)
	}
	s.steps(t, 50)
	if err := s.SetFault(1, Fault{}); err != nil {
		t.Fatal(err)
	}
	s.steps(t, 10)
	s.until(t, "frames after the fault", func() bool {
		pkts := r.packets()
		return pkts[len(pkts)-1].Timestamp-pkts[0].Timestamp > 70*3600
	})
	checkSeq(t, r.packets()) // fewer frames, not lost packets
	deltas := map[uint32]int{}
	pkts := r.packets()
	var prev uint32
	first := true
	for _, p := range pkts {
		if !p.Marker {
			continue
		}
		if !first {
			deltas[p.Timestamp-prev]++
		}
		prev, first = p.Timestamp, false
	}
	if deltas[5*3600] < 8 {
		t.Errorf("frame intervals %v: want ≥ 8 of %d (every 5th frame)", deltas, 5*3600)
	}
	for d := range deltas {
		if d != 3600 && d%(5*3600) != 0 && d > 5*3600 {
			t.Errorf("unexpected frame interval %d", d)
		}
	}
}

func TestFaultLoss(t *testing.T) {
	s := startSim(t, Config{Cameras: 1, Rand: mrand.New(mrand.NewPCG(7, 7))})
	r := s.attach(t, 1, gortsplib.ProtocolTCP)
	s.until(t, "frames", func() bool { return r.count() >= 20 })
	if err := s.SetFault(1, Fault{Loss: 0.3}); err != nil {
		t.Fatal(err)
	}
	got := r.count()
	s.steps(t, 50)
	s.until(t, "packets under loss", func() bool { return r.count() >= got+100 })
	pkts := r.packets()[got:]
	sent := int(pkts[len(pkts)-1].SequenceNumber-pkts[0].SequenceNumber) + 1
	lost := sent - len(pkts)
	frac := float64(lost) / float64(sent)
	if frac < 0.15 || frac > 0.45 {
		t.Errorf("lost %d of %d packets (%.2f), want about 0.3", lost, sent, frac)
	}
	for i := 1; i < len(pkts); i++ {
		if int16(pkts[i].SequenceNumber-pkts[i-1].SequenceNumber) <= 0 {
			t.Fatalf("sequence went back at packet %d", i)
		}
	}
}

func TestFaultStop(t *testing.T) {
	s := startSim(t, Config{Cameras: 2})
	r := s.attach(t, 1, gortsplib.ProtocolTCP)
	s.until(t, "frames", func() bool { return r.count() > 0 })
	s.detach(r)
	if err := s.SetFault(1, Fault{Stop: true}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- r.c.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Error("session ended without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("session of a stopped camera is still open")
	}
	_, err := tryPlay(s.URL(1), gortsplib.ProtocolTCP)
	var bad liberrors.ErrClientBadStatusCode
	if !errors.As(err, &bad) || bad.Code != base.StatusServiceUnavailable {
		t.Fatalf("playing a stopped camera: %v, want 503", err)
	}
	// The other camera is unaffected, and camera 1 comes back.
	play(t, s.URL(2), gortsplib.ProtocolTCP)
	if err := s.SetFault(1, Fault{}); err != nil {
		t.Fatal(err)
	}
	r = s.attach(t, 1, gortsplib.ProtocolTCP)
	s.until(t, "frames after the restart", func() bool { return r.count() > 0 })
}

func TestSetFaultInvalid(t *testing.T) {
	s := startSim(t, Config{Cameras: 2})
	for _, c := range []struct {
		cam int
		f   Fault
	}{
		{0, Fault{}}, {3, Fault{}}, {1, Fault{Loss: 1.5}}, {1, Fault{Loss: -0.1}}, {1, Fault{Every: -2}},
	} {
		if err := s.SetFault(c.cam, c.f); err == nil {
			t.Errorf("SetFault(%d, %+v) succeeded", c.cam, c.f)
		}
	}
}

func TestUnknownPath(t *testing.T) {
	s := startSim(t, Config{Cameras: 2})
	for _, p := range []string{"/cam/3", "/cam/0", "/cam/01", "/cam/x", "/other"} {
		u := strings.TrimSuffix(s.URL(1), "/cam/1") + p
		_, err := tryPlay(u, gortsplib.ProtocolTCP)
		var bad liberrors.ErrClientBadStatusCode
		if !errors.As(err, &bad) || bad.Code != base.StatusNotFound {
			t.Errorf("%s: %v, want 404", p, err)
		}
	}
}

func TestAuth(t *testing.T) {
	s := startSim(t, Config{Cameras: 1, User: "admin", Pass: "s3cret-pw"})
	withCreds := func(user, pass string) string {
		return strings.Replace(s.URL(1), "rtsp://", "rtsp://"+user+":"+pass+"@", 1)
	}
	if _, err := tryPlay(s.URL(1), gortsplib.ProtocolTCP); err == nil {
		t.Error("played without credentials")
	}

	// A wrong password is refused; gortsplib's client answers the
	// Digest challenge, which the test checks on the wire.
	var methods []string
	var mu sync.Mutex
	u, _ := base.ParseURL(withCreds("admin", "wrong"))
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, OnRequest: func(req *base.Request) {
		if a, ok := req.Header["Authorization"]; ok {
			mu.Lock()
			methods = append(methods, strings.Fields(a[0])[0])
			mu.Unlock()
		}
	}}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	_, _, err := c.Describe(u)
	c.Close()
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	mu.Lock()
	if len(methods) == 0 || methods[0] != "Digest" {
		t.Errorf("client authenticated with %v, want Digest", methods)
	}
	mu.Unlock()

	r := play(t, withCreds("admin", "s3cret-pw"), gortsplib.ProtocolTCP)
	s.mu.Lock()
	s.readers[r] = 1
	s.mu.Unlock()
	s.until(t, "frames with the right password", func() bool { return r.count() > 0 })
}

func TestStartInvalid(t *testing.T) {
	for _, cfg := range []Config{
		{Addr: "127.0.0.1:0", Cameras: 0},
		{Addr: "", Cameras: 1},
		{Addr: "127.0.0.1:0", Cameras: 1, UDPRTPAddr: "127.0.0.1:8000"},
		{Addr: "127.0.0.1:0", Cameras: 1, Pass: "x"},
		{Addr: "127.0.0.1:0", Cameras: 1, Codecs: []media.Codec{media.CodecUnknown}},
		{Addr: "127.0.0.1:0", Cameras: 1, Stagger: -time.Second},
	} {
		if s, err := Start(cfg); err == nil {
			s.Close()
			t.Errorf("Start(%+v) succeeded", cfg)
		}
	}
}

func TestParseCodecs(t *testing.T) {
	for in, want := range map[string][]media.Codec{
		"h264": {media.CodecH264},
		"H265": {media.CodecH265},
		"mix":  {media.CodecH264, media.CodecH265},
	} {
		got, err := ParseCodecs(in)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("ParseCodecs(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := ParseCodecs("mjpeg"); err == nil || !strings.Contains(err.Error(), "mjpeg") {
		t.Errorf("ParseCodecs(mjpeg) = %v, want an error naming it", err)
	}
}

func TestStagger(t *testing.T) {
	s := startSim(t, Config{Cameras: 2, Stagger: 10 * frameDur})
	r1 := s.attach(t, 1, gortsplib.ProtocolTCP)
	r2 := s.attach(t, 2, gortsplib.ProtocolTCP)
	s.steps(t, 5)
	if r1.frameCount() == 0 {
		t.Fatal("camera 1 sent nothing in its first 5 frame intervals")
	}
	if n := r2.count(); n != 0 {
		t.Fatalf("camera 2 sent %d packets before its staggered start", n)
	}
	s.until(t, "camera 2's first frames", func() bool { return r2.frameCount() >= 3 })
	if aus := r2.aus(t); !aus[0].key {
		t.Error("camera 2's first frame is not a key frame")
	}
}

// A camera that falls more than maxLag behind (the process starved of CPU)
// skips ahead to a key frame, never to a frame whose references it did not
// send: a recording of the simulator must stay decodable however loaded
// the machine running it is.
func TestSkipAheadResumesAtKeyFrame(t *testing.T) {
	for _, codec := range []media.Codec{media.CodecH264, media.CodecH265} {
		t.Run(codec.String(), func(t *testing.T) {
			s := startSim(t, Config{Cameras: 1, Codecs: []media.Codec{codec}})
			r := s.attach(t, 1, gortsplib.ProtocolTCP)
			s.until(t, "frames", func() bool { return r.frameCount() >= 10 })
			// Three seconds and five frames pass at once: the frame due
			// then is mid-GOP (a key frame every 25).
			s.clk.Advance(3*time.Second + 5*frameDur)
			s.idle(t)
			// A skip to the next key frame sends it early and waits for
			// the frame after it: step the clock there in one go.
			c := s.cams[0]
			if wait := c.due().Sub(s.clk.Now()); wait > frameDur {
				s.clk.Advance(wait - frameDur)
			}
			s.until(t, "frames after the jump", func() bool {
				pkts := r.packets()
				return pkts[len(pkts)-1].Timestamp-pkts[0].Timestamp > 5*90000
			})
			aus := r.aus(t)
			jump := -1
			for i := 1; i < len(aus); i++ {
				if aus[i].ts-aus[i-1].ts > 90000 {
					jump = i
					break
				}
			}
			if jump < 0 {
				t.Fatal("no skip ahead seen")
			}
			if !aus[jump].key {
				t.Fatalf("resumed at access unit %d (timestamp %d), which is not a key frame", jump, aus[jump].ts)
			}
		})
	}
}
