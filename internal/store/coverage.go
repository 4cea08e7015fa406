package store

import (
	"context"

	"github.com/gwanje/gwanje/internal/errs"
)

// Gap is a span between two of a camera's segments that do not touch:
// [Start, End) in 90 kHz wall clock.
type Gap struct{ Start, End int64 }

// Coverage summarises what a camera recorded over a range without listing
// its segments: the home page shows a day of every camera from it.
type Coverage struct {
	// Segments is how many segments overlap the range, as Segments lists
	// them (the open one counted up to its last written chunk).
	Segments int
	// First and Last are the first and the last of them (zero when there
	// are none); an open Last ends at its last written chunk.
	First, Last Segment
	// Gaps are the spans of at least the asked length between consecutive
	// segments, in order.
	Gaps []Gap
}

// coverageIndex is an Index that summarises a camera's rows itself
// (SQLiteIndex.Coverage): how many ListSpans would list, the first, the
// last two and the gaps between consecutive rows, the end rows ascending
// and without repeats.
type coverageIndex interface {
	Coverage(ctx context.Context, camera string, start, end, minGap int64) (n int, ends []Row, gaps []Gap, err error)
}

// Coverage summarises camera's segments overlapping [start, end) (90 kHz),
// with the gaps between them of at least minGap. It is what Segments
// would list, summarised (TestCoverageIsSegmentsSummarised).
func (s *Store) Coverage(ctx context.Context, camera string, start, end, minGap int64) (Coverage, error) {
	const op = "store.Coverage"
	if err := ValidCamera(camera); err != nil {
		return Coverage{}, errs.E(op, err)
	}
	if ci, ok := s.idx.(coverageIndex); ok {
		n, ends, gaps, err := ci.Coverage(ctx, camera, start, end, minGap)
		if err != nil {
			return Coverage{}, errs.E(op, err)
		}
		if c, ok := s.coverageOfEnds(ctx, n, ends, gaps, start); ok {
			return c, nil
		}
		// An open row before the last, or one that ends up empty: rare
		// (a crash being recovered, a segment just begun); list instead.
	}
	segs, err := s.Segments(ctx, camera, start, end)
	if err != nil {
		return Coverage{}, errs.E(op, err)
	}
	return CoverageOf(segs, minGap), nil
}

// coverageOfEnds completes an index's summary as Segments would see it:
// an open last row is measured up to its written chunks. It reports false
// when the summary cannot be completed that way.
func (s *Store) coverageOfEnds(ctx context.Context, n int, ends []Row, gaps []Gap, start int64) (Coverage, bool) {
	if n == 0 {
		return Coverage{}, true
	}
	if len(ends) == 0 {
		return Coverage{}, false
	}
	for i := range ends {
		r := &ends[i]
		if r.State != StateOpen {
			continue
		}
		if i != len(ends)-1 {
			return Coverage{}, false
		}
		*r = *s.measureOpen(ctx, r)
		if r.End <= start || r.End == r.Start {
			return Coverage{}, false
		}
	}
	return Coverage{Segments: n, First: segmentOf(&ends[0]), Last: segmentOf(&ends[len(ends)-1]), Gaps: gaps}, true
}

// CoverageOf summarises a listing of segments (ordered by start) as
// Coverage does.
func CoverageOf(segs []Segment, minGap int64) Coverage {
	var c Coverage
	if len(segs) == 0 {
		return c
	}
	c.Segments, c.First, c.Last = len(segs), segs[0], segs[len(segs)-1]
	last := segs[0].End
	for _, sg := range segs[1:] {
		if sg.Start-last >= minGap {
			c.Gaps = append(c.Gaps, Gap{last, sg.Start})
		}
		last = max(last, sg.End)
	}
	return c
}
