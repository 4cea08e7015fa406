package main

import (
	"context"
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/seal"
)

func init() {
	register(command{name: "export", summary: "make an evidence package (반출 증거 패키지) through the server, or verify one: every hash and the signature", run: runExport})
}

const exportUsage = `usage: gwanje export create -user NAME -camera ID -from TIME -to TIME -purpose CODE -reason TEXT ... (gwanje export create -h)
       gwanje export verify [-pubkey FILE | -fingerprint HEX] PACKAGE...
       gwanje export key [-data DIR] [-o FILE]`

// errPackages makes export verify exit non-zero after printing.
type errPackages int

func (e errPackages) Error() string { return fmt.Sprintf("%d packages failed verification", int(e)) }

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, exportUsage, stderr); err != nil {
		return err
	}
	switch args[0] {
	case "verify":
	case "create":
		return runExportCreate(ctx, args[1:], os.Stdin, stdout, stderr)
	case "key":
		return runExportKey(args[1:], stdout, stderr)
	default:
		return usageError{exportUsage}
	}
	fl := flag.NewFlagSet("export verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	pubFile := fl.String("pubkey", "", "public-key file of the institution, obtained apart from the package")
	fp := fl.String("fingerprint", "", "SHA-256 fingerprint (64 hex digits) of the institution's key, obtained apart from the package")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() == 0 || *pubFile != "" && *fp != "" {
		return usageError{exportUsage}
	}
	var trust export.Trust
	if *pubFile != "" {
		b, err := os.ReadFile(*pubFile)
		if err != nil {
			return err
		}
		var pub ed25519.PublicKey
		if pub, err = export.ParsePublicKey(*pubFile, b); err != nil {
			return err
		}
		trust.PublicKey = pub
	}
	if *fp != "" {
		h := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(*fp), ":", ""))
		if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			return usageError{"-fingerprint must be 64 hex digits (the key's SHA-256)"}
		}
		trust.Fingerprint = h
	}
	failed := 0
	for _, p := range fl.Args() {
		v, err := export.VerifyFile(p, trust)
		if err != nil {
			fmt.Fprintf(stdout, "%s: FAIL: %v\n", p, err)
			failed++
			continue
		}
		for _, pr := range v.Problems {
			fmt.Fprintf(stdout, "%s: FAIL: %s\n", p, pr)
		}
		if !v.OK() {
			failed++
			continue
		}
		m := v.Manifest
		trusted := "the package's own key, not checked against a key from the institution (give -pubkey or -fingerprint)"
		if v.Trusted {
			trusted = "the trusted key"
		}
		fmt.Fprintf(stdout, "%s: OK: %d clips of %s to %s for %s, ledger row %d; signed by key %s (fingerprint %s), %s\n",
			p, len(m.Clips), m.From.Format(time.RFC3339), m.To.Format(time.RFC3339), m.Recipient, m.LedgerSeq,
			v.KeyID, v.Fingerprint, trusted)
	}
	if failed > 0 {
		return errPackages(failed)
	}
	return nil
}

// runExportKey prints the export signing key's id and fingerprint (what
// the institution tells recipients apart from the package), creating the
// key if gwanje never exported yet; -o writes its public-key file.
func runExportKey(args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("export key", flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory (env GWANJE_DATA_DIR)")
	out := fl.String("o", "", "write the public key (mode 0644) to this file, for recipients")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{exportUsage}
	}
	path := export.DefaultKeyPath(*data)
	k, err := export.LoadOrCreateKey(path)
	if err != nil {
		return err
	}
	if *out != "" {
		if err := durable.WriteFile(*out, export.PublicKeyText(k.Public()), 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "export signing key %s\nfingerprint %s\nfile %s\n", k.ID, seal.Fingerprint(k.Public()), path)
	return nil
}
