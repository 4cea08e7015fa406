package rtsp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/auth"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/headers"
	"github.com/bluenviron/gortsplib/v5/pkg/sdpunmarshaler"
)

const (
	userAgent = "gwanje"

	// defaultPort is RTSP's well-known port, used when the URL has none.
	defaultPort = "554"

	// defaultSessionTimeout applies when a Session header names no
	// timeout (RFC 2326 section 12.37).
	defaultSessionTimeout = 60 * time.Second

	// teardownDeadline bounds Close's TEARDOWN write.
	teardownDeadline = 200 * time.Millisecond

	// readBufferSize is the handshake reader's buffer. Whatever it holds
	// past PLAY's response becomes Buffered.
	readBufferSize = 4096
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked
// reads and writes return at once.
var aLongTimeAgo = time.Unix(1, 0)

// StatusError is a non-2xx answer to a request.
type StatusError struct {
	// Method is the request's method.
	Method base.Method
	// Code is the response's status code.
	Code base.StatusCode
	// Message is the response's reason phrase.
	Message string
}

// Error returns the method, code and reason phrase, as in
// "DESCRIBE: 401 Unauthorized".
func (e *StatusError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = "(no reason phrase)"
	}
	return fmt.Sprintf("%s: %d %s", e.Method, int(e.Code), msg)
}

// Conn is one RTSP connection to a camera, driven through the handshake by
// Describe, SetupTCP and Play in that order, and handed to the caller for
// reading after Play. Describe, SetupTCP and Play must not be called
// concurrently; Keepalive, Respond and Close may be called from any
// goroutine.
type Conn struct {
	nc      net.Conn
	br      *bufio.Reader
	url     *base.URL // the request URL, without credentials
	timeout time.Duration

	user, pass string
	hasCreds   bool

	// Set during the handshake, read-only after Play.
	baseURL        *base.URL // Keepalive's request URL
	playURL        *base.URL
	channels       int // interleaved channels proposed so far
	sessionTimeout time.Duration
	getParameter   bool // the server listed GET_PARAMETER in Public
	buffered       []byte

	// wmu serializes writes and guards the fields below.
	wmu     sync.Mutex
	cseq    int
	sender  *auth.Sender
	session string
	played  bool // written under wmu by the handshake goroutine
	closed  bool
	fd      int // after Detach: the socket's descriptor; -1 before
}

// Dial opens a TCP connection to u's host (default port 554) and returns a
// Conn ready for Describe. Credentials come from u.User (user:pass). dial
// may be nil (net.Dialer). timeout bounds every request's round trip during
// the handshake (write + response) and the dial itself.
func Dial(ctx context.Context, u *base.URL, timeout time.Duration, dial func(ctx context.Context, network, addr string) (net.Conn, error)) (*Conn, error) {
	if u == nil {
		return nil, errors.New("rtsp: dial: no URL")
	}
	clean := u.CloneWithoutCredentials()
	if u.Scheme != "rtsp" {
		return nil, fmt.Errorf("rtsp: dial %s: scheme %q is not supported (only rtsp)", clean, u.Scheme)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("rtsp: dial %s: the URL has no host", clean)
	}
	if timeout <= 0 {
		return nil, fmt.Errorf("rtsp: dial %s: timeout %v is not positive", clean, timeout)
	}
	port := u.Port()
	if port == "" {
		port = defaultPort
	}
	addr := net.JoinHostPort(u.Hostname(), port)
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nc, err := dial(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("rtsp: dial %s: %w", clean, err)
	}
	c := &Conn{
		nc:      nc,
		br:      bufio.NewReaderSize(nc, readBufferSize),
		url:     clean,
		timeout: timeout,
		fd:      -1,
	}
	if u.User != nil {
		c.user = u.User.Username()
		c.pass, _ = u.User.Password()
		c.hasCreds = true
	}
	return c, nil
}

// Describe sends DESCRIBE (Accept: application/sdp), answering a 401 once
// with Basic or Digest credentials from the URL (auth.Sender, kept for
// every later request; a later 401 with a new challenge is retried once),
// and returns the session description with its BaseURL set (Content-Base,
// else Content-Location, else the request URL, as RFC 2326 C.1.1 says).
// BaseURL never carries the credentials.
func (c *Conn) Describe(ctx context.Context) (*description.Session, error) {
	res, err := c.do(ctx, base.Describe, c.url, base.Header{"Accept": base.HeaderValue{"application/sdp"}})
	if err != nil {
		return nil, err
	}
	fail := func(format string, a ...any) error {
		return fmt.Errorf("rtsp: DESCRIBE %s: "+format, append([]any{c.url}, a...)...)
	}
	if ct, ok := res.Header["Content-Type"]; ok && len(ct) > 0 {
		mt := strings.TrimSpace(strings.Split(ct[0], ";")[0])
		if !strings.EqualFold(mt, "application/sdp") {
			return nil, fail("the answer's Content-Type is %q, not application/sdp", mt)
		}
	}
	if len(res.Body) == 0 {
		return nil, fail("the answer has no session description")
	}
	ssd, err := sdpunmarshaler.Unmarshal(res.Body)
	if err != nil {
		return nil, fail("bad session description: %w", err)
	}
	var desc description.Session
	if err := desc.Unmarshal2(ssd); err != nil {
		return nil, fail("bad session description: %w", err)
	}
	baseURL, err := c.resolveBase(res)
	if err != nil {
		return nil, fail("%w", err)
	}
	desc.BaseURL = baseURL
	c.baseURL = baseURL
	c.playURL = baseURL
	if ctl, ok := ssd.Attribute("control"); ok && ctl != "" && ctl != "*" {
		// RFC 2326 C.1.1: a session-level control URL is the one for
		// aggregate control (PLAY).
		u, err := (&description.Media{Control: ctl}).URL(baseURL)
		if err != nil || u == nil {
			return nil, fail("bad session-level control attribute %q", ctl)
		}
		c.playURL = u.CloneWithoutCredentials()
	}
	return &desc, nil
}

// resolveBase picks DESCRIBE's base URL: Content-Base, else
// Content-Location, else the request URL; a relative value resolves
// against the request URL.
func (c *Conn) resolveBase(res *base.Response) (*base.URL, error) {
	for _, h := range []string{"Content-Base", "Content-Location"} {
		v, ok := res.Header[h]
		if !ok || len(v) == 0 || strings.TrimSpace(v[0]) == "" {
			continue
		}
		ref, err := url.Parse(strings.TrimSpace(v[0]))
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: %w", h, v[0], err)
		}
		abs := (*url.URL)(c.url).ResolveReference(ref)
		u, err := base.ParseURL(abs.String())
		if err != nil {
			return nil, fmt.Errorf("bad %s %q: %w", h, v[0], err)
		}
		return u.CloneWithoutCredentials(), nil
	}
	return c.url.CloneWithoutCredentials(), nil
}

// SetupTCP sends SETUP for m with Transport
// RTP/AVP/TCP;unicast;interleaved=2k-(2k+1) (k = number of medias set up
// before) and returns the interleaved channels the server confirmed (it may
// pick other ones: its answer is what counts). It records the Session id
// and the session timeout (60 s when the header has none).
func (c *Conn) SetupTCP(ctx context.Context, desc *description.Session, m *description.Media) (rtp, rtcp int, err error) {
	if desc == nil || m == nil {
		return 0, 0, errors.New("rtsp: SETUP: no session description or media")
	}
	baseURL := desc.BaseURL
	if baseURL == nil {
		baseURL = c.url
	}
	u, err := m.URL(baseURL)
	if err != nil || u == nil {
		return 0, 0, fmt.Errorf("rtsp: SETUP: bad control attribute %q of the %s media (base %s)", m.Control, m.Type, baseURL.CloneWithoutCredentials())
	}
	u = u.CloneWithoutCredentials()
	if 2*c.channels+1 > 255 {
		return 0, 0, fmt.Errorf("rtsp: SETUP %s: too many medias for interleaved channels", u)
	}
	delivery := headers.TransportDeliveryUnicast
	mode := headers.TransportModePlay
	th := headers.Transport{
		Profile:        headers.TransportProfileAVP,
		Protocol:       headers.TransportProtocolTCP,
		Delivery:       &delivery,
		InterleavedIDs: &[2]int{2 * c.channels, 2*c.channels + 1},
		Mode:           &mode,
	}
	res, err := c.do(ctx, base.Setup, u, base.Header{"Transport": th.Marshal()})
	if err != nil {
		return 0, 0, err
	}
	fail := func(format string, a ...any) (int, int, error) {
		return 0, 0, fmt.Errorf("rtsp: SETUP %s: "+format, append([]any{u}, a...)...)
	}
	var got headers.Transport
	if err := got.Unmarshal(res.Header["Transport"]); err != nil {
		return fail("bad Transport header in the answer: %w", err)
	}
	if got.Protocol != headers.TransportProtocolTCP {
		return fail("the server answered with a UDP transport")
	}
	if got.InterleavedIDs == nil {
		return fail("the server's Transport names no interleaved channels")
	}
	rtp, rtcp = got.InterleavedIDs[0], got.InterleavedIDs[1]
	if rtp < 0 || rtp > 255 || rtcp < 0 || rtcp > 255 || rtp == rtcp {
		return fail("the server's interleaved channels %d-%d are not two distinct channels in 0..255", rtp, rtcp)
	}
	var sh headers.Session
	if err := sh.Unmarshal(res.Header["Session"]); err != nil {
		return fail("bad Session header in the answer: %w", err)
	}
	c.wmu.Lock()
	prev := c.session
	c.session = sh.Session
	c.wmu.Unlock()
	if prev != "" && prev != sh.Session {
		return fail("the server changed the session id")
	}
	c.sessionTimeout = defaultSessionTimeout
	if sh.Timeout != nil && *sh.Timeout > 0 {
		c.sessionTimeout = time.Duration(*sh.Timeout) * time.Second
	}
	c.channels++
	return rtp, rtcp, nil
}

// Play sends PLAY (Range: npt=0-) with the session. After Play returns
// nil, the caller owns reading the socket: Buffered returns bytes already
// read past the PLAY response (interleaved frames that arrived with it),
// which must be fed to a Demuxer before anything read from NetConn.
// Interleaved frames that arrive before the PLAY response is complete are
// dropped. No method of Conn reads from the socket after Play.
func (c *Conn) Play(ctx context.Context) error {
	c.wmu.Lock()
	session := c.session
	c.wmu.Unlock()
	if session == "" {
		return fmt.Errorf("rtsp: PLAY %s: no media was set up", c.url)
	}
	u := c.playURL
	if u == nil {
		u = c.url
	}
	if _, err := c.do(ctx, base.Play, u, base.Header{"Range": base.HeaderValue{"npt=0-"}}); err != nil {
		return err
	}
	if n := c.br.Buffered(); n > 0 {
		b, _ := c.br.Peek(n)
		c.buffered = append([]byte(nil), b...)
	}
	c.br = nil
	c.wmu.Lock()
	c.played = true
	c.wmu.Unlock()
	if err := c.nc.SetDeadline(time.Time{}); err != nil {
		return fmt.Errorf("rtsp: PLAY %s: %w", u, err)
	}
	return nil
}

// NetConn returns the connection's socket. Read it only after Play.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Detach, after Play, takes the socket out of Go's network poller and
// returns a non-blocking file descriptor for the caller to read with
// read(2). It is for a recorder reading many cameras from a few
// goroutines on a timer: a socket Go's poller watches wakes a thread for
// every packet that arrives, even when no goroutine waits for it. The
// descriptor stays the Conn's: Close closes it, and the caller must have
// stopped reading it before calling Close (the number may be reused at
// once). After Detach, NetConn is closed, and Keepalive, Respond and
// Close's TEARDOWN write to the descriptor directly: they fail rather than
// wait when the socket's send buffer is full (a camera that reads nothing
// of ours is gone anyway).
func (c *Conn) Detach() (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	switch {
	case c.closed:
		return -1, fmt.Errorf("rtsp: detach %s: %w", c.url, net.ErrClosed)
	case !c.played:
		return -1, fmt.Errorf("rtsp: detach %s: before PLAY", c.url)
	case c.fd >= 0:
		return c.fd, nil
	}
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return -1, fmt.Errorf("rtsp: detach %s: the connection gives no access to its socket", c.url)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("rtsp: detach %s: %w", c.url, err)
	}
	dup := -1
	var derr error
	if err := raw.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		dup, derr = syscall.Dup(int(fd))
		if derr == nil {
			syscall.CloseOnExec(dup)
		}
		syscall.ForkLock.RUnlock()
	}); err != nil {
		return -1, fmt.Errorf("rtsp: detach %s: %w", c.url, err)
	}
	if derr != nil {
		return -1, fmt.Errorf("rtsp: detach %s: dup: %w", c.url, derr)
	}
	if err := syscall.SetNonblock(dup, true); err != nil {
		syscall.Close(dup)
		return -1, fmt.Errorf("rtsp: detach %s: %w", c.url, err)
	}
	// Closing the net.Conn removes its descriptor from Go's poller and
	// closes it; the socket lives on in dup.
	if err := c.nc.Close(); err != nil {
		syscall.Close(dup)
		return -1, fmt.Errorf("rtsp: detach %s: %w", c.url, err)
	}
	c.fd = dup
	return dup, nil
}

// Buffered returns the bytes read past the PLAY response, to be fed to a
// Demuxer before anything read from NetConn. It is nil before Play.
func (c *Conn) Buffered() []byte { return c.buffered }

// KeepaliveInterval is how often Keepalive should be called: half the
// session timeout.
func (c *Conn) KeepaliveInterval() time.Duration {
	t := c.sessionTimeout
	if t == 0 {
		t = defaultSessionTimeout
	}
	return t / 2
}

// Keepalive sends GET_PARAMETER with the session if a response during the
// handshake listed GET_PARAMETER in its Public header, OPTIONS otherwise
// (every RTSP/1.0 server must answer OPTIONS; the client never sends
// OPTIONS during the handshake, so it cannot know otherwise). It does not
// wait: the response arrives in the byte stream and the Demuxer passes it
// to OnResponse. Safe to call from any goroutine, concurrently with
// Respond. The write's deadline is the handshake timeout.
func (c *Conn) Keepalive() error {
	method := base.Options
	if c.getParameter {
		method = base.GetParameter
	}
	u := c.baseURL
	if u == nil {
		u = c.url
	}
	req := &base.Request{Method: method, URL: u, Header: base.Header{}}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return fmt.Errorf("rtsp: %s %s: %w", method, u, net.ErrClosed)
	}
	if !c.played {
		return fmt.Errorf("rtsp: %s %s: keepalive before PLAY", method, u)
	}
	c.prepare(req)
	if err := c.writeLocked(req, c.timeout); err != nil {
		return fmt.Errorf("rtsp: %s %s: %w", method, u, err)
	}
	return nil
}

// Respond answers a request the server sent (some cameras send OPTIONS,
// GET_PARAMETER or SET_PARAMETER as their own keepalive): 200 OK for
// OPTIONS, GET_PARAMETER and SET_PARAMETER, 501 Not Implemented otherwise,
// with the request's CSeq. The write's deadline is the handshake timeout.
func (c *Conn) Respond(req *base.Request) error {
	if req == nil {
		return errors.New("rtsp: respond: no request")
	}
	res := &base.Response{StatusCode: base.StatusNotImplemented, Header: base.Header{}}
	switch req.Method {
	case base.Options:
		res.StatusCode = base.StatusOK
		res.Header["Public"] = base.HeaderValue{"OPTIONS, GET_PARAMETER, SET_PARAMETER"}
	case base.GetParameter, base.SetParameter:
		res.StatusCode = base.StatusOK
	}
	if cseq, ok := req.Header["CSeq"]; ok {
		res.Header["CSeq"] = cseq
	}
	res.Header["Server"] = base.HeaderValue{userAgent}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return fmt.Errorf("rtsp: respond to %s: %w", req.Method, net.ErrClosed)
	}
	if c.session != "" {
		res.Header["Session"] = base.HeaderValue{c.session}
	}
	b, err := res.Marshal()
	if err == nil {
		err = c.writeBytesLocked(b, c.timeout)
	}
	if err != nil {
		return fmt.Errorf("rtsp: respond to %s: %w", req.Method, err)
	}
	return nil
}

// Close sends TEARDOWN if a session was set up, waiting at most about
// 200 ms for the write and never for the answer, then closes the socket.
// It is safe to call more than once and concurrently with a reader of
// NetConn, which then gets an error. Only the first call's error is
// returned.
func (c *Conn) Close() error {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return nil
	}
	if c.session != "" {
		u := c.playURL
		if u == nil {
			u = c.url
		}
		req := &base.Request{Method: base.Teardown, URL: u, Header: base.Header{}}
		c.prepare(req)
		// Best effort: the camera forgets the session by itself when the
		// socket closes or the session times out.
		_ = c.writeLocked(req, teardownDeadline)
	}
	c.closed = true
	c.wmu.Unlock()
	if c.fd >= 0 {
		if err := syscall.Close(c.fd); err != nil {
			return fmt.Errorf("rtsp: close %s: %w", c.url, err)
		}
		return nil
	}
	if err := c.nc.Close(); err != nil {
		return fmt.Errorf("rtsp: close %s: %w", c.url, err)
	}
	return nil
}

// prepare adds CSeq, User-Agent, Session and Authorization to req. wmu is
// held.
func (c *Conn) prepare(req *base.Request) {
	c.cseq++
	req.Header["CSeq"] = base.HeaderValue{strconv.Itoa(c.cseq)}
	req.Header["User-Agent"] = base.HeaderValue{userAgent}
	if c.session != "" {
		req.Header["Session"] = base.HeaderValue{c.session}
	}
	if c.sender != nil {
		c.sender.AddAuthorization(req)
	}
}

// writeLocked writes req with a write deadline d from now. wmu is held.
func (c *Conn) writeLocked(req *base.Request, d time.Duration) error {
	b, err := req.Marshal()
	if err != nil {
		return err
	}
	return c.writeBytesLocked(b, d)
}

// writeBytesLocked writes b with a write deadline d from now; with d = 0
// the deadline already set (the handshake's) stays. wmu is held.
func (c *Conn) writeBytesLocked(b []byte, d time.Duration) error {
	if c.fd >= 0 {
		return writeFD(c.fd, b)
	}
	if d > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(d)); err != nil {
			return err
		}
	}
	_, err := c.nc.Write(b)
	return err
}

// writeFD writes b to a detached non-blocking socket, failing if the send
// buffer cannot take it all now.
func writeFD(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := syscall.Write(fd, b)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return errors.New("socket send buffer full: the camera reads nothing")
		case err != nil:
			return os.NewSyscallError("write", err)
		}
		b = b[n:]
	}
	return nil
}

// do sends a handshake request and reads its response, answering one 401
// with credentials. A non-2xx answer is a *StatusError.
func (c *Conn) do(ctx context.Context, method base.Method, u *base.URL, h base.Header) (*base.Response, error) {
	if c.played {
		return nil, fmt.Errorf("rtsp: %s %s: the handshake is over (after PLAY)", method, u)
	}
	for retried := false; ; retried = true {
		req := &base.Request{Method: method, URL: u, Header: base.Header{}}
		for k, v := range h {
			req.Header[k] = v
		}
		res, err := c.roundTrip(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("rtsp: %s %s: %w", method, u, err)
		}
		if pub, ok := res.Header["Public"]; ok && len(pub) > 0 {
			c.getParameter = c.getParameter || listsMethod(pub[0], base.GetParameter)
		}
		if res.StatusCode == base.StatusUnauthorized && !retried && c.hasCreds {
			www := res.Header["WWW-Authenticate"]
			c.wmu.Lock()
			fresh := len(www) > 0 && (c.sender == nil || !slices.Equal(c.sender.WWWAuth, www))
			c.wmu.Unlock()
			if fresh {
				s := &auth.Sender{WWWAuth: www, User: c.user, Pass: c.pass}
				if err := s.Initialize(); err != nil {
					return nil, fmt.Errorf("rtsp: %s %s: the server's authentication challenge: %w", method, u, err)
				}
				c.wmu.Lock()
				c.sender = s
				c.wmu.Unlock()
				continue
			}
		}
		if res.StatusCode < 200 || res.StatusCode > 299 {
			return nil, &StatusError{Method: method, Code: res.StatusCode, Message: res.StatusMessage}
		}
		return res, nil
	}
}

// roundTrip writes req and reads its response within the handshake
// timeout and ctx. Interleaved frames read before the response are
// dropped; requests from the server are answered.
func (c *Conn) roundTrip(ctx context.Context, req *base.Request) (*base.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	if err := c.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.nc.SetDeadline(aLongTimeAgo) })
	defer stop()
	res, err := c.exchange(req)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return res, err
}

func (c *Conn) exchange(req *base.Request) (*base.Response, error) {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return nil, net.ErrClosed
	}
	c.prepare(req)
	want := c.cseq
	err := c.writeLocked(req, 0)
	c.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	for {
		b, err := c.br.Peek(1)
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		switch {
		case b[0] == '$':
			hdr, err := c.br.Peek(4)
			if err != nil {
				return nil, fmt.Errorf("read: %w", err)
			}
			n := 4 + (int(hdr[2])<<8 | int(hdr[3]))
			if _, err := c.br.Discard(n); err != nil {
				return nil, fmt.Errorf("read: %w", err)
			}
		case b[0] >= 'A' && b[0] <= 'Z':
			if p, _ := c.br.Peek(5); string(p) != "RTSP/" {
				var sreq base.Request
				if err := sreq.Unmarshal(c.br); err != nil {
					return nil, fmt.Errorf("read the server's request: %w", err)
				}
				if err := c.Respond(&sreq); err != nil {
					return nil, err
				}
				continue
			}
			var res base.Response
			if err := res.Unmarshal(c.br); err != nil {
				return nil, fmt.Errorf("read the response: %w", err)
			}
			if v, ok := res.Header["CSeq"]; ok && len(v) > 0 {
				got, err := strconv.Atoi(strings.TrimSpace(v[0]))
				if err != nil || got != want {
					return nil, fmt.Errorf("the response's CSeq %q does not match the request's %d", v[0], want)
				}
			}
			return &res, nil
		default:
			return nil, fmt.Errorf("read: byte 0x%02x starts neither a response nor an interleaved frame", b[0])
		}
	}
}

// listsMethod reports whether a Public header value lists m.
func listsMethod(public string, m base.Method) bool {
	for f := range strings.SplitSeq(public, ",") {
		if base.Method(strings.TrimSpace(f)) == m {
			return true
		}
	}
	return false
}
