package alarm

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/gwanje/gwanje/internal/errs"
)

// Handler serves the alarms as JSON, relative to where it is mounted
// (http.StripPrefix("/api/alarms", h)):
//
//	GET  /            every alarm in memory, newest first; ?attention=1 for
//	                  those active or not yet acknowledged
//	POST /{id}/ack    acknowledge; body {"note": "..."} (optional)
//
// actor names the authenticated user of a request; the caller mounts the
// handler behind authentication, and an empty actor is refused.
func Handler(m *Manager, actor func(*http.Request) string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"alarms": m.List(r.URL.Query().Get("attention") == "1")})
	})
	mux.HandleFunc("POST /{id}/ack", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "alarm id must be a number"})
			return
		}
		var body struct {
			Note string `json:"note"`
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, 4096))
		if err == nil && len(b) > 0 {
			err = json.Unmarshal(b, &body)
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "body must be JSON {\"note\": \"...\"} under 4 KiB"})
			return
		}
		who := ""
		if actor != nil {
			who = actor(r)
		}
		if who == "" {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized"})
			return
		}
		a, err := m.Ack(id, who, body.Note)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, a)
		case errs.Is(err, errs.NotExist):
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such alarm"})
		case errs.Is(err, errs.Conflict):
			writeJSON(w, http.StatusConflict, map[string]string{"error": "already acknowledged"})
		default:
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal error"})
		}
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
