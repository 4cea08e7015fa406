package ingest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
)

// encodePayloads packetizes au with gortsplib's encoder, payloads of at
// most max bytes (it aggregates small NAL units into STAP-A or AP and
// fragments large ones), and returns copies of the payloads: the encoder's
// may alias the clip's shared NAL units.
func encodePayloads(t testing.TB, codec media.Codec, au [][]byte, max int) [][]byte {
	t.Helper()
	var pkts []*rtp.Packet
	var err error
	if codec == media.CodecH264 {
		e := &rtph264.Encoder{PayloadType: 96, PacketizationMode: 1, PayloadMaxSize: max}
		if err = e.Init(); err == nil {
			pkts, err = e.Encode(au)
		}
	} else {
		e := &rtph265.Encoder{PayloadType: 96, PayloadMaxSize: max}
		if err = e.Init(); err == nil {
			pkts, err = e.Encode(au)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, len(pkts))
	for i, k := range pkts {
		out[i] = bytes.Clone(k.Payload)
	}
	return out
}

// aggregatePayloads packetizes au by hand the other way: every NAL unit
// that fits goes into one STAP-A (H.264, with zero padding at its end) or
// AP (H.265) packet of up to 65,535 bytes, slices included; larger ones
// go in FU-A or FU fragments of up to 1,400 bytes.
func aggregatePayloads(codec media.Codec, au [][]byte) [][]byte {
	const maxPacket, maxFrag = 65535, 1400
	hdr := []byte{h264STAPA}
	if codec == media.CodecH265 {
		hdr = []byte{h265AP << 1, 1}
	}
	var out [][]byte
	agg := append([]byte(nil), hdr...)
	flush := func() {
		if len(agg) > len(hdr) {
			if codec == media.CodecH264 {
				agg = append(agg, 0, 0, 0) // padding: a size of 0, then zeros
			}
			out = append(out, agg)
		}
		agg = append([]byte(nil), hdr...)
	}
	for _, n := range au {
		if len(agg)+2+len(n)+3 <= maxPacket {
			agg = binary.BigEndian.AppendUint16(agg, uint16(len(n)))
			agg = append(agg, n...)
			continue
		}
		flush()
		hl := 1
		if codec == media.CodecH265 {
			hl = 2
		}
		body := n[hl:]
		for start := true; len(body) > 0; start = false {
			m := min(len(body), maxFrag)
			var k []byte
			if codec == media.CodecH264 {
				fu := n[0] & 0x1f
				if start {
					fu |= 0x80
				}
				if m == len(body) {
					fu |= 0x40
				}
				k = []byte{n[0]&0xe0 | h264FUA, fu}
			} else {
				fu := (n[0] >> 1) & 0x3f
				if start {
					fu |= 0x80
				}
				if m == len(body) {
					fu |= 0x40
				}
				k = []byte{n[0]&0x81 | h265FU<<1, n[1], fu}
			}
			out = append(out, append(k, body[:m]...))
			body = body[m:]
		}
	}
	flush()
	return out
}

// A packet and every byte of its payload are the caller's again once
// Packet returns: the poller reads the next packet into the same buffer.
// Each payload is read into one reused buffer and one reused *rtp.Packet,
// and overwritten with 0xA5 as soon as Packet returns; every frame must
// still be the clip's access unit, byte for byte.
func TestDepackKeepsNoPacketBytes(t *testing.T) {
	modes := []struct {
		name     string
		payloads func(t testing.TB, codec media.Codec, au [][]byte) [][]byte
		want     int // payload type that must occur (FU-A/FU or STAP-A/AP)
	}{
		{"fu-200", func(t testing.TB, c media.Codec, au [][]byte) [][]byte { return encodePayloads(t, c, au, 200) }, h264FUA},
		{"default-1450", func(t testing.TB, c media.Codec, au [][]byte) [][]byte { return encodePayloads(t, c, au, 1450) }, h264STAPA},
		{"large-60000", func(t testing.TB, c media.Codec, au [][]byte) [][]byte { return encodePayloads(t, c, au, 60000) }, h264STAPA},
		{"aggregated", func(_ testing.TB, c media.Codec, au [][]byte) [][]byte { return aggregatePayloads(c, au) }, h264STAPA},
	}
	for _, codec := range codecs {
		for _, mode := range modes {
			// pooled: frame buffers come from the pools and the
			// depacketizer's buffer becomes a frame's Data (take); the
			// sink here keeps every frame, so a buffer still in use that
			// were written again would show.
			for _, pooled := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/pooled=%v", codec, mode.name, pooled), func(t *testing.T) {
					c := loadClip(t, codec)
					p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
					p.pooled = pooled
					var wire [70000]byte
					pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96}}
					seq := uint16(65500)
					types := map[int]int{}
					now := t0
					for i, au := range c.AUs {
						payloads := mode.payloads(t, codec, au.NALUs)
						for j, pl := range payloads {
							types[payloadType(codec, pl)]++
							pkt.SequenceNumber = seq
							pkt.Timestamp = uint32(i * clip.FrameDuration)
							pkt.Marker = j == len(payloads)-1
							pkt.Payload = wire[:copy(wire[:], pl)]
							if err := p.Packet(pkt, now); err != nil {
								t.Fatalf("frame %d packet %d: %v", i, j, err)
							}
							for k := range pkt.Payload {
								pkt.Payload[k] = 0xA5
							}
							pkt.Payload = nil
							seq++
						}
						now = now.Add(40 * time.Millisecond)
					}
					want := mode.want
					if codec == media.CodecH265 {
						want = map[int]int{h264FUA: h265FU, h264STAPA: h265AP}[want]
					}
					if types[want] == 0 {
						t.Fatalf("no packet of type %d among %v: the mode does not exercise what it is for", want, types)
					}
					frames := s.frames()
					if len(frames) != len(c.AUs) {
						t.Fatalf("%d frames, want %d", len(frames), len(c.AUs))
					}
					for i, fr := range frames {
						if want := avcc(codec, c.AUs[i].NALUs); !bytes.Equal(fr.Data, want) {
							t.Fatalf("frame %d differs from the clip's access unit (%d bytes, want %d)", i, len(fr.Data), len(want))
						}
						if fr.Key != c.AUs[i].Key {
							t.Fatalf("frame %d: Key %v, want %v", i, fr.Key, c.AUs[i].Key)
						}
					}
					if !frames[0].Params.Equal(c.Params) {
						t.Fatal("parameter sets differ from the clip's")
					}
				})
			}
		}
	}
}

// raceBuild reports whether the test binary was built with -race, under
// which the runtime allocates on its own account.
func raceBuild() bool {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				return true
			}
		}
	}
	return false
}

// payloadType returns the NAL unit type field of an RTP payload.
func payloadType(codec media.Codec, pl []byte) int {
	if codec == media.CodecH264 {
		return int(pl[0] & 0x1f)
	}
	return int(pl[0]>>1) & 0x3f
}

// reuseSink copies each frame into a buffer of its own and gives the
// frame's memory back, as the store's writer and the supervisor do.
type reuseSink struct {
	kept   []byte
	frames int
}

func (s *reuseSink) WriteFrame(f *media.Frame) error {
	s.kept = append(s.kept[:0], f.Data...)
	s.frames++
	putFrameBuf(f.Data)
	return nil
}
func (s *reuseSink) Break(string) {}

// In steady state (P-frames, a sink that copies) Packet allocates nothing
// for a packet that does not complete an access unit, and a frame costs
// the same few allocations (its *media.Frame, mediacommon's decode-time
// parsing, the pool's) however many packets carry it.
func TestDepackAllocations(t *testing.T) {
	if testing.CoverMode() != "" || raceBuild() {
		t.Skip("allocation counts differ under coverage or the race detector")
	}
	for _, codec := range codecs {
		perFrame := map[int]float64{}
		for _, max := range []int{200, 1450} {
			c := loadClip(t, codec)
			sink := &reuseSink{}
			p := NewPipeline(sink, PipelineOptions{})
			p.pooled = true
			if err := p.Start(Track{Codec: codec, PacketizationMode: 1}); err != nil {
				t.Fatal(err)
			}
			var frames [][]*rtp.Packet
			for _, au := range c.AUs[:25] {
				var pkts []*rtp.Packet
				pls := encodePayloads(t, codec, au.NALUs, max)
				for j, pl := range pls {
					pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Marker: j == len(pls)-1}, Payload: pl})
				}
				frames = append(frames, pkts)
			}
			seq, i := uint16(0), 0
			var nonFinal, nonFinalAllocs uint64
			var before, after runtime.MemStats
			feed := func(measure bool) {
				pkts := frames[i]
				for j, k := range pkts {
					k.SequenceNumber, k.Timestamp = seq, uint32(i*clip.FrameDuration)
					seq++
					last := j == len(pkts)-1
					if measure && !last {
						runtime.ReadMemStats(&before)
					}
					if err := p.Packet(k, t0.Add(time.Duration(i)*40*time.Millisecond)); err != nil {
						t.Fatal(err)
					}
					if measure && !last {
						runtime.ReadMemStats(&after)
						nonFinal++
						nonFinalAllocs += after.Mallocs - before.Mallocs
					}
				}
				i++
			}
			feed(false) // the key frame and a P-frame: buffers reach steady size
			feed(false)
			// Mallocs counts the whole process (goroutines other tests left
			// behind too): the least of three rounds is the pipeline's.
			perFrame[max] = math.Inf(1)
			for range 3 {
				perFrame[max] = min(perFrame[max], testing.AllocsPerRun(4, func() { feed(false) }))
			}
			least := uint64(math.MaxUint64)
			for range 3 {
				nonFinalAllocs = 0
				feed(true)
				feed(true)
				least = min(least, nonFinalAllocs)
			}
			if sink.frames != 23 {
				t.Fatalf("%v: %d frames handed over, want 23", codec, sink.frames)
			}
			if nonFinal == 0 || least != 0 {
				t.Errorf("%v, payloads of %d bytes: %d allocations in the packets of two P-frames that complete no frame, want 0", codec, max, least)
			}
		}
		if perFrame[200] != perFrame[1450] || perFrame[200] > 8 {
			t.Errorf("%v: %.0f allocations per P-frame in payloads of 200 bytes (many packets), %.0f in payloads of 1450; want the same, a few", codec, perFrame[200], perFrame[1450])
		}
		t.Logf("%v: %.0f allocations per P-frame", codec, perFrame[1450])
	}
}

// 256 cameras idle between key frames must not each pin a key frame's
// worth of depacketizer buffer: after a large unit the buffer goes back
// to the frame pools.
func TestDepackReleasesLargeBuffer(t *testing.T) {
	const cameras = 256
	codec := media.CodecH264
	c := loadClip(t, codec)
	keySize := len(avcc(codec, c.AUs[0].NALUs))
	if keySize < 2*releaseBytes {
		t.Fatalf("the clip's key frame has %d bytes: too small to show a release", keySize)
	}
	var frames [][]*rtp.Packet
	for _, au := range c.AUs[:3] { // a key frame, then two P-frames
		var pkts []*rtp.Packet
		pls := encodePayloads(t, codec, au.NALUs, 1450)
		for j, pl := range pls {
			pkts = append(pkts, &rtp.Packet{Header: rtp.Header{Marker: j == len(pls)-1}, Payload: pl})
		}
		frames = append(frames, pkts)
	}
	pipes := make([]*Pipeline, cameras)
	grow := heapGrowthNoPools(func() {
		for n := range pipes {
			p := NewPipeline(discard{}, PipelineOptions{})
			if err := p.Start(Track{Codec: codec, PacketizationMode: 1}); err != nil {
				t.Fatal(err)
			}
			seq := uint16(0)
			for i, pkts := range frames {
				for _, k := range pkts {
					k.SequenceNumber, k.Timestamp = seq, uint32(i*clip.FrameDuration)
					seq++
					if err := p.Packet(k, t0); err != nil {
						t.Fatal(err)
					}
				}
			}
			if c := p.Counters(); c.Frames != 3 {
				t.Fatalf("camera %d: %d frames, want 3", n, c.Frames)
			}
			pipes[n] = p
		}
	})
	for n, p := range pipes {
		if got := cap(p.dp.buf); got > releaseBytes {
			t.Fatalf("camera %d keeps a buffer of %d bytes between key frames, want at most %d", n, got, releaseBytes)
		}
	}
	per := grow / cameras
	if per > releaseBytes+8<<10 {
		t.Fatalf("each idle camera holds %d bytes (a key frame is %d), want at most %d", per, keySize, releaseBytes+8<<10)
	}
	t.Logf("%d bytes per idle camera after a key frame of %d bytes", per, keySize)
	runtime.KeepAlive(pipes)
}

// heapGrowthNoPools is heapGrowth with the frame pools emptied (sync.Pool
// keeps buffers through one collection), so only what is reachable
// counts.
func heapGrowthNoPools(fn func()) int64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&b)
	return int64(b.HeapAlloc) - int64(a.HeapAlloc)
}

// The depacketizer's handling of each kind of malformed payload, alone.
func TestDepackMalformed(t *testing.T) {
	h264Slice := []byte{0x41, 0x9a, 0x01, 0x02}
	h265Slice := []byte{0x02, 0x01, 0xd0, 0x01}
	cases := []struct {
		name    string
		codec   media.Codec
		packets [][]byte
		err     string // error of the last packet; "" none; "orphan" errOrphan
		units   int    // complete NAL units afterwards
	}{
		{"h264 single", media.CodecH264, [][]byte{h264Slice}, "", 1},
		{"h264 fu-a orphan before any start", media.CodecH264, [][]byte{{0x7c, 0x05, 1}}, "orphan", 0},
		{"h264 fu-a orphan after a packet", media.CodecH264, [][]byte{h264Slice, {0x7c, 0x05, 1}}, "without its start", 1},
		{"h264 fu-a start while open", media.CodecH264, [][]byte{{0x7c, 0x85, 1}, {0x7c, 0x85, 2}}, "fragmented NAL unit is open", 0},
		{"h264 single while open", media.CodecH264, [][]byte{{0x7c, 0x85, 1}, h264Slice}, "fragmented NAL unit is open", 0},
		{"h264 fu-a start and end", media.CodecH264, [][]byte{{0x7c, 0xc5, 1, 2}}, "", 1},
		{"h264 fu-a without header", media.CodecH264, [][]byte{{0x7c}}, "FU header", 0},
		{"h264 stap-a", media.CodecH264, [][]byte{{24, 0, 2, 0x67, 1, 0, 2, 0x68, 2}}, "", 2},
		{"h264 stap-a padded", media.CodecH264, [][]byte{{24, 0, 2, 0x67, 1, 0, 0, 0}}, "", 1},
		{"h264 stap-a only padding", media.CodecH264, [][]byte{{24, 0, 0}}, "size 0", 0},
		{"h264 stap-a truncated", media.CodecH264, [][]byte{{24, 0, 9, 0x67, 1}}, "truncated", 0},
		{"h264 stap-a odd byte", media.CodecH264, [][]byte{{24, 0, 1, 0x67, 5}}, "truncated", 0},
		{"h264 stap-b", media.CodecH264, [][]byte{{25, 0, 0}}, "not supported", 0},
		{"h264 mtap16", media.CodecH264, [][]byte{{26, 0, 0}}, "not supported", 0},
		{"h264 fu-b", media.CodecH264, [][]byte{{29, 0x85, 0}}, "not supported", 0},
		{"h264 annex-b inside", media.CodecH264, [][]byte{{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68, 2}}, "", 2},
		{"h265 single", media.CodecH265, [][]byte{h265Slice}, "", 1},
		{"h265 one byte", media.CodecH265, [][]byte{{0x02}}, "shorter than", 0},
		{"h265 fu orphan", media.CodecH265, [][]byte{{49 << 1, 1, 0x01, 9}}, "orphan", 0},
		{"h265 fu start and end", media.CodecH265, [][]byte{{49 << 1, 1, 0xc1, 9}}, "both the start and the end", 0},
		{"h265 fu", media.CodecH265, [][]byte{{49 << 1, 1, 0x81, 9}, {49 << 1, 1, 0x41, 10}}, "", 1},
		{"h265 fu without header", media.CodecH265, [][]byte{{49 << 1, 1}}, "FU header", 0},
		{"h265 ap", media.CodecH265, [][]byte{{48 << 1, 1, 0, 3, 0x40, 1, 7, 0, 3, 0x42, 1, 8}}, "", 2},
		{"h265 ap size 0", media.CodecH265, [][]byte{{48 << 1, 1, 0, 0}}, "size 0", 0},
		{"h265 ap empty", media.CodecH265, [][]byte{{48 << 1, 1}}, "truncated", 0},
		{"h265 paci", media.CodecH265, [][]byte{{50 << 1, 1, 0, 0}}, "PACI", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDepacketizer(tc.codec, 1<<20, 50)
			var err error
			for _, k := range tc.packets {
				err = d.add(k)
			}
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("error %v, want none", err)
			case tc.err == "orphan" && err != errOrphan:
				t.Fatalf("error %v, want errOrphan", err)
			case tc.err != "" && tc.err != "orphan" && (err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.err))):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if err == nil && d.units() != tc.units {
				t.Fatalf("%d NAL units, want %d", d.units(), tc.units)
			}
			// The AVCC form and the NAL-unit views agree.
			var re []byte
			for _, n := range d.nalus(nil) {
				re = binary.BigEndian.AppendUint32(re, uint32(len(n)))
				re = append(re, n...)
			}
			if err == nil && !bytes.Equal(re, d.avcc()) {
				t.Fatalf("AVCC % x and NAL units % x disagree", d.avcc(), re)
			}
		})
	}
}

func TestHasStartCode(t *testing.T) {
	for _, tc := range []struct {
		b    []byte
		want bool
	}{
		{nil, false},
		{[]byte{1}, false},
		{[]byte{0, 1}, false},
		{[]byte{0, 0, 1}, true},
		{[]byte{1, 0, 0, 1}, true},
		{[]byte{0, 1, 0, 1, 0, 0, 2, 0, 0, 3, 1}, false},
		{[]byte{5, 6, 7, 0, 0, 0, 1, 8}, true},
		{[]byte{5, 1, 0, 0, 1}, true},
		{[]byte{0, 0, 0, 0}, false},
	} {
		if got := hasStartCode(tc.b); got != tc.want || got != bytes.Contains(tc.b, startCode) {
			t.Errorf("hasStartCode(% x) = %v, want %v", tc.b, got, tc.want)
		}
	}
}

// The FU header's reconstructed NAL unit header (forbidden bit and NRI
// from the FU indicator, type from the FU header) and the bytes after it.
func TestDepackFragmentHeader(t *testing.T) {
	d := newDepacketizer(media.CodecH264, 1<<20, 50)
	for _, k := range [][]byte{{0x60 | 28, 0x80 | 5, 1, 2}, {28, 5, 3}, {28, 0x40 | 5, 4}} {
		if err := d.add(k); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := d.avcc(), []byte{0, 0, 0, 5, 0x65, 1, 2, 3, 4}; !bytes.Equal(got, want) {
		t.Fatalf("H.264: % x, want % x", got, want)
	}
	d = newDepacketizer(media.CodecH265, 1<<20, 50)
	for _, k := range [][]byte{{49 << 1, 1, 0x80 | 19, 1}, {49 << 1, 1, 0x40 | 19, 2}} {
		if err := d.add(k); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := d.avcc(), []byte{0, 0, 0, 4, 19 << 1, 1, 1, 2}; !bytes.Equal(got, want) {
		t.Fatalf("H.265: % x, want % x", got, want)
	}
}

// A timestamp change inside a fragmented NAL unit does not cut it: its
// continuation still belongs to the access unit it started in, and the
// access unit is handed over whole.
func TestDepackFragmentAcrossTimestamp(t *testing.T) {
	codec := media.CodecH264
	p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
	f := newFeeder(t, codec, p)
	f.feed(2)
	au := f.au(2)
	pkts := f.pk.packets(t, au, f.ts(2))
	if len(pkts) < 3 || fragmentStart(codec, pkts[0].Payload) < 0 {
		t.Fatalf("frame 2 is %d packets: the test needs a fragmented one", len(pkts))
	}
	pkts[len(pkts)-2].Timestamp++ // a camera's stray timestamp mid-fragment
	for _, k := range pkts {
		if err := p.Packet(k, f.now); err != nil {
			t.Fatal(err)
		}
	}
	f.i++
	f.feed(2)
	frames := s.frames()
	if len(frames) != 5 || len(s.breaks()) != 0 {
		t.Fatalf("%d frames, breaks %v; want 5 and none", len(frames), s.breaks())
	}
	checkFrames(t, f, frames, 0)
}

// FuzzDepacketize feeds arbitrary packet sequences: payload bytes, marker,
// sequence and timestamp steps all come from the input (the first byte:
// codec, pooled frames, a small MaxAccessUnit; then packets, each a flags
// byte, a 16-bit length and the payload). The pipeline never
// panics, never buffers more than MaxAccessUnit, and hands over only
// well-formed AVCC frames, each starting a run with a key frame, whose
// bytes nothing changes afterwards.
func FuzzDepacketize(f *testing.F) {
	for _, codec := range codecs {
		c, err := clip.Load(codec)
		if err != nil {
			f.Fatal(err)
		}
		in := []byte{codecBit(codec)}
		for i, au := range c.AUs[:3] {
			pls := encodePayloads(f, codec, au.NALUs, 1450)
			for j, pl := range pls {
				flags := byte(0)
				if j == len(pls)-1 {
					flags |= 1
				}
				if j == 0 && i > 0 {
					flags |= 1 << 3 // next timestamp
				}
				in = append(in, flags)
				in = binary.BigEndian.AppendUint16(in, uint16(len(pl)))
				in = append(in, pl...)
			}
		}
		f.Add(in)
		f.Add(append([]byte{in[0] | 4}, in[1:]...)) // a small MaxAccessUnit
		f.Add(aggregateSeed(codec, c))
	}
	f.Add([]byte{0, 0, 0, 3, 0x7c, 0x85, 1, 0x0a, 0, 3, 0x7c, 0x05, 2, 0x01, 0, 2, 0x7c, 0x45})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		codec := media.CodecH264
		if in[0]&1 != 0 {
			codec = media.CodecH265
		}
		maxAU := 48 << 10 // the clip's key frames fit
		if in[0]&4 != 0 {
			maxAU = 2 << 10
		}
		s := &checkSink{}
		p := NewPipeline(s, PipelineOptions{MaxAccessUnit: maxAU})
		p.pooled = in[0]&2 != 0
		if err := p.Start(Track{Codec: codec, PacketizationMode: 1}); err != nil {
			t.Fatal(err)
		}
		in = in[1:]
		var wire [1 << 16]byte
		pkt := &rtp.Packet{}
		seq, ts := uint16(0), uint32(0)
		for len(in) >= 3 {
			flags := in[0]
			n := min(int(binary.BigEndian.Uint16(in[1:])), len(in)-3)
			pl := in[3 : 3+n]
			in = in[3+n:]
			switch flags >> 1 & 3 {
			case 1:
				seq += 2 // one lost
			case 2:
				seq-- // a duplicate
			case 3:
				seq += 1000
			}
			switch flags >> 3 & 3 {
			case 1:
				ts += clip.FrameDuration
			case 2:
				ts -= clip.FrameDuration
			case 3:
				ts += 1 << 30
			}
			pkt.SequenceNumber, pkt.Timestamp, pkt.Marker = seq, ts, flags&1 != 0
			pkt.Payload = wire[:copy(wire[:], pl)]
			p.Packet(pkt, t0)
			for i := range pkt.Payload {
				pkt.Payload[i] = 0xA5
			}
			if b := p.dp.buffered(); b > maxAU {
				t.Fatalf("%d bytes buffered, limit %d", b, maxAU)
			}
			seq++
		}
		s.verify(t)
	})
}

// codecBit is the first byte of a FuzzDepacketize input for codec.
func codecBit(codec media.Codec) byte {
	if codec == media.CodecH265 {
		return 1
	}
	return 0
}

// aggregateSeed is a fuzz seed of the clip's first two access units,
// packetized by aggregatePayloads.
func aggregateSeed(codec media.Codec, c *clip.Clip) []byte {
	in := []byte{codecBit(codec) | 2}
	for i, au := range c.AUs[:2] {
		pls := aggregatePayloads(codec, au.NALUs)
		for j, pl := range pls {
			flags := byte(0)
			if j == len(pls)-1 {
				flags |= 1
			}
			if j == 0 && i > 0 {
				flags |= 1 << 3
			}
			in = append(in, flags)
			in = binary.BigEndian.AppendUint16(in, uint16(len(pl)))
			in = append(in, pl...)
		}
	}
	return in
}

// checkSink checks each frame as it arrives and keeps a copy of its Data,
// to verify later that nothing changed the bytes it was given.
type checkSink struct {
	frames []*media.Frame
	copies [][]byte
	brk    bool
	bad    error
}

func (s *checkSink) WriteFrame(f *media.Frame) error {
	if s.bad != nil {
		return nil
	}
	if (len(s.frames) == 0 || s.brk) && !f.Key {
		s.bad = fmt.Errorf("frame %d starts a run and is not a key frame", len(s.frames))
	}
	if f.Params == nil || !f.Params.Complete() {
		s.bad = fmt.Errorf("frame %d without complete parameter sets", len(s.frames))
	}
	for b := f.Data; len(b) > 0; {
		if len(b) < 4 || int(binary.BigEndian.Uint32(b)) > len(b)-4 || binary.BigEndian.Uint32(b) == 0 {
			s.bad = fmt.Errorf("frame %d: malformed AVCC", len(s.frames))
			break
		}
		b = b[4+binary.BigEndian.Uint32(b):]
	}
	s.brk = false
	s.frames = append(s.frames, f)
	s.copies = append(s.copies, bytes.Clone(f.Data))
	return nil
}

func (s *checkSink) Break(string) { s.brk = true }

func (s *checkSink) verify(t *testing.T) {
	t.Helper()
	if s.bad != nil {
		t.Fatal(s.bad)
	}
	for i, f := range s.frames {
		if !bytes.Equal(f.Data, s.copies[i]) {
			t.Fatalf("frame %d: Data changed after WriteFrame returned", i)
		}
	}
}
