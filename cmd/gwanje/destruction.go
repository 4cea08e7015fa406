package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/registry"
	"github.com/gwanje/gwanje/internal/retention"
)

func init() {
	register(command{name: "destruction", summary: "verify destruction receipts (파기 확인서): signature, keys and files gone", run: runDestruction})
	register(command{name: "hold", summary: "add, list or release holds that keep footage from destruction", run: runHold})
	register(command{name: "retention", summary: "run retention once, show its status, or accept a clock that moved far ahead", run: runRetention})
}

const destructionUsage = "usage: gwanje destruction verify [-data DIR] [-key FILE] RECEIPT..."

// errReceipts makes destruction verify exit non-zero after printing.
type errReceipts int

func (e errReceipts) Error() string { return fmt.Sprintf("%d receipts failed verification", int(e)) }

func runDestruction(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, destructionUsage, stderr); err != nil {
		return err
	}
	if args[0] != "verify" {
		return usageError{destructionUsage}
	}
	fl := flag.NewFlagSet("destruction verify", flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory the receipt is about (env GWANJE_DATA_DIR); \"\" checks the signature only")
	key := fl.String("key", "", "receipt signing key to compare with (default <data>/keys/receipt-signing.key)")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() == 0 {
		return usageError{destructionUsage}
	}
	failed := 0
	for _, p := range fl.Args() {
		v, err := retention.VerifyReceipt(p, *data, *key)
		if err != nil {
			fmt.Fprintf(stdout, "%s: FAIL: %v\n", p, err)
			failed++
			continue
		}
		r := v.Receipt
		for _, pr := range v.Problems {
			fmt.Fprintf(stdout, "%s: FAIL: %s\n", p, pr)
		}
		status := "OK"
		if !v.OK() {
			status = "FAIL"
			failed++
		}
		led := v.Ledger
		if v.LedgerRow != 0 {
			led = fmt.Sprintf("파기 row #%d", v.LedgerRow)
		}
		fmt.Fprintf(stdout, "%s: %s: camera %s, %d segments (%d bytes) of %s to %s destroyed %s for %s by %s; signed by key %s (local key: %s); ledger: %s\n",
			p, status, r.Camera, len(r.Segments), r.Bytes, r.From.Format(time.RFC3339), r.To.Format(time.RFC3339),
			r.DestroyedAt.Format(time.RFC3339), r.Reason, actorName(r.Actor), v.KeyID, v.LocalKey, led)
	}
	if failed > 0 {
		return errReceipts(failed)
	}
	return nil
}

func actorName(a string) string {
	if a == "" {
		return "the system"
	}
	return a
}

const holdUsage = `usage: gwanje hold add -reason TEXT -actor NAME -from TIME -to TIME [-camera ID,...] [-data DIR] [-tz ZONE]
       gwanje hold list [-all] [-data DIR]
       gwanje hold release -actor NAME [-data DIR] ID`

func runHold(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, holdUsage, stderr); err != nil {
		return err
	}
	fl := flag.NewFlagSet("hold "+args[0], flag.ContinueOnError)
	fl.SetOutput(stderr)
	data := fl.String("data", defaultDataDir(), "data directory (env GWANJE_DATA_DIR)")
	tz := fl.String("tz", "Asia/Seoul", "time zone of -from and -to without an offset")
	reason := fl.String("reason", "", "why the footage is held")
	actor := fl.String("actor", "", "who places or releases the hold")
	from := fl.String("from", "", "start of the footage held: 2006-01-02, 2006-01-02T15:04 or RFC 3339")
	to := fl.String("to", "", "end of the footage held (exclusive), same forms")
	cams := fl.String("camera", "", "comma-separated camera ids (default every camera)")
	all := fl.Bool("all", false, "list released holds too")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	// Placing and releasing a hold is recorded in the ledger (the CLI may
	// append while gwanje serve runs: the ledger reads its head inside
	// each write transaction).
	var led ledger.Appender
	if args[0] == "add" || args[0] == "release" {
		lo, err := ledgerOptions(*data, slog.New(slog.NewTextHandler(stderr, nil)))
		if err != nil {
			return err
		}
		l, err := ledger.Open(ctx, lo)
		if err != nil {
			return err
		}
		defer l.Close()
		led = l
	}
	hs, err := retention.OpenHolds(ctx, *data, led, nil)
	if err != nil {
		return err
	}
	defer hs.Close()
	switch args[0] {
	case "add":
		loc, err := time.LoadLocation(*tz)
		if err != nil {
			return usageError{fmt.Sprintf("-tz %q: %v", *tz, err)}
		}
		f, err := parseWhen(*from, loc)
		if err != nil {
			return usageError{"-from: " + err.Error()}
		}
		t, err := parseWhen(*to, loc)
		if err != nil {
			return usageError{"-to: " + err.Error()}
		}
		h := retention.Hold{Owner: retention.OwnerManual, Reason: *reason, Actor: *actor, From: f, To: t}
		if *cams != "" {
			h.Cameras = strings.Split(*cams, ",")
		}
		h, err = hs.Add(ctx, h)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "hold %d placed\n", h.ID)
		return nil
	case "list":
		list, err := hs.List(ctx, *all)
		if err != nil {
			return err
		}
		for _, h := range list {
			cams := "every camera"
			if len(h.Cameras) > 0 {
				cams = strings.Join(h.Cameras, ",")
			}
			state := "active"
			if !h.Active() {
				state = "released " + h.Released.Format(time.RFC3339) + " by " + h.ReleasedBy
			}
			fmt.Fprintf(stdout, "%d\t%s %s\t%s\t%s to %s\t%s (by %s, %s)\t%s\n", h.ID, h.Owner, h.Ref, cams,
				h.From.Format(time.RFC3339), h.To.Format(time.RFC3339), h.Reason, actorName(h.Actor), h.Created.Format(time.RFC3339), state)
		}
		return nil
	case "release":
		if fl.NArg() != 1 || *actor == "" {
			return usageError{holdUsage}
		}
		id, err := strconv.ParseInt(fl.Arg(0), 10, 64)
		if err != nil {
			return usageError{"hold id must be a number"}
		}
		if err := hs.Release(ctx, id, *actor); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "hold %d released\n", id)
		return nil
	}
	return usageError{holdUsage}
}

// parseWhen reads RFC 3339, 2006-01-02T15:04 or 2006-01-02 (in loc).
func parseWhen(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, f := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(f, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: want 2006-01-02, 2006-01-02T15:04 or RFC 3339", s)
}

const retentionUsage = `usage: gwanje retention run [-data DIR] [-keyfile FILE] [-registry FILE] [-tz ZONE] [-quota SIZE] [-batch N]
       gwanje retention status [same flags] [-json]
       gwanje retention accept-clock -actor NAME [-data DIR]`

func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if err := subcommand(args, retentionUsage, stderr); err != nil {
		return err
	}
	sub := args[0]
	fl := flag.NewFlagSet("retention "+sub, flag.ContinueOnError)
	fl.SetOutput(stderr)
	var sf storeFlags
	sf.add(fl)
	regFile := fl.String("registry", "", "registry YAML (default <data>/registry.yaml if present; else every camera keeps 30 days)")
	tz := fl.String("tz", "Asia/Seoul", "the institution's time zone")
	quota := fl.String("quota", "", "footage quota, e.g. 500G (capacity deletion beyond it)")
	batch := fl.Int("batch", 0, "segments per index transaction (default 4096)")
	actor := fl.String("actor", "", "who accepts the clock")
	asJSON := fl.Bool("json", false, "status as JSON")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	if fl.NArg() != 0 {
		return usageError{retentionUsage}
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	if sub == "accept-clock" {
		if *actor == "" {
			return usageError{"accept-clock needs -actor NAME"}
		}
		if err := retention.AcceptClock(ctx, sf.data, time.Now(), *actor, log); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "clock accepted: the next retention run proceeds from now")
		return nil
	}
	if sub != "run" && sub != "status" {
		return usageError{retentionUsage}
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil {
		return usageError{fmt.Sprintf("-tz %q: %v", *tz, err)}
	}
	var cfg retention.Config
	cfg.BatchSize = *batch
	if *quota != "" {
		q, err := config.ParseByteSize(*quota)
		if err != nil {
			return usageError{"-quota: " + err.Error()}
		}
		cfg.Capacity.Quota = q
	}
	var reg *registry.Registry
	path := *regFile
	if path == "" {
		if _, err := os.Stat(registryPath(sf.data)); err == nil {
			path = registryPath(sf.data)
		}
	}
	if path != "" {
		if reg, err = registry.Load(path); err != nil {
			return err
		}
		if *tz == "Asia/Seoul" {
			loc = reg.Location()
		}
	}
	lo, err := ledgerOptions(sf.data, nil)
	if err != nil {
		return err
	}
	eng, err := app.OpenRetention(ctx, app.RetentionConfig{Dir: sf.data, KeyFile: sf.keyPath(), Registry: reg,
		Location: loc, Config: cfg, Ledger: lo, Logger: log})
	if err != nil {
		return err
	}
	defer eng.Close()
	if sub == "status" {
		s, err := eng.Status(ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(s)
		}
		printStatus(stdout, s)
		return nil
	}
	rep, err := eng.RunOnce(ctx)
	if err != nil {
		return err
	}
	if rep.Refused != "" {
		fmt.Fprintf(stdout, "refused: %s\n", rep.Refused)
		return errors.New("retention run refused because of the clock")
	}
	fmt.Fprintf(stdout, "destroyed %d expired and %d capacity segments; %d receipts; %d due but held; %d bytes could not be freed\n",
		rep.Expired, rep.Capacity, len(rep.Receipts), rep.DueHeld, rep.Short)
	for _, r := range rep.Receipts {
		fmt.Fprintf(stdout, "  %s\n", retention.ReceiptPath(sf.data, r.ID))
	}
	return nil
}

func printStatus(w io.Writer, s *retention.Status) {
	fmt.Fprintf(w, "footage %d bytes", s.Bytes)
	if s.Quota > 0 {
		fmt.Fprintf(w, " of quota %d", s.Quota)
	}
	fmt.Fprintf(w, "; file system %d of %d bytes free; %d active holds\n", s.FSFree, s.FSTotal, s.Holds)
	if s.ClockProblem != "" {
		fmt.Fprintf(w, "CLOCK: %s\n", s.ClockProblem)
	}
	fmt.Fprintln(w, "camera\tpromised\tkeep since\toldest held\tsegments\tbytes\tdue but held\tpromise")
	for _, c := range s.Cameras {
		state := "kept"
		if c.Broken {
			state = "BROKEN until " + c.BrokenUntil.Format(time.RFC3339)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", c.Camera, c.PromisedKorean, c.KeepSince.Format(time.RFC3339),
			c.Oldest.Format(time.RFC3339), c.Segments, c.Bytes, c.DueHeld, state)
	}
}
