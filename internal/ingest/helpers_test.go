package ingest

import (
	"encoding/binary"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// event is one call to a recSink.
type event struct {
	frame *media.Frame
	brk   string
}

// recSink records what a pipeline hands over.
type recSink struct {
	mu     sync.Mutex
	events []event
	err    error // returned by WriteFrame when set
}

func (s *recSink) WriteFrame(f *media.Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, event{frame: f})
	return s.err
}

func (s *recSink) Break(reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, event{brk: reason})
}

func (s *recSink) snapshot() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

func (s *recSink) frames() []*media.Frame {
	var out []*media.Frame
	for _, e := range s.snapshot() {
		if e.frame != nil {
			out = append(out, e.frame)
		}
	}
	return out
}

func (s *recSink) breaks() []string {
	var out []string
	for _, e := range s.snapshot() {
		if e.frame == nil {
			out = append(out, e.brk)
		}
	}
	return out
}

func loadClip(t testing.TB, codec media.Codec) *clip.Clip {
	t.Helper()
	c, err := clip.Load(codec)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// isParam reports whether n is a parameter set of codec.
func isParam(codec media.Codec, n []byte) bool {
	k := classify(codec, n)
	return k == kindVPS || k == kindSPS || k == kindPPS
}

// stripParams returns au without its parameter sets.
func stripParams(codec media.Codec, au [][]byte) [][]byte {
	var out [][]byte
	for _, n := range au {
		if !isParam(codec, n) {
			out = append(out, n)
		}
	}
	return out
}

// avcc is the Data a pipeline should hand over for au.
func avcc(codec media.Codec, au [][]byte) []byte {
	var b []byte
	for _, n := range au {
		if isParam(codec, n) {
			continue
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
	}
	return b
}

// packetizer turns access units into RTP packets the way a camera does.
type packetizer struct {
	codec media.Codec
	enc   interface {
		Encode([][]byte) ([]*rtp.Packet, error)
	}
	seq uint16
}

func newPacketizer(t testing.TB, codec media.Codec) *packetizer {
	t.Helper()
	ssrc := uint32(0x1234)
	seq := uint16(65000) // wraps early, as sequence numbers do
	p := &packetizer{codec: codec, seq: seq}
	switch codec {
	case media.CodecH264:
		e := &rtph264.Encoder{PayloadType: 96, SSRC: &ssrc, InitialSequenceNumber: &seq, PacketizationMode: 1}
		if err := e.Init(); err != nil {
			t.Fatal(err)
		}
		p.enc = e
	default:
		e := &rtph265.Encoder{PayloadType: 96, SSRC: &ssrc, InitialSequenceNumber: &seq}
		if err := e.Init(); err != nil {
			t.Fatal(err)
		}
		p.enc = e
	}
	return p
}

// packets packetizes au with RTP timestamp ts. Sequence numbers continue
// from the previous call.
func (p *packetizer) packets(t testing.TB, au [][]byte, ts uint32) []*rtp.Packet {
	t.Helper()
	pkts, err := p.enc.Encode(au)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range pkts {
		k.Timestamp = ts
		k.SequenceNumber = p.seq
		p.seq++
	}
	return pkts
}

// single makes one RTP packet carrying payload as is.
func (p *packetizer) single(payload []byte, ts uint32, marker bool) *rtp.Packet {
	k := &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: p.seq, Timestamp: ts, SSRC: 0x1234, Marker: marker},
		Payload: payload,
	}
	p.seq++
	return k
}

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// feeder drives a pipeline with a clip, on a simulated server clock that
// advances by step per frame.
type feeder struct {
	t     testing.TB
	c     *clip.Clip
	p     *Pipeline
	pk    *packetizer
	now   time.Time
	step  time.Duration
	ts0   uint32
	i     int // frames fed
	strip bool
	errs  []error
}

func newFeeder(t testing.TB, codec media.Codec, p *Pipeline) *feeder {
	return &feeder{t: t, c: loadClip(t, codec), p: p, pk: newPacketizer(t, codec), now: t0, step: 40 * time.Millisecond}
}

// au returns the i-th access unit of the looped clip.
func (f *feeder) au(i int) [][]byte {
	au := f.c.AUs[i%len(f.c.AUs)].NALUs
	if f.strip {
		au = stripParams(f.c.Codec, au)
	}
	return au
}

func (f *feeder) ts(i int) uint32 { return f.ts0 + uint32(i*clip.FrameDuration) }

// feed sends the next n frames' packets.
func (f *feeder) feed(n int) {
	for range n {
		for _, k := range f.pk.packets(f.t, f.au(f.i), f.ts(f.i)) {
			if err := f.p.Packet(k, f.now); err != nil {
				f.errs = append(f.errs, err)
			}
		}
		f.i++
		f.now = f.now.Add(f.step)
	}
}

func newTestPipeline(t testing.TB, codec media.Codec, sdp *media.Params, opts PipelineOptions) (*Pipeline, *recSink) {
	t.Helper()
	s := &recSink{}
	p := NewPipeline(s, opts)
	if err := p.Start(Track{Codec: codec, Params: sdp, PacketizationMode: 1}); err != nil {
		t.Fatal(err)
	}
	return p, s
}
