package web

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/gwanje/gwanje/internal/errs"
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
	}
	return http.StatusInternalServerError
}

// publicMessage is what a client is told. Internal error text never
// leaves the server: it goes to the log.
func publicMessage(k errs.Kind) string {
	switch k {
	case errs.Invalid:
		return "invalid request"
	case errs.NotExist, errs.Private:
		return "not found"
	case errs.Other, errs.Internal, errs.IO, errs.Corrupt:
		return "internal error"
	}
	return k.String()
}

// fail logs err and writes a JSON error with the status for its kind. A
// client sees the kind and, for Invalid, the detail it needs to fix its
// request (detail must never carry internal text).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error, detail string) {
	k := errs.KindOf(err)
	code := status(k)
	lvl := slog.LevelInfo
	if code >= 500 {
		lvl = slog.LevelError
	}
	s.log.Log(r.Context(), lvl, "request failed", "method", r.Method, "path", r.URL.Path, "status", code, "err", err)
	body := map[string]string{"error": publicMessage(k)}
	if detail != "" && k == errs.Invalid {
		body["detail"] = detail
	}
	writeJSON(w, code, body)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
