package store

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
)

// camFeed drives an ingest pipeline writing into a store's writer, the way
// a recorder does, with single-NAL-unit RTP packets on a simulated server
// clock: what ingest and the store make of a stream together.
type camFeed struct {
	t    testing.TB
	c    *clip.Clip
	p    *ingest.Pipeline
	seq  uint16
	ts   uint32
	now  time.Time
	next int // clip access unit
}

func newCamFeed(t testing.TB, w *Writer, codec media.Codec) *camFeed {
	c, err := clip.Load(codec)
	if err != nil {
		t.Fatal(err)
	}
	f := &camFeed{t: t, c: c, p: ingest.NewPipeline(w, ingest.PipelineOptions{}), ts: 1000,
		now: media.FromTime90k(t0)}
	f.start()
	return f
}

func (f *camFeed) start() {
	if err := f.p.Start(ingest.Track{Codec: f.c.Codec, Params: f.c.Params, PacketizationMode: 1}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *camFeed) packet(payload []byte, marker bool) {
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: f.seq, Timestamp: f.ts,
		SSRC: 1, Marker: marker}, Payload: payload}
	f.seq++
	f.p.Packet(pkt, f.now) // errors are the pipeline's own recoveries
}

// frame sends the clip's next access unit (from index i if i >= 0), one
// packet per NAL unit, then advances the RTP clock by step and the server
// clock by adv.
func (f *camFeed) frame(i int, step uint32, adv time.Duration) {
	if i >= 0 {
		f.next = i
	}
	au := f.c.AUs[f.next%len(f.c.AUs)]
	f.next++
	for j, n := range au.NALUs {
		f.packet(n, j == len(au.NALUs)-1)
	}
	f.ts += step
	f.now = f.now.Add(adv)
}

// firstKey is the index of the clip's first key frame at or after i.
func (f *camFeed) firstKey(i int) int {
	for !f.c.AUs[i%len(f.c.AUs)].Key {
		i++
	}
	return i
}

func checkBackendClean(t testing.TB, s *Store, idx Index, files Files) {
	t.Helper()
	rep := &CheckReport{}
	if err := checkBackend(context.Background(), rep, idx, files, testKeys, false); err != nil {
		t.Fatal(err)
	}
	for _, v := range rep.Violations {
		t.Errorf("check: %v", v)
	}
}

// A lone key frame ended by a discontinuity, followed at once by the next
// run: ingest anchored that run 1/90000 s after the lone frame, the store
// gave the lone frame 1/30 s, and `gwanje check` failed with "invariant 8:
// segment N starts before segment N-1 ends". Both now take the lone
// frame's end from media.LastFrameDuration.
func TestLoneFrameBeforeBreak(t *testing.T) {
	e := newEnv(t)
	s := e.open()
	w, _ := s.Writer("cam")
	f := newCamFeed(t, w, media.CodecH264)
	k := f.firstKey(0)
	f.frame(k, clip.FrameDuration, 5*time.Millisecond) // a lone key frame...
	f.packet([]byte{0x80, 1, 2, 3}, true)              // ...then garbage (forbidden bit): a Break
	f.ts += clip.FrameDuration
	k2 := f.firstKey(k + 1)
	for i := range 30 { // the next run starts 5 ms later on the server clock
		f.frame(k2+i, clip.FrameDuration, 40*time.Millisecond)
	}
	f.p.Stop("done")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := s.Segments(context.Background(), "cam", 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 2 || segs[0].End-segs[0].Start != media.NominalDuration || segs[1].Start != segs[0].End {
		t.Fatalf("segments %+v; want a lone frame of %d ticks and the next run right after it", segs, media.NominalDuration)
	}
	s.Close()
	e.check(true)
}

// FuzzIngestIntoStore feeds a camera's RTP stream with the fuzzer's packets
// mixed in (random payloads, lost packets, timestamp steps, reconnects)
// through ingest into a store, and runs the store's check on the result:
// whatever a camera sends, the index must keep its invariants.
//
// Each input is a list of operations: one byte of kind, then its operands.
func FuzzIngestIntoStore(f *testing.F) {
	f.Add([]byte{0, 0, 5, 1, 4, 0x80, 1, 2, 3, 0, 1, 40, 0, 1, 40, 0, 1, 40})
	f.Add([]byte{0, 1, 40, 0, 1, 40, 2, 0, 1, 40, 1, 3, 0x65, 9, 9, 0, 1, 40, 3, 0, 0, 1})
	f.Add([]byte{0, 1, 40, 4, 255, 0, 1, 40, 0, 0, 0, 5, 0, 1, 40})
	f.Add([]byte{1, 5, 0x65, 0x88, 0x84, 0, 1, 1, 5, 0x41, 0x9a, 0, 0, 1, 0, 1, 40})
	f.Fuzz(func(t *testing.T, in []byte) {
		dir := t.TempDir()
		idx := NewMemIndex()
		disk, err := NewDisk(dir + "/segments")
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), Config{Dir: dir, Keys: testKeys, Index: idx, Files: disk,
			SegmentDuration: 2 * time.Second, ChunkDuration: 500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		w, _ := s.Writer("cam")
		cf := newCamFeed(t, w, media.CodecH264)
		byteAt := func(i int) int {
			if i < len(in) {
				return int(in[i])
			}
			return 0
		}
		for i, ops := 0, 0; i < len(in) && ops < 400; ops++ {
			op := in[i] % 5
			i++
			switch op {
			case 0: // the clip's next frame; RTP step and server time in ms
				step, adv := byteAt(i), byteAt(i+1)
				i += 2
				cf.frame(-1, uint32(step)*90, time.Duration(adv)*time.Millisecond)
			case 1: // a packet of random payload, with the marker bit
				n := min(byteAt(i), len(in)-i-1)
				i++
				if n > 0 {
					cf.packet(in[i:i+n], true)
				}
				i += max(n, 0)
			case 2: // packets lost
				cf.seq += uint16(byteAt(i)%8 + 1)
				i++
			case 3: // reconnect
				cf.start()
				cf.ts += uint32(byteAt(i)) * 900
				i++
			case 4: // the RTP clock jumps (a camera restarting its clock)
				cf.ts += uint32(binary.BigEndian.Uint16([]byte{byte(byteAt(i)), byte(byteAt(i + 1))})) * 90
				i += 2
			}
		}
		cf.p.Stop("done")
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		s.Close()
		checkBackendClean(t, s, idx, disk)
	})
}
