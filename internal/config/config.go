// Package config holds gwanje's runtime configuration: where data lives,
// where the HTTP server listens, which keys to use and how recording is
// tuned. What the institution promises (cameras, sites, retention, people)
// lives in the registry, not here.
//
// Loading order: Default() → the YAML file → environment (GWANJE_*) →
// Validate(). Any error fails start-up and names the file, line and key.
package config

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/gwanje/gwanje/internal/errs"
)

// Config is the whole runtime configuration.
type Config struct {
	// DataDir holds the index, the segment files and the ledger.
	DataDir string `yaml:"data_dir"`
	// Listen is the HTTP address, host:port.
	Listen string `yaml:"listen"`
	// TLSCert and TLSKey enable HTTPS when both are set.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// TimeZone is the institution's zone when no registry is configured
	// (default Asia/Seoul). With a registry, its organization.timezone is
	// the zone, and TimeZone, if set, must equal it.
	TimeZone string `yaml:"time_zone"`
	// MasterKeyFile holds the footage master keys (mode 0600). Default
	// <data_dir>/keys/master.key; keeping it on another volume is better.
	MasterKeyFile string `yaml:"master_key_file"`
	// Registry is the YAML registry of the institution: cameras, sites,
	// people, retention. Empty means no cameras are recorded.
	Registry string `yaml:"registry"`

	Recording Recording `yaml:"recording"`
	Ingest    Ingest    `yaml:"ingest"`
	Health    Health    `yaml:"health"`
	Alarms    Alarms    `yaml:"alarms"`
	Metrics   Metrics   `yaml:"metrics"`
	Retention Retention `yaml:"retention"`
	Ledger    Ledger    `yaml:"ledger"`
	Access    Access    `yaml:"access"`

	// path is the file the config was loaded from, for error messages.
	path string
	// lines maps a dotted key ("recording.segment_duration") to its line.
	lines map[string]int
}

// Recording tunes the segment store.
type Recording struct {
	SegmentDuration Duration `yaml:"segment_duration"`
	ChunkDuration   Duration `yaml:"chunk_duration"`
	SyncInterval    Duration `yaml:"sync_interval"`
}

// Ingest tunes the RTSP clients.
type Ingest struct {
	ReadTimeout  Duration `yaml:"read_timeout"`
	MaxFrameSize ByteSize `yaml:"max_frame_size"`
	BackoffMin   Duration `yaml:"backoff_min"`
	BackoffMax   Duration `yaml:"backoff_max"`
}

// Health tunes device checks and monitoring (docs/design/health.md).
type Health struct {
	// CheckInterval is the period of the scheduled device check (점검)
	// written to the ledger; the first runs one interval after start.
	CheckInterval Duration `yaml:"check_interval"`
	// StillCheck decodes one key frame per camera at each check with
	// ffmpeg (when installed), judges it (black, covered, defocused) and
	// keeps it encrypted like footage.
	StillCheck bool `yaml:"still_check"`
	// FFmpeg is the ffmpeg binary for the still check ("" = on PATH).
	FFmpeg string `yaml:"ffmpeg"`
	// NoVideo: no frame for this long is an outage; must be shorter than
	// ingest.read_timeout so a stalled connection is seen while open.
	NoVideo Duration `yaml:"no_video"`
	// RateWindow is the window of frame-rate and write-rate measurements.
	RateWindow Duration `yaml:"rate_window"`
	// FrozenWindow: 3 identical key frames within it is a frozen picture;
	// raise it for cameras with long key frame intervals.
	FrozenWindow Duration `yaml:"frozen_window"`
	// MinFreePercent, MinFree and MinTimeToFull raise storage_low when free
	// space falls below either, or the disk fills within MinTimeToFull.
	MinFreePercent float64  `yaml:"min_free_percent"`
	MinFree        ByteSize `yaml:"min_free"`
	MinTimeToFull  Duration `yaml:"min_time_to_full"`
}

// Alarms configures where alarms go besides the log and the dashboard.
type Alarms struct {
	Webhooks []Webhook `yaml:"webhooks"`
}

// Webhook is one webhook target of alarm events.
type Webhook struct {
	// URL receives a JSON POST per alarm event (http or https).
	URL string `yaml:"url"`
	// SecretFile, if set, holds the HMAC-SHA256 key that signs each body
	// (header X-Gwanje-Signature); the secret is never in this file.
	SecretFile string `yaml:"secret_file"`
}

// Metrics access modes.
const (
	MetricsOff     = "off"     // no /metrics route
	MetricsSession = "session" // a logged-in user holding Permission
	MetricsToken   = "token"   // Authorization: Bearer <contents of TokenFile>
	MetricsNetwork = "network" // any client whose address is in Networks
)

// MetricsPermissions are the permission names metrics.permission accepts
// (internal/access permission names; a test keeps them in step).
var MetricsPermissions = []string{"manage-registry", "manage-users", "read-ledger", "live-view", "playback"}

// Metrics configures who may read /metrics: it names every camera.
type Metrics struct {
	// Access is off, session, token or network.
	Access string `yaml:"access"`
	// Permission is what a session needs (access: session).
	Permission string `yaml:"permission"`
	// TokenFile holds the bearer token (access: token), at least 16
	// characters.
	TokenFile string `yaml:"token_file"`
	// Networks are the client networks allowed (access: network), in CIDR
	// form ("10.0.0.0/8", "127.0.0.1/32"). Forwarded headers are ignored.
	Networks []string `yaml:"networks"`
}

// Access configures where requests come from and where footage may be
// viewed (docs/design/access.md).
type Access struct {
	// TrustedProxies are the reverse proxies (CIDR, "10.0.0.5/32") whose
	// X-Forwarded-For header is believed. The client address of a request
	// — in the ledger, the viewing-room check and rate limits — is the
	// right-most address in that header that is not itself a trusted
	// proxy. Empty: the header is ignored and the TCP peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// ViewingRooms are the networks from which footage (live, playback,
	// stills, export) may be viewed: the restricted viewing room the
	// policy promises (열람 장소 통제). Shown in the published policy only
	// when set.
	ViewingRooms ViewingRooms `yaml:"viewing_rooms"`
	// Login sets the login limits (docs/design/access.md, "Login").
	Login Login `yaml:"login"`
}

// Login sets the limits on failed logins: per (account, address), per
// account from every address, and per address whatever the names.
type Login struct {
	// MaxFailures failed logins from one address against one account
	// within FailureWindow lock that pair for Lockout; the owner can still
	// log in from elsewhere.
	MaxFailures int `yaml:"max_failures"`
	// AccountMaxFailures failures against one account from every address
	// lock it everywhere for Lockout.
	AccountMaxFailures int `yaml:"account_max_failures"`
	// AddressMaxFailures failures from one address (IPv6: its /64),
	// whatever the names, make its further attempts refused unchecked and
	// unledgered until its window ends.
	AddressMaxFailures int      `yaml:"address_max_failures"`
	FailureWindow      Duration `yaml:"failure_window"`
	Lockout            Duration `yaml:"lockout"`
}

// ViewingRooms lists networks in CIDR form for every site and per site.
type ViewingRooms struct {
	// Networks apply to every site without a list of its own.
	Networks []string `yaml:"networks"`
	// Sites maps a registry site id to its own networks, replacing
	// Networks for that site.
	Sites map[string][]string `yaml:"sites"`
}

// Retention tunes the retention engine (docs/design/retention.md). How long
// each camera's footage is kept is not here: it is promised in the
// registry and published in the policy.
type Retention struct {
	// Interval is how often the engine looks for due footage.
	Interval Duration `yaml:"interval"`
	// BatchSize is how many segments one index transaction destroys.
	BatchSize int `yaml:"batch_size"`
	// ClockMargin: no destruction while the clock is behind the newest
	// recorded footage by more than this (the clock went back).
	ClockMargin Duration `yaml:"clock_margin"`
	// MaxClockStep: no destruction while the clock is ahead of the last
	// run by more than this, until an operator accepts the clock
	// (gwanje retention accept-clock).
	MaxClockStep Duration `yaml:"max_clock_step"`
	// Capacity limits the footage on the data directory's volume.
	Capacity Capacity `yaml:"capacity"`
}

// Capacity is a storage volume's limits: any limit set and exceeded starts
// deletion of the oldest footage; zero means unset.
type Capacity struct {
	// Quota is the most bytes of footage (segment files) to keep.
	Quota ByteSize `yaml:"quota"`
	// MaxUsedPercent is the most of the file system, in percent, that may
	// be in use (by anything).
	MaxUsedPercent float64 `yaml:"max_used_percent"`
	// MinFree is the least free space to keep on the file system.
	MinFree ByteSize `yaml:"min_free"`
	// HeadroomPercent: deletion frees this much below the limit.
	HeadroomPercent float64 `yaml:"headroom_percent"`
}

// Ledger says where the ledger's trust lives (docs/design/ledger.md,
// "Threat model"). The defaults keep everything in data_dir, which is
// enough for a demonstration and proves nothing against someone who can
// write data_dir: in production set signing_key_file and witness_dir to
// places that person cannot write, and give `gwanje ledger verify` the
// public key or its fingerprint from outside.
type Ledger struct {
	// SigningKeyFile is the checkpoint signing key (mode 0600, created on
	// first start). Default <data_dir>/keys/ledger-signing.key.
	SigningKeyFile string `yaml:"signing_key_file"`
	// WitnessDir receives every signed checkpoint, fsynced, in an
	// append-only file (ledger-checkpoints.log); verify compares the
	// ledger with it. Must be outside data_dir.
	WitnessDir string `yaml:"witness_dir"`
	// Syslog also sends every signed checkpoint to syslog: "local" (the
	// daemon, which can forward it elsewhere), "udp://host:port" or
	// "tcp://host:port" (a remote collector); "" for none.
	Syslog string `yaml:"syslog"`
	// TrustedPublicKey is a public-key file (`gwanje ledger key -o`) that
	// `gwanje ledger verify` and the 관리대장 page's verification trust.
	// Must be outside data_dir.
	TrustedPublicKey string `yaml:"trusted_public_key"`
	// TrustedFingerprint is the SHA-256 of the trusted public key, 64 hex
	// digits (`gwanje ledger key` prints it); trusted by both as well.
	TrustedFingerprint string `yaml:"trusted_fingerprint"`
}

// Default returns the configuration used when nothing else is said.
func Default() *Config {
	return &Config{
		DataDir: "/var/lib/gwanje",
		Listen:  "127.0.0.1:8080",
		Recording: Recording{
			SegmentDuration: Duration(60 * time.Second),
			ChunkDuration:   Duration(time.Second),
			SyncInterval:    Duration(time.Second),
		},
		Ingest: Ingest{
			ReadTimeout:  Duration(10 * time.Second),
			MaxFrameSize: 8 << 20,
			BackoffMin:   Duration(time.Second),
			BackoffMax:   Duration(time.Minute),
		},
		Health: Health{
			CheckInterval:  Duration(24 * time.Hour),
			StillCheck:     true,
			NoVideo:        Duration(5 * time.Second),
			RateWindow:     Duration(10 * time.Second),
			FrozenWindow:   Duration(10 * time.Second),
			MinFreePercent: 5,
			MinFree:        1 << 30,
			MinTimeToFull:  Duration(24 * time.Hour),
		},
		Metrics: Metrics{Access: MetricsSession, Permission: "manage-registry"},
		Access: Access{Login: Login{MaxFailures: 5, AccountMaxFailures: 50, AddressMaxFailures: 20,
			FailureWindow: Duration(15 * time.Minute), Lockout: Duration(30 * time.Minute)}},
		Retention: Retention{
			Interval:     Duration(time.Minute),
			BatchSize:    4096,
			ClockMargin:  Duration(10 * time.Minute),
			MaxClockStep: Duration(48 * time.Hour),
			Capacity:     Capacity{HeadroomPercent: 5},
		},
	}
}

// Load reads path (if not empty) over the defaults, applies the
// environment, and validates.
func Load(path string, env func(string) string) (*Config, error) {
	const op = "config.Load"
	c := Default()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		if err := c.parse(path, b); err != nil {
			return nil, errs.E(op, errs.Invalid, err)
		}
	}
	if env == nil {
		env = os.Getenv
	}
	if err := c.applyEnv(env); err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	if err := c.Validate(); err != nil {
		return nil, errs.E(op, errs.Invalid, err)
	}
	return c, nil
}

func (c *Config) parse(path string, b []byte) error {
	c.path = path
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	c.lines = map[string]int{}
	if len(root.Content) > 0 {
		collectLines(root.Content[0], "", c.lines)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		// yaml.v3 names the line ("line 3: field foo not found").
		return fmt.Errorf("%s: %v", path, strings.ReplaceAll(err.Error(), "\n", " "))
	}
	return nil
}

func collectLines(n *yaml.Node, prefix string, out map[string]int) {
	if n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if prefix != "" {
			k = prefix + "." + k
		}
		out[k] = n.Content[i].Line
		collectLines(n.Content[i+1], k, out)
	}
}

// env names and the fields they set.
var envVars = []struct {
	name string
	set  func(c *Config, v string) error
}{
	{"GWANJE_DATA_DIR", func(c *Config, v string) error { c.DataDir = v; return nil }},
	{"GWANJE_LISTEN", func(c *Config, v string) error { c.Listen = v; return nil }},
	{"GWANJE_MASTER_KEY_FILE", func(c *Config, v string) error { c.MasterKeyFile = v; return nil }},
	{"GWANJE_REGISTRY", func(c *Config, v string) error { c.Registry = v; return nil }},
	{"GWANJE_TIME_ZONE", func(c *Config, v string) error { c.TimeZone = v; return nil }},
	{"GWANJE_LEDGER_SIGNING_KEY_FILE", func(c *Config, v string) error { c.Ledger.SigningKeyFile = v; return nil }},
	{"GWANJE_LEDGER_WITNESS_DIR", func(c *Config, v string) error { c.Ledger.WitnessDir = v; return nil }},
	{"GWANJE_LEDGER_TRUSTED_PUBLIC_KEY", func(c *Config, v string) error { c.Ledger.TrustedPublicKey = v; return nil }},
	{"GWANJE_LEDGER_TRUSTED_FINGERPRINT", func(c *Config, v string) error { c.Ledger.TrustedFingerprint = v; return nil }},
}

func (c *Config) applyEnv(env func(string) string) error {
	for _, e := range envVars {
		if v := env(e.name); v != "" {
			if err := e.set(c, v); err != nil {
				return fmt.Errorf("environment %s: %v", e.name, err)
			}
		}
	}
	return nil
}

// Validate checks every field and reports all problems at once, each with
// its key and, when loaded from a file, its line.
func (c *Config) Validate() error {
	var problems []string
	bad := func(key, format string, a ...any) {
		where := key
		line, ok := c.lines[key]
		if i := strings.IndexByte(key, '['); !ok && i > 0 {
			line, ok = c.lines[key[:i]] // a list item: the list's line
		}
		if ok {
			where = fmt.Sprintf("%s:%d: %s", c.path, line, key)
		}
		problems = append(problems, where+": "+fmt.Sprintf(format, a...))
	}
	if c.DataDir == "" {
		bad("data_dir", "must be set")
	} else if !filepath.IsAbs(c.DataDir) {
		bad("data_dir", "must be an absolute path, got %q", c.DataDir)
	}
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "want host:port, got %q", c.Listen)
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		bad("listen", "bad port %q", port)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad("tls_cert", "tls_cert and tls_key must be set together")
	}
	if _, err := time.LoadLocation(c.TimeZone); c.TimeZone != "" && err != nil {
		bad("time_zone", "unknown time zone %q", c.TimeZone)
	}
	r := c.Recording
	if d := r.SegmentDuration.D(); d < 10*time.Second || d > 10*time.Minute {
		bad("recording.segment_duration", "must be between 10s and 10m, got %v", d)
	}
	if d := r.ChunkDuration.D(); d < 100*time.Millisecond || d > 5*time.Second {
		bad("recording.chunk_duration", "must be between 100ms and 5s, got %v", d)
	} else if d >= r.SegmentDuration.D() {
		bad("recording.chunk_duration", "must be shorter than segment_duration")
	}
	if d := r.SyncInterval.D(); d < 10*time.Millisecond || d > 10*time.Second {
		bad("recording.sync_interval", "must be between 10ms and 10s, got %v", d)
	}
	in := c.Ingest
	if d := in.ReadTimeout.D(); d < time.Second || d > 5*time.Minute {
		bad("ingest.read_timeout", "must be between 1s and 5m, got %v", d)
	}
	if in.MaxFrameSize < 64<<10 || in.MaxFrameSize > 256<<20 {
		bad("ingest.max_frame_size", "must be between 64KiB and 256MiB, got %v", in.MaxFrameSize)
	}
	if in.BackoffMin.D() <= 0 || in.BackoffMax.D() < in.BackoffMin.D() {
		bad("ingest.backoff_min", "need 0 < backoff_min <= backoff_max")
	}
	c.validateHealth(bad)
	c.validateRetention(bad)
	c.validateLedger(bad)
	c.validateAccess(bad)
	if len(problems) > 0 {
		return fmt.Errorf("%d problem(s):\n  %s", len(problems), strings.Join(problems, "\n  "))
	}
	return nil
}

// KeyFile returns the master key file path, defaulted under the data dir.
func (c *Config) KeyFile() string {
	if c.MasterKeyFile != "" {
		return c.MasterKeyFile
	}
	return filepath.Join(c.DataDir, "keys", "master.key")
}

// Location returns the institution's time zone (validated).
func (c *Config) Location() *time.Location {
	name := c.TimeZone
	if name == "" {
		name = "Asia/Seoul"
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return time.UTC
	}
	return loc
}

// validateHealth checks the health, alarms and metrics sections.
func (c *Config) validateHealth(bad func(key, format string, a ...any)) {
	h := c.Health
	if d := h.CheckInterval.D(); d < time.Minute || d > 31*24*time.Hour {
		bad("health.check_interval", "must be between 1m and 31d, got %v", d)
	}
	if d := h.NoVideo.D(); d < time.Second || d > time.Minute {
		bad("health.no_video", "must be between 1s and 1m, got %v", d)
	} else if d >= c.Ingest.ReadTimeout.D() {
		bad("health.no_video", "must be shorter than ingest.read_timeout (%v), or a stalled connection is reported as down", c.Ingest.ReadTimeout.D())
	}
	if d := h.RateWindow.D(); d < 2*time.Second || d > 5*time.Minute {
		bad("health.rate_window", "must be between 2s and 5m, got %v", d)
	}
	if d := h.FrozenWindow.D(); d < 2*time.Second || d > 5*time.Minute {
		bad("health.frozen_window", "must be between 2s and 5m, got %v", d)
	}
	if p := h.MinFreePercent; !(p > 0 && p < 100) {
		bad("health.min_free_percent", "must be above 0 and below 100, got %v", p)
	}
	if h.MinFree <= 0 {
		bad("health.min_free", "must be above zero")
	}
	if d := h.MinTimeToFull.D(); d < time.Minute || d > 365*24*time.Hour {
		bad("health.min_time_to_full", "must be between 1m and 365d, got %v", d)
	}
	for i, w := range c.Alarms.Webhooks {
		key := fmt.Sprintf("alarms.webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			// The URL may carry a token: never echo it.
			bad(key+".url", "must be an http:// or https:// URL with a host")
		}
		if w.SecretFile != "" && !filepath.IsAbs(w.SecretFile) {
			bad(key+".secret_file", "must be an absolute path, got %q", w.SecretFile)
		}
	}
	m := c.Metrics
	switch m.Access {
	case MetricsOff:
	case MetricsSession:
		if !slices.Contains(MetricsPermissions, m.Permission) {
			bad("metrics.permission", "must be one of %s, got %q", strings.Join(MetricsPermissions, ", "), m.Permission)
		}
	case MetricsToken:
		if m.TokenFile == "" || !filepath.IsAbs(m.TokenFile) {
			bad("metrics.token_file", "access: token needs an absolute token_file, got %q", m.TokenFile)
		}
	case MetricsNetwork:
		if len(m.Networks) == 0 {
			bad("metrics.networks", "access: network needs at least one network")
		}
		for i, n := range m.Networks {
			if _, err := netip.ParsePrefix(n); err != nil {
				bad(fmt.Sprintf("metrics.networks[%d]", i), "want a network like 10.0.0.0/8, got %q", n)
			}
		}
	default:
		bad("metrics.access", "must be off, session, token or network, got %q", m.Access)
	}
}

// validateRetention checks the retention section.
func (c *Config) validateRetention(bad func(key, format string, a ...any)) {
	r := c.Retention
	if d := r.Interval.D(); d < time.Second || d > 24*time.Hour {
		bad("retention.interval", "must be between 1s and 24h, got %v", d)
	}
	if r.BatchSize < 1 || r.BatchSize > 100000 {
		bad("retention.batch_size", "must be between 1 and 100000, got %d", r.BatchSize)
	}
	if d := r.ClockMargin.D(); d < time.Minute || d > 24*time.Hour {
		bad("retention.clock_margin", "must be between 1m and 24h, got %v", d)
	}
	if d := r.MaxClockStep.D(); d < time.Hour || d > 365*24*time.Hour {
		bad("retention.max_clock_step", "must be between 1h and 365d, got %v", d)
	}
	k := r.Capacity
	if k.Quota < 0 {
		bad("retention.capacity.quota", "cannot be negative")
	}
	if k.MinFree < 0 {
		bad("retention.capacity.min_free", "cannot be negative")
	}
	if p := k.MaxUsedPercent; p < 0 || p >= 100 {
		bad("retention.capacity.max_used_percent", "must be 0 (unset) or above 0 and below 100, got %v", p)
	}
	if p := k.HeadroomPercent; p < 0 || p >= 50 {
		bad("retention.capacity.headroom_percent", "must be between 0 and 50, got %v", p)
	}
}

// validateLedger checks the ledger section: paths absolute, and the witness
// and the trusted key outside data_dir (inside it they would trust what
// they are meant to check).
func (c *Config) validateLedger(bad func(key, format string, a ...any)) {
	l := c.Ledger
	for _, p := range []struct{ key, path string }{{"ledger.signing_key_file", l.SigningKeyFile},
		{"ledger.witness_dir", l.WitnessDir}, {"ledger.trusted_public_key", l.TrustedPublicKey}} {
		switch {
		case p.path == "":
		case !filepath.IsAbs(p.path):
			bad(p.key, "must be an absolute path, got %q", p.path)
		case p.key != "ledger.signing_key_file" && c.DataDir != "" && within(c.DataDir, p.path):
			bad(p.key, "must be outside data_dir (%s): someone who can rewrite the ledger could rewrite it too", c.DataDir)
		}
	}
	if s := l.Syslog; s != "" && s != "local" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "udp" && u.Scheme != "tcp") || u.Port() == "" || u.Path != "" {
			bad("ledger.syslog", "want local, udp://host:port or tcp://host:port, got %q", s)
		}
	}
	if f := l.TrustedFingerprint; f != "" && (len(f) != 64 || strings.Trim(strings.ToLower(f), "0123456789abcdef") != "") {
		bad("ledger.trusted_fingerprint", "want the 64 hex digits that `gwanje ledger key` prints, got %q", f)
	}
}

// within reports whether path is dir or inside it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// LedgerKeyFile returns the ledger's signing key path, defaulted under the
// data dir.
func (c *Config) LedgerKeyFile() string {
	if c.Ledger.SigningKeyFile != "" {
		return c.Ledger.SigningKeyFile
	}
	return filepath.Join(c.DataDir, "keys", "ledger-signing.key")
}

// validateAccess checks the access section: every network a CIDR.
func (c *Config) validateAccess(bad func(key, format string, a ...any)) {
	a := c.Access
	nets := func(key string, list []string) {
		for i, n := range list {
			if _, err := netip.ParsePrefix(n); err != nil {
				bad(fmt.Sprintf("%s[%d]", key, i), "want a network like 10.0.0.0/8 or 10.0.0.5/32, got %q", n)
			}
		}
	}
	nets("access.trusted_proxies", a.TrustedProxies)
	nets("access.viewing_rooms.networks", a.ViewingRooms.Networks)
	for _, site := range slices.Sorted(maps.Keys(a.ViewingRooms.Sites)) {
		key := "access.viewing_rooms.sites." + site
		if strings.TrimSpace(site) == "" {
			bad("access.viewing_rooms.sites", "a site id is empty")
		}
		if len(a.ViewingRooms.Sites[site]) == 0 {
			bad(key, "needs at least one network (to leave the site unrestricted while others are, give 0.0.0.0/0 and ::/0)")
		}
		nets(key, a.ViewingRooms.Sites[site])
	}
	l := a.Login
	if l.MaxFailures < 1 || l.MaxFailures > 100 {
		bad("access.login.max_failures", "must be between 1 and 100, got %d", l.MaxFailures)
	}
	if l.AccountMaxFailures < l.MaxFailures || l.AccountMaxFailures > 10000 {
		bad("access.login.account_max_failures", "must be between max_failures (%d) and 10000, got %d", l.MaxFailures, l.AccountMaxFailures)
	}
	if l.AddressMaxFailures < 1 || l.AddressMaxFailures > 10000 {
		bad("access.login.address_max_failures", "must be between 1 and 10000, got %d", l.AddressMaxFailures)
	}
	if d := l.FailureWindow.D(); d < time.Minute || d > 24*time.Hour {
		bad("access.login.failure_window", "must be between 1m and 24h, got %v", d)
	}
	if d := l.Lockout.D(); d < time.Minute || d > 24*time.Hour {
		bad("access.login.lockout", "must be between 1m and 24h, got %v", d)
	}
}

// Where names key for an error: "file:line: key" when loaded from a file
// that sets it, else the key.
func (c *Config) Where(key string) string {
	if line, ok := c.lines[key]; ok {
		return fmt.Sprintf("%s:%d: %s", c.path, line, key)
	}
	return key
}

// TrustedProxies returns the parsed access.trusted_proxies (validated).
func (c *Config) TrustedProxies() []netip.Prefix { return prefixes(c.Access.TrustedProxies) }

// ViewingRoomNetworks returns the parsed viewing-room networks: those of
// every site, and per site (validated).
func (c *Config) ViewingRoomNetworks() (all []netip.Prefix, sites map[string][]netip.Prefix) {
	all = prefixes(c.Access.ViewingRooms.Networks)
	if len(c.Access.ViewingRooms.Sites) > 0 {
		sites = map[string][]netip.Prefix{}
		for s, list := range c.Access.ViewingRooms.Sites {
			sites[s] = prefixes(list)
		}
	}
	return all, sites
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, n := range list {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

// MetricsNetworks returns the parsed metrics.networks (validated).
func (c *Config) MetricsNetworks() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range c.Metrics.Networks {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}
