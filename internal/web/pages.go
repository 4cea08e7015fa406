package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/i18n"
)

// The operator's pages (docs/guide/web.md). Each page is one file,
// page_<name>.go, that registers a Page in its init function, plus its
// template templates/<name>.html (which defines "content") and, when it
// needs script, ui/<name>.js. The framework here renders the shared
// layout: the menu built from the user's permissions, the language switch,
// the link to the public policy, the institution's time zone, and the
// catalogue's messages for the page's script.
//
// Pages are server-rendered with html/template; script is plain
// JavaScript served from the embedded ui/ directory; there is no build
// step. Every visible string comes from the catalogue (internal/i18n).

//go:embed templates
var templateFS embed.FS

// Page is one page of the operator's UI.
type Page struct {
	// Name is the page's path (/name) and its template (templates/name.html).
	// The home page is "home" and is served at /.
	Name string
	// Title is the catalogue key of the page's title and menu entry.
	Title string
	// Perm is what a user must hold (for at least one site) to see the
	// page; "" means any signed-in user. A page the user may not use is not
	// in their menu and its route refuses them.
	Perm Perm
	// Public pages need no session (login).
	Public bool
	// AllowMustChange: reachable before the one-time password is changed.
	AllowMustChange bool
	// Menu places the page in the menu at this position (0: not in it).
	Menu int
	// Scripts are the page's own scripts in ui/ ("live.js"), loaded after
	// the shared app.js in this order.
	Scripts []string
	// Data returns the page's data for its template (may be nil).
	Data func(s *Server, r *http.Request, pc *PageContext) (any, error)
}

var (
	pageMu   sync.Mutex
	pageList = map[string]*Page{}
)

// AddPage registers a page; page_*.go files call it from init.
func AddPage(p *Page) {
	pageMu.Lock()
	defer pageMu.Unlock()
	if _, dup := pageList[p.Name]; dup {
		panic("web: page registered twice: " + p.Name)
	}
	pageList[p.Name] = p
}

// pagesSorted lists the registered pages in menu order.
func pagesSorted() []*Page {
	pageMu.Lock()
	defer pageMu.Unlock()
	out := make([]*Page, 0, len(pageList))
	for _, p := range pageList {
		out = append(out, p)
	}
	sort.Slice(out, func(i, k int) bool {
		if out[i].Menu != out[k].Menu {
			return out[i].Menu < out[k].Menu
		}
		return out[i].Name < out[k].Name
	})
	return out
}

// MenuItem is one entry of the menu.
type MenuItem struct {
	Href, Title string
	Active      bool
}

// PageContext is the root of every page template: who is reading, in
// which language and time zone, and the page's own Data.
type PageContext struct {
	Lang   i18n.Lang
	Page   *Page
	User   *Principal // nil on public pages without a session
	CSRF   string
	Menu   []MenuItem
	Zone   *time.Location
	Now    time.Time
	Data   any
	server *Server
	req    *http.Request
}

// T is the catalogue's wording of key in the reader's language; params
// come in name, value pairs.
func (pc *PageContext) T(key string, kv ...any) string {
	var params map[string]string
	if len(kv) > 1 {
		params = map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			params[fmt.Sprint(kv[i])] = fmt.Sprint(kv[i+1])
		}
	}
	return i18n.T(pc.Lang, key, params)
}

// Time prints t in the institution's zone with the zone's name:
// "2026-12-03 14:05:09 KST". A zero time prints as "—".
func (pc *PageContext) Time(t time.Time) string { return formatTime(t, pc.Zone) }

// Date prints t's date in the institution's zone.
func (pc *PageContext) Date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(pc.Zone).Format("2006-01-02")
}

// ZoneName is the institution's zone's abbreviation now ("KST").
func (pc *PageContext) ZoneName() string { return pc.Now.In(pc.Zone).Format("MST") }

// Bytes prints a size in binary units.
func (pc *PageContext) Bytes(n int64) string { return formatBytes(n) }

// Can reports whether the reader holds perm for at least one site.
func (pc *PageContext) Can(perm Perm) bool {
	return pc.User != nil && pc.server.opt.Guard.Authorize(pc.req, pc.User, perm, "") == nil
}

func formatTime(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05 MST")
}

func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Zone is the institution's time zone: every page and export prints its
// times in it (Options.Location; Asia/Seoul when unset).
func (s *Server) Zone() *time.Location {
	if s.opt.Location != nil {
		return s.opt.Location
	}
	return defaultZone
}

var defaultZone = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Seoul"); err == nil {
		return l
	}
	return time.FixedZone("KST", 9*3600)
}()

// csrfSource is a Guard that can tell a page its session's CSRF token, so
// the page's script can send it with every state change.
type csrfSource interface {
	CSRFToken(p *Principal) string
}

// CSRFToken implements csrfSource.
func (g AccessGuard) CSRFToken(p *Principal) string {
	if ap, err := nativeOf(p); err == nil {
		return ap.CSRF
	}
	return ""
}

// templates: one set per page, the layout plus the page's own file, parsed
// once.
var (
	tmplMu    sync.Mutex
	tmplCache = map[string]*template.Template{}
)

func pageTemplate(name string) (*template.Template, error) {
	tmplMu.Lock()
	defer tmplMu.Unlock()
	if t, ok := tmplCache[name]; ok {
		return t, nil
	}
	t, err := template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
	if err != nil {
		return nil, err
	}
	tmplCache[name] = t
	return t, nil
}

// templateFuncs are the functions every page template may call (the rest
// are methods of PageContext).
var templateFuncs = template.FuncMap{
	"purposes": func() []purposeOption { return purposeOptions },
	// json is v as JSON, for a data- attribute a script reads.
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// purposeOption is a viewing purpose: the value the API takes and the
// catalogue key of its label.
type purposeOption struct{ Value, Key string }

var purposeOptions = func() []purposeOption {
	var out []purposeOption
	for _, c := range access.Purposes {
		out = append(out, purposeOption{Value: c, Key: "purpose." + c})
	}
	return out
}()

// pageRoutes are the page routes: the home page at / and every other page
// at /{page}. Each page checks its own rule (pageHandler): a page answers
// a stranger with the login page, not with JSON.
func (s *Server) pageRoutes() []route {
	return []route{
		{pattern: "GET /{$}", rule: rulePublic, h: s.pageHandler("home")},
		{pattern: "GET /{page}", rule: rulePublic, h: s.pageHandler("")},
	}
}

// pageHandler serves the page named name, or the one in the path.
func (s *Server) pageHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := name
		if n == "" {
			n = r.PathValue("page")
		}
		pageMu.Lock()
		p, ok := pageList[n]
		pageMu.Unlock()
		if !ok || (n == "home" && name == "") {
			s.pageError(w, r, http.StatusNotFound, "ui.error.not_found")
			return
		}
		s.servePage(w, r, p)
	})
}

// servePage authenticates and authorizes the reader, then renders p.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, p *Page) {
	const op = "web.servePage"
	pc := &PageContext{Lang: langOf(r), Page: p, Zone: s.Zone(), Now: s.clk.Now(), server: s, req: r}
	user, err := s.opt.Guard.Authenticate(r)
	if err == nil {
		pc.User = user
		r = withUserLang(r, user)
		pc.Lang, pc.req = langOf(r), r
	}
	switch {
	case p.Public:
	case user == nil:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case user.MustChangePassword && !p.AllowMustChange:
		http.Redirect(w, r, "/password", http.StatusSeeOther)
		return
	case p.Perm != "" && s.opt.Guard.Authorize(r, user, p.Perm, "") != nil:
		s.pageError(w, r, http.StatusForbidden, "ui.error.forbidden")
		return
	}
	if user != nil {
		if cs, ok := s.opt.Guard.(csrfSource); ok {
			pc.CSRF = cs.CSRFToken(user)
		}
		if !user.MustChangePassword {
			for _, q := range pagesSorted() {
				if q.Menu == 0 || (q.Perm != "" && s.opt.Guard.Authorize(r, user, q.Perm, "") != nil) {
					continue
				}
				href := "/" + q.Name
				if q.Name == "home" {
					href = "/"
				}
				pc.Menu = append(pc.Menu, MenuItem{Href: href, Title: pc.T(q.Title), Active: q == p})
			}
		}
	}
	if p.Data != nil {
		if user != nil {
			r = r.WithContext(s.opt.Guard.WithPrincipal(context.WithValue(r.Context(), ctxKey{}, user), user))
			pc.req = r
		}
		d, err := p.Data(s, r, pc)
		if err != nil {
			s.log.Error("page data", "page", p.Name, "err", errs.E(op, err))
			s.pageError(w, r, statusOf(err), string(errs.CodeOf(err)))
			return
		}
		pc.Data = d
	}
	s.render(w, http.StatusOK, p.Name, pc)
}

func statusOf(err error) int { return status(errs.KindOf(err)) }

// render executes a page's template into a buffer, then writes it.
func (s *Server) render(w http.ResponseWriter, code int, name string, pc *PageContext) {
	t, err := pageTemplate(name)
	var b bytes.Buffer
	if err == nil {
		err = t.ExecuteTemplate(&b, "layout", pc)
	}
	if err != nil {
		s.log.Error("rendering a page", "page", name, "err", err)
		http.Error(w, i18n.T(pc.Lang, "internal", nil), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(b.Bytes())
}

// pageError renders the error page with the catalogue's message for key.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, code int, key string) {
	if !i18n.Has(key) {
		key = "internal"
	}
	pc := &PageContext{Lang: langOf(r), Page: &Page{Name: "error", Title: "ui.error.title"}, Zone: s.Zone(),
		Now: s.clk.Now(), server: s, req: r, Data: key}
	if u, err := s.opt.Guard.Authenticate(r); err == nil {
		pc.User = u
		r = withUserLang(r, u)
		pc.Lang, pc.req = langOf(r), r
	}
	s.render(w, code, "error", pc)
}

// Messages is the catalogue in the reader's language as JSON, for the
// page's script (it shows an API error by its code, never server text).
func (pc *PageContext) Messages() string {
	return messagesJSON(pc.Lang)
}

var (
	msgMu    sync.Mutex
	msgCache = map[i18n.Lang]string{}
)

func messagesJSON(lang i18n.Lang) string {
	msgMu.Lock()
	defer msgMu.Unlock()
	if s, ok := msgCache[lang]; ok {
		return s
	}
	m := map[string]string{}
	for _, k := range i18n.Keys() {
		if strings.HasPrefix(k, "ui.") && !strings.HasPrefix(k, "ui.js.") && !strings.HasPrefix(k, "ui.state.") &&
			!strings.HasPrefix(k, "ui.alarm.") {
			continue // a server-rendered label: the script never needs it
		}
		m[k] = i18n.T(lang, k, nil)
	}
	b, _ := json.Marshal(m)
	msgCache[lang] = string(b)
	return string(b)
}
