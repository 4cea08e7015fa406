package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRetentionSectionValidated(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"interval", "retention:\n  interval: 0s\n", ":3: retention.interval: must be between 1s and 24h"},
		{"batch", "retention:\n  batch_size: 0\n", ":3: retention.batch_size: must be between 1 and 100000"},
		{"clock margin", "retention:\n  clock_margin: 1s\n", ":3: retention.clock_margin: must be between 1m and 24h"},
		{"clock step", "retention:\n  max_clock_step: 10m\n", ":3: retention.max_clock_step: must be between 1h and 365d"},
		{"percent", "retention:\n  capacity:\n    max_used_percent: 100\n", ":4: retention.capacity.max_used_percent: must be 0 (unset)"},
		{"headroom", "retention:\n  capacity:\n    headroom_percent: 60\n", ":4: retention.capacity.headroom_percent: must be between 0 and 50"},
		{"quota", "retention:\n  capacity:\n    quota: -1GiB\n", "line 4: bad size \"-1GiB\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gwanje.yaml")
			if err := os.WriteFile(p, []byte("data_dir: /d\n"+tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(p, noEnv)
			if err == nil {
				t.Fatal("loaded bad config")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %q", err, tc.want)
			}
		})
	}
}

func TestRetentionSectionLoads(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gwanje.yaml")
	y := "data_dir: /d\nretention:\n  interval: 5m\n  capacity:\n    quota: 2TiB\n    min_free: 50GiB\n"
	if err := os.WriteFile(p, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Retention
	if r.Interval.D() != 5*time.Minute || r.Capacity.Quota != 2<<40 || r.Capacity.MinFree != 50<<30 {
		t.Errorf("retention = %+v", r)
	}
	if r.BatchSize != 4096 || r.Capacity.HeadroomPercent != 5 {
		t.Errorf("defaults lost: %+v", r)
	}
}
