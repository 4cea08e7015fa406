package recorder

import (
	"context"
	"time"

	"github.com/gwanje/gwanje/internal/ingest"
)

// DefaultRamp is how long StartAll spreads the starts of n cameras over:
// 20 ms per camera, at most 5 s.
func DefaultRamp(n int) time.Duration {
	return min(time.Duration(n)*20*time.Millisecond, 5*time.Second)
}

// StartAll starts cams spread evenly over ramp (the first at once, the last
// after ramp), so hundreds of first segments, each an index commit, do not
// all wait at once with their frames queued in memory. It stops at the
// first camera that does not start, or when ctx ends, and returns why; the
// cameras already started keep recording until Close.
func (r *Recorder) StartAll(ctx context.Context, cams []ingest.Camera, ramp time.Duration) error {
	step := time.Duration(0)
	if len(cams) > 1 && ramp > 0 {
		step = ramp / time.Duration(len(cams)-1)
	}
	for i, c := range cams {
		if i > 0 && step > 0 {
			t := time.NewTimer(step)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		if err := r.Start(ctx, c); err != nil {
			return err
		}
	}
	return nil
}
