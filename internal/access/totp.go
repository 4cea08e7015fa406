package access

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"time"
)

// TOTP (RFC 6238) with the parameters every authenticator app supports:
// HMAC-SHA1, 30-second steps, 6 digits.
const (
	totpStep   = 30
	totpDigits = 6
)

// totpCode computes the RFC 6238 code for counter step with hash h.
func totpCode(h func() hash.Hash, secret []byte, step uint64, digits int) string {
	m := hmac.New(h, secret)
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], step)
	m.Write(c[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for i := 0; i < digits; i++ {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

func totpStepAt(t time.Time) uint64 { return uint64(t.Unix()) / totpStep }

// totpCheck accepts a code for the step at now or one step either side,
// only if that step is after last (so a code is never accepted twice). It
// returns the accepted step.
func totpCheck(secret []byte, code string, now time.Time, last uint64) (uint64, bool) {
	s := totpStepAt(now)
	for _, st := range []uint64{s - 1, s, s + 1} {
		if st <= last {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(totpCode(sha1.New, secret, st, totpDigits)), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}

// totpURI is the otpauth:// URI authenticator apps scan as a QR code.
func totpURI(issuer, name string, secret []byte) string {
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	q := url.Values{"secret": {s}, "issuer": {issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	return "otpauth://totp/" + url.PathEscape(issuer+":"+name) + "?" + q.Encode()
}
