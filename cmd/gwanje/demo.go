package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"github.com/gwanje/gwanje/internal/app"
)

func init() {
	register(command{name: "demo", summary: "run a simulator, the recorder and the web server on a temporary directory", run: runDemo})
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("demo", flag.ContinueOnError)
	fl.SetOutput(stderr)
	n := fl.Int("cameras", 4, "number of simulated cameras (every fourth is H.265)")
	addr := fl.String("addr", "127.0.0.1:8080", "web address (a free port is used if this one is taken)")
	keep := fl.String("data", "", "keep the data in this directory instead of a temporary one")
	verbose := fl.Bool("v", false, "log at debug level")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 256 {
		return usageError{"-cameras must be between 1 and 256"}
	}
	lvl := slog.LevelWarn
	if *verbose {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))

	d, err := app.StartDemo(ctx, app.DemoConfig{Cameras: *n, Addr: *addr, Dir: *keep, Logger: log})
	if err != nil {
		return err
	}
	defer d.Close()
	fmt.Fprintf(stdout, `gwanje demo: %d simulated cameras are recording into %s

  open        %s
  log in as   %s  (관리책임자: live view and playback of every site)
  password    %s  (one-time: you will be asked to change it)
  live view   %slive  (실시간 영상 in the menu)
  playback    %splayback  (녹화 영상 재생: any day, from a timeline)
  the policy  %spolicy  (public, generated from the registry)

The administrator "admin" (시스템관리자: users and configuration, no footage) has
password %s. Stop with Ctrl-C; the temporary data is then removed.
`, *n, d.Dir, d.URL(), d.Manager, d.ManagerPassword, d.URL(), d.URL(), d.URL(), d.AdminPassword)
	<-ctx.Done()
	return nil
}
