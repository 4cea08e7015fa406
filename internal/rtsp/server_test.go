package rtsp

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/liberrors"
	"github.com/pion/rtp"
)

// testTimeout bounds every handshake request and every wait in tests.
const testTimeout = 10 * time.Second

// gServer is a gortsplib RTSP server with one H.264 stream at /cam that
// records the requests it gets.
type gServer struct {
	srv    *gortsplib.Server
	stream *gortsplib.ServerStream
	media  *description.Media
	user   string
	pass   string

	mu   sync.Mutex
	reqs []*base.Request
	cond chan struct{} // closed and replaced on every request
}

func newGServer(t *testing.T, user, pass string, methods ...auth.VerifyMethod) *gServer {
	t.Helper()
	s := &gServer{user: user, pass: pass, cond: make(chan struct{})}
	s.srv = &gortsplib.Server{
		Handler:                  s,
		RTSPAddress:              "127.0.0.1:0",
		AuthMethods:              methods,
		DisableRTCPSenderReports: true,
	}
	if err := s.srv.Start(); err != nil {
		t.Fatal(err)
	}
	s.media = &description.Media{Type: description.MediaTypeVideo, Formats: []format.Format{&format.H264{PayloadTyp: 96, PacketizationMode: 1}}}
	s.stream = &gortsplib.ServerStream{Server: s.srv, Desc: &description.Session{Medias: []*description.Media{s.media}}}
	if err := s.stream.Initialize(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.stream.Close()
		s.srv.Close()
	})
	return s
}

// url returns the stream's URL with userinfo ("" for none).
func (s *gServer) url(t *testing.T, userinfo string) *base.URL {
	t.Helper()
	if userinfo != "" {
		userinfo += "@"
	}
	u, err := base.ParseURL("rtsp://" + userinfo + s.srv.NetListener().Addr().String() + "/cam")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// OnRequest implements gortsplib.ServerHandlerOnRequest.
func (s *gServer) OnRequest(_ *gortsplib.ServerConn, req *base.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = append(s.reqs, req)
	close(s.cond)
	s.cond = make(chan struct{})
}

// waitRequest waits until the server has seen a request that ok accepts.
func (s *gServer) waitRequest(t *testing.T, what string, ok func(*base.Request) bool) *base.Request {
	t.Helper()
	deadline := time.After(testTimeout)
	for {
		s.mu.Lock()
		for _, r := range s.reqs {
			if ok(r) {
				s.mu.Unlock()
				return r
			}
		}
		cond := s.cond
		s.mu.Unlock()
		select {
		case <-cond:
		case <-deadline:
			t.Fatalf("the server did not see %s", what)
		}
	}
}

func (s *gServer) admit(conn *gortsplib.ServerConn, req *base.Request) (*base.Response, error) {
	if s.user != "" && !conn.VerifyCredentials(req, s.user, s.pass) {
		return &base.Response{StatusCode: base.StatusUnauthorized}, liberrors.ErrServerAuth{}
	}
	return nil, nil
}

// OnDescribe implements gortsplib.ServerHandlerOnDescribe.
func (s *gServer) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := s.admit(ctx.Conn, ctx.Request); res != nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnSetup implements gortsplib.ServerHandlerOnSetup.
func (s *gServer) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	if res, err := s.admit(ctx.Conn, ctx.Request); res != nil {
		return res, nil, err
	}
	return &base.Response{StatusCode: base.StatusOK}, s.stream, nil
}

// OnPlay implements gortsplib.ServerHandlerOnPlay.
func (s *gServer) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	if res, err := s.admit(ctx.Conn, ctx.Request); res != nil {
		return res, err
	}
	return &base.Response{StatusCode: base.StatusOK}, nil
}

// handshake runs Dial, Describe, SetupTCP of the first media and Play.
func handshake(t *testing.T, u *base.URL) (*Conn, int, int) {
	t.Helper()
	ctx := context.Background()
	c, err := Dial(ctx, u, testTimeout, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	desc, err := c.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Medias) == 0 {
		t.Fatal("no medias")
	}
	rtpCh, rtcpCh, err := c.SetupTCP(ctx, desc, desc.Medias[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Play(ctx); err != nil {
		t.Fatal(err)
	}
	return c, rtpCh, rtcpCh
}

// pump feeds d with c's Buffered bytes, then with what it reads from c's
// socket until done reports true, the socket fails or testTimeout passes.
// It returns the read or Feed error that stopped it, if any.
func pump(c *Conn, d *Demuxer, done func() bool) error {
	if err := d.Feed(c.Buffered()); err != nil {
		return err
	}
	nc := c.NetConn()
	if err := nc.SetReadDeadline(time.Now().Add(testTimeout)); err != nil {
		return err
	}
	buf := make([]byte, 64<<10)
	for !done() {
		n, err := nc.Read(buf)
		if ferr := d.Feed(buf[:n]); ferr != nil {
			return ferr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scripted is a hand-driven RTSP server for cases gortsplib's server
// cannot produce. It serves one connection: each request goes to handle,
// whose response (CSeq copied from the request) and extra bytes are
// written back; responses the client sends go to resps.
type scripted struct {
	ln    net.Listener
	reqs  chan *base.Request
	resps chan *base.Response
	conn  chan net.Conn
}

func newScripted(t *testing.T, handle func(req *base.Request) (res *base.Response, after []byte)) *scripted {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scripted{ln: ln, reqs: make(chan *base.Request, 100), resps: make(chan *base.Response, 100), conn: make(chan net.Conn, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		s.conn <- nc
		br := bufio.NewReader(nc)
		for {
			b, err := br.Peek(5)
			if err != nil {
				return
			}
			if string(b) == "RTSP/" {
				var res base.Response
				if err := res.Unmarshal(br); err != nil {
					return
				}
				s.resps <- &res
				continue
			}
			var req base.Request
			if err := req.Unmarshal(br); err != nil {
				return
			}
			s.reqs <- &req
			res, after := handle(&req)
			if res != nil {
				if res.Header == nil {
					res.Header = base.Header{}
				}
				if _, ok := res.Header["CSeq"]; !ok {
					res.Header["CSeq"] = req.Header["CSeq"]
				}
				b, err := res.Marshal()
				if err != nil {
					panic(err)
				}
				after = append(b, after...)
			}
			if len(after) > 0 {
				if _, err := nc.Write(after); err != nil {
					return
				}
			}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		select {
		case nc := <-s.conn:
			nc.Close()
		default:
		}
		<-done
	})
	return s
}

func (s *scripted) url(t *testing.T, path string) *base.URL {
	t.Helper()
	u, err := base.ParseURL("rtsp://" + s.ln.Addr().String() + path)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// next returns the next request the scripted server got.
func (s *scripted) next(t *testing.T) *base.Request {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(testTimeout):
		t.Fatal("the scripted server got no request")
		return nil
	}
}

const testSDP = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nt=0 0\r\n" +
	"m=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=fmtp:96 packetization-mode=1\r\na=control:track1\r\n"

func sdpResponse(h base.Header) *base.Response {
	if h == nil {
		h = base.Header{}
	}
	h["Content-Type"] = base.HeaderValue{"application/sdp"}
	return &base.Response{StatusCode: base.StatusOK, Header: h, Body: []byte(testSDP)}
}

func okResponse(h base.Header) *base.Response {
	return &base.Response{StatusCode: base.StatusOK, Header: h}
}

// containsFold reports whether s contains sub, ignoring case.
func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

// packets makes n RTP packets with distinct payloads.
func packets(n int) []*rtp.Packet {
	out := make([]*rtp.Packet, n)
	for i := range out {
		out[i] = testPacket(uint16(60000+i*300), uint32(i)*3600, 100+i)
	}
	return out
}
