package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// runGwanje runs this test binary as the gwanje command (TestMain) with
// args and extra environment, and returns its combined output and exit
// code.
func runGwanje(t *testing.T, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "GWANJE_TEST_MAIN=1"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("gwanje %s did not exit within 60 s:\n%s", strings.Join(args, " "), out.String())
	}
	return "", 0
}

// TestServeStartupErrorsNameTheirCause runs `gwanje serve` as a process
// with configurations that fail at different steps of start-up: an
// invalid registry (before anything is opened), a master key that does
// not parse, and a listen address already taken (after every store and
// the recorder have started). Each exits 1 printing its cause (the
// registry error with its file and line) and never a panic: start-up
// closes what it started, whatever it got to.
func TestServeStartupErrorsNameTheirCause(t *testing.T) {
	dir := t.TempDir()
	badReg := filepath.Join(dir, "bad-registry.yaml")
	os.WriteFile(badReg, []byte("format: 1\norganization:\n  name: 기관\nsites: [\n"), 0o600)
	goodReg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(goodReg, []byte(minimalRegistry), 0o600)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()

	for _, c := range []struct {
		name, registry, listen string
		env                    []string
		want                   []string
	}{
		{"invalid registry", badReg, "127.0.0.1:0", nil, []string{badReg + ":4:"}},
		{"bad master key", goodReg, "127.0.0.1:0", []string{"GWANJE_MASTER_KEY=not a key"}, []string{"GWANJE_MASTER_KEY"}},
		{"listen address taken", goodReg, taken.Addr().String(), nil, []string{taken.Addr().String(), "address already in use"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "data")
			cfg := filepath.Join(t.TempDir(), "gwanje.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\nregistry: %s\nlisten: %s\nmaster_key_file: %s\n",
				data, c.registry, c.listen, filepath.Join(data, "master.key"))), 0o600)
			out, code := runGwanje(t, c.env, "serve", "-config", cfg)
			if code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			for _, bad := range []string{"panic", "goroutine "} {
				if strings.Contains(out, bad) {
					t.Errorf("output contains %q", bad)
				}
			}
			if t.Failed() {
				t.Logf("output:\n%s", out)
			}
		})
	}
}

// minimalRegistry is a valid registry of one site with one camera (its
// stream unreachable: the recorder retries in the background).
const minimalRegistry = `format: 1
organization:
  name: 시험기관
legal_basis:
  - {law: 개인정보보호법, article: 제25조 제1항}
purposes: [시설안전 및 화재 예방]
recording: {hours: 24h}
sites:
  - id: hq
    name: 본관
    kind: 본점
    retention: 30d
    storage: 전산실
    groups:
      - id: lobby
        location: 1층 출입구
        cameras:
          - id: cam-1
            stream: {url: "rtsp://127.0.0.1:1/cam-1"}
personnel:
  - {role: manager, title: 과장, phone: 02-000-0000}
processing: [보관기간 만료 시 영구 삭제합니다.]
confirmation: {method: 미리 연락하고 방문, place: 총무과}
requests: {contact: 관리책임자, deadline_days: 10}
policy:
  notice_channel: 홈페이지
  enacted: 2026-01-01
  history:
    - {effective: 2026-01-01, summary: 제정}
`

// TestServeKeepsAdminPasswordOutOfOutput: at the first start `gwanje
// serve` prints where the first administrator's one-time password is,
// not the password (its output goes to the journal); the file holds it,
// mode 0600. SIGTERM then stops it cleanly.
func TestServeKeepsAdminPasswordOutOfOutput(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	reg := filepath.Join(dir, "registry.yaml")
	os.WriteFile(reg, []byte(minimalRegistry), 0o600)
	cfg := filepath.Join(dir, "gwanje.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("data_dir: %s\nregistry: %s\nlisten: 127.0.0.1:0\nmaster_key_file: %s\nhealth:\n  still_check: false\n",
		data, reg, filepath.Join(dir, "master.key"))), 0o600)
	out := startServe(t, cfg)
	pwFile := filepath.Join(data, "admin-password")
	if !strings.Contains(out.wait(t, pwFile), pwFile) {
		t.Fatalf("serve does not say where the password is:\n%s", out)
	}
	b, err := os.ReadFile(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	pw := strings.TrimSpace(string(b))
	if fi, _ := os.Stat(pwFile); len(pw) < 12 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %d characters, mode %v", len(pw), fi.Mode().Perm())
	}
	code := out.stop(t)
	if strings.Contains(out.String(), pw) {
		t.Fatal("serve printed the one-time password")
	}
	if code != 0 || strings.Contains(out.String(), "panic") {
		t.Fatalf("serve stopped with %d:\n%s", code, out)
	}
}

// served is a `gwanje serve` process and its combined output.
type served struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan int
}

func (s *served) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *served) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// wait waits until the output contains want, and returns it.
func (s *served) wait(t *testing.T, want string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(s.String(), want) {
		select {
		case code := <-s.done:
			t.Fatalf("serve exited %d before printing %q:\n%s", code, want, s)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not print %q within 60 s:\n%s", want, s)
		}
		time.Sleep(20 * time.Millisecond) // polling the output
	}
	return s.String()
}

// stop sends SIGTERM and returns the exit status.
func (s *served) stop(t *testing.T) int {
	t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case code := <-s.done:
		return code
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("serve did not stop within 30 s of SIGTERM:\n%s", s)
	}
	return -1
}

// startServe runs `gwanje serve -config cfg` as a process.
func startServe(t *testing.T, cfg string) *served {
	t.Helper()
	s := &served{done: make(chan int, 1)}
	s.cmd = exec.Command(os.Args[0], "serve", "-config", cfg)
	s.cmd.Env = append(os.Environ(), "GWANJE_TEST_MAIN=1")
	s.cmd.Stdout, s.cmd.Stderr = s, s
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s.cmd.Wait()
		s.done <- s.cmd.ProcessState.ExitCode()
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}
