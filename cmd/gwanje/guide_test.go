package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// guideBlock is one ```sh block of a guide and what the test does with it.
type guideBlock struct {
	line int    // of the opening fence
	mode string // run, serve or skip
	text string
}

// guideBlocks reads the ```sh blocks of a Markdown guide. Each must follow
// a line `<!-- test: run -->`, `<!-- test: serve... -->` or
// `<!-- test: skip: reason -->`, so a new block is run unless someone says
// why it cannot be.
func guideBlocks(t *testing.T, path string) []guideBlock {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []guideBlock
	lines := strings.Split(string(b), "\n")
	for i := 0; i < len(lines); i++ {
		fence := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(fence, "```") {
			continue
		}
		start := i
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if fence != "```sh" {
			continue // output or another language: not commands
		}
		blk := guideBlock{line: start + 1, text: strings.Join(body, "\n")}
		marker := ""
		if start > 0 {
			marker = lines[start-1]
		}
		if !strings.HasPrefix(marker, "<!-- test: ") || !strings.HasSuffix(marker, " -->") {
			t.Fatalf("%s:%d: a ```sh block without a <!-- test: run|serve|skip: reason --> line before it", path, start+1)
		}
		marker = strings.TrimSuffix(strings.TrimPrefix(marker, "<!-- test: "), " -->")
		switch {
		case marker == "run":
			blk.mode = "run"
		case strings.HasPrefix(marker, "serve"):
			blk.mode = "serve"
		case strings.HasPrefix(marker, "skip: ") && len(marker) > len("skip: "):
			blk.mode = "skip"
		default:
			t.Fatalf("%s:%d: unknown test marker %q", path, start, marker)
		}
		out = append(out, blk)
	}
	return out
}

// TestRunningGuide follows docs/guide/running.md as a new operator would:
// every runnable command block, in order, in one shell, in a temporary
// directory, with `gwanje` on PATH (this test binary, run as the command).
// The serve block is started in the background, waited for until it
// serves and stopped with SIGTERM. The test fails on the first command
// that fails, naming its block's line.
func TestRunningGuide(t *testing.T) {
	const guide = "../../docs/guide/running.md"
	blocks := guideBlocks(t, guide)
	work := t.TempDir()
	bin := filepath.Join(work, "bin")
	os.MkdirAll(bin, 0o755)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wrapper := fmt.Sprintf("#!/bin/sh\nGWANJE_TEST_MAIN=1 exec %q \"$@\"\n", self)
	if err := os.WriteFile(filepath.Join(bin, "gwanje"), []byte(wrapper), 0o755); err != nil {
		t.Fatal(err)
	}
	serveLog := filepath.Join(work, "serve.log")
	var script strings.Builder
	script.WriteString("set -eu\ncd \"$WORK\"\n")
	var ran, served int
	for _, b := range blocks {
		fmt.Fprintf(&script, "echo '### %s:%d (%s)'\n", filepath.Base(guide), b.line, b.mode)
		switch b.mode {
		case "run":
			script.WriteString(b.text + "\n")
			ran++
		case "serve":
			if strings.Contains(strings.TrimSpace(b.text), "\n") {
				t.Fatalf("%s:%d: a serve block must be one command", guide, b.line)
			}
			fmt.Fprintf(&script, `%s >%q 2>&1 &
serve_pid=$!
tries=0
until grep -q '^gwanje: serving' %q; do
  tries=$((tries+1))
  if [ $tries -gt 600 ] || ! kill -0 $serve_pid 2>/dev/null; then echo 'serve did not start:'; cat %q; exit 1; fi
  sleep 0.1
done
kill -TERM $serve_pid
if ! wait $serve_pid; then echo 'serve did not stop cleanly:'; cat %q; exit 1; fi
`, b.text, serveLog, serveLog, serveLog, serveLog)
			served++
		}
	}
	if ran < 8 || served != 1 {
		t.Fatalf("%d runnable blocks and %d serve blocks: the guide lost its commands", ran, served)
	}
	cmd := exec.Command("sh", "-c", script.String())
	cmd.Env = append(os.Environ(),
		"WORK="+work,
		"CONF="+filepath.Join(work, "etc"),
		"DATA="+filepath.Join(work, "var", "gwanje"),
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GWANJE_LISTEN=127.0.0.1:0", // the guide's 8080 may be taken here
		"GWANJE_DATA_DIR=", "GWANJE_MASTER_KEY=", "GWANJE_MASTER_KEY_FILE=", "GWANJE_REGISTRY=", "GWANJE_CONFIG=",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	serveOut, _ := os.ReadFile(serveLog)
	if err != nil {
		t.Fatalf("following %s failed (%v); the last block started is the one that failed:\n%s\nserve's output:\n%s",
			guide, err, out.String(), serveOut)
	}
	// The serve block printed where the one-time password is, not the
	// password, which the guide's next block reads from there.
	pw := ""
	if b, err := os.ReadFile(filepath.Join(work, "var", "gwanje", "admin-password")); err == nil {
		pw = strings.TrimSpace(string(b))
	}
	if pw == "" || !strings.Contains(out.String(), pw) {
		t.Errorf("the guide's `cat $DATA/admin-password` did not show the one-time password")
	}
	if strings.Contains(string(serveOut), pw) || strings.Contains(string(serveOut), "panic") {
		t.Errorf("serve's output shows the password or a panic:\n%s", serveOut)
	}
	t.Logf("ran %d blocks and serve:\n%s", ran, out.String())
}
