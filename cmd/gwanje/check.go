package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

func init() {
	register(command{name: "check", summary: "verify the data directory's storage invariants", run: runCheck})
}

// errViolations makes check exit non-zero after printing the violations.
type errViolations int

func (e errViolations) Error() string { return fmt.Sprintf("%d invariant violations", int(e)) }

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("check", flag.ContinueOnError)
	fl.SetOutput(stderr)
	full := fl.Bool("full", false, "also hash every file and decrypt every chunk (needs the master keys)")
	var sf storeFlags
	sf.add(fl)
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{"usage: gwanje check [-full] [-data DIR] [-keyfile FILE]"}
	}
	var keys *seal.Keyring
	if *full {
		var err error
		if keys, err = sf.keys(); err != nil {
			return err
		}
	}
	rep, err := store.Check(ctx, sf.data, keys, *full)
	if err != nil {
		return err
	}
	for _, v := range rep.Violations {
		fmt.Fprintln(stdout, v)
	}
	mode := "quick"
	if rep.Full {
		mode = "full"
	}
	fmt.Fprintf(stdout, "%s check of %s: %d segments, %d files, %d garbage entries, %d violations\n",
		mode, sf.data, rep.Segments, rep.Files, rep.Garbage, len(rep.Violations))
	if !rep.OK() {
		return errViolations(len(rep.Violations))
	}
	return nil
}
