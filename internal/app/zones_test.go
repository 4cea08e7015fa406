package app

import (
	"os"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/registry"
)

// web learns a camera's privacy zones from the registry through the
// app's cameras: the zones of jb-02, none for another camera or an
// unknown one.
func TestAppCamerasPrivacyZones(t *testing.T) {
	good, err := os.ReadFile("../../testdata/registry/jeonbuk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const anchor = "          - id: jb-02\n"
	src := strings.Replace(string(good), anchor, anchor+
		"            privacy_zones:\n              - name: 옆집 창문\n                points: [[0.6, 0.05], [0.95, 0.05], [0.95, 0.4]]\n", 1)
	if src == string(good) {
		t.Fatal("mutation did not apply")
	}
	reg, err := registry.Parse("jeonbuk.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c := appCameras{&App{reg: reg}}
	z := c.PrivacyZones("jb-02")
	if len(z) != 1 || z[0].Name != "옆집 창문" || len(z[0].Points) != 3 || z[0].Points[2].Y != 0.4 {
		t.Fatalf("jb-02: %+v", z)
	}
	if z := c.PrivacyZones("jb-01"); len(z) != 0 {
		t.Errorf("jb-01: %+v", z)
	}
	if z := c.PrivacyZones("no-such"); z != nil {
		t.Errorf("unknown camera: %+v", z)
	}
	if z := (appCameras{&App{}}).PrivacyZones("jb-02"); z != nil {
		t.Errorf("no registry: %+v", z)
	}
}
