package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/app"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/store"
)

func init() {
	register(command{name: "record", summary: "record RTSP cameras into a data directory, without the web server", run: runRecord})
}

// cameraFlags collects -camera id=url flags.
type cameraFlags []ingest.Camera

func (c *cameraFlags) String() string { return fmt.Sprint(len(*c), " cameras") }

func (c *cameraFlags) Set(v string) error {
	id, url, ok := strings.Cut(v, "=")
	if !ok || id == "" || url == "" {
		return fmt.Errorf("want id=rtsp://..., got %q", v)
	}
	*c = append(*c, ingest.Camera{ID: id, URL: url})
	return nil
}

// readCameraList reads "id url" lines; # starts a comment.
func readCameraList(path string) ([]ingest.Camera, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []ingest.Camera
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2 {
			return nil, fmt.Errorf("%s:%d: want \"id rtsp://...\", got %d fields", path, n, len(fields))
		}
		out = append(out, ingest.Camera{ID: fields[0], URL: fields[1]})
	}
	return out, sc.Err()
}

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("record", flag.ContinueOnError)
	fl.SetOutput(stderr)
	var sf storeFlags
	sf.add(fl)
	var cams cameraFlags
	fl.Var(&cams, "camera", "a camera as id=rtsp://host/path (repeatable)")
	list := fl.String("cameras", "", "a file of \"id rtsp://...\" lines")
	dur := fl.Duration("for", 0, "stop after this long (0: until interrupted)")
	segment := fl.Duration("segment", store.DefaultSegmentDuration, "segment duration")
	ramp := fl.Duration("ramp", -1, "spread the cameras' starts over this long (default 20ms per camera, at most 5s; 0: all at once)")
	discard := fl.Bool("discard", false, "receive and assemble the cameras' frames but store nothing (benchmarks: the cost of ingest alone)")
	stats := fl.Bool("stats", false, "print each camera's counters as JSON lines when stopping")
	verbose := fl.Bool("v", false, "log at debug level")
	cpuprofile := fl.String("cpuprofile", "", "write a CPU profile to this file (for benchmarks)")
	memprofile := fl.String("memprofile", "", "write a heap profile to this file when recording stops (for benchmarks)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *list != "" {
		more, err := readCameraList(*list)
		if err != nil {
			return err
		}
		cams = append(cams, more...)
	}
	if len(cams) == 0 {
		return usageError{"no cameras: give -camera id=url or -cameras FILE"}
	}
	lvl := slog.LevelInfo
	if *verbose {
		lvl = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lvl}))
	rec, err := app.StartRecording(ctx, app.RecordingConfig{Dir: sf.data, KeyFile: sf.keyPath(), SegmentDuration: *segment,
		Cameras: cams, Ramp: *ramp, Discard: *discard, Logger: log})
	if err != nil {
		return err
	}
	if *discard {
		log.Info("receiving and discarding", "cameras", len(cams))
	} else {
		log.Info("recording", "cameras", len(cams), "data", sf.data)
	}
	if *dur > 0 {
		select {
		case <-ctx.Done():
		case <-time.After(*dur):
		}
	} else {
		<-ctx.Done()
	}
	states := rec.States()
	if *memprofile != "" {
		// Taken while every camera still records, so the profile shows
		// what recording holds, not what shutdown leaves.
		if err := writeHeapProfile(*memprofile); err != nil {
			log.Error("writing heap profile", "file", *memprofile, "err", err)
		}
	}
	if err := rec.Close(); err != nil {
		return err
	}
	if *stats {
		enc := json.NewEncoder(stdout)
		for _, s := range states {
			enc.Encode(s)
		}
	}
	return nil
}

// writeHeapProfile writes the heap profile as of a fresh garbage
// collection to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	runtime.GC()
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
