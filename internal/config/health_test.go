package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The health, alarms and metrics sections are validated hard, naming the
// key (and the line when it is a mapping key).
func TestHealthSectionsValidated(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"stall seen as down", "health:\n  no_video: 90s\n", ":2: health.no_video: must be between 1s and 1m"},
		{"no_video not below read_timeout", "ingest:\n  read_timeout: 5s\nhealth:\n  no_video: 5s\n", "health.no_video: must be shorter than ingest.read_timeout"},
		{"check interval", "health:\n  check_interval: 10s\n", ":2: health.check_interval: must be between"},
		{"free percent", "health:\n  min_free_percent: 0\n", "health.min_free_percent: must be above 0"},
		{"webhook url", "alarms:\n  webhooks:\n    - url: ftp://x/?token=hunter2\n", "alarms.webhooks[0].url: must be an http"},
		{"webhook secret", "alarms:\n  webhooks:\n    - url: https://x/\n      secret_file: s\n", "alarms.webhooks[0].secret_file: must be an absolute path"},
		{"metrics mode", "metrics:\n  access: open\n", ":2: metrics.access: must be off, session, token or network"},
		{"metrics perm", "metrics:\n  access: session\n  permission: everything\n", ":3: metrics.permission: must be one of"},
		{"metrics token", "metrics:\n  access: token\n", "metrics.token_file: access: token needs"},
		{"metrics network", "metrics:\n  access: network\n  networks: [10.0.0.0/33]\n", "metrics.networks[0]: want a network"},
		{"metrics no network", "metrics:\n  access: network\n", "metrics.networks: access: network needs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gwanje.yaml")
			os.WriteFile(p, []byte("data_dir: /d\n"+tc.yaml), 0o600)
			_, err := Load(p, noEnv)
			if err == nil {
				t.Fatal("loaded bad config")
			}
			// The yaml above starts on line 2 of the file.
			want := tc.want
			for i := 9; i >= 1; i-- {
				want = strings.Replace(want, ":"+string(rune('0'+i))+": ", ":"+string(rune('0'+i+1))+": ", 1)
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %q", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q echoes a webhook URL", err)
			}
		})
	}
}

func TestMetricsNetworks(t *testing.T) {
	c := Default()
	c.Metrics = Metrics{Access: MetricsNetwork, Networks: []string{"10.1.2.3/8", "::1/128"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got := c.MetricsNetworks()
	if len(got) != 2 || got[0].String() != "10.0.0.0/8" || got[1].String() != "::1/128" {
		t.Fatalf("networks %v", got)
	}
}
