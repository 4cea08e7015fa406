package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/ledger"
)

// Every time of an export is in the institution's zone (Meta.Zone), the
// row's time and the footage period alike; KST when none is given.
func TestExportInInstitutionZone(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	e := ledger.Entry{Seq: 1, Kind: ledger.Playback, Time: at, Actor: "kim", Cameras: []string{"cam1"},
		From: at.Add(-time.Hour), To: at.Add(-50 * time.Minute), Purpose: "점검"}
	for _, c := range []struct {
		zone       *time.Location
		time, from string
	}{
		{nil, "2026-12-03 21:00:00", "2026-12-03 20:00:00"},
		{time.FixedZone("CET", 3600), "2026-12-03 13:00:00", "2026-12-03 12:00:00"},
	} {
		var b bytes.Buffer
		if err := Write(&b, CSV, []ledger.Entry{e}, Meta{Zone: c.zone}, ""); err != nil {
			t.Fatal(err)
		}
		if out := b.String(); !strings.Contains(out, c.time) || !strings.Contains(out, c.from) {
			t.Errorf("zone %v: want %s and %s in\n%s", c.zone, c.time, c.from, out)
		}
	}
}
