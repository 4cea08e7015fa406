package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gwanje/gwanje/internal/bench"
)

func init() {
	register(command{name: "bench", summary: "run a benchmark: ingest (gwanje against ffmpeg on the same streams)", run: runBench})
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const usage = "usage: gwanje bench ingest [-n 16,64,256] [-for 60s] [-warmup 10s] [-ffmpeg-max 64] [-ingest-only]"
	if err := subcommand(args, usage, stderr); err != nil {
		return err
	}
	if args[0] != "ingest" {
		return usageError{usage}
	}
	fl := flag.NewFlagSet("bench ingest", flag.ContinueOnError)
	fl.SetOutput(stderr)
	ns := fl.String("n", "16", "comma-separated camera counts")
	window := fl.Duration("for", 60*time.Second, "measurement window per run")
	warmup := fl.Duration("warmup", 10*time.Second, "warm-up before each window")
	ffMax := fl.Int("ffmpeg-max", 64, "also run ffmpeg for camera counts up to this (0: never)")
	verbose := fl.Bool("v", false, "show the recorders' logs")
	ingestOnly := fl.Bool("ingest-only", false, "also run gwanje's ingest alone (record -discard) on the same streams")
	if err := fl.Parse(args[1:]); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ffmpeg, _ := exec.LookPath("ffmpeg")
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "cameras\trecorder\tCPU s/stream-hour\tpeak RSS MiB/stream\twindow RSS MiB/stream\tframes stored\tframes lost\tfailed\tCPU ratio ffmpeg/gwanje\t")
	for _, f := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return usageError{fmt.Sprintf("-n: bad camera count %q", f)}
		}
		dir, err := os.MkdirTemp("", "gwanje-bench-")
		if err != nil {
			return err
		}
		// The machine may be shared: say how busy it was before the run.
		fmt.Fprintf(stderr, "bench: %d cameras: %s\n", n, machineLoad())
		cfg := bench.IngestConfig{Cameras: n, Window: *window, Warmup: *warmup, Gwanje: self, Dir: dir, IngestOnly: *ingestOnly}
		if *verbose {
			cfg.Log = stderr
		}
		if ffmpeg != "" && n <= *ffMax {
			cfg.FFmpeg = ffmpeg
		}
		rep, err := bench.RunIngest(ctx, cfg)
		os.RemoveAll(dir)
		if err != nil {
			return err
		}
		row := func(r bench.Result, ratio string) {
			fmt.Fprintf(tw, "%d\t%s\t%.2f\t%.2f\t%.2f\t%d\t%d\t%d\t%s\t\n", r.Cameras, r.Recorder, r.CPUPerStreamH,
				r.RSSPerStream/(1<<20), r.WindowRSSPerStream/(1<<20), r.FramesStored, r.FramesLost, r.Failed, ratio)
		}
		ratio := "-"
		if rep.FFmpeg != nil && rep.Gwanje.CPUPerStreamH > 0 {
			ratio = fmt.Sprintf("%.1fx", rep.FFmpeg.CPUPerStreamH/rep.Gwanje.CPUPerStreamH)
		}
		row(rep.Gwanje, ratio)
		if rep.IngestOnly != nil {
			row(*rep.IngestOnly, "")
		}
		if rep.FFmpeg != nil {
			row(*rep.FFmpeg, "")
		}
		tw.Flush()
	}
	return nil
}

// machineLoad describes the load average and, where the kernel reports
// it, the I/O pressure.
func machineLoad() string {
	out := "load average unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			out = "load average " + strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/pressure/io"); err == nil {
		if line, _, _ := strings.Cut(string(b), "\n"); line != "" {
			out += ", I/O pressure " + line
		}
	}
	return out
}
