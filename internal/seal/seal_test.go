package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "master.key")
	r, err := CreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if _, err := CreateKeyFile(path); err == nil {
		t.Fatal("CreateKeyFile overwrote an existing key file")
	}
	r2, err := LoadKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Active() != r.Active() || len(r.Active()) != 16 {
		t.Fatalf("active key %q after load, want %q", r2.Active(), r.Active())
	}
	r3, err := AddKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if ids := r3.IDs(); len(ids) != 2 || ids[0] != r.Active() || r3.Active() == r.Active() {
		t.Fatalf("after AddKey ids %v", ids)
	}
	if r4, err := LoadKeyFile(path); err != nil || r4.Active() != r3.Active() {
		t.Fatalf("reload after AddKey: %v", err)
	}
	os.Chmod(path, 0o640)
	if _, err := LoadKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("group-readable key file loaded: %v", err)
	}
}

func TestParseKeyringErrors(t *testing.T) {
	k := NewRandomKey()
	good := FormatKeyLine(k)
	for name, text := range map[string]string{
		"empty":      "# nothing\n\n",
		"prefix":     "master-key v1 abc def\n",
		"version":    strings.Replace(good, " v1 ", " v9 ", 1),
		"id":         strings.Replace(good, KeyID(k), "0000000000000000", 1),
		"base64":     "gwanje-master-key v1 " + KeyID(k) + " !!!\n",
		"duplicates": good + good,
	} {
		_, err := ParseKeyring("env GWANJE_MASTER_KEY", []byte(text))
		if err == nil {
			t.Errorf("%s: parsed", name)
			continue
		}
		if strings.Contains(err.Error(), good[len(good)-20:len(good)-1]) {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
	}
	if _, err := ParseKeyring("env", []byte("# a comment\n"+good)); err != nil {
		t.Fatal(err)
	}
}

func TestWrap(t *testing.T) {
	k1, k2 := NewRandomKey(), NewRandomKey()
	r1, _ := NewKeyring(k1)
	r12, _ := NewKeyring(k1, k2)
	r2, _ := NewKeyring(k2)
	dk := NewDataKey()
	w, id, err := r1.Wrap(dk, 7)
	if err != nil || id != KeyID(k1) || len(w) != WrappedSize {
		t.Fatalf("wrap: %v %s %d", err, id, len(w))
	}
	got, err := r12.Unwrap(w, 7, id)
	if err != nil || got.raw != dk.raw {
		t.Fatalf("unwrap with older key in ring: %v", err)
	}
	if _, err := r2.Unwrap(w, 7, id); err == nil {
		t.Error("unwrapped without the key")
	}
	if _, err := r12.Unwrap(w, 8, id); !errors.Is(err, ErrUnwrap) {
		t.Errorf("unwrapped for another segment: %v", err)
	}
	if _, err := r12.Unwrap(w, 7, KeyID(k2)); !errors.Is(err, ErrUnwrap) {
		t.Errorf("unwrapped under another key id: %v", err)
	}
	bad := bytes.Clone(w)
	bad[20] ^= 1
	if _, err := r12.Unwrap(bad, 7, id); !errors.Is(err, ErrUnwrap) {
		t.Errorf("unwrapped a tampered key: %v", err)
	}
	w2, id2, err := r12.Rewrap(w, 7, id)
	if err != nil || id2 != KeyID(k2) {
		t.Fatalf("rewrap: %v %s", err, id2)
	}
	if got, err := r2.Unwrap(w2, 7, id2); err != nil || got.raw != dk.raw {
		t.Fatalf("unwrap after rewrap: %v", err)
	}
	sb := dk.SealBlob(7, "params", []byte("sps pps"))
	if p, err := dk.OpenBlob(7, "params", sb); err != nil || string(p) != "sps pps" {
		t.Fatalf("blob: %q %v", p, err)
	}
	if _, err := dk.OpenBlob(8, "params", sb); err == nil {
		t.Error("blob opened for another segment")
	}
	if _, err := NewDataKey().OpenBlob(7, "params", sb); err == nil {
		t.Error("blob opened with another key")
	}
}

// file builds a segment file of n chunks; chunk i holds bytes of value i.
func file(t testing.TB, dk *DataKey, segID int64, n int) ([]byte, [][]byte) {
	s := NewChunkSealer(dk, segID)
	b := append([]byte(nil), s.Header()...)
	var plains [][]byte
	for i := range n {
		p := bytes.Repeat([]byte{byte(i + 1)}, 100+i)
		plains = append(plains, p)
		var err error
		if b, err = s.Seal(b, p); err != nil {
			t.Fatal(err)
		}
	}
	return b, plains
}

func scan(t testing.TB, b []byte, dk *DataKey) (*ScanResult, [][]byte) {
	var got [][]byte
	res, err := Scan(bytes.NewReader(b), int64(len(b)), dk, func(seq uint64, p []byte) error {
		got = append(got, bytes.Clone(p))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return res, got
}

func TestScan(t *testing.T) {
	dk := NewDataKey()
	b, plains := file(t, dk, 42, 3)
	res, got := scan(t, b, dk)
	if res.Stop != StopEnd || len(res.Chunks) != 3 || res.End != int64(len(b)) || res.Header.SegmentID != 42 {
		t.Fatalf("clean scan: %+v", res)
	}
	for i := range plains {
		if !bytes.Equal(got[i], plains[i]) {
			t.Fatalf("chunk %d differs", i)
		}
	}
	c1 := res.Chunks[1]
	full := res

	// Every truncation keeps exactly the chunks that are complete.
	for cut := 0; cut < len(b); cut++ {
		res, _ := scan(t, b[:cut], dk)
		want := 0
		for _, c := range full.Chunks {
			if c.Offset+c.Size <= int64(cut) {
				want++
			}
		}
		if cut < HeaderSize {
			if res.Stop != StopHeader {
				t.Fatalf("cut %d: stop %v", cut, res.Stop)
			}
			continue
		}
		if len(res.Chunks) != want {
			t.Fatalf("cut %d: %d chunks, want %d", cut, len(res.Chunks), want)
		}
		if res.Stop != StopEnd && res.Stop != StopTorn {
			t.Fatalf("cut %d: stop %v (%s), want torn", cut, res.Stop, res.Reason)
		}
	}

	// A zero-filled tail (what a crash can leave) is torn, not corrupt.
	z := append(bytes.Clone(b), make([]byte, 5000)...)
	if res, _ := scan(t, z, dk); res.Stop != StopTorn || len(res.Chunks) != 3 {
		t.Fatalf("zero tail: %v %d", res.Stop, len(res.Chunks))
	}

	// A flipped bit in the middle chunk is corruption, found at chunk 1.
	m := bytes.Clone(b)
	m[c1.Offset+10] ^= 0x40
	if res, _ := scan(t, m, dk); res.Stop != StopCorrupt || len(res.Chunks) != 1 || res.At != c1.Offset {
		t.Fatalf("corrupt middle: %+v", res)
	}

	// Swapping chunks 0 and 1 is detected.
	hdr := b[:HeaderSize]
	c0 := res.Chunks[0]
	sw := append(bytes.Clone(hdr), b[c1.Offset:c1.Offset+c1.Size]...)
	sw = append(sw, b[c0.Offset:c0.Offset+c0.Size]...)
	if res, _ := scan(t, sw, dk); len(res.Chunks) != 0 {
		t.Fatalf("reordered chunks accepted: %+v", res)
	}

	// A chunk spliced from another segment with the same key is refused.
	other, _ := file(t, dk, 43, 3)
	sp := append(bytes.Clone(b[:c1.Offset]), other[c1.Offset:]...)
	if res, _ := scan(t, sp, dk); len(res.Chunks) != 1 {
		t.Fatalf("spliced chunk accepted: %+v", res)
	}

	// A wrong key reads nothing.
	if res, _ := scan(t, b, NewDataKey()); len(res.Chunks) != 0 {
		t.Fatal("wrong key read chunks")
	}

	// fn refusing a chunk stops the scan there.
	res2, err := Scan(bytes.NewReader(b), int64(len(b)), dk, func(seq uint64, p []byte) error {
		if seq == 2 {
			return errors.New("bad plaintext")
		}
		return nil
	})
	if err != nil || res2.Stop != StopCorrupt || len(res2.Chunks) != 2 || !strings.Contains(res2.Reason, "bad plaintext") {
		t.Fatalf("fn error: %+v %v", res2, err)
	}
}

func FuzzScan(f *testing.F) {
	dk, _ := dataKeyFrom(bytes.Repeat([]byte{7}, KeySize))
	b, _ := file(f, dk, 1, 3)
	f.Add(b)
	f.Add(b[:len(b)-5])
	f.Add(b[:HeaderSize+2])
	m := bytes.Clone(b)
	m[HeaderSize+3] = 0xff
	f.Add(m)
	f.Fuzz(func(t *testing.T, in []byte) {
		res, err := Scan(bytes.NewReader(in), int64(len(in)), dk, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.End > int64(len(in)) || (res.Stop == StopEnd && res.End != int64(len(in))) {
			t.Fatalf("bad result %+v for %d bytes", res, len(in))
		}
	})
}
