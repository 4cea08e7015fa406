package app

import (
	"bufio"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// httpTimeouts bound how long a client may hold a connection without
// making progress. A live stream or an MP4 download may last as long as
// the viewing right does, so nothing bounds a whole response; instead the
// request must arrive in time and every write of the response must make
// progress in time.
type httpTimeouts struct {
	// Header: the request line and headers (http.Server.ReadHeaderTimeout).
	Header time.Duration
	// Request: the whole request, body included (http.Server.ReadTimeout).
	// net/http lifts this deadline once the body has been read, so it
	// does not bound the response.
	Request time.Duration
	// Write: each write of the response, and the response's start; a
	// client that stops reading is cut off after this long.
	Write time.Duration
	// Idle: a kept-alive connection between requests (IdleTimeout).
	Idle time.Duration
}

// defaultTimeouts are gwanje's; docs/ref/http.md states them.
var defaultTimeouts = httpTimeouts{Header: 10 * time.Second, Request: 30 * time.Second,
	Write: 60 * time.Second, Idle: 2 * time.Minute}

// newHTTPServer is the http.Server of gwanje for h, with timeouts t.
func newHTTPServer(h http.Handler, t httpTimeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           deadlines(h, t),
		ReadHeaderTimeout: t.Header,
		ReadTimeout:       t.Request,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// deadlines moves the connection's write deadline t.Write ahead at the
// start of every response and before each of its writes and flushes,
// through http.ResponseController. (http.Server.WriteTimeout would bound
// the whole response, ending every live stream and long download.)
func deadlines(h http.Handler, t httpTimeouts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pw := &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), d: t.Write}
		pw.extend()
		h.ServeHTTP(pw, r)
	})
}

// progressWriter moves the connection's write deadline d ahead before
// each write, so a response of any length goes on while the client
// reads, and ends when it stops.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *progressWriter) extend() { w.rc.SetWriteDeadline(time.Now().Add(w.d)) }

func (w *progressWriter) Write(p []byte) (int, error) {
	w.extend()
	return w.ResponseWriter.Write(p)
}

func (w *progressWriter) WriteHeader(code int) {
	w.extend()
	w.ResponseWriter.WriteHeader(code)
}

// Flush makes the writer an http.Flusher for the live stream.
func (w *progressWriter) Flush() {
	w.extend()
	w.rc.Flush()
}

// Hijack hands the connection over; the server lifts its deadlines.
func (w *progressWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) { return w.rc.Hijack() }

// Unwrap lets http.ResponseController reach the server's writer.
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
