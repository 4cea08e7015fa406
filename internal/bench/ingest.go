package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/ingest"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// IngestConfig describes one run of the ingest benchmark.
type IngestConfig struct {
	// Cameras is the number of simulated 2 Mbit/s H.264 cameras.
	Cameras int
	// Window is how long usage is measured, after every recorder has
	// connected and a warm-up has passed.
	Window time.Duration
	// Warmup passes before the window starts.
	Warmup time.Duration
	// Gwanje is the gwanje binary that runs `gwanje record`.
	Gwanje string
	// FFmpeg, when set, also records the same streams with one
	// `ffmpeg -rtsp_transport tcp -i URL -c copy` process per camera.
	FFmpeg string
	// IngestOnly also runs `gwanje record -discard` on the same streams:
	// ingest without the store, to tell the two costs apart.
	IngestOnly bool
	// Dir holds the data directories and ffmpeg outputs.
	Dir string
	Log io.Writer
}

// Result is what one recorder used for N streams.
type Result struct {
	Recorder      string
	Cameras       int
	Window        time.Duration
	CPU           time.Duration // over the window, all processes
	PeakRSS       int64         // sum over processes of their peak resident set, start-up included
	WindowRSS     int64         // highest sum of the processes' resident sets sampled in the window
	FramesLost    int64         // frames expected from the streams' spans minus frames stored
	FramesStored  int64
	Failed        int     // recorder processes whose output was unreadable
	CPUPerStreamH float64 // CPU-seconds per stream-hour
	RSSPerStream  float64 // bytes: PeakRSS / Cameras
	// WindowRSSPerStream is WindowRSS / Cameras: the memory of recording
	// once every camera runs, without the start-up transient.
	WindowRSSPerStream float64
}

// IngestReport is one run: gwanje and, when asked, ffmpeg.
type IngestReport struct {
	Gwanje     Result
	IngestOnly *Result // gwanje's ingest alone, when asked
	FFmpeg     *Result
}

// RunIngest runs the benchmark once.
func RunIngest(ctx context.Context, cfg IngestConfig) (*IngestReport, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: cfg.Cameras,
		// Spread the cameras' first frames over two seconds, as cameras
		// powered on together would be; every camera streams the whole
		// window.
		Codecs: []media.Codec{media.CodecH264}, Stagger: 2 * time.Second / time.Duration(cfg.Cameras)})
	if err != nil {
		return nil, err
	}
	defer sim.Close()
	rep := &IngestReport{}
	g, err := runGwanje(ctx, cfg, sim)
	if err != nil {
		return nil, fmt.Errorf("gwanje: %w", err)
	}
	rep.Gwanje = *g
	if cfg.IngestOnly {
		d, err := runDiscard(ctx, cfg, sim)
		if err != nil {
			return nil, fmt.Errorf("gwanje record -discard: %w", err)
		}
		rep.IngestOnly = d
	}
	if cfg.FFmpeg != "" {
		f, err := runFFmpeg(ctx, cfg, sim)
		if err != nil {
			return nil, fmt.Errorf("ffmpeg: %w", err)
		}
		rep.FFmpeg = f
	}
	return rep, nil
}

func (r *Result) finish() {
	streamHours := float64(r.Cameras) * r.Window.Hours()
	if streamHours > 0 {
		r.CPUPerStreamH = r.CPU.Seconds() / streamHours
	}
	if r.Cameras > 0 {
		r.RSSPerStream = float64(r.PeakRSS) / float64(r.Cameras)
		r.WindowRSSPerStream = float64(r.WindowRSS) / float64(r.Cameras)
	}
}

// window waits for the warm-up, then measures the processes' CPU over the
// window. It returns that, their peak RSS at the end (start-up included),
// and the highest sum of their RSS sampled every 250 ms in the window.
func window(ctx context.Context, cfg IngestConfig, pids []int) (cpu time.Duration, peak, inWindow int64, err error) {
	select {
	case <-ctx.Done():
		return 0, 0, 0, ctx.Err()
	case <-time.After(cfg.Warmup):
	}
	sum := func() (time.Duration, int64, int64, error) {
		var cpu time.Duration
		var rss, peak int64
		for _, pid := range pids {
			u, err := ReadUsage(pid)
			if err != nil {
				return 0, 0, 0, err
			}
			cpu += u.CPU
			rss += u.RSS
			peak += u.PeakRSS
		}
		return cpu, rss, peak, nil
	}
	c0, rss, _, err := sum()
	if err != nil {
		return 0, 0, 0, err
	}
	inWindow = rss
	end := time.After(cfg.Window)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return 0, 0, 0, ctx.Err()
		case <-tick.C:
			_, rss, _, err := sum()
			if err != nil {
				return 0, 0, 0, err
			}
			inWindow = max(inWindow, rss)
		case <-end:
			c1, rss, peak, err := sum()
			return c1 - c0, peak, max(inWindow, rss), err
		}
	}
}

func runGwanje(ctx context.Context, cfg IngestConfig, sim *camsim.Server) (*Result, error) {
	dir := filepath.Join(cfg.Dir, "gwanje")
	list := filepath.Join(cfg.Dir, "cameras.txt")
	var b strings.Builder
	for i := 1; i <= cfg.Cameras; i++ {
		fmt.Fprintf(&b, "cam-%03d %s\n", i, sim.URL(i))
	}
	if err := os.WriteFile(list, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, cfg.Gwanje, "record", "-data", dir, "-cameras", list, "-stats")
	stats, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cfg.Log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "bench: gwanje record pid %d, %d cameras\n", cmd.Process.Pid, cfg.Cameras)
	cpu, rss, wrss, werr := window(ctx, cfg, []int{cmd.Process.Pid})
	cmd.Process.Signal(syscall.SIGTERM)
	var states []ingest.State
	sc := bufio.NewScanner(stats)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s ingest.State
		if json.Unmarshal(sc.Bytes(), &s) == nil {
			states = append(states, s)
		}
	}
	if err := cmd.Wait(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, werr
	}
	r := &Result{Recorder: "gwanje", Cameras: cfg.Cameras, Window: cfg.Window, CPU: cpu, PeakRSS: rss, WindowRSS: wrss}
	// Frames lost: for each camera, the frames its recorded span should
	// hold at 25 fps minus the frames stored.
	keys, err := seal.LoadKeyFile(filepath.Join(dir, "keys", "master.key"))
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, store.Config{Dir: dir, Keys: keys})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	for i := 1; i <= cfg.Cameras; i++ {
		segs, err := st.Segments(ctx, fmt.Sprintf("cam-%03d", i), 0, 1<<62)
		if err != nil {
			return nil, err
		}
		if len(segs) == 0 {
			r.FramesLost += int64(cfg.Window.Seconds() * 25)
			continue
		}
		var frames int64
		for _, s := range segs {
			frames += int64(s.Frames)
		}
		span := segs[len(segs)-1].End - segs[0].Start
		want := (span + media.Hz/50) / (media.Hz / 25)
		r.FramesStored += frames
		if want > frames {
			r.FramesLost += want - frames
		}
	}
	_ = states // counters are in the log when needed
	r.finish()
	return r, nil
}

// runDiscard measures `gwanje record -discard`: frames are received and
// assembled, then dropped. FramesStored counts the frames ingest handed
// over; FramesLost those it dropped because the (empty) sink fell behind.
func runDiscard(ctx context.Context, cfg IngestConfig, sim *camsim.Server) (*Result, error) {
	list := filepath.Join(cfg.Dir, "cameras.txt")
	cmd := exec.CommandContext(ctx, cfg.Gwanje, "record", "-discard", "-cameras", list, "-stats")
	stats, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cfg.Log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	cpu, rss, wrss, werr := window(ctx, cfg, []int{cmd.Process.Pid})
	cmd.Process.Signal(syscall.SIGTERM)
	r := &Result{Recorder: "gwanje ingest only", Cameras: cfg.Cameras, Window: cfg.Window, CPU: cpu, PeakRSS: rss, WindowRSS: wrss}
	sc := bufio.NewScanner(stats)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s ingest.State
		if json.Unmarshal(sc.Bytes(), &s) == nil {
			r.FramesStored += int64(s.Frames)
			r.FramesLost += int64(s.Overruns)
		}
	}
	if err := cmd.Wait(); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return nil, werr
	}
	r.finish()
	return r, nil
}

func runFFmpeg(ctx context.Context, cfg IngestConfig, sim *camsim.Server) (*Result, error) {
	dir := filepath.Join(cfg.Dir, "ffmpeg")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var cmds []*exec.Cmd
	var pids []int
	stop := func() {
		for _, c := range cmds {
			c.Process.Signal(syscall.SIGINT)
		}
		for _, c := range cmds {
			c.Wait()
		}
	}
	for i := 1; i <= cfg.Cameras; i++ {
		out := filepath.Join(dir, fmt.Sprintf("cam-%03d.mkv", i))
		c := exec.CommandContext(ctx, cfg.FFmpeg, "-nostdin", "-loglevel", "error", "-rtsp_transport", "tcp",
			"-i", sim.URL(i), "-c", "copy", "-f", "matroska", out)
		c.Stderr = cfg.Log
		if err := c.Start(); err != nil {
			stop()
			return nil, err
		}
		cmds = append(cmds, c)
		pids = append(pids, c.Process.Pid)
	}
	fmt.Fprintf(cfg.Log, "bench: %d ffmpeg processes\n", len(cmds))
	cpu, rss, wrss, err := window(ctx, cfg, pids)
	stop()
	if err != nil {
		return nil, err
	}
	r := &Result{Recorder: "ffmpeg", Cameras: cfg.Cameras, Window: cfg.Window, CPU: cpu, PeakRSS: rss, WindowRSS: wrss}
	probe := filepath.Join(filepath.Dir(cfg.FFmpeg), "ffprobe")
	for i := 1; i <= cfg.Cameras; i++ {
		out := filepath.Join(dir, fmt.Sprintf("cam-%03d.mkv", i))
		b, err := exec.CommandContext(ctx, probe, "-v", "error", "-select_streams", "v:0", "-count_packets",
			"-show_entries", "stream=nb_read_packets:format=duration", "-of", "default=nw=1:nk=1", out).Output()
		f := strings.Fields(string(b))
		if err != nil || len(f) < 2 {
			// An ffmpeg that could not write a readable file recorded
			// nothing usable: every frame of the window is lost.
			fmt.Fprintf(cfg.Log, "bench: ffprobe %s: %v\n", out, err)
			r.Failed++
			r.FramesLost += int64(cfg.Window.Seconds() * 25)
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		d, _ := strconv.ParseFloat(f[1], 64)
		r.FramesStored += n
		if want := int64(d*25 + 0.5); want > n {
			r.FramesLost += want - n
		}
	}
	r.finish()
	return r, nil
}
