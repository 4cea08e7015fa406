// Command gwanje is a CCTV recorder and video-information management system:
// it records IP cameras around the clock into encrypted storage, serves
// playback only against a ledger entry, and publishes the institution's
// 영상정보처리기기 운영·관리 방침 from the same registry that drives it.
//
// Each subcommand lives in its own file and registers itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of gwanje.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

// register adds a subcommand; each subcommand file calls it from init.
func register(c command) {
	if _, dup := commands[c.name]; dup {
		panic("gwanje: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

func main() { os.Exit(runMain(os.Args[1:])) }

// runMain runs gwanje with args as the process does: SIGINT and SIGTERM
// end the command's context. It returns the exit status.
func runMain(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || isHelp(args[0]) {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "gwanje: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if err := c.run(ctx, args[1:], stdout, stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gwanje %s: %v\n", c.name, err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// subcommand checks the first argument of a command that has subcommands:
// none is a usage error; a request for help prints usage on stderr and
// returns flag.ErrHelp (exit status 0).
func subcommand(args []string, usage string, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{usage}
	}
	if isHelp(args[0]) {
		fmt.Fprintln(stderr, usage)
		return flag.ErrHelp
	}
	return nil
}

// usageError marks an error in the command line itself (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gwanje <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'gwanje <command> -h' for a command's flags.")
}
