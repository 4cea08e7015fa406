package ingest

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection, the client end
// wrapped as ingest wraps a camera's.
func tcpPair(t *testing.T) (client net.Conn, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			close(accepted)
			return
		}
		accepted <- c
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, ok := <-accepted
	if !ok {
		t.Fatal("accept failed")
	}
	client = newReadConn(nc)
	if _, ok := client.(*readConn); !ok {
		t.Fatalf("a TCP connection was not wrapped: %T", client)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// Every byte arrives once and in order, whatever the sizes of the
// writes and of the reads, and the end of the stream is io.EOF.
func TestReadConnPassesEveryByte(t *testing.T) {
	client, server := tcpPair(t)
	rnd := rand.New(rand.NewPCG(1, 2))
	want := make([]byte, 3*readBufSize+12345)
	for i := range want {
		want[i] = byte(rnd.Uint32())
	}
	go func() {
		for b := want; len(b) > 0; {
			n := min(len(b), 1+rnd.IntN(20000))
			if _, err := server.Write(b[:n]); err != nil {
				return
			}
			b = b[n:]
		}
		server.Close()
	}()
	var got []byte
	p := make([]byte, 4096)
	for {
		n, err := client.Read(p[:1+len(got)%len(p)])
		got = append(got, p[:n]...)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written, in order", len(got), len(want))
	}
}

// A read waiting for a silent camera holds no shared buffer, and ends with
// an error when the connection is closed or its deadline passes.
func TestReadConnWaitingHoldsNoBuffer(t *testing.T) {
	client, server := tcpPair(t)
	rc := client.(*readConn)
	if _, err := server.Write([]byte("abc")); err != nil {
		t.Fatal(err)
	}
	p := make([]byte, 2)
	if n, err := client.Read(p); err != nil || string(p[:n]) != "ab" {
		t.Fatalf("read %q, %v", p[:n], err)
	}
	if rc.buf == nil {
		t.Fatal("no buffer held while one byte is still unread")
	}
	if n, err := client.Read(p); err != nil || string(p[:n]) != "c" {
		t.Fatalf("read %q, %v", p[:n], err)
	}
	if rc.buf != nil {
		t.Fatal("buffer still held with nothing left to read")
	}
	client.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := client.Read(p); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past the deadline: %v", err)
	}
	if rc.buf != nil {
		t.Fatal("buffer held after a read that found nothing")
	}
	client.SetReadDeadline(time.Time{})
	done := make(chan error, 1)
	go func() { _, err := client.Read(p); done <- err }()
	client.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("read on a closed connection returned no error")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a read waiting for data did not end when the connection closed")
	}
}
