package ingest

import (
	"bytes"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/media"
)

var codecs = []media.Codec{media.CodecH264, media.CodecH265}

// checkRun checks the invariants every run of frames must hold: a key
// frame with complete params first, then Wall advancing by the clip's
// frame duration, Data equal to the clip's access unit without parameter
// sets.
func checkFrames(t *testing.T, f *feeder, frames []*media.Frame, first int) {
	t.Helper()
	for j, fr := range frames {
		i := first + j
		if fr.Params == nil || !fr.Params.Complete() {
			t.Fatalf("frame %d: params %v not complete", i, fr.Params)
		}
		if want := avcc(f.c.Codec, f.au(i)); !bytes.Equal(fr.Data, want) {
			t.Fatalf("frame %d: data differs from the clip's access unit (%d vs %d bytes)", i, len(fr.Data), len(want))
		}
		if want := f.c.AUs[i%len(f.c.AUs)].Key; fr.Key != want {
			t.Fatalf("frame %d: Key = %v, want %v", i, fr.Key, want)
		}
		if j > 0 && fr.Wall-frames[j-1].Wall != clip.FrameDuration {
			t.Fatalf("frame %d: Wall step %d, want %d", i, fr.Wall-frames[j-1].Wall, clip.FrameDuration)
		}
	}
}

func TestClipParamsInBand(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			f.feed(len(f.c.AUs))
			if len(f.errs) > 0 {
				t.Fatalf("errors: %v", f.errs)
			}
			frames := s.frames()
			if len(frames) != len(f.c.AUs) {
				t.Fatalf("%d frames handed over, want %d", len(frames), len(f.c.AUs))
			}
			if !frames[0].Key {
				t.Fatal("first frame is not a key frame")
			}
			if frames[0].Wall != media.Time90k(t0) {
				t.Fatalf("first Wall = %d, want server clock %d", frames[0].Wall, media.Time90k(t0))
			}
			checkFrames(t, f, frames, 0)
			for i, fr := range frames {
				if fr.Params != frames[0].Params {
					t.Fatalf("frame %d: new *Params although the camera repeated the same parameter sets", i)
				}
				if fr.PTSOffset != 0 {
					t.Fatalf("frame %d: PTSOffset %d for a stream without B-frames", i, fr.PTSOffset)
				}
			}
			if !frames[0].Params.Equal(f.c.Params) {
				t.Fatal("params differ from the clip's")
			}
			if len(s.breaks()) != 0 {
				t.Fatalf("breaks %v in a clean stream", s.breaks())
			}
		})
	}
}

func TestParamsOnlyInSDP(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			c := loadClip(t, codec)
			p, s := newTestPipeline(t, codec, c.Params, PipelineOptions{})
			f := newFeeder(t, codec, p)
			f.strip = true
			f.feed(60)
			if len(f.errs) > 0 {
				t.Fatalf("errors: %v", f.errs)
			}
			frames := s.frames()
			if len(frames) != 60 {
				t.Fatalf("%d frames, want 60", len(frames))
			}
			checkFrames(t, f, frames, 0)
			if !frames[0].Params.Equal(c.Params) {
				t.Fatal("params are not the SDP's")
			}
		})
	}
}

func TestNoParamsAnywhere(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.strip = true
	f.feed(30)
	if n := len(s.frames()); n != 0 {
		t.Fatalf("%d frames handed over without parameter sets", n)
	}
	if len(f.errs) == 0 || !strings.Contains(f.errs[0].Error(), "parameter sets") {
		t.Fatalf("want an error naming the missing parameter sets, got %v", f.errs)
	}
	if c := p.Counters(); c.Dropped != 30 {
		t.Fatalf("Dropped = %d, want 30", c.Dropped)
	}
}

// A stream joined mid-GOP: frames before the first key frame are dropped
// and counted.
func TestStartsAtKeyFrame(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.i = 10 // the clip has a key frame every 25 frames
	f.feed(40)
	frames := s.frames()
	if len(frames) != 25 || !frames[0].Key {
		t.Fatalf("%d frames, first key %v; want 25 starting at the key frame", len(frames), len(frames) > 0 && frames[0].Key)
	}
	checkFrames(t, f, frames, 25)
	if c := p.Counters(); c.Dropped != 15 {
		t.Fatalf("Dropped = %d, want 15", c.Dropped)
	}
}

func TestParamsChangeMidStream(t *testing.T) {
	codec := media.CodecH264
	c := loadClip(t, codec)
	p, s := newTestPipeline(t, codec, c.Params, PipelineOptions{})
	f := newFeeder(t, codec, p)
	f.strip = true
	f.feed(30) // one full GOP and 5 frames of the next

	// The camera is reconfigured: a new PPS arrives in-band with a non-key
	// frame; it takes effect at the next key frame (frame 50).
	newPPS := append(append([]byte(nil), c.Params.PPS...), 0x00)
	au := append([][]byte{newPPS}, f.au(f.i)...)
	for _, k := range f.pk.packets(t, au, f.ts(f.i)) {
		if err := p.Packet(k, f.now); err != nil {
			t.Fatal(err)
		}
	}
	f.i++
	f.feed(30)
	frames := s.frames()
	if len(frames) != 61 {
		t.Fatalf("%d frames, want 61", len(frames))
	}
	old := frames[0].Params
	for i, fr := range frames {
		switch {
		case i < 50 && fr.Params != old:
			t.Fatalf("frame %d: params changed before the next key frame", i)
		case i >= 50 && fr.Params == old:
			t.Fatalf("frame %d: still the old *Params after the change", i)
		case i >= 50 && !bytes.Equal(fr.Params.PPS, newPPS):
			t.Fatalf("frame %d: PPS is not the new one", i)
		case i > 50 && fr.Params != frames[50].Params:
			t.Fatalf("frame %d: *Params replaced again without a change", i)
		}
	}
	if !frames[50].Key || !bytes.Equal(frames[50].Params.SPS, c.Params.SPS) {
		t.Fatal("the frame carrying the new params must be a key frame and keep the SPS")
	}
	if got := p.Counters().ParamChanges; got != 1 {
		t.Fatalf("ParamChanges = %d, want 1", got)
	}
	if len(s.breaks()) != 0 {
		t.Fatalf("a parameter change is not a discontinuity; got breaks %v", s.breaks())
	}
}

// Some cameras send SPS and PPS each in its own packet with the marker bit
// set and the IDR's timestamp; they must join the IDR's access unit.
func TestParamsInOwnMarkedPackets(t *testing.T) {
	for _, marker := range []bool{true, false} {
		codec := media.CodecH264
		p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
		f := newFeeder(t, codec, p)
		f.strip = true
		ts := f.ts(0)
		for _, n := range [][]byte{f.c.Params.SPS, f.c.Params.PPS} {
			if err := p.Packet(f.pk.single(n, ts, marker), f.now); err != nil {
				t.Fatal(err)
			}
		}
		f.feed(25)
		frames := s.frames()
		if len(frames) != 25 {
			t.Fatalf("marker %v: %d frames, want 25 (no parameter-only frame)", marker, len(frames))
		}
		checkFrames(t, f, frames, 0)
		if !frames[0].Params.Equal(f.c.Params) {
			t.Fatalf("marker %v: params not taken from the separate packets", marker)
		}
	}
}

func TestPacketLoss(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			f.feed(30)
			// Frame 30: lose its second packet (frames are several packets).
			// Only its slices, so the unit starts with the fragment.
			var slices [][]byte
			for _, n := range f.au(f.i) {
				if k := classify(codec, n); k == kindVCL || k == kindKey {
					slices = append(slices, n)
				}
			}
			pkts := f.pk.packets(t, slices, f.ts(f.i))
			if len(pkts) < 3 {
				t.Fatalf("frame has %d packets; test needs a fragmented frame", len(pkts))
			}
			var lossErr error
			for j, k := range pkts {
				if j == 1 {
					continue
				}
				if err := p.Packet(k, f.now); err != nil && lossErr == nil {
					lossErr = err
				}
			}
			f.i++
			f.now = f.now.Add(f.step)
			f.feed(45)
			if lossErr == nil || !strings.Contains(lossErr.Error(), "packet loss") {
				t.Fatalf("want a packet loss error, got %v", lossErr)
			}
			ev := s.snapshot()
			// 30 frames, a Break, then frames 50..75 (resumed at the key frame).
			if len(ev) != 30+1+26 || ev[30].brk != "packet loss" {
				t.Fatalf("got %d events (break at 30: %q); want 30 frames, a packet-loss break, 26 frames", len(ev), ev[min(30, len(ev)-1)].brk)
			}
			frames := s.frames()
			checkFrames(t, f, frames[:30], 0)
			checkFrames(t, f, frames[30:], 50)
			if !frames[30].Key {
				t.Fatal("first frame after the break is not a key frame")
			}
			if frames[30].Wall < frames[29].Wall+clip.FrameDuration {
				t.Fatal("Wall went backwards across the break")
			}
			c := p.Counters()
			if c.LostPackets != 1 || c.Breaks != 1 || c.Dropped != 20 {
				t.Fatalf("counters %+v: want 1 lost packet, 1 break, 20 dropped (the broken frame and 19 until the key)", c)
			}
		})
	}
}

func TestDuplicatePacketIgnored(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(3)
	pkts := f.pk.packets(t, f.au(3), f.ts(3))
	for _, k := range append(pkts[:1:1], pkts...) {
		if err := p.Packet(k, f.now); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.frames()); n != 4 || len(s.breaks()) != 0 {
		t.Fatalf("%d frames, breaks %v; want 4 and none", n, s.breaks())
	}
}

func TestTimestampWrap(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			f.ts0 = ^uint32(0) - 10*clip.FrameDuration + 1 // wraps after 10 frames
			f.feed(50)
			frames := s.frames()
			if len(frames) != 50 || len(s.breaks()) != 0 {
				t.Fatalf("%d frames, breaks %v; want 50 and none", len(frames), s.breaks())
			}
			checkFrames(t, f, frames, 0)
		})
	}
}

// The server clock is authoritative: when Wall falls more than Reanchor
// behind it, the next key frame starts a new run at the server clock.
func TestReanchorWhenWallFallsBehind(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{Reanchor: time.Second})
	f := newFeeder(t, media.CodecH264, p)
	f.step = 50 * time.Millisecond // the camera's clock runs 25% slow
	f.feed(600)
	ev := s.snapshot()
	var brk int
	for i, e := range ev {
		if e.frame == nil {
			if !strings.HasPrefix(e.brk, "clock drift") {
				t.Fatalf("break %q, want clock drift", e.brk)
			}
			brk = i
			break
		}
	}
	// Drift grows by 10 ms per frame; it passes 1 s after frame 100 (5 s).
	// The lag windows (10 s, 200 frames) start at frames 0, 200, 400: the
	// one from 200 to 400 is the first above 1 s throughout, so the run is
	// re-anchored at the first key frame from frame 400 on.
	want := 400
	for !f.c.AUs[want%len(f.c.AUs)].Key {
		want++
	}
	if brk != want {
		t.Fatalf("re-anchored at event %d, want %d", brk, want)
	}
	after := ev[brk+1].frame
	if !after.Key || after.Wall != media.Time90k(t0.Add(time.Duration(want)*50*time.Millisecond)) {
		t.Fatalf("frame after the break: key %v wall %d; want a key frame at the server clock", after.Key, after.Wall)
	}
	frames := s.frames()
	for i := 1; i < len(frames); i++ {
		if frames[i].Wall <= frames[i-1].Wall {
			t.Fatalf("frame %d: Wall did not increase", i)
		}
	}
}

// A recorder starved of CPU reads three seconds of a camera's frames late,
// all at once: the camera sent them on time, so they keep the camera's own
// timing (RTP) and the run goes on, with no Break and no hole in Wall.
// (Re-anchoring on the late key frame put a 1–3 s hole in playback and
// shifted every frame after it.)
func TestStarvedRecorderKeepsCameraTiming(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			f.step = 40 * time.Millisecond // on time: 25 fps, the clip's rate
			for range 3 {
				f.feed(100)
				// Starved: nothing is read for 3 s, then the 75 frames of
				// those 3 s are read in one burst.
				late := f.now
				f.now, f.step = late.Add(3*time.Second), 0
				f.feed(75)
				f.step = 40 * time.Millisecond
				f.now = f.now.Add(f.step)
			}
			f.feed(100)
			if brks := s.breaks(); len(brks) != 0 {
				t.Fatalf("breaks %q; a backlog read late is not a discontinuity", brks)
			}
			frames := s.frames()
			if len(frames) != f.i {
				t.Fatalf("%d frames handed over, want %d", len(frames), f.i)
			}
			checkFrames(t, f, frames, 0)
			if frames[0].Wall != media.Time90k(t0) {
				t.Fatalf("first frame at %d, want the server clock %d", frames[0].Wall, media.Time90k(t0))
			}
		})
	}
}

// Wall never moves backwards: when the camera's clock runs fast, Wall runs
// ahead of the server clock, and this is reported rather than re-anchored.
func TestWallAheadIsReportedNotReversed(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{Reanchor: time.Second})
	f := newFeeder(t, media.CodecH264, p)
	f.step = 30 * time.Millisecond
	f.feed(150)
	if len(s.breaks()) != 0 {
		t.Fatalf("breaks %v; re-anchoring cannot help a Wall that is ahead", s.breaks())
	}
	checkFrames(t, f, s.frames(), 0)
	if ahead := p.Mapping().WallAhead; ahead < 1400*time.Millisecond {
		t.Fatalf("WallAhead = %v, want about 1.49 s", ahead)
	}
}

func TestReconnectKeepsWallIncreasing(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(10)
	last := s.frames()[9].Wall
	// The server clock steps back (NTP correction) while reconnecting.
	if err := p.Start(Track{Codec: media.CodecH264, PacketizationMode: 1}); err != nil {
		t.Fatal(err)
	}
	f.now = t0.Add(-time.Minute)
	f.i, f.ts0 = 0, 12345
	f.feed(5)
	frames := s.frames()
	if got := s.breaks(); len(got) != 1 || got[0] != "reconnect" {
		t.Fatalf("breaks %v, want [reconnect]", got)
	}
	if frames[10].Wall != last+clip.FrameDuration {
		t.Fatalf("Wall after reconnect = %d, want last Wall + last duration = %d", frames[10].Wall, last+clip.FrameDuration)
	}
}

func TestSenderReportMapping(t *testing.T) {
	p, _ := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	ntp := func(tm time.Time) uint64 {
		s := uint64(tm.Unix() + 2208988800)
		return s<<32 | uint64(tm.Nanosecond())<<32/1e9
	}
	cam := t0.Add(2 * time.Second) // camera clock 2 s ahead
	p.SenderReport(&rtcp.SenderReport{NTPTime: ntp(cam), RTPTime: 1000}, t0)
	m := p.Mapping()
	if d := m.Offset - 2*time.Second; d < -time.Millisecond || d > time.Millisecond {
		t.Fatalf("Offset = %v, want 2s", m.Offset)
	}
	// 100 s later on the server: camera wall clock +100.01 s (100 ppm fast),
	// RTP +99.99 s (100 ppm slow).
	p.SenderReport(&rtcp.SenderReport{
		NTPTime: ntp(cam.Add(100*time.Second + 10*time.Millisecond)),
		RTPTime: 1000 + uint32(99.99*media.Hz),
	}, t0.Add(100*time.Second))
	m = p.Mapping()
	if m.CameraDriftPPM < 99 || m.CameraDriftPPM > 101 || m.RTPDriftPPM > -99 || m.RTPDriftPPM < -101 {
		t.Fatalf("drift camera %.1f ppm, rtp %.1f ppm; want +100 and -100", m.CameraDriftPPM, m.RTPDriftPPM)
	}
}

// heapGrowth runs fn and reports how much the live heap grew.
func heapGrowth(fn func()) int64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	fn()
	runtime.GC()
	runtime.ReadMemStats(&b)
	return int64(b.HeapAlloc) - int64(a.HeapAlloc)
}

func TestEndlessFUA(t *testing.T) {
	for _, sameTS := range []bool{true, false} {
		p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{MaxAccessUnit: 1 << 20})
		f := newFeeder(t, media.CodecH264, p)
		f.feed(5)
		frag := make([]byte, 1400)
		frag[0] = 28 | 0x60 // FU-A, nri 3
		var tooLarge int
		var peak int64
		var base runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&base)
		ts := f.ts(f.i)
		for i := range 100_000 { // 140 MB
			frag[1] = 5 // IDR, no start, no end
			if i == 0 {
				frag[1] |= 0x80
			}
			if !sameTS {
				ts++
			}
			err := p.Packet(f.pk.single(frag, ts, false), f.now)
			if errs.Is(err, errs.TooLarge) {
				tooLarge++
			}
			if i%20000 == 0 {
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				peak = max(peak, int64(m.HeapAlloc)-int64(base.HeapAlloc))
			}
		}
		if tooLarge == 0 {
			t.Fatalf("sameTS %v: no TooLarge error for an endless FU-A", sameTS)
		}
		if peak > 32<<20 {
			t.Fatalf("sameTS %v: heap grew %d MiB", sameTS, peak>>20)
		}
		// The stream recovers at the next key frame.
		f.i = 25
		f.feed(5)
		frames := s.frames()
		if len(frames) != 10 || !frames[5].Key {
			t.Fatalf("sameTS %v: %d frames; want 5 before and 5 after recovery starting with a key frame", sameTS, len(frames))
		}
		if got := s.breaks(); len(got) != 1 || got[0] != "access unit too large" {
			t.Fatalf("sameTS %v: breaks %v", sameTS, got)
		}
	}
}

// An access unit of hundreds of megabytes (NAL units of 1 MB, each in
// FU-A fragments) is discarded with a clear error and memory stays bounded.
func TestHugeAccessUnit(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(25)
	frag := make([]byte, 1400)
	frag[0] = 28 | 0x40 // FU-A
	const perNAL = 750  // about 1 MB per NAL unit
	var first error
	grow := heapGrowth(func() {
		ts := f.ts(f.i)
		for i := range 300 << 20 / 1400 { // 300 MB
			frag[1] = 1 // non-IDR slice
			switch i % perNAL {
			case 0:
				frag[1] |= 0x80
			case perNAL - 1:
				frag[1] |= 0x40
			}
			if err := p.Packet(f.pk.single(frag, ts, false), f.now); err != nil && first == nil {
				first = err
			}
		}
	})
	if !errs.Is(first, errs.TooLarge) || !strings.Contains(first.Error(), "exceeds 8388608 bytes") {
		t.Fatalf("want a TooLarge error naming the limit, got %v", first)
	}
	if grow > 16<<20 {
		t.Fatalf("heap grew by %d MiB", grow>>20)
	}
	f.i = 50
	f.feed(3)
	if n := len(s.frames()); n != 28 {
		t.Fatalf("%d frames, want 25 + 3 after recovery", n)
	}
}

// Garbage must never crash the pipeline nor reach the sink as a frame; a
// valid stream afterwards is recorded.
func TestGarbage(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{MaxAccessUnit: 64 << 10})
			f := newFeeder(t, codec, p)
			r := rand.New(rand.NewSource(1))
			// Zero-length, forbidden-bit and random packets.
			for i := range 20_000 {
				var payload []byte
				switch i % 4 {
				case 0:
				case 1:
					payload = []byte{0x80 | byte(r.Intn(128)), 1, 2, 3}
				default:
					payload = make([]byte, r.Intn(1500))
					r.Read(payload)
				}
				p.Packet(f.pk.single(payload, uint32(r.Intn(4)*3600), r.Intn(3) == 0), f.now)
			}
			before := len(s.frames())
			for _, fr := range s.frames() {
				if fr.Params == nil || !fr.Params.Complete() {
					t.Fatal("garbage produced a frame without complete params")
				}
			}
			f.i = 0
			f.ts0 = 1 << 20
			f.feed(30)
			frames := s.frames()[before:]
			if len(frames) != 30 || !frames[0].Key {
				t.Fatalf("%d frames after garbage, want 30 starting with a key frame", len(frames))
			}
			checkFrames(t, f, frames, 0)
		})
	}
}

func TestGarbageNALInAccessUnit(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(5)
	bad := append([][]byte{{0xff, 0x01}}, f.au(5)...)
	var got error
	for _, k := range f.pk.packets(t, bad, f.ts(5)) {
		if err := p.Packet(k, f.now); err != nil {
			got = err
		}
	}
	if !errs.Is(got, errs.Invalid) || !strings.Contains(got.Error(), "invalid NAL unit") {
		t.Fatalf("want an Invalid error naming the NAL unit, got %v", got)
	}
	if n := len(s.frames()); n != 5 {
		t.Fatalf("%d frames; the broken access unit must not be handed over", n)
	}
}

func TestSinkErrorBreaks(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(3)
	s.err = errs.E("store.WriteFrame", errs.IO, "disk full")
	f.feed(1)
	s.err = nil
	f.feed(30)
	if len(f.errs) != 1 || !errs.Is(f.errs[0], errs.IO) {
		t.Fatalf("errors %v, want the sink's IO error once", f.errs)
	}
	ev := s.snapshot()
	if ev[4].brk != "sink error" || !ev[5].frame.Key {
		t.Fatal("after a sink error: want a Break, then a key frame")
	}
}

// BenchmarkPacketsToFrames measures the pipeline alone, with a sink that
// keeps frames ("kept") and with one that copies them and gives their
// memory back, as the recorder's store writer does through the supervisor
// ("reused").
func BenchmarkPacketsToFrames(b *testing.B) {
	for _, codec := range codecs {
		b.Run(codec.String()+"/kept", func(b *testing.B) { benchPacketsToFrames(b, codec, false) })
		b.Run(codec.String()+"/reused", func(b *testing.B) { benchPacketsToFrames(b, codec, true) })
	}
}

func benchPacketsToFrames(b *testing.B, codec media.Codec, reuse bool) {
	{
		{
			c := loadClip(b, codec)
			pk := newPacketizer(b, codec)
			var pkts []*rtp.Packet
			var tss []uint32 // each packet's timestamp in the clip
			var bytes int
			for i, au := range c.AUs {
				for _, k := range pk.packets(b, au.NALUs, uint32(i*clip.FrameDuration)) {
					pkts = append(pkts, k)
					tss = append(tss, k.Timestamp)
					bytes += len(k.Payload)
				}
			}
			var sink Sink = discard{}
			if reuse {
				sink = releasing{}
			}
			p := NewPipeline(sink, PipelineOptions{})
			p.pooled = reuse
			if err := p.Start(Track{Codec: codec, PacketizationMode: 1}); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(bytes))
			b.ReportAllocs()
			now := t0
			loop := uint32(0)
			b.ResetTimer()
			for b.Loop() {
				for j, k := range pkts {
					// Continue sequence and time across loops of the clip
					// (both wrap, as a camera's do).
					k.SequenceNumber = uint16(j + int(loop)*len(pkts))
					k.Timestamp = tss[j] + loop*uint32(c.Duration)
					if err := p.Packet(k, now); err != nil {
						b.Fatal(err)
					}
				}
				loop++
				now = now.Add(10 * time.Second)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10, "ns/stream-second")
		}
	}
}

// releasing gives each frame's memory back at once, as the supervisor
// does after a copying sink has written it.
type releasing struct{}

func (releasing) WriteFrame(f *media.Frame) error { putFrameBuf(f.Data); return nil }
func (releasing) Break(string)                    {}

type discard struct{}

func (discard) WriteFrame(*media.Frame) error { return nil }
func (discard) Break(string)                  {}

// Some cameras never set the RTP marker bit: an access unit then ends when
// the timestamp changes.
func TestNoMarkerBit(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			for i := range 30 {
				for _, k := range f.pk.packets(t, f.au(i), f.ts(i)) {
					k.Marker = false
					if err := p.Packet(k, f.now); err != nil {
						t.Fatal(err)
					}
				}
				f.now = f.now.Add(f.step)
			}
			f.i = 30
			frames := s.frames()
			if len(frames) != 29 { // the last one waits for the next timestamp
				t.Fatalf("%d frames, want 29", len(frames))
			}
			checkFrames(t, f, frames, 0)
		})
	}
}

// A camera that stalls and resumes with its clock advanced (the
// connection stayed open) leaves a gap: ingest breaks the run instead of
// storing one frame that lasts the whole stall, so the index and
// monitoring see the gap.
func TestStallWithAdvancedClockBreaks(t *testing.T) {
	p, s := newTestPipeline(t, media.CodecH264, nil, PipelineOptions{})
	f := newFeeder(t, media.CodecH264, p)
	f.feed(30)
	before := len(s.frames())
	// Three seconds without a packet; the camera's clock runs on.
	f.i += 75
	f.now = f.now.Add(75 * f.step)
	f.feed(50)
	brks := s.breaks()
	if len(brks) != 1 || !strings.Contains(brks[0], "RTP timestamp jump") {
		t.Fatalf("breaks %q, want one RTP timestamp jump", brks)
	}
	frames := s.frames()
	last, next := frames[before-1], frames[before]
	if !next.Key {
		t.Error("the run after the stall does not start at a key frame")
	}
	if gap := next.Wall - last.Wall; gap < 3*media.Hz {
		t.Errorf("the frame after the stall is %v after the last one, want at least the 3 s stall", media.Duration90k(gap))
	}
}

// After a large access unit the depacketizer gives its buffer back to the
// frame pools, so an idle camera does not pin a key frame's worth of
// memory. That must be invisible: every frame is handed over intact, and a
// unit whose first fragment is missing right after a key frame is a broken
// unit (Break, wait for a key frame), never a frame with a NAL unit left
// out.
func TestBufferReleasedAfterLargeUnit(t *testing.T) {
	for _, codec := range codecs {
		t.Run(codec.String(), func(t *testing.T) {
			p, s := newTestPipeline(t, codec, nil, PipelineOptions{})
			f := newFeeder(t, codec, p)
			var big int
			for i := range 60 {
				size := 0
				for _, n := range f.au(i) {
					size += len(n)
				}
				if size >= releaseBytes {
					big++
				}
			}
			if big == 0 {
				t.Fatalf("no access unit of the clip reaches %d bytes: the test exercises nothing", releaseBytes)
			}
			f.feed(60)
			if len(f.errs) != 0 {
				t.Fatal(f.errs)
			}
			checkFrames(t, f, s.frames(), 0)
			if len(s.breaks()) != 0 {
				t.Fatalf("breaks %v", s.breaks())
			}

			// The unit after a key frame follows a release: clear the start
			// bit of its first fragment.
			for f.i%25 != 0 {
				f.feed(1)
			}
			f.feed(1)
			if c := cap(p.dp.buf); c > releaseBytes {
				t.Fatalf("the depacketizer keeps a buffer of %d bytes after a key frame, want at most %d", c, releaseBytes)
			}
			before := len(s.frames())
			// Only its slices, so the unit starts with the fragment.
			var slices [][]byte
			for _, n := range f.au(f.i) {
				if k := classify(codec, n); k == kindVCL || k == kindKey {
					slices = append(slices, n)
				}
			}
			pkts := f.pk.packets(t, slices, f.ts(f.i))
			var hit bool
			for _, k := range pkts {
				if fu := fragmentStart(codec, k.Payload); fu >= 0 && !hit {
					k.Payload = append([]byte(nil), k.Payload...)
					k.Payload[fu] &^= 0x80
					hit = true
				}
				p.Packet(k, f.now)
			}
			if !hit {
				t.Fatal("the key frame has no fragmented NAL unit")
			}
			f.i++
			f.now = f.now.Add(f.step)
			f.feed(5)
			if got := len(s.frames()); got != before {
				t.Fatalf("%d frames handed over after a unit missing its first fragment; want none until the next key frame", got-before)
			}
			if b := s.breaks(); len(b) != 1 || b[0] != "invalid RTP payload" {
				t.Fatalf("breaks %q, want one for the invalid RTP payload", b)
			}
		})
	}
}

// fragmentStart returns the index of the FU header byte of an FU-A (H.264)
// or FU (H.265) packet that starts a NAL unit, or -1.
func fragmentStart(codec media.Codec, payload []byte) int {
	if codec == media.CodecH264 {
		if len(payload) > 1 && payload[0]&0x1f == 28 && payload[1]&0x80 != 0 {
			return 1
		}
		return -1
	}
	if len(payload) > 2 && (payload[0]>>1)&0x3f == 49 && payload[2]&0x80 != 0 {
		return 2
	}
	return -1
}
