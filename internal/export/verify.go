package export

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
)

// Trust is the key a verifier trusts, obtained apart from the package: a
// public-key file's key, or the fingerprint (full SHA-256 of the key, hex)
// read to him over another channel. Both empty: the package's own key is
// used, which proves the package whole but not who made it.
type Trust struct {
	PublicKey   ed25519.PublicKey
	Fingerprint string
}

// Verification is what Verify found. Problems is empty when the package is
// whole and signed by the trusted key.
type Verification struct {
	Manifest *Manifest // nil when the manifest could not be read
	KeyID    string
	// Fingerprint is the signing key's full SHA-256, to compare with the
	// one the institution gives out.
	Fingerprint string
	// Trusted is true when the key was given from outside and matched.
	Trusted  bool
	Problems []string
}

// OK reports whether the package verified.
func (v *Verification) OK() bool { return len(v.Problems) == 0 }

func (v *Verification) fail(format string, a ...any) {
	v.Problems = append(v.Problems, fmt.Sprintf(format, a...))
}

// maxManifest bounds the manifest read into memory.
const maxManifest = 64 << 20

// Verify checks the package in r (size bytes): the manifest's signature;
// that its key is the trusted one (when given) and the one in
// public-key.txt; that every clip the manifest lists is in the ZIP with
// its size and SHA-256; that SHA256SUMS agrees with the manifest; and that
// the ZIP holds nothing the manifest does not vouch for. Every failure is
// named in Problems; an error means the input is not a package at all.
func Verify(r io.ReaderAt, size int64, trust Trust) (*Verification, error) {
	const op = "export.Verify"
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, errs.Errorf(op, errs.Invalid, "not a ZIP file: %v", err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			// A second entry of one name could show a reader other
			// bytes than those hashed.
			v := &Verification{}
			v.fail("%s appears twice in the ZIP", f.Name)
			return v, nil
		}
		files[f.Name] = f
	}
	v := &Verification{}
	mf, ok := files[ManifestName]
	if !ok {
		v.fail("%s is missing", ManifestName)
		return v, nil
	}
	body, err := readAll(mf, maxManifest)
	if err != nil {
		v.fail("%s: %v", ManifestName, err)
		return v, nil
	}
	m, pub, err := parseManifest(body)
	if pub != nil {
		v.KeyID, v.Fingerprint = seal.SigningKeyID(pub), seal.Fingerprint(pub)
	}
	if err != nil {
		v.fail("%v", message(err))
		return v, nil
	}
	v.Manifest = m
	switch {
	case trust.PublicKey != nil:
		if !trust.PublicKey.Equal(pub) {
			v.fail("%s is signed by key %s, not by the trusted key %s", ManifestName, v.KeyID, seal.SigningKeyID(trust.PublicKey))
		} else {
			v.Trusted = true
		}
	case trust.Fingerprint != "":
		want := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(trust.Fingerprint), ":", ""))
		if want != v.Fingerprint {
			v.fail("%s is signed by key %s (fingerprint %s), not by the trusted fingerprint %s", ManifestName, v.KeyID, v.Fingerprint, want)
		} else {
			v.Trusted = true
		}
	}
	if pf, ok := files[PublicKeyName]; !ok {
		v.fail("%s is missing", PublicKeyName)
	} else if b, err := readAll(pf, 4096); err != nil {
		v.fail("%s: %v", PublicKeyName, err)
	} else if k, err := ParsePublicKey(PublicKeyName, b); err != nil {
		v.fail("%v", message(err))
	} else if !k.Equal(pub) {
		v.fail("%s holds key %s, but the manifest is signed by key %s", PublicKeyName, seal.SigningKeyID(k), v.KeyID)
	}
	listed := map[string]bool{ManifestName: true, PublicKeyName: true, SumsName: true, ReadmeName: true}
	var sums strings.Builder
	for _, c := range m.Clips {
		listed[c.File] = true
		fmt.Fprintf(&sums, "%s  %s\n", c.SHA256, c.File)
		f, ok := files[c.File]
		if !ok {
			v.fail("%s is missing (camera %s)", c.File, c.Camera)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			v.fail("%s: %v", c.File, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		got := hex.EncodeToString(h.Sum(nil))
		switch {
		case err != nil && n != c.Bytes:
			v.fail("%s: %d bytes, the manifest says %d: %v", c.File, n, c.Bytes, err)
		case err != nil && got != c.SHA256:
			// archive/zip checks the entry's CRC-32 at the end: a changed
			// byte fails it; name the hash, which is what the manifest vouches.
			v.fail("%s: SHA-256 %s does not match the manifest's %s (the file was changed)", c.File, got, c.SHA256)
		case err != nil:
			v.fail("%s: %v", c.File, err)
		case n != c.Bytes:
			v.fail("%s: %d bytes, the manifest says %d", c.File, n, c.Bytes)
		case got != c.SHA256:
			v.fail("%s: SHA-256 %s does not match the manifest's %s (the file was changed)", c.File, got, c.SHA256)
		}
	}
	if sf, ok := files[SumsName]; !ok {
		v.fail("%s is missing", SumsName)
	} else if b, err := readAll(sf, maxManifest); err != nil {
		v.fail("%s: %v", SumsName, err)
	} else if !bytes.Equal(b, []byte(sums.String())) {
		v.fail("%s does not list the manifest's clips and hashes", SumsName)
	}
	var extra []string
	for name := range files {
		if !listed[name] && !strings.HasSuffix(name, "/") {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		v.fail("%s is in the ZIP but not in the manifest", name)
	}
	return v, nil
}

func readAll(f *zip.File, limit int64) ([]byte, error) {
	if f.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("larger than %d bytes", limit)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

// message is the innermost text of err, without the operations and kinds
// around it: what a recipient reads.
func message(err error) string {
	for {
		e, ok := err.(*errs.Error)
		if !ok || e.Err == nil {
			return err.Error()
		}
		err = e.Err
	}
}

// VerifyFile is Verify of the package at path.
func VerifyFile(path string, trust Trust) (*Verification, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errs.E("export.VerifyFile", errs.IO, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errs.E("export.VerifyFile", errs.IO, err)
	}
	return Verify(f, fi.Size(), trust)
}
