package rtsp

import (
	"errors"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/pion/rtp"
)

// After Detach the stream is read from the descriptor, Go's net.Conn is
// closed, keepalives still reach the server, and Close tears the session
// down and closes the descriptor.
func TestDetach(t *testing.T) {
	s := newGServer(t, "", "", auth.VerifyMethodBasic)
	c, rtpCh, rtcpCh := handshake(t, s.url(t, ""))
	if _, err := (&Conn{fd: -1, url: c.url}).Detach(); err == nil {
		t.Fatal("Detach before PLAY succeeded")
	}
	fd, err := c.Detach()
	if err != nil {
		t.Fatal(err)
	}
	if fd2, err := c.Detach(); err != nil || fd2 != fd {
		t.Fatalf("second Detach: %d, %v; want %d", fd2, err, fd)
	}
	if _, err := c.NetConn().Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("NetConn after Detach: %v, want it closed", err)
	}
	if err := c.Keepalive(); err != nil {
		t.Fatal(err)
	}
	s.waitRequest(t, "a keepalive", func(r *base.Request) bool {
		return r.Method == base.Options || r.Method == base.GetParameter
	})

	var got []uint16
	var answers int
	d := &Demuxer{RTPChannel: rtpCh, RTCPChannel: rtcpCh,
		OnRTP:      func(p *rtp.Packet) { got = append(got, p.SequenceNumber) },
		OnResponse: func(*base.Response) { answers++ }}
	if err := d.Feed(c.Buffered()); err != nil {
		t.Fatal(err)
	}
	sent := packets(10)
	for _, p := range sent {
		if err := s.stream.WritePacketRTP(s.stream.Desc.Medias[0], p); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, 64<<10)
	deadline := time.Now().Add(testTimeout)
	for len(got) < 10 || answers < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("read %d packets and %d answers from the descriptor", len(got), answers)
		}
		n, err := syscall.Read(fd, buf)
		if err == syscall.EAGAIN {
			time.Sleep(time.Millisecond) // a non-blocking descriptor: poll it
			continue
		}
		if err != nil || n == 0 {
			t.Fatalf("read: %d, %v", n, err)
		}
		if err := d.Feed(buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	for i, seq := range got {
		if seq != sent[i].SequenceNumber {
			t.Fatalf("packet %d: sequence %d, want %d", i, seq, sent[i].SequenceNumber)
		}
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	s.waitRequest(t, "TEARDOWN", func(r *base.Request) bool { return r.Method == base.Teardown })
	if _, err := syscall.Read(fd, buf); err != syscall.EBADF {
		// The number may have been reused by now in a busy process; in
		// this test nothing else opens files.
		t.Fatalf("read after Close: %v, want EBADF", err)
	}
	if err := c.Keepalive(); err == nil {
		t.Fatal("Keepalive after Close succeeded")
	}
}
