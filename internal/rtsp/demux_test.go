package rtsp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/pion/rtp"
)

// recorder turns a Demuxer's callbacks into comparable lines.
type recorder struct {
	lines []string
}

func (r *recorder) demuxer(rtpCh, rtcpCh int) *Demuxer {
	return &Demuxer{
		RTPChannel:  rtpCh,
		RTCPChannel: rtcpCh,
		OnRTP: func(p *rtp.Packet) {
			r.lines = append(r.lines, fmt.Sprintf("rtp pt=%d seq=%d ts=%d ssrc=%x m=%v csrc=%v ext=%d payload=%x",
				p.PayloadType, p.SequenceNumber, p.Timestamp, p.SSRC, p.Marker, p.CSRC, len(p.Extensions), p.Payload))
		},
		OnRTCP: func(b []byte) { r.lines = append(r.lines, fmt.Sprintf("rtcp %x", b)) },
		OnResponse: func(res *base.Response) {
			r.lines = append(r.lines, fmt.Sprintf("res %d %v body=%q", res.StatusCode, res.Header["CSeq"], res.Body))
		},
		OnRequest: func(req *base.Request) {
			r.lines = append(r.lines, fmt.Sprintf("req %s %v %v body=%q", req.Method, req.URL, req.Header["CSeq"], req.Body))
		},
		OnBadPacket: func(err error) { r.lines = append(r.lines, "bad "+err.Error()) },
	}
}

func frame(t testing.TB, ch int, payload []byte) []byte {
	t.Helper()
	b, err := base.InterleavedFrame{Channel: ch, Payload: payload}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rtpFrame(t testing.TB, ch int, p *rtp.Packet) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return frame(t, ch, b)
}

func testPacket(seq uint16, ts uint32, n int) *rtp.Packet {
	payload := make([]byte, n)
	for i := range payload {
		payload[i] = byte(int(seq) + i)
	}
	return &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: 0xdecafbad, Marker: seq%3 == 0},
		Payload: payload,
	}
}

// mixedStream is RTP, RTCP, other channels, a response with a body, a
// server request and a frame that is not RTP.
func mixedStream(t testing.TB) []byte {
	var s []byte
	s = append(s, rtpFrame(t, 2, testPacket(65534, 90000, 17))...)
	s = append(s, rtpFrame(t, 2, testPacket(65535, 93600, 1))...)
	withCSRC := testPacket(0, 97200, 5)
	withCSRC.CSRC = []uint32{1, 2}
	s = append(s, rtpFrame(t, 2, withCSRC)...)
	s = append(s, frame(t, 3, []byte{0x80, 0xc8, 0x00, 0x06, 1, 2, 3, 4})...)
	s = append(s, frame(t, 7, []byte("other channel"))...)
	s = append(s, "RTSP/1.0 200 OK\r\nCSeq: 5\r\nContent-Type: text/parameters\r\nContent-Length: 12\r\n\r\nvolume: 0.5\n"...)
	s = append(s, rtpFrame(t, 2, testPacket(1, 100800, 300))...)
	s = append(s, "OPTIONS rtsp://cam/ RTSP/1.0\r\nCSeq: 9\r\n\r\n"...)
	s = append(s, frame(t, 2, []byte{1, 2, 3})...) // too short for RTP
	s = append(s, frame(t, 2, nil)...)
	s = append(s, "RTSP/1.0 200 OK\r\nCSeq: 6\r\n\r\n"...)
	s = append(s, rtpFrame(t, 2, testPacket(2, 104400, 0))...)
	return s
}

func TestDemuxerSplitsGiveSameCallbacks(t *testing.T) {
	s := mixedStream(t)
	var whole recorder
	if err := whole.demuxer(2, 3).Feed(s); err != nil {
		t.Fatal(err)
	}
	if len(whole.lines) != 11 {
		t.Fatalf("whole stream gave %d callbacks, want 11:\n%s", len(whole.lines), strings.Join(whole.lines, "\n"))
	}
	for _, want := range []string{"rtp pt=96 seq=65534 ts=90000", "rtcp 80c80006", "res 200 [5] body=\"volume: 0.5\\n\"",
		"req OPTIONS rtsp://cam/ [9]", "bad rtsp: RTP frame of 3 bytes", "csrc=[1 2]", "res 200 [6]"} {
		if !strings.Contains(strings.Join(whole.lines, "\n"), want) {
			t.Errorf("callbacks lack %q:\n%s", want, strings.Join(whole.lines, "\n"))
		}
	}
	for i := 0; i <= len(s); i++ {
		var r recorder
		d := r.demuxer(2, 3)
		if err := d.Feed(s[:i]); err != nil {
			t.Fatalf("split at %d: first part: %v", i, err)
		}
		if err := d.Feed(s[i:]); err != nil {
			t.Fatalf("split at %d: second part: %v", i, err)
		}
		if got, want := strings.Join(r.lines, "\n"), strings.Join(whole.lines, "\n"); got != want {
			t.Fatalf("split at %d:\n%s\nwant\n%s", i, got, want)
		}
		if len(d.carry) != 0 {
			t.Fatalf("split at %d: %d bytes still carried after a complete stream", i, len(d.carry))
		}
	}
	var r recorder
	d := r.demuxer(2, 3)
	for i := range s {
		if err := d.Feed(s[i : i+1]); err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
	}
	if got, want := strings.Join(r.lines, "\n"), strings.Join(whole.lines, "\n"); got != want {
		t.Fatalf("byte by byte:\n%s\nwant\n%s", got, want)
	}
}

func TestDemuxerBadByteNamesOffset(t *testing.T) {
	good := rtpFrame(t, 0, testPacket(1, 2, 10))
	var r recorder
	d := r.demuxer(0, 1)
	if err := d.Feed(good[:5]); err != nil {
		t.Fatal(err)
	}
	rest := append(append([]byte(nil), good[5:]...), 0x17, '$')
	err := d.Feed(rest)
	if err == nil {
		t.Fatal("a stream byte 0x17 was accepted")
	}
	if want := fmt.Sprintf("byte 0x17 at stream offset %d", len(good)); !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if len(r.lines) != 1 {
		t.Fatalf("the frame before the bad byte gave %d callbacks, want 1", len(r.lines))
	}
	if err2 := d.Feed(good); err2 == nil || len(r.lines) != 1 {
		t.Fatalf("Feed after an error: %v, %d callbacks; want the same error and no callbacks", err2, len(r.lines))
	}

	var r2 recorder
	if err := r2.demuxer(0, 1).Feed([]byte("rtsp/1.0 200 OK\r\n\r\n")); err == nil || !strings.Contains(err.Error(), "byte 0x72 at stream offset 0") {
		t.Fatalf("lower-case start: %v", err)
	}
}

func TestDemuxerLimits(t *testing.T) {
	t.Run("header over 64 KiB", func(t *testing.T) {
		var r recorder
		d := r.demuxer(0, 1)
		msg := append([]byte("OPTIONS * RTSP/1.0\r\nX-Long: "), bytes.Repeat([]byte{'a'}, maxHeader)...)
		var err error
		for i := 0; i < len(msg) && err == nil; i += 1000 {
			err = d.Feed(msg[i:min(i+1000, len(msg))])
		}
		if err == nil || !strings.Contains(err.Error(), "header over 65536 bytes") || !strings.Contains(err.Error(), "offset 0") {
			t.Fatalf("got %v, want a header-too-long error at offset 0", err)
		}
		var r2 recorder
		if err := r2.demuxer(0, 1).Feed(msg); err == nil || !strings.Contains(err.Error(), "header over") {
			t.Fatalf("in one piece: got %v", err)
		}
	})
	t.Run("bad Content-Length", func(t *testing.T) {
		for _, cl := range []string{"x", "-1", "200000"} {
			var r recorder
			err := r.demuxer(0, 1).Feed([]byte("RTSP/1.0 200 OK\r\nContent-Length: " + cl + "\r\n\r\n"))
			if err == nil || !strings.Contains(err.Error(), "Content-Length") {
				t.Errorf("Content-Length %s: got %v", cl, err)
			}
		}
	})
	t.Run("framed but malformed message is skipped", func(t *testing.T) {
		var r recorder
		d := r.demuxer(0, 1)
		s := append([]byte("RTSP/1.0 abc OK\r\nCSeq: 1\r\n\r\n"), rtpFrame(t, 0, testPacket(7, 8, 9))...)
		if err := d.Feed(s); err != nil {
			t.Fatal(err)
		}
		if len(r.lines) != 2 || !strings.HasPrefix(r.lines[0], "bad rtsp: RTSP message at stream offset 0") || !strings.HasPrefix(r.lines[1], "rtp") {
			t.Fatalf("callbacks:\n%s", strings.Join(r.lines, "\n"))
		}
	})
}

func TestDemuxerCarryBuffer(t *testing.T) {
	var r recorder
	d := r.demuxer(0, 1)
	big := rtpFrame(t, 0, testPacket(1, 1, 20000))
	small := rtpFrame(t, 0, testPacket(2, 2, 1000))
	if err := d.Feed(big[:100]); err != nil {
		t.Fatal(err)
	}
	if cap(d.carry) != len(big) {
		t.Fatalf("carry capacity %d for an item of %d bytes", cap(d.carry), len(big))
	}
	if err := d.Feed(big[100:]); err != nil {
		t.Fatal(err)
	}
	if d.carry != nil {
		t.Fatalf("a %d-byte carry buffer was kept after it emptied", cap(d.carry))
	}
	if err := d.Feed(small[:2]); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed(small[2:500]); err != nil {
		t.Fatal(err)
	}
	kept := &d.carry[:1][0]
	if err := d.Feed(small[500:]); err != nil {
		t.Fatal(err)
	}
	if err := d.Feed(small[:600]); err != nil {
		t.Fatal(err)
	}
	if &d.carry[:1][0] != kept {
		t.Fatal("a small carry buffer was not reused")
	}
	if len(r.lines) != 2 {
		t.Fatalf("%d callbacks, want 2", len(r.lines))
	}
}

func TestDemuxerDoesNotAllocatePerPacket(t *testing.T) {
	var s []byte
	for i := range 50 {
		s = append(s, rtpFrame(t, 0, testPacket(uint16(i), uint32(i), 1400))...)
	}
	n := 0
	d := &Demuxer{RTPChannel: 0, RTCPChannel: 1, OnRTP: func(*rtp.Packet) { n++ }}
	allocs := testing.AllocsPerRun(20, func() {
		for i := 0; i < len(s); i += 4096 {
			if err := d.Feed(s[i:min(i+4096, len(s))]); err != nil {
				t.Fatal(err)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per %d packets, want 0", allocs, 50)
	}
	if n != 50*21 {
		t.Fatalf("%d packets, want %d", n, 50*21)
	}
}

func FuzzDemuxer(f *testing.F) {
	f.Add(mixedStream(f), uint64(1))
	f.Add([]byte("RTSP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc$\x00\x00\x00"), uint64(7))
	f.Add([]byte("$\x00\xff\xff"), uint64(3))
	f.Fuzz(func(t *testing.T, data []byte, seed uint64) {
		var whole recorder
		errWhole := whole.demuxer(0, 1).Feed(data)

		var split recorder
		d := split.demuxer(0, 1)
		var errSplit error
		for rest := data; len(rest) > 0 && errSplit == nil; {
			seed = seed*6364136223846793005 + 1442695040888963407
			n := min(int(seed>>33)%(len(rest)+1)+1, len(rest))
			errSplit = d.Feed(rest[:n])
			rest = rest[n:]
			if c := cap(d.carry); c > maxHeader+maxBody {
				t.Fatalf("carry buffer grew to %d bytes", c)
			}
		}
		if (errWhole == nil) != (errSplit == nil) || (errWhole != nil && errWhole.Error() != errSplit.Error()) {
			t.Fatalf("whole: %v, split: %v", errWhole, errSplit)
		}
		if got, want := strings.Join(split.lines, "\n"), strings.Join(whole.lines, "\n"); got != want {
			t.Fatalf("split:\n%s\nwhole:\n%s", got, want)
		}
	})
}

func BenchmarkDemuxer(b *testing.B) {
	var s []byte
	for i := range 1000 {
		s = append(s, rtpFrame(b, 0, testPacket(uint16(i), uint32(i)*3600, 1400-12))...)
	}
	var n int
	d := &Demuxer{RTPChannel: 0, RTCPChannel: 1, OnRTP: func(p *rtp.Packet) { n += len(p.Payload) }}
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		for i := 0; i < len(s); i += 64 << 10 {
			if err := d.Feed(s[i:min(i+64<<10, len(s))]); err != nil {
				b.Fatal(err)
			}
		}
	}
	if n == 0 {
		b.Fatal("no packets")
	}
}
