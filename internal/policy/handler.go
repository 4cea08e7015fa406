package policy

import (
	"bytes"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gwanje/gwanje/internal/errs"
)

// Handler serves the public policy routes, to be mounted without
// authentication (the policy is public by law):
//
//	GET /policy                the version in effect now (HTML)
//	GET /policy.md             the same as Markdown
//	GET /policy.pdf            the same as PDF
//	GET /policy/versions       every published version
//	GET /policy/versions/{n}   version n, with its diff against n−1
//
// ?lang=en on the first three serves the English policy when the version
// has one.
//
// Only what the policy publishes is served; errors never show internal text.
func (s *Store) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &handler{s: s, log: log}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /policy", h.current)
	mux.HandleFunc("GET /policy.md", h.current)
	mux.HandleFunc("GET /policy.pdf", h.current)
	mux.HandleFunc("GET /policy/versions", h.list)
	mux.HandleFunc("GET /policy/versions/{n}", h.version)
	return mux
}

type handler struct {
	s   *Store
	log *slog.Logger
}

func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := http.StatusInternalServerError, "일시적인 오류입니다. (internal error)"
	if errs.Is(err, errs.NotExist) {
		status, msg = http.StatusNotFound, "게시된 방침이 없습니다. (not found)"
	} else {
		h.log.Error("policy page failed", "path", r.URL.Path, "err", err)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

func (h *handler) send(w http.ResponseWriter, ctype string, body []byte) {
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(body)
}

var navVersions = []navLink{{"현재 방침", "/policy"}, {"지난 버전", "/policy/versions"}, {"열람·존재확인·삭제 청구", "/requests/new"}}

func (h *handler) current(w http.ResponseWriter, r *http.Request) {
	cur, pending, err := h.s.Current()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	doc, lang := &cur.Document, "ko"
	if r.URL.Query().Get("lang") == "en" && cur.DocumentEn != nil {
		doc, lang = cur.DocumentEn, "en"
	}
	switch r.URL.Path {
	case "/policy.md":
		h.send(w, "text/markdown; charset=utf-8", []byte(doc.Markdown()))
		return
	case "/policy.pdf":
		var b bytes.Buffer
		if err := doc.PDF(&b); err != nil {
			h.fail(w, r, err)
			return
		}
		h.send(w, "application/pdf", b.Bytes())
		return
	}
	p := page{Doc: doc, Nav: navVersions, Lang: lang}
	if cur.DocumentEn != nil {
		if lang == "en" {
			p.Nav = append(append([]navLink{}, navVersions...), navLink{"한국어", "/policy"})
		} else {
			p.Nav = append(append([]navLink{}, navVersions...), navLink{"English", "/policy?lang=en"})
		}
	}
	if pending != nil {
		p.Banner = "개정된 방침이 공고되었습니다: 공고일자 " + pending.Announced + ", 시행일자 " + pending.Effective + " (/policy/versions/" + strconv.Itoa(pending.Number) + ")"
	}
	h.page(w, r, p)
}

func (h *handler) page(w http.ResponseWriter, r *http.Request, p page) {
	body, err := renderPage(p)
	if err != nil {
		h.fail(w, r, errs.E("policy.handler", errs.Internal, err))
		return
	}
	h.send(w, "text/html; charset=utf-8", body)
}

func (h *handler) list(w http.ResponseWriter, r *http.Request) {
	vs, err := h.s.Versions()
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := page{Nav: navVersions[:1]}
	for i := len(vs) - 1; i >= 0; i-- {
		v := vs[i]
		p.Versions = append(p.Versions, VersionInfo{Number: v.Number, Announced: v.Announced, Effective: v.Effective, Summary: v.Summary, Adopted: v.Adopted})
	}
	if len(p.Versions) == 0 {
		h.fail(w, r, errs.E("policy.list", errs.NotExist))
		return
	}
	h.page(w, r, p)
}

func (h *handler) version(w http.ResponseWriter, r *http.Request) {
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		h.fail(w, r, errs.E("policy.version", errs.NotExist))
		return
	}
	v, err := h.s.Version(n)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	p := page{Doc: &v.Document, Nav: navVersions,
		Banner: "버전 " + strconv.Itoa(v.Number) + " · 공고일자 " + v.Announced + " · 시행일자 " + v.Effective}
	if n > 1 {
		prev, err := h.s.Version(n - 1)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		p.Diff = Diff(prev.Document.Markdown(), v.Document.Markdown())
	}
	h.page(w, r, p)
}
