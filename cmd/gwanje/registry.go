package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/registry"
)

func init() {
	register(command{name: "registry", summary: "check, import or export the registry (sites, cameras, people, retention) as YAML", run: runRegistry})
}

const registryUsage = `usage:
  gwanje registry check FILE              validate FILE and summarise it
  gwanje registry import -data DIR FILE   validate FILE and make it the registry in DIR
  gwanje registry export -data DIR        write the registry in DIR as YAML to stdout`

func runRegistry(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{registryUsage}
	}
	fs := flag.NewFlagSet("registry "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "data directory holding registry.yaml")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	switch args[0] {
	case "check":
		if fs.NArg() != 1 {
			return usageError{registryUsage}
		}
		r, err := registry.Load(fs.Arg(0))
		if err != nil {
			return err
		}
		printSummary(stdout, r)
		return nil
	case "import":
		if fs.NArg() != 1 || *data == "" {
			return usageError{registryUsage}
		}
		r, err := registry.Load(fs.Arg(0))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(*data, 0o750); err != nil {
			return err
		}
		if err := r.Save(registryPath(*data)); err != nil {
			return err
		}
		printSummary(stdout, r)
		fmt.Fprintf(stdout, "imported into %s\n", registryPath(*data))
		return nil
	case "export":
		if fs.NArg() != 0 || *data == "" {
			return usageError{registryUsage}
		}
		r, err := registry.Load(registryPath(*data))
		if err != nil {
			return err
		}
		out, err := r.Marshal()
		if err != nil {
			return err
		}
		_, err = stdout.Write(out)
		return err
	}
	return usageError{registryUsage}
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
