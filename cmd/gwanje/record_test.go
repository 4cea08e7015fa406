package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/camsim"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cameraBytes sums the segment file sizes of one camera.
func cameraBytes(dir, camera string) int64 {
	var n int64
	files, _ := filepath.Glob(filepath.Join(dir, "segments", camera, "*"))
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// TestKill9WhileRecording kills the recorder with SIGKILL while 16 cameras
// record, three times over the same data directory. After each kill,
// start-up recovery must leave `check` clean and every camera's footage
// must reach to within 2 s of the moment of the kill.
func TestKill9WhileRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("records 16 cameras in real time")
	}
	const cameras = 16
	sim, err := camsim.Start(camsim.Config{Addr: "127.0.0.1:0", Cameras: cameras,
		Codecs: []media.Codec{media.CodecH264, media.CodecH265}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	list := filepath.Join(dir, "cameras.txt")
	var lines []string
	for i := 1; i <= cameras; i++ {
		lines = append(lines, fmt.Sprintf("cam-%02d %s", i, sim.URL(i)))
	}
	os.WriteFile(list, []byte(strings.Join(lines, "\n")+"\n"), 0o600)

	for round := 1; round <= 3; round++ {
		before := map[string]int64{}
		for i := 1; i <= cameras; i++ {
			id := fmt.Sprintf("cam-%02d", i)
			before[id] = cameraBytes(data, id)
		}
		cmd := exec.Command(os.Args[0], "record", "-data", data, "-cameras", list, "-segment", "10s")
		cmd.Env = append(os.Environ(), "GWANJE_TEST_MAIN=1")
		logf, _ := os.Create(filepath.Join(dir, fmt.Sprintf("record-%d.log", round)))
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let every camera write about 4 s (1 MB at 2 Mbit/s) this round.
		waitFor(t, 60*time.Second, "every camera to record this round", func() bool {
			for id, b := range before {
				if cameraBytes(data, id)-b < 1_000_000 {
					return false
				}
			}
			return true
		})
		killedAt := time.Now()
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		logf.Close()

		// Restart: Open runs recovery.
		keys, err := seal.LoadKeyFile(filepath.Join(data, "keys", "master.key"))
		if err != nil {
			t.Fatal(err)
		}
		st, err := store.Open(context.Background(), store.Config{Dir: data, Keys: keys})
		if err != nil {
			t.Fatalf("round %d: reopening after kill: %v", round, err)
		}
		for i := 1; i <= cameras; i++ {
			id := fmt.Sprintf("cam-%02d", i)
			segs, err := st.Segments(context.Background(), id, 0, 1<<62)
			if err != nil || len(segs) == 0 {
				t.Fatalf("round %d: %s: no segments (%v)", round, id, err)
			}
			last := segs[len(segs)-1]
			lost := killedAt.Sub(media.FromTime90k(last.End))
			if lost > 2*time.Second {
				t.Errorf("round %d: %s: footage ends %v before the kill (limit 2s)", round, id, lost)
			}
			if last.Open {
				t.Errorf("round %d: %s: segment %d still open after recovery", round, id, last.ID)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err := store.Check(context.Background(), data, keys, true)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range rep.Violations {
			t.Errorf("round %d: check: %v", round, v)
		}
	}
}
