// Package export produces evidence packages: one ZIP with an MP4 per
// camera of a time range, remuxed from the stored frames without
// re-encoding (the bytes of every frame are those recorded), a manifest
// signed with the installation's export key naming the footage, its
// source segments' hashes, every file's SHA-256, the recipient, purpose,
// legal basis and the 관리대장 row, the public key, and a Korean page
// telling the recipient how to check it. Verify checks a package without
// the data directory. docs/design/export.md states the format.
//
// Export goes through the footage gate (access.WayExport): the ledger row
// is written before any footage is read, and its sequence number is in the
// manifest. A package appears whole or not at all.
package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/ledger"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
	"github.com/gwanje/gwanje/internal/store"
)

// Source is what export reads: the segments and their index rows.
type Source interface {
	playback.Source
	// Brief returns a segment's index row (its file hash).
	Brief(ctx context.Context, id int64) (*store.Brief, error)
}

// StoreSource is a Source reading a *store.Store.
type StoreSource struct{ Store *store.Store }

func (s StoreSource) Segments(ctx context.Context, camera string, start, end int64) ([]store.Segment, error) {
	return s.Store.Segments(ctx, camera, start, end)
}

func (s StoreSource) Open(ctx context.Context, id int64) (playback.SegmentData, error) {
	return playback.StoreSource{Store: s.Store}.Open(ctx, id)
}

func (s StoreSource) Brief(ctx context.Context, id int64) (*store.Brief, error) {
	return s.Store.Brief(ctx, id)
}

// Access is a granted access to footage (*access.Handle).
type Access interface {
	Seq() uint64
	Context() context.Context
	Close()
}

// Gate begins an access to footage: the caller's principal is bound in
// (GateOf). It must write the ledger row before it returns.
type Gate func(ctx context.Context, req access.FootageRequest) (Access, error)

// GateOf binds the footage gate to the principal who exports.
func GateOf(g *access.Gate, p *access.Principal) Gate {
	return func(ctx context.Context, req access.FootageRequest) (Access, error) {
		h, err := g.Begin(ctx, p, req)
		if err != nil {
			return nil, err
		}
		return h, nil
	}
}

// Request is what to export, for whom and why.
type Request struct {
	Cameras    []access.Camera
	From, To   time.Time
	Recipient  string // 제공받는 자
	Purpose    access.Purpose
	LegalBasis string
	Letter     string // official letter number (공문 번호)
	Form       string // default the gate's ("파일 반출")
	Period     string
	// RequestedBy and ApprovedBy are user names; ApprovedBy is empty
	// unless the provision workflow (internal/provision) recorded an
	// approval.
	RequestedBy, ApprovedBy string
	// Kind is the ledger row's kind for a provision: ledger.Provision
	// (제공) or ledger.Use (이용), or ledger.SubjectCopy (사본 교부, 구분 열람)
	// for a data subject's copy; zero: 반출 (access.FootageRequest.Kind).
	Kind ledger.Kind
	// Progress, when set, is told how far the clips are written (job.go).
	Progress Progress
}

// Limits of a request's text fields, in characters.
const maxField = 200

func (r *Request) validate() error {
	const op = "export.validate"
	if len(r.Cameras) == 0 {
		return errs.E(op, errs.Invalid, errs.Code("export.cameras"), "no camera")
	}
	if !r.To.After(r.From) {
		return errs.E(op, errs.Invalid, errs.Code("export.range"), "the end must be after the start")
	}
	if strings.TrimSpace(r.Recipient) == "" {
		return errs.E(op, errs.Invalid, errs.Code("export.recipient"), "no recipient")
	}
	for name, v := range map[string]string{"recipient": r.Recipient, "legal_basis": r.LegalBasis, "letter": r.Letter,
		"form": r.Form, "period": r.Period} {
		if len([]rune(v)) > maxField || strings.ContainsAny(v, "\x00\r\n") {
			return errs.E(op, errs.Invalid, errs.Code("export.field"), errs.Params{"field": name, "max": fmt.Sprint(maxField)},
				fmt.Sprintf("%s is too long or has control characters", name))
		}
	}
	return nil
}

// Exporter produces evidence packages.
type Exporter struct {
	Source Source
	Key    *Key
	Now    func() time.Time // default time.Now
	Loc    *time.Location   // of times in the manifest and clips' ©day; default Asia/Seoul

	masking *masking // set by ExportMasked (masked.go)
}

func (x *Exporter) now() time.Time {
	if x.Now != nil {
		return x.Now()
	}
	return time.Now()
}

func (x *Exporter) loc() *time.Location {
	if x.Loc != nil {
		return x.Loc
	}
	if l, err := time.LoadLocation("Asia/Seoul"); err == nil {
		return l
	}
	return time.FixedZone("KST", 9*3600)
}

// Export writes the package of req to path through gate. In order: the
// request is checked; the index (no footage yet) is read to refuse a range
// without footage (export.none, naming the cameras and range) and to list
// the parts missing; the gate writes the ledger row; then the clips are
// built and written with the manifest to a temporary file beside path,
// which is fsynced and renamed to path, and the directory fsynced. If ctx
// ends or the access is revoked midway, the temporary file is removed:
// there is never a partial package at path. An existing path is not
// overwritten.
func (x *Exporter) Export(ctx context.Context, gate Gate, req Request, path string) (*Manifest, error) {
	const op = "export.Export"
	if err := req.validate(); err != nil {
		return nil, errs.E(op, err)
	}
	if _, err := os.Lstat(path); err == nil {
		return nil, errs.Errorf(op, errs.Exist, "%s already exists", path)
	}
	from, to := media.Time90k(req.From), media.Time90k(req.To)
	missing, any, err := x.plan(ctx, req.Cameras, from, to)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !any {
		var ids []string
		for _, c := range req.Cameras {
			ids = append(ids, c.ID)
		}
		loc := x.loc()
		return nil, errs.E(op, errs.NotExist, errs.Code("export.none"), errs.Params{
			"cameras": strings.Join(ids, ", "),
			"from":    req.From.In(loc).Format("2006-01-02 15:04:05"),
			"to":      req.To.In(loc).Format("2006-01-02 15:04:05")},
			"no footage of the cameras in the range")
	}
	var ids []string
	for _, c := range req.Cameras {
		ids = append(ids, c.ID)
	}
	h, err := gate(ctx, access.FootageRequest{
		Way: access.WayExport, Cameras: req.Cameras, From: req.From, To: req.To,
		Object:  fmt.Sprintf("%s %s–%s (%s)", strings.Join(ids, ","), req.From.In(x.loc()).Format("2006-01-02 15:04"), req.To.In(x.loc()).Format("15:04"), x.objectForm()),
		Purpose: req.Purpose, Request: req.Letter,
		Party: req.Recipient, LegalBasis: req.LegalBasis, Form: req.Form, Period: req.Period, Kind: req.Kind,
	})
	if err != nil {
		return nil, errs.E(op, err)
	}
	defer h.Close()
	// Reading stops when the caller gives up or the access is revoked.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(h.Context(), cancel)
	defer stop()

	now := x.now()
	m := &Manifest{
		Format: ManifestFormat, ID: fmt.Sprintf("export-%d-%s", h.Seq(), now.In(x.loc()).Format("20060102T150405")),
		Created: now.In(x.loc()), From: req.From.In(x.loc()), To: req.To.In(x.loc()),
		Recipient: req.Recipient, Purpose: purposeText(req.Purpose), LegalBasis: req.LegalBasis, Letter: req.Letter,
		Form: req.Form, Period: req.Period, RequestedBy: req.RequestedBy, ApprovedBy: req.ApprovedBy,
		LedgerSeq: h.Seq(), Missing: missing,
	}
	if m.Form == "" {
		m.Form = "파일 반출"
	}
	for _, c := range req.Cameras {
		m.Cameras = append(m.Cameras, Camera{ID: c.ID, Site: c.Site})
	}
	if err := x.write(rctx, m, from, to, path, req.Progress); err != nil {
		if cerr := context.Cause(h.Context()); cerr != nil && access.Revoked(cerr) {
			err = cerr
		}
		noteEnd(ctx, h, err)
		return nil, errs.E(op, err)
	}
	return m, nil
}

func purposeText(p access.Purpose) string {
	if p.Code == "" {
		return p.Reason
	}
	if p.Reason == "" {
		return p.Label()
	}
	return p.Label() + ": " + p.Reason
}

// plan reads the index of each camera for [from, to): the parts without
// footage, and whether there is any footage at all.
func (x *Exporter) plan(ctx context.Context, cams []access.Camera, from, to int64) ([]Span, bool, error) {
	var missing []Span
	any := false
	loc := x.loc()
	span := func(cam string, a, b int64) Span {
		return Span{Camera: cam, From: media.FromTime90k(a).In(loc), To: media.FromTime90k(b).In(loc)}
	}
	for _, c := range cams {
		segs, err := x.Source.Segments(ctx, c.ID, from, to)
		if err != nil {
			return nil, false, err
		}
		sort.Slice(segs, func(i, j int) bool { return segs[i].Start < segs[j].Start })
		at := from
		for _, s := range segs {
			if s.Frames == 0 || s.End <= s.Start {
				continue
			}
			any = true
			if s.Start > at {
				missing = append(missing, span(c.ID, at, min(s.Start, to)))
			}
			at = max(at, s.End)
			if at >= to {
				break
			}
		}
		if at < to {
			missing = append(missing, span(c.ID, at, to))
		}
	}
	return missing, any, nil
}

// write builds the clips and writes the package crash-safely.
func (x *Exporter) write(ctx context.Context, m *Manifest, from, to int64, path string, pr Progress) (err error) {
	const op = "export.write"
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	pf := newPkgFile(tmp)
	zw := zip.NewWriter(pf)
	loc := x.loc()
	var sums strings.Builder
	for _, cam := range m.Cameras {
		c, err := playback.Build(ctx, x.Source, cam.ID, from, to)
		if errs.Is(err, errs.NotExist) {
			report(pr, cam.ID, 0, 0)
			continue // named in m.Missing
		}
		if err != nil {
			return errs.E(op, err)
		}
		var cl *Clip
		if x.masking != nil {
			cl, err = x.writeMaskedClip(ctx, zw, c, loc) // reports through Masking.Progress
		} else {
			cl, err = x.writeClip(ctx, zw, pf, c, loc, pr)
		}
		c.Close()
		if err != nil {
			return errs.E(op, err)
		}
		m.Clips = append(m.Clips, *cl)
		fmt.Fprintf(&sums, "%s  %s\n", cl.SHA256, cl.File)
	}
	if len(m.Clips) == 0 {
		return errs.E(op, errs.NotExist, errs.Code("footage.none"), "the footage went away during the export")
	}
	body, err := x.Key.sign(m)
	if err != nil {
		return err
	}
	pub := PublicKeyText(x.Key.Public())
	for _, f := range []struct {
		name string
		b    []byte
	}{
		{ManifestName, body},
		{PublicKeyName, pub},
		{SumsName, []byte(sums.String())},
		{ReadmeName, readme(m, x.Key)},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: m.Created})
		if err != nil {
			return errs.E(op, errs.IO, err)
		}
		if _, err := w.Write(f.b); err != nil {
			return errs.E(op, errs.IO, err)
		}
	}
	if err := zw.Close(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := ctx.Err(); err != nil {
		return errs.E(op, errs.Canceled, context.Cause(ctx))
	}
	if err := pf.Sync(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := tmp.Close(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	// Link, not rename: a package that appeared at path meanwhile is kept.
	if err := os.Link(tmp.Name(), path); err != nil {
		return errs.E(op, errs.IO, err)
	}
	os.Remove(tmp.Name())
	if err := durable.SyncDir(dir); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// writeClip writes one camera's MP4 into the ZIP, stored (video does not
// compress), hashing it as it goes.
func (x *Exporter) writeClip(ctx context.Context, zw *zip.Writer, pf *pkgFile, c *playback.Clip, loc *time.Location, pr Progress) (*Clip, error) {
	const op = "export.writeClip"
	start := media.FromTime90k(c.Start).In(loc)
	if err := c.File.SetRecorded(start); err != nil {
		return nil, errs.E(op, err)
	}
	cl := &Clip{Camera: c.Camera, Start: start, End: media.FromTime90k(c.End).In(loc), Frames: c.Frames,
		File: clipDir + c.Camera + "_" + start.Format("20060102T150405") + ".mp4"}
	for _, g := range c.Gaps {
		cl.Gaps = append(cl.Gaps, Span{From: media.FromTime90k(g.Start).In(loc), To: media.FromTime90k(g.End).In(loc)})
	}
	for _, id := range c.Segments {
		b, err := x.Source.Brief(ctx, id)
		if err != nil {
			return nil, errs.E(op, fmt.Errorf("segment %d: %w", id, err))
		}
		s := Segment{ID: id, Start: media.FromTime90k(b.Start).In(loc), End: media.FromTime90k(b.End).In(loc), Bytes: b.Bytes}
		if len(b.SHA256) > 0 {
			s.SHA256 = hex.EncodeToString(b.SHA256)
		}
		cl.Segments = append(cl.Segments, s)
	}
	w, err := zw.CreateHeader(&zip.FileHeader{Name: cl.File, Method: zip.Store, Modified: start})
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	// The entry's header goes to the file now, so the clip's bytes reach
	// it block by block as they are (pipeCopyTo).
	if err := zw.Flush(); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	h := sha256.New()
	rd := c.NewStream(ctx)
	defer rd.Close()
	if pr != nil {
		w = &progressWriter{w: w, p: pr, part: c.Camera, total: c.File.Size()}
		report(pr, c.Camera, 0, c.File.Size())
	}
	n, err := pipeCopyTo(w, h, rd, pf)
	if err != nil {
		return nil, errs.E(op, err)
	}
	cl.Bytes, cl.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return cl, nil
}
