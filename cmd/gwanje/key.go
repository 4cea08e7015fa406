package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

func init() {
	register(command{name: "key", summary: "manage footage master keys: new, rotate, ids", run: runKey})
}

// storeFlags are the flags of every command that opens the data directory.
type storeFlags struct {
	data, keyfile string
}

func (f *storeFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.data, "data", defaultDataDir(), "data directory (env GWANJE_DATA_DIR)")
	fs.StringVar(&f.keyfile, "keyfile", os.Getenv("GWANJE_MASTER_KEY_FILE"),
		"master key file (env GWANJE_MASTER_KEY_FILE; default <data>/keys/master.key)")
}

func (f *storeFlags) keyPath() string {
	if f.keyfile != "" {
		return f.keyfile
	}
	return filepath.Join(f.data, "keys", "master.key")
}

// keys loads the master keys (app.LoadKeys): from the environment
// variable GWANJE_MASTER_KEY if set, else from the key file; it never
// creates one.
func (f *storeFlags) keys() (*seal.Keyring, error) { return app.LoadKeys(f.keyPath(), false, nil) }

func runKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const help = "usage: gwanje key new|rotate|ids [-data DIR] [-keyfile FILE]"
	if err := subcommand(args, help, stderr); err != nil {
		return err
	}
	sub := args[0]
	fl := flag.NewFlagSet("key "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	var sf storeFlags
	sf.add(fl)
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{help}
	}
	switch sub {
	case "new":
		path := sf.keyPath()
		var r *seal.Keyring
		_, err := os.Stat(path)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
				return err
			}
			r, err = seal.CreateKeyFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "created %s with key %s\n", path, r.Active())
		case err != nil:
			return err
		default:
			if r, err = seal.AddKey(path); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "added key %s to %s; it is now active. Run 'gwanje key rotate' with the recorder stopped,\n"+
				"then remove the older lines once 'gwanje check' reports no segment under them.\n", r.Active(), path)
		}
		return nil
	case "ids":
		r, err := sf.keys()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s (active: last)\n", strings.Join(r.IDs(), "\n"))
		return nil
	case "rotate":
		r, err := sf.keys()
		if err != nil {
			return err
		}
		s, err := store.Open(ctx, store.Config{Dir: sf.data, Keys: r})
		if err != nil {
			return err
		}
		n, err := s.Rotate(ctx)
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("rewrapped %d segments, then: %w", n, err)
		}
		fmt.Fprintf(stdout, "rewrapped %d segments under key %s; no segment needs an older key\n", n, r.Active())
		return nil
	}
	return usageError{help}
}
