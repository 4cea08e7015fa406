package requests

import (
	"context"
	"strconv"

	"github.com/gwanje/gwanje/internal/access"
	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/export"
	"github.com/gwanje/gwanje/internal/ledger"
)

// The masked copy (열람 by a copy): the person receives the request's
// footage with everyone else hidden, made by export's masked export
// through the footage gate (permission export on the site, the 반출 row
// with the request's number as its Ref, before any footage is read).

// CopyExport is the export request of request id's masked copy: the
// cameras and period of its viewing (a partly decision's scope), for the
// 청구인 by relation (정보주체 본인 / 대리인, never the name), purpose
// 정보주체 열람, basis 제35조, the receipt number in Letter (the row's Ref).
// The caller passes it with the masking specs to export.ExportMasked, then
// calls RecordCopy.
func (s *Service) CopyExport(ctx context.Context, id int64, who Actor) (export.Request, error) {
	const op = "requests.CopyExport"
	r, err := s.granted(ctx, op, id, View)
	if err != nil {
		return export.Request{}, err
	}
	p, have, err := s.cfg.Store.Personal(ctx, r.ID)
	if err != nil {
		return export.Request{}, errs.E(op, err)
	}
	sc := scopeOf(r, View)
	req := export.Request{From: sc.From, To: sc.To, Recipient: party(p, have),
		Purpose:    access.Purpose{Code: "subject", Reason: "열람등 요구 " + r.Receipt + " 마스킹 사본"},
		LegalBasis: BasisView, Letter: r.Receipt, Form: "마스킹 사본 (정보주체 열람)", RequestedBy: who.User,
		// The copy answers the person's 열람: its row is 구분 열람, not the
		// 반출 (이용) an export of the institution's own is.
		Kind: ledger.SubjectCopy}
	for _, c := range sc.Cameras {
		req.Cameras = append(req.Cameras, access.Camera{ID: c, Site: r.Site})
	}
	return req, nil
}

// RecordCopy records that request id's masked copy was made (the package
// manifestID, whose 반출 row is ledgerSeq): a fulfilment of its 열람 and
// a 관리대장 row with the request's number.
func (s *Service) RecordCopy(ctx context.Context, id int64, manifestID string, ledgerSeq uint64, who Actor) (Request, error) {
	const op = "requests.RecordCopy"
	defer s.lockRequest(id)()
	r, err := s.granted(ctx, op, id, View)
	if err != nil {
		return r, err
	}
	sc := scopeOf(r, View)
	e := s.row(ctx, ledger.RequestDecided, r, who, "copy", "마스킹 사본 제공",
		"package="+manifestID+"; export_row="+strconv.FormatUint(ledgerSeq, 10), []Type{View})
	e.Cameras, e.From, e.To = sc.Cameras, sc.From, sc.To
	if err := s.record(ctx, op, e); err != nil {
		return r, err
	}
	r.Fulfilments = append(r.Fulfilments, Fulfilment{Type: View, By: who.User, At: s.cfg.Clock.Now(), Copy: manifestID})
	if err := s.cfg.Store.Update(ctx, r); err != nil {
		return r, errs.E(op, err)
	}
	s.log.Info("data-subject request's masked copy made", "request", r.Receipt, "by", who.User, "package", manifestID)
	return r, nil
}
