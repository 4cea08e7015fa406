package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/camsim"
)

func init() {
	register(command{
		name:    "camsim",
		summary: "serve simulated RTSP cameras looping the built-in clips (for tests and load trials)",
		run:     runCamsim,
	})
}

func runCamsim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("camsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 16, "number of cameras, served at /cam/1 … /cam/N")
	addr := fs.String("addr", "127.0.0.1:8554", "RTSP listen address")
	codec := fs.String("codec", "h264", "codec of the cameras: h264, h265 or mix (alternating)")
	user := fs.String("user", "", "user name clients must give (Basic or Digest); needs -pass-file")
	passFile := fs.String("pass-file", "", "file holding the password (first line)")
	udp := fs.Int("udp-port", 0, "even UDP port for RTP (RTCP uses the next); 0 serves TCP only")
	stagger := fs.Duration("stagger", 0, "delay between successive cameras' first frames")
	verbose := fs.Bool("v", false, "log each session")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{"unexpected arguments: " + strings.Join(fs.Args(), " ")}
	}
	codecs, err := camsim.ParseCodecs(*codec)
	if err != nil {
		return usageError{err.Error()}
	}
	cfg := camsim.Config{Addr: *addr, Cameras: *n, Codecs: codecs, Stagger: *stagger}
	if (*user == "") != (*passFile == "") {
		return usageError{"-user and -pass-file go together"}
	}
	if *user != "" {
		b, err := os.ReadFile(*passFile)
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		pass, _, _ := strings.Cut(string(b), "\n")
		pass = strings.TrimSuffix(pass, "\r")
		if pass == "" {
			return usageError{"password file " + *passFile + " is empty"}
		}
		cfg.User, cfg.Pass = *user, pass
	}
	if *udp != 0 {
		if *udp < 0 || *udp%2 != 0 || *udp > 65534 {
			return usageError{fmt.Sprintf("-udp-port %d: need an even port below 65535", *udp)}
		}
		host, _, err := net.SplitHostPort(*addr)
		if err != nil {
			return usageError{fmt.Sprintf("-addr %q: %v", *addr, err)}
		}
		cfg.UDPRTPAddr = net.JoinHostPort(host, strconv.Itoa(*udp))
		cfg.UDPRTCPAddr = net.JoinHostPort(host, strconv.Itoa(*udp+1))
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	s, err := camsim.Start(cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	for i := 1; i <= s.Cameras(); i++ {
		fmt.Fprintf(stdout, "%s\t%v\n", s.URL(i), s.Codec(i))
	}
	<-ctx.Done()
	start := time.Now()
	err = s.Close()
	cfg.Logger.Info("camera simulator stopped", "took", time.Since(start))
	return err
}
