package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/gwanje/gwanje/internal/errs"
)

// An entry with a Ref is encoded as v2 (v1 and the Ref), round trips,
// hashes as pinned, and decodes from the stored fixture; an entry without
// one stays v1 byte for byte (TestEncodeDecodeRoundTripAndPinnedHash).
func TestEncodingV2CarriesRef(t *testing.T) {
	e := sample(1)
	e.Seq, e.Time = 7, t0
	e.Prev = sha256.Sum256([]byte("prev"))
	e.Kind, e.Party, e.LegalBasis, e.Form = Provision, "구로경찰서", "개인정보 보호법 제18조제2항제7호", "사본 제공"
	e.Ref = "수사과-2026-1182"
	b := Encode(&e)
	if b[0] != encodingV2 {
		t.Fatalf("version byte %d, want %d", b[0], encodingV2)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	e.Hash = sha256.Sum256(b)
	if !reflect.DeepEqual(got, e) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, e)
	}
	const want = "b2f4485a808e6b9d02f723d11ae4250d7b014d42c9eeeb31ed895c8b90789a0b"
	fixture := filepath.Join("..", "..", "testdata", "ledger", "entry-v2.hex")
	if os.Getenv("LEDGER_WRITE_FIXTURE") != "" {
		os.WriteFile(fixture, []byte(hex.EncodeToString(b)+"\n"), 0o644)
		t.Logf("v2 hash %x", e.Hash)
	}
	if h := hex.EncodeToString(e.Hash[:]); h != want {
		t.Fatalf("canonical encoding v2 changed: hash %s, pinned %s", h, want)
	}
	fx, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	fb, err := hex.DecodeString(strings.TrimSpace(string(fx)))
	if err != nil {
		t.Fatal(err)
	}
	if fe, err := Decode(fb); err != nil || !reflect.DeepEqual(fe, e) {
		t.Fatalf("fixture %s decodes to %+v, %v", fixture, fe, err)
	}
	for cut := 0; cut < len(b); cut += 5 {
		if _, err := Decode(b[:cut]); !errs.Is(err, errs.Corrupt) {
			t.Fatalf("Decode of %d/%d bytes: err %v, want Corrupt", cut, len(b), err)
		}
	}
	// v2 with an empty Ref would give one entry two encodings (and two
	// hashes): refused.
	e.Ref = ""
	v1 := Encode(&e)
	bad := append([]byte{encodingV2}, v1[1:]...)
	bad = append(bad, 0)
	if _, err := Decode(bad); !errs.Is(err, errs.Corrupt) {
		t.Fatalf("v2 with an empty Ref decoded: %v", err)
	}
}

// A chain mixing v1 and v2 entries verifies, and Filter.Ref selects the
// entries answering one document.
func TestRefInChainVerifiesAndFilters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	l, _ := openTest(t, dir, 3)
	for i := 0; i < 7; i++ {
		e := sample(i)
		if i%2 == 1 {
			e.Ref = "2026-0007-K3QX"
		}
		if _, err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := l.Verify(ctx)
	if err != nil || !rep.OK() {
		t.Fatalf("verify of a mixed chain: %+v, %v", rep, err)
	}
	got, err := l.Query(ctx, Filter{Ref: "2026-0007-K3QX"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("Filter.Ref found %d entries, want 3", len(got))
	}
	for _, e := range got {
		if e.Ref != "2026-0007-K3QX" || e.Seq%2 != 0 {
			t.Fatalf("Filter.Ref found %+v", e)
		}
	}
}
