package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/retention"
)

// Retention routes: the retention status (promised period beside the
// oldest footage held, per camera) and legal holds. docs/ref/http.md lists
// them with who may use them.

// Retention is what web needs of the retention engine; cmd/gwanje adapts
// *retention.Engine to it.
type Retention interface {
	Status(ctx context.Context) (*retention.Status, error)
	Holds(ctx context.Context, all bool) ([]retention.Hold, error)
	// Hold places a manual hold; the engine records it in the ledger.
	Hold(ctx context.Context, h retention.Hold) (retention.Hold, error)
	Release(ctx context.Context, id int64, actor string) error
}

func (s *Server) retentionRoutes() []route {
	if s.opt.Retention == nil {
		return nil
	}
	return []route{
		// The 관리책임자 and 감사 (who read the 관리대장) see whether the
		// promised periods are kept.
		{pattern: "GET /api/retention", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.retentionStatus)},
		{pattern: "GET /api/holds", rule: rulePerm, perm: PermReadLedger, h: http.HandlerFunc(s.listHolds)},
		// Placing or releasing a hold on a camera's footage is a
		// 관리책임자 decision, scoped to the camera's site.
		{pattern: "POST /api/cameras/{id}/holds", rule: rulePerm, perm: PermHandleRequests, scoped: true,
			h: http.HandlerFunc(s.placeHold)},
		{pattern: "POST /api/cameras/{id}/holds/{hold}/release", rule: rulePerm, perm: PermHandleRequests, scoped: true,
			h: http.HandlerFunc(s.releaseHold)},
	}
}

func (s *Server) retentionStatus(w http.ResponseWriter, r *http.Request) {
	const op = "web.retentionStatus"
	st, err := s.opt.Retention.Status(r.Context())
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	// Only the reader's sites: their cameras, and the count of the holds
	// the reader may see. Storage figures are the system's, shown to all.
	scope := s.ledgerScope(r)
	if !scope.site("*") {
		out := *st
		out.Cameras = nil
		for _, c := range st.Cameras {
			if scope.camera(c.Camera) {
				out.Cameras = append(out.Cameras, c)
			}
		}
		hs, err := s.opt.Retention.Holds(r.Context(), false)
		if err != nil {
			s.fail(w, r, errs.E(op, err))
			return
		}
		out.Holds = 0
		for _, h := range hs {
			if scope.cameras(h.Cameras) {
				out.Holds++
			}
		}
		st = &out
	}
	writeJSON(w, http.StatusOK, st)
}

// holdJSON is a hold as the API shows it.
type holdJSON struct {
	ID         int64     `json:"id"`
	Owner      string    `json:"owner"`
	Ref        string    `json:"ref,omitempty"`
	Reason     string    `json:"reason"`
	Actor      string    `json:"actor,omitempty"`
	Cameras    []string  `json:"cameras"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Created    time.Time `json:"created"`
	Released   time.Time `json:"released,omitzero"`
	ReleasedBy string    `json:"released_by,omitempty"`
}

func toHoldJSON(h retention.Hold) holdJSON {
	return holdJSON{ID: h.ID, Owner: string(h.Owner), Ref: h.Ref, Reason: h.Reason, Actor: h.Actor, Cameras: h.Cameras,
		From: h.From.UTC(), To: h.To.UTC(), Created: h.Created.UTC(), Released: h.Released.UTC(), ReleasedBy: h.ReleasedBy}
}

func (s *Server) listHolds(w http.ResponseWriter, r *http.Request) {
	hs, err := s.opt.Retention.Holds(r.Context(), r.URL.Query().Get("all") == "1")
	if err != nil {
		s.fail(w, r, errs.E("web.listHolds", err))
		return
	}
	// A hold is shown only to a reader of every camera it covers: its
	// reason and who placed it are that site's business.
	scope := s.ledgerScope(r)
	out := make([]holdJSON, 0, len(hs))
	for _, h := range hs {
		if scope.cameras(h.Cameras) {
			out = append(out, toHoldJSON(h))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) placeHold(w http.ResponseWriter, r *http.Request) {
	const op = "web.placeHold"
	var body struct {
		From   time.Time `json:"from"`
		To     time.Time `json:"to"`
		Reason string    `json:"reason"`
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, 8<<10))
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	body.Reason = strings.TrimSpace(body.Reason)
	if err != nil || body.From.IsZero() || !body.To.After(body.From) || body.Reason == "" ||
		utf8.RuneCountInString(body.Reason) > 500 {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("hold.invalid"), errs.Params{"max": "500"}, "bad hold request"))
		return
	}
	p := principal(r)
	h, err := s.opt.Retention.Hold(r.Context(), retention.Hold{Owner: retention.OwnerManual, Reason: body.Reason,
		Actor: p.User, Cameras: []string{r.PathValue("id")}, From: body.From, To: body.To})
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	writeJSON(w, http.StatusCreated, toHoldJSON(h))
}

func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request) {
	const op = "web.releaseHold"
	id, err := strconv.ParseInt(r.PathValue("hold"), 10, 64)
	if err != nil {
		s.fail(w, r, errs.E(op, errs.Invalid, errs.Code("request.id"), err))
		return
	}
	// The hold must be this camera's: scope was checked for the camera
	// in the path, so a hold of another site's camera is "not found".
	hs, err := s.opt.Retention.Holds(r.Context(), false)
	if err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	cam := r.PathValue("id")
	i := slices.IndexFunc(hs, func(h retention.Hold) bool { return h.ID == id && slices.Contains(h.Cameras, cam) })
	if i < 0 || slices.ContainsFunc(hs[i].Cameras, func(c string) bool {
		return c != cam && !s.mayHandle(r, c)
	}) {
		s.fail(w, r, errs.Errorf(op, errs.NotExist, "no active hold %d on camera %s", id, cam))
		return
	}
	if hs[i].Owner != retention.OwnerManual {
		s.fail(w, r, errs.E(op, errs.Conflict, errs.Code("hold.owned"),
			fmt.Errorf("hold %d belongs to %s %s: it is released when that closes", id, hs[i].Owner, hs[i].Ref)))
		return
	}
	if err := s.opt.Retention.Release(r.Context(), id, principal(r).User); err != nil {
		s.fail(w, r, errs.E(op, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// mayHandle reports whether the user may handle requests for camera's
// site (a hold over several cameras is released only by someone who may
// handle all of them).
func (s *Server) mayHandle(r *http.Request, camera string) bool {
	c, ok := s.opt.Cameras.Camera(camera)
	return ok && s.opt.Guard.Authorize(r, principal(r), PermHandleRequests, c.Site) == nil
}
