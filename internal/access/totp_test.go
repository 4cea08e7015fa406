package access

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
	"testing"
	"time"
)

// RFC 6238 Appendix B test vectors (8 digits).
func TestTOTPRFC6238Vectors(t *testing.T) {
	seeds := map[string]struct {
		h      func() hash.Hash
		secret string
	}{
		"SHA1":   {sha1.New, "12345678901234567890"},
		"SHA256": {sha256.New, "12345678901234567890123456789012"},
		"SHA512": {sha512.New, "1234567890123456789012345678901234567890123456789012345678901234"},
	}
	vectors := []struct {
		unix int64
		alg  string
		want string
	}{
		{59, "SHA1", "94287082"}, {59, "SHA256", "46119246"}, {59, "SHA512", "90693936"},
		{1111111109, "SHA1", "07081804"}, {1111111109, "SHA256", "68084774"}, {1111111109, "SHA512", "25091201"},
		{1111111111, "SHA1", "14050471"}, {1111111111, "SHA256", "67062674"}, {1111111111, "SHA512", "99943326"},
		{1234567890, "SHA1", "89005924"}, {1234567890, "SHA256", "91819424"}, {1234567890, "SHA512", "93441116"},
		{2000000000, "SHA1", "69279037"}, {2000000000, "SHA256", "90698825"}, {2000000000, "SHA512", "38618901"},
		{20000000000, "SHA1", "65353130"}, {20000000000, "SHA256", "77737706"}, {20000000000, "SHA512", "47863826"},
	}
	for _, v := range vectors {
		s := seeds[v.alg]
		got := totpCode(s.h, []byte(s.secret), totpStepAt(time.Unix(v.unix, 0)), 8)
		if got != v.want {
			t.Errorf("T=%d %s: got %s want %s", v.unix, v.alg, got, v.want)
		}
	}
}

func TestTOTPCheckWindowAndReplay(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	code := totpCode(sha1.New, secret, totpStepAt(now), totpDigits)
	st, ok := totpCheck(secret, code, now.Add(25*time.Second), 0)
	if !ok {
		t.Fatal("code from the previous step refused")
	}
	if _, ok := totpCheck(secret, code, now, st); ok {
		t.Fatal("code accepted twice")
	}
	if _, ok := totpCheck(secret, code, now.Add(2*time.Minute), 0); ok {
		t.Fatal("stale code accepted")
	}
}
