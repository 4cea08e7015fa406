package camsim

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/media"
)

// BenchmarkScheduler measures the simulator's own work per camera-second
// with no one watching: pacing, timestamps, sequence numbers. One op is one
// frame of every camera; ns/cam-s is the figure that matters.
func BenchmarkScheduler(b *testing.B) {
	const cams = 200
	s := startSimB(b, Config{Cameras: cams, Codecs: []media.Codec{media.CodecH264, media.CodecH265}})
	b.ResetTimer()
	for range b.N {
		s.clk.Advance(frameDur)
		<-s.wait
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/cams*25, "ns/cam-s")
}

// BenchmarkStreamTCP measures the whole process's CPU time per camera-second
// of real-time streaming to TCP-interleaved readers that discard what they
// get (so nearly all of it is the server: gortsplib's marshalling, its
// per-session write queue and one write system call per packet). One op is
// one camera-second; cpu-ms/cam-s is the figure that matters.
func BenchmarkStreamTCP(b *testing.B) {
	for _, cams := range []int{16, 64} {
		b.Run(strconv.Itoa(cams), func(b *testing.B) {
			s, err := Start(Config{Addr: "127.0.0.1:0", Cameras: cams, Stagger: frameDur / time.Duration(cams)})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			for n := 1; n <= cams; n++ {
				conn := rawPlay(b, s.Addr(), n)
				defer conn.Close()
				go io.Copy(io.Discard, conn)
			}
			// Let every camera get going before measuring.
			<-time.After(200 * time.Millisecond)
			b.ResetTimer()
			cpu0 := cpuTime()
			<-time.After(time.Duration(b.N) * time.Second / time.Duration(cams))
			cpu := cpuTime() - cpu0
			b.ReportMetric(float64(cpu.Microseconds())/1000/(float64(b.N)), "cpu-ms/cam-s")
		})
	}
}

func startSimB(b *testing.B, cfg Config) *sim {
	wait := make(chan struct{}, 1)
	cfg.Addr = "127.0.0.1:0"
	fake := clock.NewFake(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	cfg.Clock = fake
	s, err := start(cfg, func() {
		select {
		case wait <- struct{}{}:
		default:
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	<-wait
	return &sim{Server: s, clk: fake, wait: wait}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rawPlay sets up camera n over TCP interleaved with bare RTSP requests, so
// that reading costs next to nothing, and returns the connection carrying
// the interleaved RTP.
func rawPlay(b *testing.B, addr string, n int) net.Conn {
	b.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	br := bufio.NewReader(conn)
	url := fmt.Sprintf("rtsp://%s/cam/%d", addr, n)
	session := ""
	for i, req := range []string{
		"DESCRIBE " + url + " RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n",
		"SETUP " + url + "/trackID=0 RTSP/1.0\r\nCSeq: 2\r\nTransport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n",
		"PLAY " + url + " RTSP/1.0\r\nCSeq: 3\r\n",
	} {
		if session != "" {
			req += "Session: " + session + "\r\n"
		}
		if _, err := io.WriteString(conn, req+"\r\n"); err != nil {
			b.Fatal(err)
		}
		status, err := br.ReadString('\n')
		if err != nil || !strings.Contains(status, " 200 ") {
			b.Fatalf("request %d: %q %v", i, status, err)
		}
		length := 0
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				b.Fatal(err)
			}
			line = strings.TrimSpace(line)
			if line == "" {
				break
			}
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimSpace(v)
			switch strings.ToLower(k) {
			case "content-length":
				length, _ = strconv.Atoi(v)
			case "session":
				session, _, _ = strings.Cut(v, ";")
			}
		}
		if _, err := br.Discard(length); err != nil {
			b.Fatal(err)
		}
	}
	return conn
}
