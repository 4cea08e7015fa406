package ledger

import (
	"context"

	"github.com/gwanje/gwanje/internal/errs"
)

// query returns the entries of st matching f in sequence order, read in
// one snapshot as Verify reads them. Every filter runs on the decoded,
// hashed body: no unhashed column can hide a row from an export.
func query(ctx context.Context, st Store, f Filter) ([]Entry, error) {
	const op = "ledger.Query"
	s, err := st.Snapshot(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	defer s.Close()
	var out []Entry
	var rows []Record
	err = s.Walk(ctx, func(u Unit) error {
		var err error
		if rows, err = u.Records(rows[:0]); err != nil {
			return errs.Errorf(op, errs.Corrupt, "pack of entries from %d: %v", u.First, err)
		}
		for i := range rows {
			e, err := Decode(rows[i].Body)
			if err != nil {
				return errs.E(op, err)
			}
			if f.match(&e) {
				out = append(out, e)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// seqOfHash returns the place of a stored entry, other than not, whose
// stored hash is h. A full walk, run only once damage was found.
func seqOfHash(ctx context.Context, s Snapshot, h [32]byte, not uint64) (uint64, bool) {
	var seq uint64
	found := false
	var rows []Record
	s.Walk(ctx, func(u Unit) error {
		rows, _ = u.Records(rows[:0])
		for i := range rows {
			if r := &rows[i]; r.Hash == h && r.Seq != not {
				seq, found = r.Seq, true
				return errStop
			}
		}
		return nil
	})
	return seq, found
}
