package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

func init() {
	register(command{name: "policy", summary: "render, publish and check the 영상정보처리기기 운영·관리 방침, signs and the request form", run: runPolicy})
}

const policyUsage = `usage:
  gwanje policy render   [-registry FILE | -data DIR] [-facts LIST] [-format md|html|pdf] [-lang ko|en] [-o FILE]
  gwanje policy sign     [-registry FILE | -data DIR] -site ID [-o FILE]     A4 안내판 (PDF)
  gwanje policy form     [-registry FILE | -data DIR] [-o FILE]              별지 제1호 청구서 (PDF)
  gwanje policy publish  -data DIR [-facts LIST] [-notice-days N] [-actor NAME]
                                                                            publish the registry's last revision
  gwanje policy adopt    -data DIR [-facts LIST] [-actor NAME] [FILE ...]   bring in the version(s) in force before gwanje,
                                                                            with their past dates: each FILE a registry of one
                                                                            past version, oldest first (default DIR/registry.yaml);
                                                                            only before the first publish
  gwanje policy versions -data DIR                                          list published versions
  gwanje policy drift    -data DIR                                          compare the registry with the version in effect

-facts lists what the running system does (encryption, password, differentiated, access-logging,
revoke, periodic, viewing-room, lock); the registry's safety: block adds its declared measures.`

func runPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, policyUsage, stderr); err != nil {
		return err
	}
	fs := flag.NewFlagSet("policy "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	regFile := fs.String("registry", "", "registry YAML file (default DIR/registry.yaml)")
	data := fs.String("data", "", "data directory")
	factList := fs.String("facts", "", "comma-separated facts about the running system")
	format := fs.String("format", "md", "md, html or pdf")
	lang := fs.String("lang", "ko", "language of the rendered policy: ko, or en from the registry's english: table")
	out := fs.String("o", "", "output file (default stdout)")
	site := fs.String("site", "", "site id")
	notice := fs.Int("notice-days", 7, "least notice between announcement and effect")
	actor := fs.String("actor", "", "who publishes, for the 관리대장 (default: the system user)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 && args[0] != "adopt" {
		return usageError{policyUsage}
	}
	loadReg := func() (*registry.Registry, error) {
		switch {
		case *regFile != "":
			return registry.Load(*regFile)
		case *data != "":
			return registry.Load(registryPath(*data))
		}
		return nil, usageError{"give -registry FILE or -data DIR"}
	}
	facts, err := policy.ParseFacts(*factList)
	if err != nil {
		return err
	}
	write := func(b []byte) error {
		if *out == "" {
			_, err := stdout.Write(b)
			return err
		}
		return os.WriteFile(*out, b, 0o644)
	}
	openStore := func() (*policy.Store, error) {
		if *data == "" {
			return nil, usageError{"give -data DIR"}
		}
		st, err := policy.OpenStore(filepath.Join(*data, "policy"), clock.Real{})
		if err != nil {
			return nil, err
		}
		st.NoticeDays = *notice
		return st, nil
	}
	// localized words a refused publication in the chosen language,
	// keeping the detail (paths, dates) in English below it.
	localized := func(err error) error {
		c := errs.CodeOf(err)
		if c == errs.KindOf(err).Code() || !i18n.Has(string(c)) {
			return err
		}
		return fmt.Errorf("%s\n(%w)", i18n.T(i18n.Parse(*lang), string(c), errs.ParamsOf(err)), err)
	}
	// withLedger opens the 관리대장 of DIR for the rows of a publication.
	withLedger := func(st *policy.Store) (func(), error) {
		led, err := ledger.Open(ctx, ledger.Options{Dir: *data, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
		if err != nil {
			return nil, err
		}
		st.Ledger = led
		return func() { led.Close() }, nil
	}

	switch args[0] {
	case "render", "sign", "form":
		r, err := loadReg()
		if err != nil {
			return err
		}
		var b bytes.Buffer
		switch {
		case args[0] == "sign":
			if *site == "" {
				return usageError{"give -site ID"}
			}
			err = policy.SignPDF(r, *site, &b)
		case args[0] == "form":
			err = policy.RequestFormPDF(r, &b)
		default:
			doc := policy.Build(r, facts.Declared(r), policy.Options{})
			if *lang == "en" {
				if doc, err = policy.BuildEnglish(r, facts.Declared(r), policy.Options{}); err != nil {
					return err
				}
			}
			switch *format {
			case "md":
				b.WriteString(doc.Markdown())
			case "html":
				var h []byte
				h, err = doc.HTML()
				b.Write(h)
			case "pdf":
				err = doc.PDF(&b)
			default:
				return usageError{"-format must be md, html or pdf"}
			}
		}
		if err != nil {
			return err
		}
		return write(b.Bytes())
	case "publish":
		r, err := loadReg()
		if err != nil {
			return err
		}
		st, err := openStore()
		if err != nil {
			return err
		}
		closeLedger, err := withLedger(st)
		if err != nil {
			return err
		}
		defer closeLedger()
		v, err := st.PublishAs(ctx, r, facts.Declared(r), actorOr(*actor))
		if err != nil {
			return localized(err)
		}
		fmt.Fprintf(stdout, "published version %d: announced %s, effective %s\n", v.Number, v.Announced, v.Effective)
		return nil
	case "adopt":
		st, err := openStore()
		if err != nil {
			return err
		}
		files := fs.Args()
		if len(files) == 0 {
			files = []string{registryPath(*data)}
		}
		var regs []*registry.Registry
		for _, f := range files {
			r, err := registry.Load(f)
			if err != nil {
				return err
			}
			regs = append(regs, r)
		}
		closeLedger, err := withLedger(st)
		if err != nil {
			return err
		}
		defer closeLedger()
		for _, r := range regs {
			v, err := st.AdoptAs(ctx, r, facts.Declared(r), actorOr(*actor))
			if err != nil {
				return localized(err)
			}
			fmt.Fprintf(stdout, "adopted version %d: announced %s, effective %s\n", v.Number, v.Announced, v.Effective)
		}
		return nil
	case "versions":
		st, err := openStore()
		if err != nil {
			return err
		}
		vs, err := st.Versions()
		if err != nil {
			return err
		}
		for _, v := range vs {
			adopted := ""
			if v.Adopted {
				adopted = " (adopted: in force before gwanje)"
			}
			fmt.Fprintf(stdout, "%d\tannounced %s\teffective %s\t%s%s\n", v.Number, v.Announced, v.Effective, v.Summary, adopted)
		}
		return nil
	case "drift":
		r, err := loadReg()
		if err != nil {
			return err
		}
		st, err := openStore()
		if err != nil {
			return err
		}
		cur, _, err := st.Current()
		if err != nil {
			return err
		}
		diffs := policy.Drift(cur.Snapshot, policy.SnapshotOf(r))
		for _, d := range diffs {
			fmt.Fprintln(stdout, d)
		}
		if len(diffs) > 0 {
			return fmt.Errorf("the registry no longer matches published version %d (%d differences)", cur.Number, len(diffs))
		}
		fmt.Fprintf(stdout, "the registry matches published version %d\n", cur.Number)
		return nil
	}
	return usageError{policyUsage}
}
