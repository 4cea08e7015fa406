package app

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/config"
)

// testConfig is a configuration on a fresh data directory without a
// registry, listening on a free port.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Listen = "127.0.0.1:0"
	cfg.Health.StillCheck = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// A start-up that fails at its last step (the listen address is taken,
// after every store, the recorder, health and retention have started)
// returns the cause and closes everything it opened: the same data
// directory then starts, and Close may be called twice.
func TestStartFailureClosesWhatStarted(t *testing.T) {
	ctx := context.Background()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t)
	cfg.Listen = taken.Addr().String()
	log := slog.New(slog.DiscardHandler)
	if a, err := Start(ctx, cfg, log); err == nil {
		a.Close()
		t.Fatal("started on a taken address")
	} else if !strings.Contains(err.Error(), taken.Addr().String()) {
		t.Fatalf("error %q does not name the address", err)
	}
	cfg.Listen = "127.0.0.1:0"
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatalf("the data directory does not start after a failed start: %v", err)
	}
	a.Close()
	a.Close()
}

// Close on an App that never started a step, or only some, does not
// panic (the old start-up's deferred Close dereferenced a nil App).
func TestCloseHalfStarted(t *testing.T) {
	newApp(testConfig(t), slog.New(slog.DiscardHandler)).Close()
	cfg := testConfig(t)
	cfg.Registry = filepath.Join(t.TempDir(), "missing.yaml")
	a := newApp(cfg, slog.New(slog.DiscardHandler))
	if _, err := a.begin(context.Background()); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("start with a missing registry: %v", err)
	}
	a.Close()
}

// The first administrator's one-time password is kept in a 0600 file in
// the data directory, never in the log; the file goes once the password
// is changed, and a later start does not bring it back.
func TestAdminPasswordKeptInFileUntilChanged(t *testing.T) {
	ctx := context.Background()
	cfg := testConfig(t)
	var logs strings.Builder
	lw := &lockedWriter{w: &logs}
	log := slog.New(slog.NewTextHandler(lw, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a, err := Start(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { a.Close() }()
	pw := a.adminPassword
	path := a.AdminPasswordFile()
	if pw == "" || path != filepath.Join(cfg.DataDir, AdminPasswordName) {
		t.Fatalf("password %q, file %q", pw, path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", fi.Mode().Perm())
	}
	if b, _ := os.ReadFile(path); strings.TrimSpace(string(b)) != pw {
		t.Fatalf("password file holds %q", b)
	}
	// Not spent yet: the file stays.
	if gone, err := a.removeSpentAdminPassword(ctx); err != nil || gone {
		t.Fatalf("removed before the password was changed: %v %v", gone, err)
	}
	sess, err := a.access.Login(ctx, "admin", pw, "", netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.access.ChangePassword(ctx, sess.Principal, pw, "Kw7-pebble-Orbit-92x"); err != nil {
		t.Fatal(err)
	}
	if gone, err := a.removeSpentAdminPassword(ctx); err != nil || !gone || a.AdminPasswordFile() != "" {
		t.Fatalf("after the change: removed %v (%v), file %q", gone, err, a.AdminPasswordFile())
	}
	a.Close()
	// A file left by a crash after the change goes at the next start.
	os.WriteFile(path, []byte(pw+"\n"), 0o600)
	if a, err = Start(ctx, cfg, log); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for a.AdminPasswordFile() != "" {
		if time.Now().After(deadline) {
			t.Fatal("a spent password's file survived the start")
		}
		time.Sleep(10 * time.Millisecond) // polling, not waiting for an event
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if strings.Contains(logs.String(), pw) {
		t.Fatal("the one-time password is in the log")
	}
}

// shortTimeouts make the timeout tests take seconds.
var shortTimeouts = httpTimeouts{Header: time.Second, Request: time.Second, Write: time.Second, Idle: 2 * time.Second}

// A client that sends a request's headers and then trickles its body, a
// byte every 100 ms, is cut off by the running App once the request
// timeout has passed (before, only the headers had a deadline, and such
// a client held its connection, and a goroutine, for as long as it liked).
func TestSlowRequestBodyIsCutOff(t *testing.T) {
	a := newApp(testConfig(t), slog.New(slog.DiscardHandler))
	a.timeouts = shortTimeouts
	if _, err := a.begin(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c, err := net.Dial("tcp", a.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST /api/login HTTP/1.1\r\nHost: gwanje\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	start := time.Now()
	closed := make(chan struct{})
	go func() { io.Copy(io.Discard, c); close(closed) }() // returns when the server closes
	for {
		select {
		case <-closed:
			if d := time.Since(start); d > shortTimeouts.Request+2*time.Second {
				t.Fatalf("cut off after %v, want about %v", d, shortTimeouts.Request)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Since(start) > 10*time.Second {
			t.Fatal("a trickling request body still holds its connection after 10 s")
		}
		c.Write([]byte(" "))
	}
}

// A response may last far longer than any timeout while the client reads
// it (a live stream, an MP4 download), also after a request body; a
// client that stops reading is cut off after the write timeout.
func TestLongResponsesAndStalledReaders(t *testing.T) {
	const chunk = 64 << 10
	stalled := make(chan time.Duration, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		buf := make([]byte, chunk)
		if r.URL.Path == "/stall" {
			start := time.Now()
			for time.Since(start) < 20*time.Second {
				if _, err := w.Write(buf); err != nil {
					stalled <- time.Since(start)
					return
				}
			}
			stalled <- -1
			return
		}
		for range 30 { // 3 s: three times every timeout
			w.Write(buf[:100])
			w.(http.Flusher).Flush()
			select { // the pace of a live stream, which ends with its request
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = newHTTPServer(h, shortTimeouts, slog.New(slog.DiscardHandler))
	srv.Start()
	defer srv.Close()

	for _, method := range []string{"GET", "POST"} {
		var body io.Reader
		if method == "POST" {
			body = strings.NewReader("a small body")
		}
		req, _ := http.NewRequest(method, srv.URL+"/stream", body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || n != 3000 {
			t.Fatalf("%s: a 3 s response read %d of 3000 bytes: %v", method, n, err)
		}
	}

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(4096)
	}
	fmt.Fprintf(c, "GET /stall HTTP/1.1\r\nHost: gwanje\r\n\r\n")
	bufio.NewReader(c).Peek(1) // the response has begun; now stop reading
	select {
	case d := <-stalled:
		if d < 0 {
			t.Fatal("a client that stopped reading was served for 20 s")
		}
		if d > shortTimeouts.Write+3*time.Second {
			t.Fatalf("stalled reader cut off after %v, want about %v", d, shortTimeouts.Write)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the handler never finished")
	}
}
