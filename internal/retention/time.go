package retention

import (
	"time"

	"github.com/gwanje/gwanje/internal/media"
)

// at converts a 90 kHz wall-clock time to a time in loc.
func at(t90k int64, loc *time.Location) time.Time { return media.FromTime90k(t90k).In(loc) }
