package access

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"hash"
	"net/url"
	"time"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
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

// TOTP secrets at rest. With Config.Keys the secret is sealed: a fresh data
// key wrapped under the active master key, the secret sealed with it as a
// blob bound to the account id, so a secret copied to another account's
// row does not open. The stored form is
//
//	"gwt1" | len(keyID) | keyID | wrapped data key | sealed blob
//
// Without keys, or for a secret stored before sealing (exactly 20 bytes),
// the secret is the bytes themselves.
const sealedTOTPMagic = "gwt1"

func (s *Service) sealSecret(account int64, secret []byte) ([]byte, error) {
	if s.cfg.Keys == nil {
		return secret, nil
	}
	dk := seal.NewDataKey()
	wrapped, keyID, err := s.cfg.Keys.Wrap(dk, account)
	if err != nil {
		return nil, errs.E("access.sealSecret", errs.Internal, err)
	}
	out := append([]byte(sealedTOTPMagic), byte(len(keyID)))
	out = append(out, keyID...)
	out = append(out, wrapped...)
	return append(out, dk.SealBlob(account, "totp", secret)...), nil
}

// isSealed reports whether a stored TOTP secret is sealed (a raw secret
// is exactly 20 bytes).
func isSealed(stored []byte) bool {
	return len(stored) != 20 && bytes.HasPrefix(stored, []byte(sealedTOTPMagic))
}

func (s *Service) openSecret(account int64, stored []byte) ([]byte, error) {
	const op = "access.openSecret"
	if !isSealed(stored) {
		return stored, nil
	}
	if s.cfg.Keys == nil {
		return nil, errs.Errorf(op, errs.Unavailable, "the TOTP secret of account %d is sealed and no master keys were given", account)
	}
	b := stored[len(sealedTOTPMagic):]
	if len(b) < 1 || len(b) < 1+int(b[0])+seal.WrappedSize {
		return nil, errs.Errorf(op, errs.Internal, "the TOTP secret of account %d is truncated", account)
	}
	keyID := string(b[1 : 1+b[0]])
	b = b[1+b[0]:]
	dk, err := s.cfg.Keys.Unwrap(b[:seal.WrappedSize], account, keyID)
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	secret, err := dk.OpenBlob(account, "totp", b[seal.WrappedSize:])
	if err != nil {
		return nil, errs.E(op, errs.Internal, err)
	}
	return secret, nil
}
