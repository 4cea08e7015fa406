package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func noEnv(string) string { return "" }

// Every example configuration shipped in docs must load.
func TestShippedExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("../../docs/ref/*.example.yaml")
	if len(files) == 0 {
		t.Fatal("no shipped example configuration found")
	}
	for _, f := range files {
		c, err := Load(f, noEnv)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if c.KeyFile() != "/etc/gwanje/master.key" {
			t.Errorf("%s: key file %q", f, c.KeyFile())
		}
	}
}

func TestDefaultsValid(t *testing.T) {
	if err := Default().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestBadInputNamesFileLineAndKey(t *testing.T) {
	cases := []struct {
		name, yaml, want string
	}{
		{"unknown key", "data_dir: /d\nlisten_addr: x\n", "line 2: field listen_addr not found"},
		{"bad duration", "recording:\n  segment_duration: 5 minutes\n", "line 2: bad duration"},
		{"out of range", "data_dir: /d\nrecording:\n  segment_duration: 2s\n", ":3: recording.segment_duration: must be between"},
		{"relative dir", "data_dir: data\n", ":1: data_dir: must be an absolute path"},
		{"bad size", "ingest:\n  max_frame_size: lots\n", "line 2: bad size"},
		{"bad zone", "time_zone: Mars/Olympus\n", ":1: time_zone: unknown time zone"},
		{"tls half", "tls_cert: /c\n", "tls_cert and tls_key must be set together"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "gwanje.yaml")
			os.WriteFile(p, []byte(tc.yaml), 0o600)
			_, err := Load(p, noEnv)
			if err == nil {
				t.Fatal("loaded bad config")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %q and the file", err, tc.want)
			}
		})
	}
}

func TestEnvironmentOverridesFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "gwanje.yaml")
	os.WriteFile(p, []byte("data_dir: /from/file\n"), 0o600)
	c, err := Load(p, func(k string) string {
		if k == "GWANJE_DATA_DIR" {
			return "/from/env"
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/from/env" {
		t.Errorf("data_dir = %q", c.DataDir)
	}
	if c.KeyFile() != "/from/env/keys/master.key" {
		t.Errorf("key file = %q", c.KeyFile())
	}
}

func TestUnits(t *testing.T) {
	d, err := ParseDuration("30d")
	if err != nil || d.D() != 30*24*time.Hour {
		t.Errorf("30d = %v, %v", d, err)
	}
	for _, s := range []string{"", "-1d", "xd", "1y"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", s)
		}
	}
	b, err := ParseByteSize("8MiB")
	if err != nil || b != 8<<20 || b.String() != "8MiB" {
		t.Errorf("8MiB = %v (%s), %v", int64(b), b, err)
	}
	for _, s := range []string{"", "-1", "1.5MiB", "99999999999TiB"} {
		if _, err := ParseByteSize(s); err == nil {
			t.Errorf("ParseByteSize(%q) succeeded", s)
		}
	}
}
