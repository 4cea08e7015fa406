package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/policy"
	"github.com/gwanje/gwanje/internal/registry"
)

// The registry routes: a read-only view of the running registry and the
// import of a new registry file, previewed (validated, with what changes)
// before it is applied. The new file takes effect at the next start, as
// with `gwanje registry import`.

// RegistryAdmin is what the registry routes need.
type RegistryAdmin struct {
	// Running returns the registry the server runs with (nil: none).
	Running func() *registry.Registry
	// Path is the registry file the server reads at start; an import
	// replaces it.
	Path string
}

// maxRegistry bounds an uploaded registry file.
const maxRegistry = 1 << 20

func (s *Server) registryRoutes() []route {
	if s.opt.Admin.Registry == nil {
		return nil
	}
	return []route{
		{pattern: "GET /api/registry", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.registryView)},
		{pattern: "POST /api/registry/preview", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.registryPreview)},
		{pattern: "POST /api/registry/apply", rule: rulePerm, perm: PermManageRegistry, h: http.HandlerFunc(s.registryApply)},
	}
}

type registryView struct {
	Organization string        `json:"organization"`
	Timezone     string        `json:"timezone"`
	Recording    string        `json:"recording"`
	Sites        []siteView    `json:"sites"`
	Cameras      int           `json:"cameras"`
	Connected    int           `json:"connected"`
	Path         string        `json:"path,omitempty"`
	Base         string        `json:"base"`    // digest of the file an import replaces
	Pending      bool          `json:"pending"` // that file differs from the running registry
	Policy       *policyStatus `json:"policy,omitempty"`
}

type siteView struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Kind      string      `json:"kind"`
	Retention string      `json:"retention"`
	Storage   string      `json:"storage"`
	Cameras   int         `json:"cameras"`
	Connected int         `json:"connected"`
	Groups    []groupView `json:"groups"`
}

type groupView struct {
	ID       string       `json:"id"`
	Location string       `json:"location"`
	Count    int          `json:"count"`
	Cameras  []cameraView `json:"cameras,omitempty"`
}

type cameraView struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Stream string `json:"stream,omitempty"` // the URL without user information
}

// policyStatus is a short word on the policy beside the registry.
type policyStatus struct {
	Current int `json:"current,omitempty"`
	Pending int `json:"pending,omitempty"`
	Drift   int `json:"drift"` // differences between the registry and the policy in effect
}

func streamText(st *registry.Stream) string {
	if st == nil {
		return ""
	}
	u, err := url.Parse(st.URL)
	if err != nil {
		return ""
	}
	u.User = nil
	return u.Redacted()
}

// viewOf is the registry as the reader may see it: only the sites they
// hold manage-registry for.
func viewOf(r *registry.Registry, sees func(site string) bool) registryView {
	v := registryView{Organization: r.Organization.Name, Timezone: r.Location().String(), Recording: r.Recording.Text(),
		Sites: []siteView{}}
	for i := range r.Sites {
		st := &r.Sites[i]
		if !sees(st.ID) {
			continue
		}
		sv := siteView{ID: st.ID, Name: st.Name, Kind: string(st.Kind), Retention: st.Retention.String(),
			Storage: st.Storage, Cameras: st.CameraCount(), Connected: st.Connected()}
		for j := range st.Groups {
			g := &st.Groups[j]
			gv := groupView{ID: g.ID, Location: g.Location, Count: g.CameraCount()}
			for _, c := range g.Cameras {
				gv.Cameras = append(gv.Cameras, cameraView{ID: c.ID, Name: c.Name, Stream: streamText(c.Stream)})
			}
			sv.Groups = append(sv.Groups, gv)
		}
		v.Sites = append(v.Sites, sv)
		v.Cameras += sv.Cameras
		v.Connected += sv.Connected
	}
	return v
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// onDisk reads the registry file an import would replace; nil when there
// is none yet.
func (s *Server) onDisk() ([]byte, error) {
	ra := s.opt.Admin.Registry
	if ra.Path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(ra.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

func (s *Server) registryView(w http.ResponseWriter, r *http.Request) {
	const op = "web.registryView"
	ra := s.opt.Admin.Registry
	run := ra.Running()
	if run == nil {
		s.fail(w, r, errs.E(op, errs.NotExist, errs.Code("registry.none"), "no registry"))
		return
	}
	sc := s.scope(r, PermManageRegistry)
	v := viewOf(run, sc.has)
	disk, err := s.onDisk()
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	v.Base = digest(disk)
	if sc.has("*") {
		v.Path = ra.Path
		v.Pending = s.registryPending(disk)
	}
	if pa := s.opt.Admin.Policy; pa != nil && pa.Store != nil {
		ps := &policyStatus{}
		cur, pend, _ := pa.Store.Current()
		if cur != nil {
			ps.Current = cur.Number
			ps.Drift = len(policy.Drift(cur.Snapshot, policy.SnapshotOf(run)))
		}
		if pend != nil {
			ps.Pending = pend.Number
		}
		v.Policy = ps
	}
	writeJSON(w, http.StatusOK, v)
}

// registryPending reports whether the registry file (disk) says other
// than the running registry: an import waiting for the next start.
func (s *Server) registryPending(disk []byte) bool {
	if disk == nil {
		return false
	}
	onDisk, err := registry.Parse(s.opt.Admin.Registry.Path, disk)
	return err != nil || !sameRegistry(onDisk, s.opt.Admin.Registry.Running())
}

func sameRegistry(a, b *registry.Registry) bool {
	x, err1 := a.Marshal()
	y, err2 := b.Marshal()
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// registryUpload is the body of the preview and apply routes.
type registryUpload struct {
	YAML string `json:"yaml"`
	// Base is the digest of the file the preview was made against; apply
	// refuses when the file changed since (another import).
	Base string `json:"base"`
}

// registryPreviewJSON is what an import would change.
type registryPreviewJSON struct {
	Valid   bool              `json:"valid"`
	Base    string            `json:"base"`
	Summary registryView      `json:"summary"`
	Changes []registryChange  `json:"changes"`
	Diff    []policy.DiffLine `json:"diff"`
	// DiffOmitted: the files differ in too many lines to show them.
	DiffOmitted bool `json:"diff_omitted,omitempty"`
}

// registryChange is one difference in what the policy promises: field,
// the value now and the value after the import.
type registryChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// parseUpload decodes and validates an uploaded registry. The problems of
// an invalid file go back in the error's params, each with its line.
func (s *Server) parseUpload(r *http.Request) (registryUpload, *registry.Registry, error) {
	const op = "web.registryUpload"
	var up registryUpload
	if err := decodeBody(r, maxRegistry+4<<10, &up); err != nil {
		return up, nil, err
	}
	if len(up.YAML) > maxRegistry {
		return up, nil, errs.E(op, errs.TooLarge, errs.Code("registry.too_large"), errs.Params{"max": "1 MiB"}, "registry too large")
	}
	reg, err := registry.Parse("registry.yaml", []byte(up.YAML))
	if err != nil {
		// The registry words each problem with its line in the reader's
		// language (internal/registry); at most 20 are sent.
		var ve *registry.ValidationError
		if errors.As(err, &ve) {
			n := len(ve.Problems)
			shown := &registry.ValidationError{Problems: ve.Problems[:min(n, 20)]}
			text := shown.Text(langOf(r))
			if n > 20 {
				text += fmt.Sprintf("\n… (+%d)", n-20)
			}
			return up, nil, errs.E(op, errs.Invalid, errs.Code("registry.problems"),
				errs.Params{"count": strconv.Itoa(n), "problems": text}, err)
		}
		return up, nil, errs.E(op, errs.Invalid, errs.Code("registry.problems"), errs.Params{"count": "1", "problems": ""}, err)
	}
	return up, reg, nil
}

// registryPreview validates an uploaded registry and says what importing
// it would change, against the file it would replace.
func (s *Server) registryPreview(w http.ResponseWriter, r *http.Request) {
	const op = "web.registryPreview"
	if !s.scope(r, PermManageRegistry).has("*") {
		s.fail(w, r, errs.E(op, errs.Permission, errs.Code("registry.whole"), "import needs every site"))
		return
	}
	up, reg, err := s.parseUpload(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	disk, err := s.onDisk()
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	out := registryPreviewJSON{Valid: true, Base: digest(disk), Summary: viewOf(reg, func(string) bool { return true }),
		Changes: []registryChange{}}
	old := s.opt.Admin.Registry.Running()
	if disk != nil {
		if o, err := registry.Parse(s.opt.Admin.Registry.Path, disk); err == nil {
			old = o
		}
	}
	if old != nil {
		for _, d := range policy.Drift(policy.SnapshotOf(old), policy.SnapshotOf(reg)) {
			out.Changes = append(out.Changes, registryChange{Field: d.Field, Old: d.Published, New: d.Live})
		}
	}
	out.Diff, out.DiffOmitted = lineDiff(string(disk), up.YAML)
	writeJSON(w, http.StatusOK, out)
}

// lineDiff is policy.Diff of two files after their common head and tail
// are set aside (kept as three lines of context each side); omitted is
// true when the middle is too long to compare line by line.
func lineDiff(older, newer string) (d []policy.DiffLine, omitted bool) {
	a, b := strings.Split(older, "\n"), strings.Split(newer, "\n")
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	if head == len(a) && head == len(b) {
		return []policy.DiffLine{}, false
	}
	const maxMiddle = 1500
	if len(a)-head-tail > maxMiddle || len(b)-head-tail > maxMiddle {
		return []policy.DiffLine{}, true
	}
	ctx := 3
	for _, l := range a[max(0, head-ctx):head] {
		d = append(d, policy.DiffLine{Op: " ", Text: l})
	}
	d = append(d, policy.Diff(strings.Join(a[head:len(a)-tail], "\n"), strings.Join(b[head:len(b)-tail], "\n"))...)
	for _, l := range a[len(a)-tail : min(len(a), len(a)-tail+ctx)] {
		d = append(d, policy.DiffLine{Op: " ", Text: l})
	}
	return d, false
}

// registryApply makes an uploaded registry the one the server reads at its
// next start: the ledger row (registry-change) first, then the file,
// written the way `gwanje registry import` writes it.
func (s *Server) registryApply(w http.ResponseWriter, r *http.Request) {
	const op = "web.registryApply"
	if !s.scope(r, PermManageRegistry).has("*") {
		s.fail(w, r, errs.E(op, errs.Permission, errs.Code("registry.whole"), "import needs every site"))
		return
	}
	up, reg, err := s.parseUpload(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ra := s.opt.Admin.Registry
	if ra.Path == "" {
		s.fail(w, r, errs.E(op, errs.Unavailable, errs.Code("registry.no_path"), "no registry file configured"))
		return
	}
	s.adm.registry.Lock()
	defer s.adm.registry.Unlock()
	disk, err := s.onDisk()
	if err != nil {
		s.fail(w, r, errs.E(op, errs.IO, err))
		return
	}
	if up.Base != digest(disk) {
		s.fail(w, r, errs.E(op, errs.Conflict, errs.Code("registry.changed"), "the registry file changed since the preview"))
		return
	}
	// What changed is measured against the file replaced, as
	// `gwanje registry import` words it (policy.Changes).
	var changes []string
	old := ra.Running()
	if disk != nil {
		if o, err := registry.Parse(ra.Path, disk); err == nil {
			old = o
		}
	}
	if old != nil {
		changes = policy.Changes(policy.SnapshotOf(old), policy.SnapshotOf(reg))
	}
	detail := fmt.Sprintf("%d개 장소, 카메라 %d대; 변경 %d건", len(reg.Sites), reg.CameraCount(), len(changes))
	if len(changes) > 0 {
		detail += ": " + shorten(strings.Join(changes, "; "), 1500)
	}
	p := principal(r)
	sum := sha256.Sum256([]byte(up.YAML))
	e := ledger.Entry{Kind: ledger.RegistryChange, Actor: p.User, Role: p.Role, Client: clientAddr(r),
		Object:  fmt.Sprintf("registry.yaml sha256=%s (web)", hex.EncodeToString(sum[:])),
		Purpose: "등록정보 변경", Detail: detail}
	got, err := s.opt.Ledger.Append(r.Context(), e)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Unavailable, err))
		return
	}
	// Byte for byte, comments and layout kept, crash-safely, as
	// `gwanje registry import` writes it.
	if err := registry.WriteFile(ra.Path, []byte(up.YAML)); err != nil {
		s.log.Error("registry import recorded in the ledger but not written", "ledger_seq", got.Seq, "err", err)
		s.fail(w, r, errs.E(op, errs.Unavailable, errs.Code("registry.write"), err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"applied": true, "restart": true, "ledger_seq": got.Seq})
}
