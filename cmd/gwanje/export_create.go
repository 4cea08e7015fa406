package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/gwanje/gwanje/internal/config"
	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/export"
)

// `gwanje export create` asks the running server for a package over its
// HTTP API, as the playback page's export dialog does: it logs in as the
// user (the password from the terminal or a file, never from a flag
// value), starts an export job (the gate: the user's export right on each
// camera's site, the viewing room against this command's own address, the
// purpose; the 반출 row first), shows the progress, cancels the job on
// Ctrl-C, and writes the package crash-safely. The server owns the store
// (nothing here opens it) and the gate has no special case for the
// console: docs/design/decisions.md.

const exportCreateUsage = `usage: gwanje export create -user NAME [-password-file FILE] [-code TOTP]
         -camera ID [-camera ID ...] -from TIME -to TIME -purpose CODE -reason TEXT
         [-recipient NAME] [-legal-basis TEXT] [-letter NUMBER] [-period TEXT]
         [-o FILE] [-server URL | -config FILE] [-cacert FILE] [-tz ZONE] [-fingerprint HEX]

TIME is RFC 3339 (2026-05-01T09:00:00+09:00) or 2026-05-01T09:00[:05] in -tz
(default Asia/Seoul). The password is read from the terminal, or from
-password-file (- for standard input). The server is -server, else the
listen address of the configuration (-config, env GWANJE_CONFIG).`

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, strings.Split(v, ",")...); return nil }

type exportCreateFlags struct {
	server, config, cacert, tz                 string
	user, passwordFile, code                   string
	cameras                                    stringList
	from, to, purpose, reason                  string
	recipient, legalBasis, letter, period, out string
	fingerprint                                string
}

// apiError is the server's error body.
type apiError struct {
	Status  int
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Params  map[string]string `json:"params"`
}

func (e *apiError) Error() string {
	if e.Message != "" {
		return e.Message + " (" + e.Code + ")"
	}
	return fmt.Sprintf("the server answered %d", e.Status)
}

// apiClient is a logged-in session with the server.
type apiClient struct {
	base string
	hc   *http.Client
	csrf string
}

func (c *apiClient) call(ctx context.Context, method, path string, body, out any, want int) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("no gwanje server answers at %s (is `gwanje serve` running? give -server or -config): %w", c.base, err)
		}
		return nil, err
	}
	if resp.StatusCode != want {
		defer resp.Body.Close()
		e := &apiError{Status: resp.StatusCode}
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(e)
		return nil, e
	}
	if out == nil {
		return resp, nil
	}
	defer resp.Body.Close()
	return resp, json.NewDecoder(resp.Body).Decode(out)
}

// jobStatus is GET /api/export-jobs/{job}.
type jobStatus struct {
	ID         string    `json:"id"`
	State      string    `json:"state"`
	Percent    float64   `json:"percent"`
	Done       int64     `json:"done_bytes"`
	Total      int64     `json:"total_bytes"`
	Left       *float64  `json:"left_seconds"`
	Cancelling bool      `json:"cancelling"`
	Package    string    `json:"package"`
	File       string    `json:"file"`
	LedgerSeq  uint64    `json:"ledger_seq"`
	Error      *apiError `json:"error"`
}

func runExportCreate(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	var f exportCreateFlags
	fl := flag.NewFlagSet("export create", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprintln(stderr, exportCreateUsage); fl.PrintDefaults() }
	fl.StringVar(&f.server, "server", "", "URL of the gwanje server (default: the configuration's listen address)")
	fl.StringVar(&f.config, "config", os.Getenv("GWANJE_CONFIG"), "configuration file, for the server's address (env GWANJE_CONFIG)")
	fl.StringVar(&f.cacert, "cacert", "", "CA certificate (PEM) to trust for an HTTPS server (default: the configuration's tls_cert)")
	fl.StringVar(&f.tz, "tz", "Asia/Seoul", "time zone of -from and -to without an offset")
	fl.StringVar(&f.user, "user", "", "user name (the export is theirs, with their rights)")
	fl.StringVar(&f.passwordFile, "password-file", "", "file holding the password (- for standard input); default: ask on the terminal")
	fl.StringVar(&f.code, "code", "", "the one-time code of the user's authenticator (TOTP), when they have one")
	fl.Var(&f.cameras, "camera", "camera id (repeat, or comma-separated, for several)")
	fl.StringVar(&f.from, "from", "", "start of the range")
	fl.StringVar(&f.to, "to", "", "end of the range")
	fl.StringVar(&f.purpose, "purpose", "", "purpose code or label (facility, crime, complaint, incident, provision, subject, ...)")
	fl.StringVar(&f.reason, "reason", "", "why, in a sentence (the 관리대장's 목적)")
	fl.StringVar(&f.recipient, "recipient", "", "who receives the package (제공받는 자)")
	fl.StringVar(&f.legalBasis, "legal-basis", "", "legal basis (근거)")
	fl.StringVar(&f.letter, "letter", "", "official letter number (공문 번호)")
	fl.StringVar(&f.period, "period", "", "period of use (이용 기간)")
	fl.StringVar(&f.out, "o", "", "package file to write (default: the package's name in the current directory); never overwritten")
	fl.StringVar(&f.fingerprint, "fingerprint", "", "check the package against the institution's key fingerprint")
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()} // a bad command line: exit 2
	}
	if fl.NArg() != 0 || f.user == "" || len(f.cameras) == 0 || f.from == "" || f.to == "" || f.purpose == "" {
		return usageError{exportCreateUsage}
	}
	loc, err := time.LoadLocation(f.tz)
	if err != nil {
		return usageError{fmt.Sprintf("-tz %q: %v", f.tz, err)}
	}
	from, err := parseExportTime(f.from, loc)
	if err != nil {
		return usageError{"-from: " + err.Error()}
	}
	to, err := parseExportTime(f.to, loc)
	if err != nil {
		return usageError{"-to: " + err.Error()}
	}
	if !to.After(from) {
		return usageError{"-to must be after -from"}
	}
	if f.out != "" {
		if _, err := os.Lstat(f.out); err == nil {
			return fmt.Errorf("%s already exists: a package is never overwritten", f.out)
		}
	}
	base, tlsConf, err := exportServer(&f)
	if err != nil {
		return err
	}
	password, err := readPassword(f.passwordFile, stdin, stderr)
	if err != nil {
		return err
	}
	jar, _ := cookiejar.New(nil)
	c := &apiClient{base: base, hc: &http.Client{Jar: jar, Transport: &http.Transport{TLSClientConfig: tlsConf, Proxy: http.ProxyFromEnvironment}}}

	var login struct {
		CSRF       string `json:"csrf"`
		MustChange bool   `json:"must_change_password"`
	}
	if _, err := c.call(ctx, "POST", "/api/login", map[string]string{"name": f.user, "password": password, "totp": f.code}, &login, 200); err != nil {
		return fmt.Errorf("login as %s: %w", f.user, err)
	}
	c.csrf = login.CSRF
	defer func() {
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if resp, err := c.call(lctx, "POST", "/api/logout", nil, nil, http.StatusNoContent); err == nil {
			resp.Body.Close()
		}
	}()
	if login.MustChange {
		return fmt.Errorf("%s must change the one-time password first (log in on the web page)", f.user)
	}

	body := map[string]any{"start": from, "end": to, "purpose": f.purpose, "reason": f.reason,
		"recipient": f.recipient, "legal_basis": f.legalBasis, "letter": f.letter, "period": f.period}
	if len(f.cameras) > 1 {
		body["cameras"] = []string(f.cameras[1:])
	}
	var st jobStatus
	if _, err := c.call(ctx, "POST", "/api/cameras/"+url.PathEscape(f.cameras[0])+"/export-jobs", body, &st, http.StatusAccepted); err != nil {
		return fmt.Errorf("export refused: %w", err)
	}
	fmt.Fprintf(stderr, "export job %s started (관리대장 반출 row written)\n", st.ID)
	st, err = watchJob(ctx, c, st, stderr)
	if err != nil {
		return err
	}
	out := f.out
	if out == "" {
		out = filepath.Base(st.File)
	}
	if err := downloadPackage(ctx, c, st.Package, out); err != nil {
		return err
	}
	trust := export.Trust{}
	if f.fingerprint != "" {
		trust.Fingerprint = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(f.fingerprint), ":", ""))
	}
	v, err := export.VerifyFile(out, trust)
	if err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	if !v.OK() {
		return fmt.Errorf("%s does not verify: %s", out, strings.Join(v.Problems, "; "))
	}
	fmt.Fprintf(stdout, "%s: %d clips, ledger row %d, key %s (fingerprint %s)%s\n", out, len(v.Manifest.Clips),
		v.Manifest.LedgerSeq, v.KeyID, v.Fingerprint, map[bool]string{true: ", the trusted key", false: ""}[v.Trusted])
	return nil
}

// parseExportTime reads RFC 3339, or a local time without offset in loc.
func parseExportTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time (2026-05-01T09:00:00+09:00, or 2026-05-01T09:00 in -tz)", s)
}

// exportServer is the server's base URL and the TLS configuration to
// reach it: -server, else the configuration's listen address (a wildcard
// host is reached on loopback), https when it has a certificate.
func exportServer(f *exportCreateFlags) (string, *tls.Config, error) {
	var cfg *config.Config
	if f.server == "" || f.cacert == "" && strings.HasPrefix(f.server, "https:") {
		c, err := config.Load(f.config, os.Getenv)
		if err != nil {
			return "", nil, err
		}
		cfg = c
	}
	base := f.server
	if base == "" {
		host, port, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return "", nil, fmt.Errorf("listen address %q: %w", cfg.Listen, err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "127.0.0.1"
		}
		scheme := "http"
		if cfg.TLSCert != "" {
			scheme = "https"
		}
		base = scheme + "://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", nil, usageError{fmt.Sprintf("-server %q: want http(s)://host:port", base)}
	}
	base = strings.TrimSuffix(base, "/")
	if u.Scheme != "https" {
		return base, nil, nil
	}
	ca := f.cacert
	if ca == "" && cfg != nil {
		ca = cfg.TLSCert
	}
	if ca == "" {
		return base, &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	pem, err := os.ReadFile(ca)
	if err != nil {
		return "", nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return "", nil, fmt.Errorf("%s holds no PEM certificate", ca)
	}
	return base, &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: pool}, nil
}

// readPassword reads the password from file ("-": stdin), else from the
// terminal without echo. It is never a flag value (visible in ps and the
// shell's history).
func readPassword(file string, stdin io.Reader, stderr io.Writer) (string, error) {
	var b []byte
	var err error
	switch file {
	case "":
		fd := int(syscall.Stdin)
		if !term.IsTerminal(fd) {
			return "", usageError{"no terminal to ask the password on: give -password-file FILE (or - for standard input)"}
		}
		fmt.Fprint(stderr, "password: ")
		b, err = term.ReadPassword(fd)
		fmt.Fprintln(stderr)
	case "-":
		b, err = io.ReadAll(io.LimitReader(stdin, 4096))
	default:
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", err
	}
	pw := strings.TrimRight(string(b), "\r\n")
	if pw == "" {
		return "", errors.New("the password is empty")
	}
	return pw, nil
}

// watchJob follows the job until it ends, with a progress bar on a
// terminal and a line per tenth otherwise; on ctx's end (Ctrl-C) it
// cancels the job and waits until the server has removed what it wrote.
func watchJob(ctx context.Context, c *apiClient, st jobStatus, stderr io.Writer) (jobStatus, error) {
	show := newProgressShow(stderr)
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		show.update(st)
		switch st.State {
		case "done":
			show.finish()
			return st, nil
		case "failed":
			show.finish()
			if st.Error != nil {
				return st, fmt.Errorf("the export failed: %w", st.Error)
			}
			return st, errors.New("the export failed")
		case "cancelled", "discarded":
			show.finish()
			return st, fmt.Errorf("the export was %s: no package was made", st.State)
		}
		select {
		case <-ctx.Done():
			show.finish()
			return st, cancelJob(ctx, c, st, stderr)
		case <-tick.C:
		}
		var next jobStatus
		if _, err := c.call(ctx, "GET", "/api/export-jobs/"+st.ID, nil, &next, 200); err != nil {
			if ctx.Err() != nil {
				continue
			}
			return st, err
		}
		st = next
	}
}

func cancelJob(ctx context.Context, c *apiClient, st jobStatus, stderr io.Writer) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	fmt.Fprintln(stderr, "cancelling the export...")
	if _, err := c.call(cctx, "POST", "/api/export-jobs/"+st.ID+"/cancel", nil, &st, 200); err != nil {
		return fmt.Errorf("interrupted, and the cancel failed: %w", err)
	}
	for st.Cancelling && cctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		var next jobStatus
		if _, err := c.call(cctx, "GET", "/api/export-jobs/"+st.ID, nil, &next, 200); err == nil {
			st = next
		}
	}
	return fmt.Errorf("interrupted: the export was cancelled (%s); no package is left, and the 관리대장 records the cancellation", st.State)
}

// progressShow is a progress bar on a terminal, plain lines elsewhere.
type progressShow struct {
	w    io.Writer
	bar  *progressbar.ProgressBar
	last int // tenths printed
	max  int64
}

func newProgressShow(w io.Writer) *progressShow {
	p := &progressShow{w: w, last: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionShowBytes(true),
			progressbar.OptionSetDescription("반출"), progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }))
	}
	return p
}

func (p *progressShow) update(st jobStatus) {
	if p.bar != nil {
		if st.Total > 0 && st.Total != p.max {
			p.max = st.Total
			p.bar.ChangeMax64(st.Total)
		}
		if st.State == "done" {
			p.bar.Set64(p.max)
		} else {
			p.bar.Set64(st.Done)
		}
		return
	}
	if n := int(st.Percent) / 10; n > p.last {
		p.last = n
		left := ""
		if st.Left != nil && st.State == "running" {
			left = fmt.Sprintf(", about %s left", (time.Duration(*st.Left) * time.Second).String())
		}
		fmt.Fprintf(p.w, "export %s: %3.0f%% (%d of %d bytes)%s\n", st.State, st.Percent, st.Done, st.Total, left)
	}
}

func (p *progressShow) finish() {
	if p.bar != nil {
		p.bar.Exit()
	}
}

// downloadPackage writes the package to out: a temporary file beside it,
// fsynced, then linked to out (an existing file is never replaced) and the
// directory fsynced. A failure or an interruption leaves nothing.
func downloadPackage(ctx context.Context, c *apiClient, path, out string) (err error) {
	resp, err := c.call(ctx, "GET", path, nil, nil, 200)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct != "application/zip" {
		return fmt.Errorf("download: the server sent %q, not a ZIP", ct)
	}
	dir := filepath.Dir(out)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = io.Copy(tmp, resp.Body); err != nil {
		return fmt.Errorf("download: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Link(tmp.Name(), out); err != nil {
		return err
	}
	os.Remove(tmp.Name())
	return durable.SyncDir(dir)
}
