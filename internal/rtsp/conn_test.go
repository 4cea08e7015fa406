package rtsp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

func TestPlayDeliversRTPAndRTCP(t *testing.T) {
	s := newGServer(t, "", "")
	c, rtpCh, rtcpCh := handshake(t, s.url(t, ""))
	if rtpCh != 0 || rtcpCh != 1 {
		t.Fatalf("channels %d-%d, want 0-1 for the first media", rtpCh, rtcpCh)
	}
	if got := c.KeepaliveInterval(); got != 27500*time.Millisecond {
		t.Fatalf("keepalive interval %v, want 27.5s (gortsplib answers timeout=55)", got)
	}

	sent := packets(20)
	for _, p := range sent {
		if err := s.stream.WritePacketRTP(s.media, p); err != nil {
			t.Fatal(err)
		}
	}
	sr := &rtcp.SenderReport{SSRC: 0xdecafbad, NTPTime: 1 << 40, RTPTime: 3600, PacketCount: 20, OctetCount: 4000}
	if err := s.stream.WritePacketRTCP(s.media, sr); err != nil {
		t.Fatal(err)
	}

	var got []rtp.Packet
	var reports []rtcp.Packet
	d := &Demuxer{
		RTPChannel:  rtpCh,
		RTCPChannel: rtcpCh,
		OnRTP: func(p *rtp.Packet) {
			k := *p
			k.Payload = append([]byte(nil), p.Payload...)
			got = append(got, k)
		},
		OnRTCP: func(b []byte) {
			ps, err := rtcp.Unmarshal(b)
			if err != nil {
				t.Errorf("RTCP: %v", err)
			}
			reports = append(reports, ps...)
		},
		OnBadPacket: func(err error) { t.Errorf("bad packet: %v", err) },
	}
	if err := pump(c, d, func() bool { return len(got) == len(sent) && len(reports) > 0 }); err != nil {
		t.Fatal(err)
	}
	for i, p := range sent {
		g := got[i]
		if g.SequenceNumber != p.SequenceNumber || g.Timestamp != p.Timestamp || g.PayloadType != 96 || !bytes.Equal(g.Payload, p.Payload) {
			t.Fatalf("packet %d: seq %d ts %d pt %d payload %d bytes; want seq %d ts %d pt 96 payload %d bytes",
				i, g.SequenceNumber, g.Timestamp, g.PayloadType, len(g.Payload), p.SequenceNumber, p.Timestamp, len(p.Payload))
		}
	}
	gotSR, ok := reports[0].(*rtcp.SenderReport)
	if !ok || gotSR.NTPTime != sr.NTPTime || gotSR.PacketCount != 20 {
		t.Fatalf("RTCP %#v, want the sender report sent", reports[0])
	}
}

func TestAuthentication(t *testing.T) {
	const pass = "pa55-Secret!"
	for _, tc := range []struct {
		name    string
		methods []auth.VerifyMethod
		scheme  string
	}{
		{"basic", []auth.VerifyMethod{auth.VerifyMethodBasic}, "Basic"},
		{"digest MD5", []auth.VerifyMethod{auth.VerifyMethodDigestMD5}, "Digest"},
		{"digest SHA-256", []auth.VerifyMethod{auth.VerifyMethodDigestSHA256}, "SHA-256"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newGServer(t, "admin", pass, tc.methods...)
			c, _, _ := handshake(t, s.url(t, "admin:"+pass))
			setup := s.waitRequest(t, "SETUP", func(r *base.Request) bool { return r.Method == base.Setup })
			if a := setup.Header["Authorization"]; len(a) != 1 || !strings.Contains(a[0], strings.Fields(tc.scheme)[0]) {
				t.Fatalf("SETUP's Authorization %q, want %s credentials without a new challenge", a, tc.scheme)
			}
			if strings.Contains(setup.URL.String(), pass) {
				t.Fatalf("SETUP URL %s carries the password", setup.URL)
			}
			c.Close()

			var errs []error
			for _, userinfo := range []string{"admin:wrong-" + pass, "", "admin"} {
				c, err := Dial(context.Background(), s.url(t, userinfo), testTimeout, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.Describe(context.Background())
				c.Close()
				var se *StatusError
				if !errors.As(err, &se) || se.Code != base.StatusUnauthorized || se.Method != base.Describe {
					t.Fatalf("userinfo %q: got %v, want a 401 StatusError for DESCRIBE", userinfo, err)
				}
				if err.Error() != "DESCRIBE: 401 Unauthorized" {
					t.Fatalf("error text %q", err)
				}
				errs = append(errs, err)
			}
			// Errors that carry URLs must not carry the password either.
			u := s.url(t, "admin:"+pass)
			u.Host = "127.0.0.1:1"
			_, err := Dial(context.Background(), u, testTimeout, nil)
			if err == nil {
				t.Fatal("dial to port 1 succeeded")
			}
			errs = append(errs, err)
			u.Scheme = "rtsps"
			_, err = Dial(context.Background(), u, testTimeout, nil)
			errs = append(errs, err)
			for _, err := range errs {
				if err == nil || strings.Contains(err.Error(), pass) {
					t.Fatalf("error %q is nil or carries the password", err)
				}
			}
		})
	}
}

func TestContentBase(t *testing.T) {
	for _, tc := range []struct {
		name     string
		header   base.Header
		wantBase string // path of the base URL
		wantURL  string // path of SETUP's URL
	}{
		{"Content-Base", base.Header{"Content-Base": {"rtsp://HOST/other/base/"}, "Content-Location": {"rtsp://HOST/loc/"}}, "/other/base/", "/other/base/track1"},
		{"relative Content-Base", base.Header{"Content-Base": {"/rel/"}}, "/rel/", "/rel/track1"},
		{"Content-Location", base.Header{"Content-Location": {"rtsp://HOST/loc"}}, "/loc", "/loc/track1"},
		{"request URL", nil, "/cam", "/cam/track1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var host string
			s := newScripted(t, func(req *base.Request) (*base.Response, []byte) {
				switch req.Method {
				case base.Describe:
					h := base.Header{}
					for k, v := range tc.header {
						h[k] = base.HeaderValue{strings.ReplaceAll(v[0], "HOST", host)}
					}
					return sdpResponse(h), nil
				case base.Setup:
					return okResponse(base.Header{"Transport": {"RTP/AVP/TCP;unicast;interleaved=0-1"}, "Session": {"12345678"}}), nil
				}
				return &base.Response{StatusCode: base.StatusNotImplemented}, nil
			})
			host = s.ln.Addr().String()
			ctx := context.Background()
			c, err := Dial(ctx, s.url(t, "/cam"), testTimeout, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			desc, err := c.Describe(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if desc.BaseURL.Host != host || desc.BaseURL.Path != tc.wantBase {
				t.Fatalf("BaseURL %s, want path %s on %s", desc.BaseURL, tc.wantBase, host)
			}
			if _, _, err := c.SetupTCP(ctx, desc, desc.Medias[0]); err != nil {
				t.Fatal(err)
			}
			if got := c.KeepaliveInterval(); got != 30*time.Second {
				t.Fatalf("keepalive interval %v, want 30s for a Session header without timeout", got)
			}
			s.next(t) // DESCRIBE
			setup := s.next(t)
			if setup.Method != base.Setup || setup.URL.Path != tc.wantURL || setup.URL.Host != host {
				t.Fatalf("%s %s, want SETUP to path %s", setup.Method, setup.URL, tc.wantURL)
			}
		})
	}
}

// TestServerChoosesChannels: a server that answers SETUP with other
// interleaved channels, sends frames right behind its PLAY answer, asks
// for GET_PARAMETER keepalives and sends its own OPTIONS.
func TestServerChoosesChannels(t *testing.T) {
	frames := func(base uint16) []byte {
		var b []byte
		b = append(b, rtpFrame(t, 6, testPacket(base, 1000, 10))...)
		b = append(b, rtpFrame(t, 0, testPacket(base+1, 1000, 10))...) // not ours
		b = append(b, frame(t, 7, []byte{0x80, 0xc8, 0, 0})...)
		return b
	}
	s := newScripted(t, func(req *base.Request) (*base.Response, []byte) {
		switch req.Method {
		case base.Describe:
			return sdpResponse(base.Header{"Public": {"DESCRIBE, SETUP, PLAY, GET_PARAMETER, TEARDOWN"}}), nil
		case base.Setup:
			var th headers.Transport
			if err := th.Unmarshal(req.Header["Transport"]); err != nil || th.InterleavedIDs == nil || *th.InterleavedIDs != [2]int{0, 1} {
				return &base.Response{StatusCode: base.StatusUnsupportedTransport}, nil
			}
			return okResponse(base.Header{"Transport": {"RTP/AVP/TCP;unicast;interleaved=6-7"}, "Session": {"abc;timeout=20"}}), nil
		case base.Play:
			// A frame before the answer (dropped), frames right behind it
			// (Buffered) and a request of the server's own.
			return nil, append(append(append(frames(100), "RTSP/1.0 200 OK\r\nCSeq: "+req.Header["CSeq"][0]+"\r\nSession: abc\r\n\r\n"...),
				frames(200)...), "OPTIONS * RTSP/1.0\r\nCSeq: 77\r\n\r\n"...)
		case base.GetParameter:
			return okResponse(nil), frames(300)
		}
		return &base.Response{StatusCode: base.StatusNotImplemented}, nil
	})
	c, rtpCh, rtcpCh := handshake(t, s.url(t, "/cam"))
	if rtpCh != 6 || rtcpCh != 7 {
		t.Fatalf("channels %d-%d, want the server's 6-7", rtpCh, rtcpCh)
	}
	if got := c.KeepaliveInterval(); got != 10*time.Second {
		t.Fatalf("keepalive interval %v, want 10s for timeout=20", got)
	}
	if len(c.Buffered()) == 0 {
		t.Fatal("nothing buffered past the PLAY answer")
	}
	var seqs []uint16
	var rtcps, responses int
	var respondErr error
	d := &Demuxer{
		RTPChannel:  rtpCh,
		RTCPChannel: rtcpCh,
		OnRTP:       func(p *rtp.Packet) { seqs = append(seqs, p.SequenceNumber) },
		OnRTCP:      func([]byte) { rtcps++ },
		OnResponse:  func(*base.Response) { responses++ },
		OnRequest: func(req *base.Request) {
			respondErr = c.Respond(req)
			if err := c.Keepalive(); err != nil {
				t.Error(err)
			}
		},
	}
	if err := pump(c, d, func() bool { return responses == 1 && len(seqs) == 2 }); err != nil {
		t.Fatal(err)
	}
	if respondErr != nil {
		t.Fatal(respondErr)
	}
	if seqs[0] != 200 || seqs[1] != 300 || rtcps != 2 {
		t.Fatalf("RTP %v and %d RTCP; want 200 (buffered behind PLAY), 300 (after the keepalive) and 2 RTCP", seqs, rtcps)
	}
	for _, m := range []base.Method{base.Describe, base.Setup, base.Play} {
		if r := s.next(t); r.Method != m {
			t.Fatalf("request %s, want %s", r.Method, m)
		}
	}
	ka := s.next(t)
	if ka.Method != base.GetParameter || ka.Header["Session"][0] != "abc" {
		t.Fatalf("keepalive %s with Session %q, want GET_PARAMETER with abc", ka.Method, ka.Header["Session"])
	}
	select {
	case res := <-s.resps:
		if res.StatusCode != base.StatusOK || res.Header["CSeq"][0] != "77" {
			t.Fatalf("answer to the server's OPTIONS: %d CSeq %q, want 200 with CSeq 77", res.StatusCode, res.Header["CSeq"])
		}
	case <-time.After(testTimeout):
		t.Fatal("the server got no answer to its OPTIONS")
	}
}

func TestRespondRefusesOtherMethods(t *testing.T) {
	s := newScripted(t, func(*base.Request) (*base.Response, []byte) { return nil, nil })
	c, err := Dial(context.Background(), s.url(t, "/cam"), testTimeout, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, tc := range []struct {
		method base.Method
		want   base.StatusCode
	}{{base.SetParameter, base.StatusOK}, {base.GetParameter, base.StatusOK}, {base.Announce, base.StatusNotImplemented}} {
		if err := c.Respond(&base.Request{Method: tc.method, Header: base.Header{"CSeq": {"5"}}}); err != nil {
			t.Fatal(err)
		}
		select {
		case res := <-s.resps:
			if res.StatusCode != tc.want || res.Header["CSeq"][0] != "5" {
				t.Fatalf("%s: %d CSeq %q, want %d CSeq 5", tc.method, res.StatusCode, res.Header["CSeq"], tc.want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("%s: no answer", tc.method)
		}
	}
}

func TestKeepaliveCarriesSession(t *testing.T) {
	s := newGServer(t, "admin", "pw", auth.VerifyMethodDigestMD5)
	c, _, _ := handshake(t, s.url(t, "admin:pw"))
	setup := s.waitRequest(t, "SETUP", func(r *base.Request) bool { return r.Method == base.Setup })
	_ = setup
	if err := c.Keepalive(); err != nil {
		t.Fatal(err)
	}
	play := s.waitRequest(t, "PLAY", func(r *base.Request) bool { return r.Method == base.Play })
	session := play.Header["Session"]
	ka := s.waitRequest(t, "a keepalive", func(r *base.Request) bool {
		return r.Method == base.Options || r.Method == base.GetParameter
	})
	if len(session) != 1 || len(ka.Header["Session"]) != 1 || ka.Header["Session"][0] != session[0] {
		t.Fatalf("keepalive Session %q, want PLAY's %q", ka.Header["Session"], session)
	}
	var cseq []string
	d := &Demuxer{RTPChannel: 0, RTCPChannel: 1, OnResponse: func(r *base.Response) { cseq = append(cseq, r.Header["CSeq"]...) }}
	if err := pump(c, d, func() bool { return len(cseq) > 0 }); err != nil {
		t.Fatal(err)
	}
	if cseq[0] != ka.Header["CSeq"][0] {
		t.Fatalf("keepalive answer CSeq %s, want %s", cseq[0], ka.Header["CSeq"][0])
	}
}

func TestCloseTearsDownAndUnblocksReader(t *testing.T) {
	s := newGServer(t, "", "")
	c, _, _ := handshake(t, s.url(t, ""))
	read := make(chan error, 1)
	go func() {
		buf := make([]byte, 1024)
		for {
			if _, err := c.NetConn().Read(buf); err != nil {
				read <- err
				return
			}
		}
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-read:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("reader got %v, want net.ErrClosed", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the reader did not return after Close")
	}
	play := s.waitRequest(t, "PLAY", func(r *base.Request) bool { return r.Method == base.Play })
	td := s.waitRequest(t, "TEARDOWN", func(r *base.Request) bool { return r.Method == base.Teardown })
	if td.Header["Session"][0] != play.Header["Session"][0] {
		t.Fatalf("TEARDOWN session %q, want %q", td.Header["Session"], play.Header["Session"])
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := c.Keepalive(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Keepalive after Close: %v", err)
	}
}

func TestHandshakeFailures(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		s := newScripted(t, func(*base.Request) (*base.Response, []byte) { return nil, nil })
		c, err := Dial(context.Background(), s.url(t, "/cam"), 100*time.Millisecond, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, err = c.Describe(context.Background())
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want a timeout", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		s := newScripted(t, func(*base.Request) (*base.Response, []byte) { return nil, nil })
		c, err := Dial(context.Background(), s.url(t, "/cam"), testTimeout, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			s.next(t)
			cancel()
		}()
		if _, err := c.Describe(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
	})
	t.Run("CSeq mismatch", func(t *testing.T) {
		s := newScripted(t, func(*base.Request) (*base.Response, []byte) {
			return sdpResponse(base.Header{"CSeq": {"99"}}), nil
		})
		c, err := Dial(context.Background(), s.url(t, "/cam"), testTimeout, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Describe(context.Background()); err == nil || !strings.Contains(err.Error(), `CSeq "99"`) {
			t.Fatalf("got %v, want a CSeq mismatch", err)
		}
	})
	t.Run("SETUP answer without interleaved channels", func(t *testing.T) {
		s := newScripted(t, func(req *base.Request) (*base.Response, []byte) {
			if req.Method == base.Describe {
				return sdpResponse(nil), nil
			}
			return okResponse(base.Header{"Transport": {"RTP/AVP/TCP;unicast"}, "Session": {"x"}}), nil
		})
		c, err := Dial(context.Background(), s.url(t, "/cam"), testTimeout, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		desc, err := c.Describe(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.SetupTCP(context.Background(), desc, desc.Medias[0]); err == nil || !strings.Contains(err.Error(), "interleaved") {
			t.Fatalf("got %v", err)
		}
		if err := c.Play(context.Background()); err == nil || !strings.Contains(err.Error(), "no media was set up") {
			t.Fatalf("PLAY without SETUP: %v", err)
		}
		if err := c.Keepalive(); err == nil || !strings.Contains(err.Error(), "before PLAY") {
			t.Fatalf("Keepalive before PLAY: %v", err)
		}
	})
	t.Run("not SDP", func(t *testing.T) {
		s := newScripted(t, func(*base.Request) (*base.Response, []byte) {
			return &base.Response{StatusCode: base.StatusOK, Header: base.Header{"Content-Type": {"text/html"}}, Body: []byte("<html>")}, nil
		})
		c, err := Dial(context.Background(), s.url(t, "/cam"), testTimeout, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Describe(context.Background()); err == nil || !strings.Contains(err.Error(), "text/html") {
			t.Fatalf("got %v", err)
		}
	})
}

// TestNewNonceIsAnsweredOnce: a camera that changes its Digest nonce
// between requests gets one retry with the new nonce.
func TestNewNonceIsAnsweredOnce(t *testing.T) {
	methods := []auth.VerifyMethod{auth.VerifyMethodDigestMD5}
	nonce := "nonce-one"
	var mu sync.Mutex
	challenged := map[base.Method]int{}
	s := newScripted(t, func(req *base.Request) (*base.Response, []byte) {
		mu.Lock()
		defer mu.Unlock()
		if req.Method == base.Setup && challenged[base.Setup] == 0 {
			nonce = "nonce-two"
		}
		if auth.Verify(req, "admin", "pw", methods, "cam", nonce) != nil {
			challenged[req.Method]++
			return &base.Response{StatusCode: base.StatusUnauthorized,
				Header: base.Header{"WWW-Authenticate": auth.GenerateWWWAuthenticate(methods, "cam", nonce)}}, nil
		}
		switch req.Method {
		case base.Describe:
			return sdpResponse(nil), nil
		case base.Setup:
			return okResponse(base.Header{"Transport": {"RTP/AVP/TCP;unicast;interleaved=0-1"}, "Session": {"s1"}}), nil
		}
		return okResponse(nil), nil
	})
	u := s.url(t, "/cam")
	u.User = url.UserPassword("admin", "pw")
	c, _, _ := handshake(t, u)
	mu.Lock()
	d, st, p := challenged[base.Describe], challenged[base.Setup], challenged[base.Play]
	mu.Unlock()
	if d != 1 || st != 1 || p != 0 {
		t.Fatalf("challenges DESCRIBE %d, SETUP %d, PLAY %d; want one for DESCRIBE and one for SETUP's new nonce", d, st, p)
	}
	if err := c.Keepalive(); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		s.next(t)
	}
	if ka := s.next(t); !strings.Contains(ka.Header["Authorization"][0], "nonce-two") {
		t.Fatalf("keepalive Authorization %q, want the new nonce", ka.Header["Authorization"])
	}
}
