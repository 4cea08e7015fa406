package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/config"
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
  gwanje ledger verify [-config FILE] [-data DIR] [-pubkey FILE | -fingerprint HEX] [-witness DIR] [-checkpoints FILE] [-key FILE]
  gwanje ledger key [-config FILE] [-data DIR] [-o FILE]
  gwanje ledger rotate-key [-config FILE] [-data DIR] -actor NAME
  gwanje ledger export -from DATE -to DATE [-site ID] [-kind K,...] [-all] -format csv|xlsx|pdf -o FILE
                       [-data DIR] [-institution NAME] [-font FILE]

The signing key, the witness and the trusted key come from the configuration
(-config, env GWANJE_CONFIG, and GWANJE_LEDGER_*; docs/ref/cli.md); flags override.`

func runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, ledgerUsage, stderr); err != nil {
		return err
	}
	switch args[0] {
	case "verify":
		return runLedgerVerify(ctx, args[1:], stdout, stderr)
	case "key":
		return runLedgerKey(ctx, args[1:], stdout, stderr)
	case "rotate-key":
		return runLedgerRotateKey(ctx, args[1:], stdout, stderr)
	case "export":
		return runLedgerExport(ctx, args[1:], stdout, stderr)
	}
	return usageError{fmt.Sprintf("unknown ledger command %q\n%s", args[0], ledgerUsage)}
}

// ledgerFlags are the flags of every ledger command that finds the
// ledger's keys: the configuration, and the data directory over it.
type ledgerFlags struct {
	config, data string
	fl           *flag.FlagSet
}

func (f *ledgerFlags) add(fl *flag.FlagSet) {
	f.fl = fl
	fl.StringVar(&f.config, "config", os.Getenv("GWANJE_CONFIG"), "configuration file for the ledger section (env GWANJE_CONFIG)")
	fl.StringVar(&f.data, "data", defaultDataDir(), "data directory holding ledger.db (env GWANJE_DATA_DIR; default the configuration's)")
}

// load reads the configuration (defaults, file, GWANJE_* environment) and
// puts -data over it when given.
func (f *ledgerFlags) load() (*config.Config, error) {
	cfg, err := config.Load(f.config, os.Getenv)
	if err != nil {
		return nil, err
	}
	if f.config == "" || (f.fl != nil && isSet(f.fl, "data")) {
		cfg.DataDir = f.data
	}
	return cfg, nil
}

func isSet(fl *flag.FlagSet, name string) bool {
	set := false
	fl.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// ledgerOptionsFor are the options the ledger of cfg opens with: its
// signing key and witness.
func ledgerOptionsFor(cfg *config.Config, log *slog.Logger) ledger.Options {
	return ledger.Options{Dir: cfg.DataDir, KeyPath: cfg.LedgerKeyFile(), Witnesses: ledger.ConfigWitnesses(cfg.Ledger.WitnessDir, cfg.Ledger.Syslog), Logger: log}
}

// ledgerOptions are the options a command that appends to the ledger of
// data opens it with: the signing key and witness from the configuration
// (env GWANJE_CONFIG and GWANJE_LEDGER_*), so a key kept outside the data
// directory is found.
func ledgerOptions(data string, log *slog.Logger) (ledger.Options, error) {
	cfg, err := config.Load(os.Getenv("GWANJE_CONFIG"), os.Getenv)
	if err != nil {
		return ledger.Options{}, err
	}
	cfg.DataDir = data
	return ledgerOptionsFor(cfg, log), nil
}

// errLedgerDamaged makes verify exit non-zero after printing the damage.
type errLedgerDamaged struct{ p *ledger.Problem }

func (e errLedgerDamaged) Error() string { return "ledger damaged: " + e.p.String() }

func runLedgerVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ledger verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var lf ledgerFlags
	lf.add(fl)
	key := fl.String("key", "", "the signing key, read only without a trusted key (default ledger.signing_key_file)")
	pubkey := fl.String("pubkey", "", "trust this public key file, kept outside the data directory (default ledger.trusted_public_key)")
	fingerprint := fl.String("fingerprint", "", "trust the key with this SHA-256 fingerprint, 64 hex digits (default ledger.trusted_fingerprint)")
	witness := fl.String("witness", "", "witness directory to compare with (default ledger.witness_dir)")
	cps := fl.String("checkpoints", "", "an external checkpoint file to compare with as well")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{ledgerUsage}
	}
	cfg, err := lf.load()
	if err != nil {
		return err
	}
	opt := ledger.VerifyOptions{Dir: cfg.DataDir, KeyPath: cfg.LedgerKeyFile(), CheckpointFile: *cps}
	if *key != "" {
		opt.KeyPath = *key
	}
	if *pubkey == "" && *fingerprint == "" {
		*pubkey, *fingerprint = cfg.Ledger.TrustedPublicKey, cfg.Ledger.TrustedFingerprint
	}
	if *pubkey != "" {
		pub, err := ledger.ReadPublicKey(*pubkey)
		if err != nil {
			return err
		}
		opt.Trust = append(opt.Trust, pub)
	}
	if *fingerprint != "" {
		opt.Fingerprints = append(opt.Fingerprints, *fingerprint)
	}
	if *witness == "" {
		*witness = cfg.Ledger.WitnessDir
	}
	if *witness != "" {
		opt.Witnesses = append(opt.Witnesses, ledger.DirWitness(*witness))
	}
	rep, err := ledger.Verify(ctx, opt)
	if err != nil {
		return err
	}
	if !rep.Anchored {
		fmt.Fprintln(stderr, "WARNING: no trusted key given (-pubkey, -fingerprint, ledger.trusted_public_key or ledger.trusted_fingerprint):\n"+
			"  this check trusts the key found in the data directory, and proves nothing against someone who can write there.")
	}
	if len(opt.Witnesses) == 0 {
		fmt.Fprintln(stderr, "WARNING: no witness given (-witness or ledger.witness_dir): checkpoints deleted from ledger.db,\n"+
			"  and the entries they sealed then rewritten, cannot be detected.")
	}
	fmt.Fprintf(stdout, "ledger %s: %d entries checked (last seq %d), %d checkpoints (%d in witnesses), signed through %d\n",
		filepath.Join(cfg.DataDir, ledger.DBName), rep.Entries, rep.LastSeq, rep.Checkpoints, rep.External, rep.SignedThrough)
	for _, k := range rep.Keys {
		last := "onward"
		if k.Last != 0 {
			last = fmt.Sprint("to ", k.Last)
		}
		trusted := ""
		if k.Fingerprint == rep.Trusted {
			trusted = " (trusted)"
		}
		fmt.Fprintf(stdout, "key %s signs entries %d %s%s\n", k.ID, k.First, last, trusted)
	}
	if rep.Anchored && rep.LastSeq > 0 && rep.SignedThrough == 0 {
		fmt.Fprintln(stderr, "WARNING: no entry is sealed by a checkpoint of the trusted key: the chain proves nothing by itself.")
	}
	if rep.Unwitnessed > 0 {
		fmt.Fprintf(stdout, "note: %d checkpoints of the ledger are in no witness (the witness was added later, or failed: see the log)\n", rep.Unwitnessed)
	}
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

// runLedgerKey prints the current signing key's id and fingerprint, and
// writes its public key for safekeeping outside the data directory.
func runLedgerKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ledger key", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var lf ledgerFlags
	lf.add(fl)
	out := fl.String("o", "", "write the public key to this file (keep it outside the data directory)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{ledgerUsage}
	}
	cfg, err := lf.load()
	if err != nil {
		return err
	}
	k, err := ledger.LoadKey(cfg.LedgerKeyFile())
	if err != nil {
		return err
	}
	pub := k.Public()
	fmt.Fprintf(stdout, "key id:      %s\nfingerprint: %s\nkey file:    %s\n", k.ID, ledger.Fingerprint(pub), cfg.LedgerKeyFile())
	if *out != "" {
		if err := ledger.WritePublicKey(*out, pub); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote the public key to %s\n", *out)
	}
	return nil
}

// runLedgerRotateKey replaces the checkpoint signing key (gwanje serve
// stopped).
func runLedgerRotateKey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("ledger rotate-key", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var lf ledgerFlags
	lf.add(fl)
	actor := fl.String("actor", "", "who rotates the key (recorded in the ledger)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 || *actor == "" {
		return usageError{ledgerUsage}
	}
	cfg, err := lf.load()
	if err != nil {
		return err
	}
	l, err := ledger.Open(ctx, ledgerOptionsFor(cfg, slog.New(slog.NewTextHandler(stderr, nil))))
	if err != nil {
		return err
	}
	old := l.Key()
	e, err := l.RotateKey(ctx, *actor, "local")
	if cerr := l.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	k := l.Key()
	fmt.Fprintf(stdout, "rotated the ledger signing key at entry %d: %s → %s\nnew fingerprint: %s\n"+
		"Keep the new fingerprint (or `gwanje ledger key -o FILE`) outside the data directory beside the old one;\n"+
		"verify accepts either, and trusting the newest makes a stolen retired key useless.\n",
		e.Seq, old.ID, k.ID, ledger.Fingerprint(k.Public()))
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
