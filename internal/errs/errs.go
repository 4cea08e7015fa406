// Package errs is gwanje's one error vocabulary: every error that crosses a
// package boundary is an *Error carrying the operation, a Kind and the cause.
// The web layer turns a Kind into an HTTP status in one place; the text of an
// error is for logs and operators, never for HTTP clients.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Kind classifies an error. The list is append-only: values are stored in
// logs and compared across versions, so never reorder or reuse them.
type Kind uint8

const (
	Other        Kind = iota // unclassified
	Invalid                  // bad input from a user, a file or a camera
	NotExist                 // the thing does not exist
	Exist                    // the thing already exists
	Permission               // the caller may not do this
	Private                  // not allowed, and must look the same as not existing
	Unauthorized             // no valid credentials
	IO                       // storage or network I/O failed
	Corrupt                  // stored data fails its integrity check
	Unavailable              // a dependency is down; try again later
	Conflict                 // the state changed underneath the caller
	Internal                 // a bug: an invariant does not hold
	TooLarge                 // input exceeds a limit
	Held                     // footage is under a legal hold
	Canceled                 // the operation was cancelled
)

var kindNames = [...]string{
	Other:        "other error",
	Invalid:      "invalid",
	NotExist:     "does not exist",
	Exist:        "already exists",
	Permission:   "permission denied",
	Private:      "not found",
	Unauthorized: "unauthorized",
	IO:           "I/O error",
	Corrupt:      "corrupt data",
	Unavailable:  "unavailable",
	Conflict:     "conflict",
	Internal:     "internal error",
	TooLarge:     "too large",
	Held:         "under legal hold",
	Canceled:     "cancelled",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Code is a stable, public name of what went wrong, "footage.none": the one
// thing about an error an HTTP client is told besides its message, which
// the message catalogue (internal/i18n) holds for each code in each
// language. Codes are append-only like Kinds: clients and tests match them.
// An error without a Code is known to clients by its Kind's default code
// (Kind.Code).
type Code string

// Params are the public values a Code's message names ({max} in "at most
// {max}"). They are shown to the client: never put internal text in them.
type Params map[string]string

// Error is the error type of gwanje.
type Error struct {
	Op     string // the operation, "store.Open"
	Kind   Kind
	Code   Code   // the public code, "" to use the Kind's
	Params Params // values for the Code's message
	Err    error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	if e.Kind != Other {
		b.WriteString(e.Kind.String())
		if e.Err != nil {
			b.WriteString(": ")
		}
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// E builds an *Error. Arguments may be a string (the op), a Kind, an error,
// in any order. When the cause is itself an *Error with a Kind and no Kind is
// given, the inner Kind is kept.
func E(op string, args ...any) error {
	e := &Error{Op: op}
	for _, a := range args {
		switch a := a.(type) {
		case Kind:
			e.Kind = a
		case Code:
			e.Code = a
		case Params:
			e.Params = a
		case error:
			e.Err = a
		case string:
			e.Err = errors.New(a)
		default:
			panic(fmt.Sprintf("errs.E: bad argument %T", a))
		}
	}
	if e.Kind == Other {
		e.Kind = KindOf(e.Err)
	}
	return e
}

// Errorf is E with a formatted cause.
func Errorf(op string, kind Kind, format string, a ...any) error {
	return &Error{Op: op, Kind: kind, Err: fmt.Errorf(format, a...)}
}

// KindOf returns the outermost Kind in err's chain, or Other.
func KindOf(err error) Kind {
	for err != nil {
		var e *Error
		if !errors.As(err, &e) {
			return Other
		}
		if e.Kind != Other {
			return e.Kind
		}
		err = e.Err
	}
	return Other
}

// CodeOf returns the outermost Code in err's chain, or the default code of
// err's Kind when none has one.
func CodeOf(err error) Code {
	for e := err; e != nil; {
		var x *Error
		if !errors.As(e, &x) {
			break
		}
		if x.Code != "" {
			return x.Code
		}
		e = x.Err
	}
	return KindOf(err).Code()
}

// ParamsOf returns the Params of the outermost Error in err's chain that
// has a Code (those are the values that Code's message names).
func ParamsOf(err error) Params {
	for e := err; e != nil; {
		var x *Error
		if !errors.As(e, &x) {
			return nil
		}
		if x.Code != "" {
			return x.Params
		}
		e = x.Err
	}
	return nil
}

// Code is the default public code of a Kind, used for errors that carry
// no Code of their own.
func (k Kind) Code() Code {
	switch k {
	case Invalid:
		return "request.invalid"
	case NotExist, Private:
		return "not_found"
	case Exist:
		return "exists"
	case Permission:
		return "forbidden"
	case Unauthorized:
		return "unauthorized"
	case Unavailable:
		return "unavailable"
	case Conflict:
		return "conflict"
	case TooLarge:
		return "too_large"
	case Held:
		return "held"
	case Canceled:
		return "canceled"
	}
	return "internal"
}

// Is reports whether err has the given Kind.
func Is(err error, k Kind) bool { return err != nil && KindOf(err) == k }
