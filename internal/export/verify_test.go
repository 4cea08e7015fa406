package export

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
)

// packageOnce is one good package shared by the verify tests.
func goodPackage(t *testing.T) (path string, key *Key, m *Manifest) {
	t.Helper()
	rec := newRecording(t, media.CodecH264)
	key = newKey(t)
	path, m = produce(t, rec, key, newFakeGate(), testRequest(t0, t0+15*sec, "cam-1", "cam-2"))
	return path, key, m
}

func wantProblem(t *testing.T, v *Verification, substrs ...string) {
	t.Helper()
	if v.OK() {
		t.Fatalf("verified; want a problem naming %q", substrs)
	}
	all := strings.Join(v.Problems, "\n")
	for _, s := range substrs {
		if !strings.Contains(all, s) {
			t.Errorf("problems do not name %q:\n%s", s, all)
		}
	}
}

// resign replaces the manifest's body by edit's result, signed by key.
func resign(t *testing.T, key *Key, edit func(*Manifest)) func(string, []byte) []byte {
	return func(name string, b []byte) []byte {
		switch name {
		case ManifestName:
			m, _, err := parseManifest(b)
			if err != nil {
				t.Fatal(err)
			}
			edit(m)
			out, err := key.sign(m)
			if err != nil {
				t.Fatal(err)
			}
			return out
		case PublicKeyName:
			return PublicKeyText(key.Public())
		}
		return b
	}
}

func TestVerifyPackage(t *testing.T) {
	path, key, m := goodPackage(t)
	clip0 := m.Clips[0].File
	fp := seal.Fingerprint(key.Public())

	t.Run("good", func(t *testing.T) {
		for _, tr := range []Trust{{}, {PublicKey: key.Public()}, {Fingerprint: strings.ToUpper(fp)}} {
			v := verifyFile(t, path, tr)
			if !v.OK() {
				t.Fatalf("a good package fails: %v", v.Problems)
			}
			if v.Trusted != (tr.PublicKey != nil || tr.Fingerprint != "") || v.Fingerprint != fp || v.Manifest.LedgerSeq != 42 {
				t.Errorf("verification %+v", v)
			}
		}
	})

	t.Run("flipped byte in a clip", func(t *testing.T) {
		// Flip one byte of the clip in place in the ZIP, as damage or
		// tampering would.
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		var off int64 = -1
		for _, f := range zr.File {
			if f.Name == clip0 {
				off, _ = f.DataOffset()
				off += int64(f.UncompressedSize64) / 2
			}
		}
		if off < 0 {
			t.Fatal("clip not found")
		}
		b[off] ^= 0x01
		bad := path + ".flipped.zip"
		os.WriteFile(bad, b, 0o600)
		wantProblem(t, verifyFile(t, bad, Trust{PublicKey: key.Public()}), clip0, "SHA-256")

		// The same change with the ZIP's CRC made to agree: the hash
		// still catches it.
		bad2 := rewrite(t, path, func(name string, b []byte) []byte {
			if name == clip0 {
				b = bytes.Clone(b)
				b[len(b)/2] ^= 0x01
			}
			return b
		})
		wantProblem(t, verifyFile(t, bad2, Trust{}), clip0, "does not match the manifest")
	})

	t.Run("changed manifest field", func(t *testing.T) {
		bad := rewrite(t, path, func(name string, b []byte) []byte {
			if name != ManifestName {
				return b
			}
			var f map[string]json.RawMessage
			if err := json.Unmarshal(b, &f); err != nil {
				t.Fatal(err)
			}
			body := strings.Replace(string(f["manifest"]), "수사-2026-0412", "수사-2026-0413", 1)
			if body == string(f["manifest"]) {
				t.Fatal("letter number not found in the manifest")
			}
			f["manifest"] = json.RawMessage(body)
			out, _ := json.Marshal(f)
			return out
		})
		wantProblem(t, verifyFile(t, bad, Trust{}), ManifestName, "signature does not verify")
	})

	t.Run("signed by another key", func(t *testing.T) {
		other := newKey(t)
		bad := rewrite(t, path, resign(t, other, func(m *Manifest) { m.Recipient = "someone else" }))
		// Whole in itself: only a key known from outside tells.
		if v := verifyFile(t, bad, Trust{}); !v.OK() || v.Trusted {
			t.Fatalf("self-consistent package: %+v", v)
		}
		wantProblem(t, verifyFile(t, bad, Trust{PublicKey: key.Public()}), "signed by key "+other.ID, "not by the trusted key "+key.ID)
		wantProblem(t, verifyFile(t, bad, Trust{Fingerprint: fp}), "signed by key "+other.ID, "not by the trusted fingerprint")

		// Signed by another key but public-key.txt left alone.
		bad2 := rewrite(t, path, func(name string, b []byte) []byte {
			if name == PublicKeyName {
				return b
			}
			return resign(t, other, func(*Manifest) {})(name, b)
		})
		wantProblem(t, verifyFile(t, bad2, Trust{}), PublicKeyName+" holds key "+key.ID)
	})

	t.Run("missing clip", func(t *testing.T) {
		bad := rewrite(t, path, func(name string, b []byte) []byte {
			if name == clip0 {
				return nil
			}
			return b
		})
		wantProblem(t, verifyFile(t, bad, Trust{}), clip0+" is missing")
	})

	t.Run("added file", func(t *testing.T) {
		bad := rewrite(t, path, func(name string, b []byte) []byte { return b })
		zr, _ := zip.OpenReader(bad)
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for _, f := range zr.File {
			zw.Copy(f)
		}
		zr.Close()
		w, _ := zw.Create("clips/extra.mp4")
		w.Write([]byte("x"))
		zw.Close()
		os.WriteFile(bad, buf.Bytes(), 0o600)
		wantProblem(t, verifyFile(t, bad, Trust{}), "clips/extra.mp4 is in the ZIP but not in the manifest")
	})

	t.Run("SHA256SUMS changed", func(t *testing.T) {
		bad := rewrite(t, path, func(name string, b []byte) []byte {
			if name == SumsName {
				return []byte("0000  " + clip0 + "\n")
			}
			return b
		})
		wantProblem(t, verifyFile(t, bad, Trust{}), SumsName)
	})

	t.Run("no manifest", func(t *testing.T) {
		bad := rewrite(t, path, func(name string, b []byte) []byte {
			if name == ManifestName {
				return nil
			}
			return b
		})
		wantProblem(t, verifyFile(t, bad, Trust{}), ManifestName+" is missing")
	})
}

// The manifest's SHA256SUMS is what sha256sum -c reads.
func TestSumsAreSha256sumFormat(t *testing.T) {
	path, _, m := goodPackage(t)
	zr, _ := zip.OpenReader(path)
	defer zr.Close()
	rc, _ := zr.Open(SumsName)
	var buf bytes.Buffer
	buf.ReadFrom(rc)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(m.Clips) {
		t.Fatalf("%d lines for %d clips", len(lines), len(m.Clips))
	}
	for i, l := range lines {
		if l != m.Clips[i].SHA256+"  "+m.Clips[i].File {
			t.Errorf("line %q", l)
		}
	}
	// And sha256sum -c accepts the unpacked package.
	sum, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("no sha256sum")
	}
	dir := t.TempDir()
	for _, f := range zr.File {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f.Name)), 0o700)
		extract(t, path, f.Name, filepath.Join(dir, filepath.Dir(f.Name)))
	}
	cmd := exec.Command(sum, "-c", SumsName)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
}
