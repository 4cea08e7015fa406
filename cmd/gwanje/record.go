package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/recorder"
	"github.com/gwanje/gwanje/internal/seal"
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

// loadOrCreateKeys loads the master keys, creating the key file on first
// run. It never creates a key when GWANJE_MASTER_KEY is set.
func loadOrCreateKeys(sf *storeFlags, log *slog.Logger) (*seal.Keyring, error) {
	k, err := sf.keys()
	if err == nil || os.Getenv("GWANJE_MASTER_KEY") != "" || !errors.Is(err, fs.ErrNotExist) {
		return k, err
	}
	if err := os.MkdirAll(filepath.Dir(sf.keyPath()), 0o700); err != nil {
		return nil, err
	}
	k, err = seal.CreateKeyFile(sf.keyPath())
	if err == nil {
		log.Info("created a new footage master key; back it up apart from the footage", "file", sf.keyPath(), "key_id", k.Active())
	}
	return k, err
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
	log.Debug("garbage collector", "memory_limit", recorder.TuneGC(len(cams)))
	if *discard {
		return recordDiscard(ctx, cams, *dur, log, stdout, *stats)
	}
	keys, err := loadOrCreateKeys(&sf, log)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, store.Config{Dir: sf.data, Keys: keys, SegmentDuration: *segment, Logger: log})
	if err != nil {
		return err
	}
	rec := recorder.New(st, ingest.Options{Logger: log})
	// Cameras start a few milliseconds apart (-ramp), so hundreds of
	// first segments, each an index commit, do not all wait at once with
	// their frames queued in memory.
	if *ramp < 0 {
		*ramp = min(time.Duration(len(cams))*20*time.Millisecond, 5*time.Second)
	}
	step := time.Duration(0)
	if len(cams) > 1 {
		step = *ramp / time.Duration(len(cams)-1)
	}
	for i, c := range cams {
		if i > 0 && step > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(step):
			}
		}
		if err := rec.Start(ctx, c); err != nil {
			rec.Close()
			st.Close()
			return err
		}
	}
	log.Info("recording", "cameras", len(cams), "data", sf.data)
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
	rec.Close()
	if err := st.Close(); err != nil {
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

// discardSink takes frames and keeps nothing.
type discardSink struct{}

func (discardSink) WriteFrame(*media.Frame) error { return nil }
func (discardSink) Break(string)                  {}
func (discardSink) CopiesFrames() bool            { return true }

// recordDiscard runs ingest for cams with a sink that keeps nothing, so a
// benchmark can tell ingest's cost from the store's.
func recordDiscard(ctx context.Context, cams []ingest.Camera, dur time.Duration, log *slog.Logger, stdout io.Writer, stats bool) error {
	if dur > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, dur)
		defer cancel()
	}
	var sups []*ingest.Supervisor
	var wg sync.WaitGroup
	for _, c := range cams {
		sup, err := ingest.New(c, discardSink{}, ingest.Options{Logger: log})
		if err != nil {
			return err
		}
		sups = append(sups, sup)
		wg.Add(1)
		go func() {
			defer wg.Done()
			sup.Run(ctx)
		}()
	}
	log.Info("receiving and discarding", "cameras", len(cams))
	<-ctx.Done()
	var states []ingest.State
	for _, sup := range sups {
		states = append(states, sup.State())
	}
	wg.Wait()
	if stats {
		enc := json.NewEncoder(stdout)
		for _, st := range states {
			enc.Encode(st)
		}
	}
	return nil
}
