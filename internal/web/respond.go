package web

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

// status is the one place an error Kind becomes an HTTP status.
func status(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusBadRequest
	case errs.NotExist, errs.Private:
		// Private: "not allowed" must look like "does not exist" to
		// someone who may not know the thing exists.
		return http.StatusNotFound
	case errs.Exist, errs.Conflict, errs.Held:
		return http.StatusConflict
	case errs.Permission:
		return http.StatusForbidden
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.Canceled:
		return 499 // the client went away; nobody reads this
	}
	return http.StatusInternalServerError
}

// ErrorBody is every error response of the API: a stable code and the
// catalogue's message for it in the reader's language, with the public
// values the message names. Internal error text never leaves the server.
type ErrorBody struct {
	Code    errs.Code   `json:"code"`
	Message string      `json:"message"`
	Params  errs.Params `json:"params,omitempty"`
}

// WriteError is the one HTTP error writer: it logs err (with its internal
// text) and writes the status for its Kind and an ErrorBody. A Private
// error is told as "not_found", whatever its code, so that "not allowed"
// and "does not exist" look the same.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	k := errs.KindOf(err)
	code := status(k)
	lvl := slog.LevelInfo
	if code >= 500 {
		lvl = slog.LevelError
	}
	if log != nil {
		log.Log(r.Context(), lvl, "request failed", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	}
	c, params := errs.CodeOf(err), errs.ParamsOf(err)
	if k == errs.Private {
		c, params = errs.NotExist.Code(), nil
	}
	if !i18n.Has(string(c)) {
		// A code without a message is a bug; the client still gets
		// the kind's words rather than a key.
		if log != nil {
			log.Error("error code missing from the catalogue", "code", c)
		}
		c = k.Code()
	}
	lang := langOf(r)
	writeJSON(w, code, ErrorBody{Code: c, Message: i18n.T(lang, string(c), params), Params: params})
}

// fail is WriteError with the server's logger.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, s.log, err)
}

// langOf is the language of the reader of r's response: the signed-in
// user's own setting once the guard knows the user, else the browser's
// language cookie (the login page, before anyone is known), else Korean.
func langOf(r *http.Request) i18n.Lang {
	if l, ok := r.Context().Value(langKey{}).(i18n.Lang); ok {
		return l
	}
	if p := principal(r); p != nil {
		if l, ok := userLang(p); ok {
			return l
		}
	}
	return i18n.FromRequest(r)
}

type langKey struct{}

// userLang is p's own language, when p has chosen one.
func userLang(p *Principal) (i18n.Lang, bool) {
	if p == nil || p.Lang == "" {
		return "", false
	}
	return i18n.Parse(p.Lang), true
}

// withUserLang returns r answering in p's own language when p has one, so
// that even a refusal of p's request (CSRF, permission) speaks it.
func withUserLang(r *http.Request, p *Principal) *http.Request {
	if l, ok := userLang(p); ok {
		return r.WithContext(context.WithValue(r.Context(), langKey{}, l))
	}
	return r
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
