package access

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/argon2"

	"github.com/gwanje/gwanje/internal/errs"
)

// Argon2 holds the argon2id cost parameters. The stored hash carries its
// own parameters, so raising them later still verifies old hashes.
type Argon2 struct {
	Time      uint32 // passes
	MemoryKiB uint32
	Threads   uint8
}

// DefaultArgon2 follows the OWASP recommendation for argon2id
// (19 MiB, 2 passes, 1 lane).
var DefaultArgon2 = Argon2{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

// hashPassword returns a PHC string: $argon2id$v=19$m=..,t=..,p=..$salt$hash.
func hashPassword(pw string, a Argon2) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", errs.E("access.hashPassword", errs.Internal, err)
	}
	key := argon2.IDKey([]byte(pw), salt, a.Time, a.MemoryKiB, a.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.MemoryKiB, a.Time, a.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword compares pw with a PHC string in constant time.
func checkPassword(pw, phc string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var a Argon2
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.MemoryKiB, &a.Time, &a.Threads); err != nil || a.Time == 0 || a.Threads == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, a.Time, a.MemoryKiB, a.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// PasswordPolicy is what a new password must satisfy.
type PasswordPolicy struct {
	MinLength int // in characters; default 10
	MaxLength int // default 128 (bounds hashing and scoring work)
	// MinClasses is how many of letters, digits and symbols it must
	// mix (default 2), following the 개인정보의 안전성 확보조치 기준
	// guidance (2 classes and 10 characters, or 3 classes and 8).
	MinClasses int
	// MinScore is the least zxcvbn strength score, 0 (guessed at once)
	// to 4 (default 3: "safely unguessable" against an offline attack
	// on a slow hash). "password123" scores 0.
	MinScore int
}

// DefaultMinScore is PasswordPolicy.MinScore's default.
const DefaultMinScore = 3

// Check returns an Invalid error, with a catalogue code, naming the first
// rule pw breaks. inputs are words the password must not lean on (the
// user's login and display names, the service's name).
func (p PasswordPolicy) Check(pw string, inputs ...string) error {
	const op = "access.PasswordPolicy"
	if p.MinLength == 0 {
		p.MinLength = 10
	}
	if p.MaxLength == 0 {
		p.MaxLength = 128
	}
	if p.MinClasses == 0 {
		p.MinClasses = 2
	}
	if p.MinScore == 0 {
		p.MinScore = DefaultMinScore
	}
	n := utf8.RuneCountInString(pw)
	if n < p.MinLength {
		return errs.E(op, errs.Invalid, errs.Code("password.short"), errs.Params{"min": strconv.Itoa(p.MinLength)},
			fmt.Errorf("password has %d characters; at least %d are required", n, p.MinLength))
	}
	if n > p.MaxLength {
		return errs.E(op, errs.Invalid, errs.Code("password.long"), errs.Params{"max": strconv.Itoa(p.MaxLength)},
			fmt.Errorf("password has %d characters; at most %d are allowed", n, p.MaxLength))
	}
	var letter, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsLetter(r):
			letter = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	classes := 0
	for _, b := range []bool{letter, digit, symbol} {
		if b {
			classes++
		}
	}
	if classes < p.MinClasses {
		return errs.E(op, errs.Invalid, errs.Code("password.classes"), errs.Params{"min": strconv.Itoa(p.MinClasses)},
			fmt.Errorf("password mixes %d of letters, digits and symbols; at least %d are required", classes, p.MinClasses))
	}
	low := strings.ToLower(pw)
	var words []string
	for _, in := range inputs {
		if in = strings.ToLower(strings.TrimSpace(in)); in != "" {
			words = append(words, in)
			if strings.Contains(low, in) {
				return errs.E(op, errs.Invalid, errs.Code("password.contains_name"), "password contains the user's name")
			}
		}
	}
	if commonPasswords[low] {
		return errs.E(op, errs.Invalid, errs.Code("password.weak"), "password is on the list of common passwords")
	}
	if score := zxcvbn.PasswordStrength(pw, words).Score; score < p.MinScore {
		return errs.E(op, errs.Invalid, errs.Code("password.weak"),
			fmt.Errorf("password strength score %d; at least %d is required", score, p.MinScore))
	}
	return nil
}

// commonPasswords are refused whatever their score (Korean keyboard
// walks zxcvbn's English lists may miss).
var commonPasswords = map[string]bool{
	"password1234": true, "qwer1234!@#$": true, "1q2w3e4r5t": true, "admin12345": true,
	"p@ssw0rd123": true, "abcd1234!@": true, "1234567890a": true, "qwerty12345": true,
}

// randomPassword returns a one-time password that satisfies the default
// policy: 20 characters from letters, digits and symbols.
func randomPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_.!"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	// Guarantee a digit and a symbol whatever the draw.
	b[3], b[11] = "23456789"[b[3]%8], "-_.!"[b[11]%4]
	return string(b), nil
}
