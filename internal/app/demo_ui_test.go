package app

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/registry"
)

// The demo's cameras have distinct names and sit on two sites with names,
// so the pages show a name, not an id or one location four times.
func TestDemoRegistryNamesAndSites(t *testing.T) {
	for _, n := range []int{1, 4, 9} {
		var cams []DemoCamera
		for i := 1; i <= n; i++ {
			cams = append(cams, DemoCamera{ID: fmt.Sprintf("demo-%d", i), URL: fmt.Sprintf("rtsp://127.0.0.1:8554/cam%d", i)})
		}
		y, err := RenderDemoRegistry(cams, "2026-12-03")
		if err != nil {
			t.Fatal(err)
		}
		reg, err := registry.Parse("demo.yaml", []byte(y))
		if err != nil {
			t.Fatalf("%d cameras: %v\n%s", n, err, y)
		}
		names, sites := map[string]bool{}, map[string]bool{}
		for _, c := range cams {
			site, _, cam, ok := reg.Camera(c.ID)
			if !ok {
				t.Fatalf("%d cameras: %s missing", n, c.ID)
			}
			if cam.Name == "" || names[cam.Name] {
				t.Errorf("%d cameras: %s has name %q (empty or shared)", n, c.ID, cam.Name)
			}
			names[cam.Name] = true
			if site.Name == "" {
				t.Errorf("%d cameras: site %s has no name", n, site.ID)
			}
			sites[site.ID] = true
		}
		if n > 1 && len(sites) != 2 {
			t.Errorf("%d cameras on %d sites, want 2", n, len(sites))
		}
	}
}

// A temporary demo removes its footage at exit, so it does not open with
// the warning that every recording is lost without a key backup.
func TestTemporaryDemoHasNoKeyBackupWarning(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a demo")
	}
	var logs bytes.Buffer
	d, err := StartDemo(context.Background(), DemoConfig{Cameras: 1, Addr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	if strings.Contains(logs.String(), "back it up") || strings.Contains(logs.String(), "lost") {
		t.Errorf("a temporary demo warns about its master key:\n%s", logs.String())
	}
}
