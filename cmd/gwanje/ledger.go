package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"github.com/gwanje/gwanje/internal/config"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/ledger/report"
)

func init() {
	register(command{name: "ledger", summary: "verify the 관리대장 chain, or export it as CSV, XLSX or PDF", run: runLedger})
}

// defaultDataDir is the data directory unless -data says otherwise.
func defaultDataDir() string {
	if d := os.Getenv("GWANJE_DATA_DIR"); d != "" {
		return d
	}
	return config.Default().DataDir
}

const ledgerUsage = `usage:
  gwanje ledger verify [-data DIR] [-key FILE] [-checkpoints FILE]
  gwanje ledger export -from DATE -to DATE [-site ID] [-kind K,...] [-all] -format csv|xlsx|pdf -o FILE
                       [-data DIR] [-institution NAME] [-font FILE]`

func runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, ledgerUsage, stderr); err != nil {
		return err
	}
	switch args[0] {
	case "verify":
		return runLedgerVerify(ctx, args[1:], stdout, stderr)
	case "export":
		return runLedgerExport(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown ledger command %q\n%s", args[0], ledgerUsage)}
}

// errLedgerDamaged makes verify exit non-zero after printing the damage.
type errLedgerDamaged struct{ p *ledger.Problem }

func (e errLedgerDamaged) Error() string { return "ledger damaged: " + e.p.String() }

func runLedgerVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory holding ledger.db (env GWANJE_DATA_DIR)")
	key := fl.String("key", "", "checkpoint signing key (default <data>/keys/ledger-signing.key)")
	cps := fl.String("checkpoints", "", "external checkpoint file to check as well")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{ledgerUsage}
	}
	rep, err := ledger.Verify(ctx, ledger.VerifyOptions{Dir: *data, KeyPath: *key, CheckpointFile: *cps})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ledger %s: %d entries checked (last seq %d), %d checkpoints (%d external), signed through %d\n",
		filepath.Join(*data, ledger.DBName), rep.Entries, rep.LastSeq, rep.Checkpoints, rep.External, rep.SignedThrough)
	if !rep.OK() {
		fmt.Fprintf(stdout, "FIRST BAD ENTRY: %d (%s): %s\n", rep.Problem.Seq, rep.Problem.Damage, rep.Problem.Detail)
		return errLedgerDamaged{rep.Problem}
	}
	if rep.LastSeq > rep.SignedThrough {
		fmt.Fprintf(stdout, "ok; entries %d to %d chain correctly but are not yet sealed by a checkpoint\n", rep.SignedThrough+1, rep.LastSeq)
	} else {
		fmt.Fprintln(stdout, "ok")
	}
	return nil
}

// parseDay accepts 2006-01-02 (start of that day, KST) or RFC 3339.
func parseDay(flagName, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", s, report.KST); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usageError{fmt.Sprintf("-%s %q: want YYYY-MM-DD (KST) or RFC 3339", flagName, s)}
}

func runLedgerExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ledger export", flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory holding ledger.db (env GWANJE_DATA_DIR)")
	from := fl.String("from", "", "first day (YYYY-MM-DD, KST) or RFC 3339 time")
	to := fl.String("to", "", "last day, inclusive (YYYY-MM-DD, KST) or RFC 3339 time (exclusive)")
	site := fl.String("site", "", "only this site")
	kinds := fl.String("kind", "", "only these kinds, comma-separated ("+kindNames()+")")
	all := fl.Bool("all", false, "include kinds outside the official 관리대장 (logins, user changes, checks...)")
	format := fl.String("format", "", "csv, xlsx or pdf")
	out := fl.String("o", "", "output file")
	inst := fl.String("institution", "", "institution name for the title")
	font := fl.String("font", "", "TrueType font for PDF (default "+report.DefaultFont+")")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 || *out == "" || *format == "" {
		return usageError{ledgerUsage}
	}
	f, err := report.ParseFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	filt := ledger.Filter{Site: *site, Official: !*all}
	if filt.From, err = parseDay("from", *from); err != nil {
		return err
	}
	if filt.To, err = parseDay("to", *to); err != nil {
		return err
	}
	if len(*to) == len("2006-01-02") {
		filt.To = filt.To.AddDate(0, 0, 1) // the whole last day
	}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			kk, err := ledger.ParseKind(strings.TrimSpace(k))
			if err != nil {
				return usageError{err.Error()}
			}
			filt.Kinds = append(filt.Kinds, kk)
		}
		filt.Official = false
	}
	es, err := ledger.QueryDir(ctx, *data, filt)
	if err != nil {
		return err
	}
	tmp := *out + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return errs.E("ledger.export", errs.IO, err)
	}
	w := bufio.NewWriter(fh)
	meta := report.Meta{Institution: *inst, Site: *site, From: filt.From, To: filt.To, Generated: time.Now()}
	if err := report.Write(w, f, es, meta, *font); err != nil {
		fh.Close()
		os.Remove(tmp)
		return err
	}
	if err := w.Flush(); err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, *out)
	}
	if err != nil {
		os.Remove(tmp)
		return errs.E("ledger.export", errs.IO, err)
	}
	fmt.Fprintf(stdout, "wrote %d entries to %s\n", len(es), *out)
	return nil
}

func kindNames() string {
	var ns []string
	for _, k := range ledger.Kinds() {
		ns = append(ns, k.String())
	}
	return strings.Join(ns, ", ")
}
