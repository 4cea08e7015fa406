package retention

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/store"
)

// Reason is why footage was destroyed. Values are written in receipts:
// never rename one.
type Reason string

// Reasons for destruction.
const (
	ReasonRetention   Reason = "retention"    // 보관기간 경과
	ReasonCapacity    Reason = "capacity"     // 저장용량 부족
	ReasonDataSubject Reason = "data-subject" // 정보주체 삭제 요구
)

// Korean is the reason as the 관리대장 states it.
func (r Reason) Korean() string {
	switch r {
	case ReasonRetention:
		return "보관기간 경과"
	case ReasonCapacity:
		return "저장용량 부족"
	case ReasonDataSubject:
		return "정보주체 삭제 요구"
	}
	return string(r)
}

// ReceiptFormat names version 1 of the receipt body.
const ReceiptFormat = "gwanje-destruction-receipt v1"

// sigDomain separates receipt signatures from any other use of a key.
const sigDomain = "gwanje-destruction-receipt v1\x00"

// Receipt is a destruction receipt (파기 확인서): what was destroyed, when,
// by whom and why, with what is needed to prove it gone. One receipt covers
// one camera in one destruction run.
type Receipt struct {
	Format string `json:"format"`
	ID     string `json:"id"` // file name without .json
	Camera string `json:"camera"`
	Site   string `json:"site,omitempty"`
	Reason Reason `json:"reason"`
	Actor  string `json:"actor"` // "" is the system
	Detail string `json:"detail,omitempty"`
	// Ref is the document the destruction answers: a data-subject
	// request's receipt number (DestroyRangeFor); written as the 파기
	// row's ledger Ref. Absent from receipts without one.
	Ref         string    `json:"ref,omitempty"`
	DestroyedAt time.Time `json:"destroyed_at"` // keys destroyed (the last batch)
	From        time.Time `json:"from"`         // earliest footage destroyed
	To          time.Time `json:"to"`           // end of the latest footage destroyed
	Bytes       int64     `json:"bytes"`        // ciphertext bytes destroyed
	// Recovered marks a receipt completed at start-up after a crash
	// interrupted the run: DestroyedAt is then when recovery found the keys
	// gone, not when they went.
	Recovered bool        `json:"recovered,omitempty"`
	Segments  []Destroyed `json:"segments"`
}

// Destroyed is one destroyed segment in a receipt.
type Destroyed struct {
	ID     int64     `json:"id"`
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Bytes  int64     `json:"bytes"`
	SHA256 string    `json:"sha256,omitempty"` // ciphertext hash, hex
	KeyID  string    `json:"key_id"`           // master key that wrapped the destroyed data key
	// WrappedKeySHA256 and WrappedKeyNonce fingerprint the destroyed
	// wrapped data key, so Verify can prove its bytes are nowhere in the
	// index without the receipt holding the key.
	WrappedKeySHA256 string  `json:"wrapped_key_sha256"`
	WrappedKeyNonce  string  `json:"wrapped_key_nonce"`
	Replacements     []int64 `json:"replacements,omitempty"`
}

// signedFile is a receipt file: the body, and its signature.
type signedFile struct {
	Receipt   json.RawMessage `json:"receipt"`
	KeyID     string          `json:"key_id"`
	PublicKey string          `json:"public_key"` // base64 Ed25519
	Signature string          `json:"signature"`  // base64, over sigDomain + compact(receipt)
}

func destroyedOf(b *store.Brief, loc *time.Location) Destroyed {
	d := Destroyed{ID: b.ID, Start: at(b.Start, loc), End: at(b.End, loc), Bytes: b.Bytes, KeyID: b.KeyID}
	if len(b.SHA256) > 0 {
		d.SHA256 = hex.EncodeToString(b.SHA256)
	}
	if len(b.WrappedKey) == seal.WrappedSize {
		h := sha256.Sum256(b.WrappedKey)
		d.WrappedKeySHA256 = hex.EncodeToString(h[:])
		d.WrappedKeyNonce = hex.EncodeToString(b.WrappedKey[1:13])
	}
	return d
}

// sign returns the receipt file's bytes.
func (k *Key) sign(r *Receipt) ([]byte, error) {
	body, err := json.Marshal(r)
	if err != nil {
		return nil, errs.E("retention.sign", errs.Internal, err)
	}
	sig := ed25519.Sign(k.priv, append([]byte(sigDomain), body...))
	// The bytes json.Marshal(signedFile{...}) gives, without re-scanning
	// the body (compact already: a receipt of a day of a camera is half a
	// megabyte). Key ids are hex and base64 needs no JSON escaping.
	out := make([]byte, 0, len(body)+256)
	out = append(out, `{"receipt":`...)
	out = append(out, body...)
	out = append(out, `,"key_id":"`+k.ID+`","public_key":"`+base64.StdEncoding.EncodeToString(k.Public())+
		`","signature":"`+base64.StdEncoding.EncodeToString(sig)+`"}`+"\n"...)
	return out, nil
}

// ParseReceipt checks a receipt file's signature against the public key
// it carries and returns the receipt and that key. Pretty-printing the file
// does not break the signature (it covers the compact body).
func ParseReceipt(b []byte) (*Receipt, ed25519.PublicKey, error) {
	const op = "retention.ParseReceipt"
	var f signedFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "not a receipt file: %v", err)
	}
	pub, err := base64.StdEncoding.DecodeString(f.PublicKey)
	if err != nil || len(pub) != ed25519.PublicKeySize {
		return nil, nil, errs.Errorf(op, errs.Invalid, "public_key is not a base64 Ed25519 key")
	}
	if KeyID(pub) != f.KeyID {
		return nil, nil, errs.Errorf(op, errs.Invalid, "key_id %s is not the id of public_key (%s)", f.KeyID, KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "signature is not base64")
	}
	var body bytes.Buffer
	if err := json.Compact(&body, f.Receipt); err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "receipt body: %v", err)
	}
	if !ed25519.Verify(pub, append([]byte(sigDomain), body.Bytes()...), sig) {
		return nil, nil, errs.Errorf(op, errs.Invalid, "signature does not verify: the receipt was changed or not signed by key %s", f.KeyID)
	}
	var r Receipt
	if err := json.Unmarshal(f.Receipt, &r); err != nil {
		return nil, nil, errs.Errorf(op, errs.Invalid, "receipt body: %v", err)
	}
	if r.Format != ReceiptFormat {
		return nil, nil, errs.Errorf(op, errs.Invalid, "receipt format %q; this gwanje knows %q", r.Format, ReceiptFormat)
	}
	return &r, pub, nil
}

// Verification is the result of VerifyReceipt. Problems is empty when
// everything the receipt claims holds.
type Verification struct {
	Receipt  *Receipt
	KeyID    string
	LocalKey string // "match", "differs" or "absent": the data directory's receipt key
	// LedgerRow is the sequence number of the 파기 row that records this
	// receipt (by its SHA-256) in the data directory's ledger; 0 when
	// there is no ledger.db (Ledger "absent") or no such row (a problem).
	LedgerRow uint64
	Ledger    string // "recorded", "absent" or "missing"
	Problems  []string
}

// OK reports whether the receipt verified.
func (v *Verification) OK() bool { return len(v.Problems) == 0 }

// VerifyReceipt checks the receipt file at path: its signature; that its
// key is the data directory's receipt key when that key file exists at
// keyPath ("" for the default); and, when dataDir is not "", that none of
// its segments has an index row or garbage entry, none of their wrapped
// keys is anywhere in index.db or its WAL, none of their files exists, and
// the ledger holds the 파기 row naming the receipt's SHA-256 (when the
// directory has a ledger). It opens the index and the ledger read-only, so
// it runs beside a recorder. A receipt
// whose signature fails is returned as an error.
func VerifyReceipt(path, dataDir, keyPath string) (*Verification, error) {
	const op = "retention.VerifyReceipt"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	r, pub, err := ParseReceipt(b)
	if err != nil {
		return nil, errs.E(op, fmt.Errorf("%s: %w", path, err))
	}
	v := &Verification{Receipt: r, KeyID: KeyID(pub), LocalKey: "absent"}
	if dataDir == "" {
		return v, nil
	}
	if keyPath == "" {
		keyPath = DefaultKeyPath(dataDir)
	}
	if k, err := LoadKey(keyPath); err == nil {
		v.LocalKey = "match"
		if !k.Public().Equal(pub) {
			v.LocalKey = "differs"
			v.Problems = append(v.Problems, fmt.Sprintf("signed by key %s, but this data directory's receipt key is %s", v.KeyID, k.ID))
		}
	} else if !errs.Is(err, errs.NotExist) {
		return nil, errs.E(op, err)
	}
	if err := v.checkIndex(dataDir); err != nil {
		return nil, errs.E(op, err)
	}
	for _, s := range r.Segments {
		p := filepath.Join(dataDir, "segments", r.Camera, strconv.FormatInt(s.ID, 10)+".gws")
		if _, err := os.Stat(p); err == nil {
			v.Problems = append(v.Problems, fmt.Sprintf("segment %d: file %s still exists", s.ID, p))
		} else if !errors.Is(err, fs.ErrNotExist) {
			v.Problems = append(v.Problems, fmt.Sprintf("segment %d: %v", s.ID, err))
		}
	}
	if err := v.scanKeys(dataDir); err != nil {
		return nil, errs.E(op, err)
	}
	if err := v.checkLedger(dataDir, b); err != nil {
		return nil, errs.E(op, err)
	}
	return v, nil
}

// checkLedger finds the 파기 row that names the receipt file's SHA-256 in
// the data directory's ledger, read-only: a receipt the ledger does not
// record is a problem (a destruction is promised in the 관리대장 too), a
// data directory without a ledger is only said.
func (v *Verification) checkLedger(dataDir string, file []byte) error {
	if _, err := os.Stat(filepath.Join(dataDir, ledger.DBName)); errors.Is(err, fs.ErrNotExist) {
		v.Ledger = "absent"
		return nil
	}
	ents, err := ledger.QueryDir(context.Background(), dataDir, ledger.Filter{Kinds: []ledger.Kind{ledger.Destruction}})
	if err != nil {
		return err
	}
	sum := sha256.Sum256(file)
	want := "receipt sha256=" + hex.EncodeToString(sum[:])
	for _, e := range ents {
		if strings.Contains(e.Detail, want) {
			v.Ledger, v.LedgerRow = "recorded", e.Seq
			if len(e.Cameras) != 1 || e.Cameras[0] != v.Receipt.Camera || e.Ref != v.Receipt.Ref {
				v.Problems = append(v.Problems, fmt.Sprintf("the 파기 row #%d records this receipt for camera %v (ref %q), the receipt says %s (ref %q)",
					e.Seq, e.Cameras, e.Ref, v.Receipt.Camera, v.Receipt.Ref))
			}
			return nil
		}
	}
	v.Ledger = "missing"
	v.Problems = append(v.Problems, fmt.Sprintf("no 파기 row in the ledger records this receipt (sha256 %s)", hex.EncodeToString(sum[:])))
	return nil
}

// checkIndex looks the receipt's segment ids up in index.db, read-only.
func (v *Verification) checkIndex(dataDir string) error {
	path := filepath.Join(dataDir, "index.db")
	if _, err := os.Stat(path); err != nil {
		return errs.Errorf("retention.VerifyReceipt", errs.NotExist, "%s has no index.db: not a gwanje data directory", dataDir)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return errs.E("retention.VerifyReceipt", errs.IO, err)
	}
	defer db.Close()
	ids := make([]string, len(v.Receipt.Segments))
	for i, s := range v.Receipt.Segments {
		ids[i] = strconv.FormatInt(s.ID, 10)
	}
	set := "[" + strings.Join(ids, ",") + "]"
	for _, q := range []struct{ table, col, what string }{
		{"segment", "id", "still has an index row (and so its wrapped key)"},
		{"garbage", "segment_id", "is on the garbage list: its destruction was interrupted (the next start-up finishes it)"},
	} {
		rows, err := db.Query(`SELECT `+q.col+` FROM `+q.table+` WHERE `+q.col+` IN (SELECT value FROM json_each(?)) ORDER BY 1`, set)
		if err != nil {
			return errs.E("retention.VerifyReceipt", errs.IO, fmt.Errorf("reading %s: %w", path, err))
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return errs.E("retention.VerifyReceipt", errs.IO, err)
			}
			v.Problems = append(v.Problems, fmt.Sprintf("segment %d %s", id, q.what))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return errs.E("retention.VerifyReceipt", errs.IO, err)
		}
	}
	return nil
}

// scanKeys searches index.db and its WAL, byte by byte, for the wrapped
// keys the receipt fingerprints: at every place a listed nonce follows a
// version byte, the wrapped-key-sized window is hashed and compared.
func (v *Verification) scanKeys(dataDir string) error {
	type fp struct {
		id  int64
		sum [32]byte
	}
	byNonce := map[uint64][]fp{}
	for _, s := range v.Receipt.Segments {
		n, err1 := hex.DecodeString(s.WrappedKeyNonce)
		h, err2 := hex.DecodeString(s.WrappedKeySHA256)
		if err1 != nil || err2 != nil || len(n) != 12 || len(h) != 32 {
			v.Problems = append(v.Problems, fmt.Sprintf("segment %d: receipt has no wrapped-key fingerprint to check", s.ID))
			continue
		}
		var f fp
		f.id = s.ID
		copy(f.sum[:], h)
		k := binary.LittleEndian.Uint64(n)
		byNonce[k] = append(byNonce[k], f)
	}
	if len(byNonce) == 0 {
		return nil
	}
	for _, name := range []string{"index.db", "index.db-wal"} {
		p := filepath.Join(dataDir, name)
		b, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return errs.E("retention.VerifyReceipt", errs.IO, err)
		}
		for i := 1; i+seal.WrappedSize-1 <= len(b); i++ {
			if b[i-1] != 1 || i+8 > len(b) { // wrap version byte
				continue
			}
			fs, ok := byNonce[binary.LittleEndian.Uint64(b[i:])]
			if !ok || i-1+seal.WrappedSize > len(b) {
				continue
			}
			sum := sha256.Sum256(b[i-1 : i-1+seal.WrappedSize])
			for _, f := range fs {
				if sum == f.sum {
					v.Problems = append(v.Problems, fmt.Sprintf("segment %d: its wrapped key is still in %s at offset %d", f.id, p, i-1))
				}
			}
		}
	}
	return nil
}
