package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/config"
)

func init() {
	register(command{name: "serve", summary: "record the registry's cameras and serve the web UI, API and policy", run: runServe})
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("serve", flag.ContinueOnError)
	fl.SetOutput(stderr)
	path := fl.String("config", os.Getenv("GWANJE_CONFIG"), "configuration file (env GWANJE_CONFIG; docs/ref/gwanje.example.yaml)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, os.Getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	a, err := app.Start(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(stdout, "gwanje: serving %s\n", a.URL())
	if f := a.AdminPasswordFile(); f != "" {
		// The path only: standard output goes to the journal.
		fmt.Fprintf(stdout, "gwanje: the first administrator \"admin\" has a one-time password in %s "+
			"(readable by this service account only; removed once the password is changed at the first login)\n", f)
	}
	<-ctx.Done()
	log.Info("stopping")
	return nil
}
