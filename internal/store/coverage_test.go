package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/media"
)

// TestCoverageIsSegmentsSummarised records a camera with two gaps (5 s and
// 1 s) and a last segment still being written, then checks that Coverage,
// summarised by SQLite, equals the summary of what Segments lists, for
// ranges that start and end inside segments and gaps and for several
// shortest gaps; and that the 5 s gap is found where it is.
func TestCoverageIsSegmentsSummarised(t *testing.T) {
	const sec = media.Hz
	e := newEnv(t)
	s := e.open()
	defer s.Close()
	w, err := s.Writer("cam")
	if err != nil {
		t.Fatal(err)
	}
	write(t, w, frames(t, media.CodecH264, t0, 25*25)) // 0–25 s: three segments of 10 s
	w.Break("camera lost")
	write(t, w, frames(t, media.CodecH264, t0+30*sec, 12*25)) // 30–42 s
	w.Break("camera lost")
	write(t, w, frames(t, media.CodecH264, t0+43*sec, 14*25)) // 43–57 s; the last segment open
	ctx := context.Background()
	all, err := s.Segments(ctx, "cam", 0, 1<<62)
	if err != nil {
		t.Fatal(err)
	}
	if last := all[len(all)-1]; !last.Open {
		t.Fatalf("the last segment is closed; the test needs it open: %+v", all)
	}
	for _, r := range [][2]int64{{0, 1 << 62}, {t0 + 3*sec, t0 + 44*sec}, {t0 + 27*sec, t0 + 31*sec},
		{t0 + 26*sec, t0 + 29*sec}, {t0 + 50*sec, t0 + 90*sec}, {t0 + 90*sec, t0 + 100*sec}} {
		for _, minGap := range []int64{1, 2 * sec, 10 * sec} {
			got, err := s.Coverage(ctx, "cam", r[0], r[1], minGap)
			if err != nil {
				t.Fatal(err)
			}
			segs, err := s.Segments(ctx, "cam", r[0], r[1])
			if err != nil {
				t.Fatal(err)
			}
			// The index summarised it (no fallback to listing), except
			// after the open segment's end, which only a listing drops.
			n, ends, gaps, err := s.idx.(coverageIndex).Coverage(ctx, "cam", r[0], r[1], minGap)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := s.coverageOfEnds(ctx, n, ends, gaps, r[0]); !ok && r[0] < t0+57*sec {
				t.Errorf("range %v: the index's summary was not used", r)
			}
			if want := CoverageOf(segs, minGap); !reflect.DeepEqual(got, want) {
				t.Errorf("range %v–%v, gaps ≥ %v: Coverage %+v, from Segments %+v",
					time.Duration(r[0]-t0)*time.Second/sec, time.Duration(r[1]-t0)*time.Second/sec, minGap, got, want)
			}
		}
	}
	c, err := s.Coverage(ctx, "cam", 0, 1<<62, 2*sec)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Gaps) != 1 || c.Gaps[0] != (Gap{t0 + 25*sec, t0 + 30*sec}) || c.Segments != len(all) ||
		c.First.Start != t0 || !c.Last.Open || c.Last.End <= t0+43*sec {
		t.Errorf("coverage of everything with gaps ≥ 2 s: %+v", c)
	}
}
