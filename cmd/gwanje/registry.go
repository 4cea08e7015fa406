package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

func init() {
	register(command{name: "registry", summary: "check, import or export the registry (sites, cameras, people, retention) as YAML", run: runRegistry})
}

const registryUsage = `usage:
  gwanje registry check [-lang ko|en] FILE                      validate FILE and summarise it
  gwanje registry import -data DIR [-actor NAME] [-lang ko|en] FILE
                                                                validate FILE and make it the registry in DIR, as written
                                                                (comments kept); the 관리대장 records who changed what
  gwanje registry export -data DIR                              write the registry in DIR to stdout`

func runRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, registryUsage, stderr); err != nil {
		return err
	}
	fs := flag.NewFlagSet("registry "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory holding registry.yaml")
	lang := fs.String("lang", "ko", "language of problems: ko or en")
	actor := fs.String("actor", "", "who makes the change, for the 관리대장 (default: the system user)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	// problems prints every problem of an invalid registry in the chosen
	// language and returns a short error for the exit status.
	problems := func(err error) error {
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			l := i18n.Parse(*lang)
			fmt.Fprintln(stderr, ve.Text(l))
			return errors.New(i18n.T(l, string(errs.CodeOf(err)), errs.ParamsOf(err)))
		}
		return err
	}
	switch args[0] {
	case "check":
		if fs.NArg() != 1 {
			return usageError{registryUsage}
		}
		r, err := registry.Load(fs.Arg(0))
		if err != nil {
			return problems(err)
		}
		printSummary(stdout, r)
		return nil
	case "import":
		if fs.NArg() != 1 || *data == "" {
			return usageError{registryUsage}
		}
		if err := os.MkdirAll(*data, 0o750); err != nil {
			return err
		}
		r, old, err := registry.Import(fs.Arg(0), registryPath(*data))
		if err != nil {
			return problems(err)
		}
		printSummary(stdout, r)
		fmt.Fprintf(stdout, "imported into %s\n", registryPath(*data))
		return recordRegistryChange(ctx, *data, actorOr(*actor), fs.Arg(0), old, r, stderr)
	case "export":
		if fs.NArg() != 0 || *data == "" {
			return usageError{registryUsage}
		}
		// The file as imported, comments and layout included; it is
		// validated first so a damaged file is not passed on.
		if _, err := registry.Load(registryPath(*data)); err != nil {
			return problems(err)
		}
		out, err := os.ReadFile(registryPath(*data))
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	return usageError{registryUsage}
}

// actorOr is the named actor, or the system user running the command.
func actorOr(name string) string {
	if name != "" {
		return name
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return "unknown"
}

// recordRegistryChange appends the 관리대장 row of an import: who, from
// which file (and its hash), and each promise that changed, as the policy's
// drift names them.
func recordRegistryChange(ctx context.Context, dir, actor, src string, old, cur *registry.Registry, stderr io.Writer) error {
	data, err := os.ReadFile(registryPath(dir))
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	var changes []string
	if old == nil {
		changes = append(changes, "first registry")
	} else {
		changes = policy.Changes(policy.SnapshotOf(old), policy.SnapshotOf(cur))
		if len(changes) == 0 {
			changes = append(changes, "no change to what the policy promises")
		}
	}
	led, err := ledger.Open(ctx, ledger.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return fmt.Errorf("the registry was imported but the 관리대장 could not be opened to record it: %w", err)
	}
	defer led.Close()
	_, err = led.Append(ctx, ledger.Entry{Kind: ledger.RegistryChange, Actor: actor,
		Object:  fmt.Sprintf("registry.yaml sha256=%s (from %s)", hex.EncodeToString(sum[:]), filepath.Base(src)),
		Purpose: "등록정보 변경", Detail: strings.Join(changes, "; ")})
	if err != nil {
		return fmt.Errorf("the registry was imported but its 관리대장 row could not be written: %w", err)
	}
	return nil
}

func registryPath(dataDir string) string { return filepath.Join(dataDir, "registry.yaml") }

func printSummary(w io.Writer, r *registry.Registry) {
	fmt.Fprintf(w, "%s: %d sites, %d cameras, %d connected\n", r.Organization.Name, len(r.Sites), r.CameraCount(), len(r.StreamCameras()))
	for i := range r.Sites {
		s := &r.Sites[i]
		note := ""
		if c := s.Connected(); c < s.CameraCount() {
			note = fmt.Sprintf(" (%d not yet connected)", s.CameraCount()-c)
		}
		fmt.Fprintf(w, "  %-12s %-16s %3d cameras%s, retention %s, storage %s\n", s.ID, s.Name, s.CameraCount(), note, s.Retention, s.Storage)
	}
}
