package store

import (
	"context"
	"database/sql"
	"math/rand/v2"
	"os"
	"testing"
)

// The index queries of a playback view and of the home page, before and
// after their fixes, on a large index.db built by a benchmark
// (docs/benchmarks.md): GWANJE_BENCH_INDEX=PATH names it (opened read-only).
//
//	GWANJE_BENCH_INDEX=/tmp/gwbench/seek/data/index.db go test -run XXX -bench IndexQuery ./internal/store/
func BenchmarkIndexQuery(b *testing.B) {
	path := os.Getenv("GWANJE_BENCH_INDEX")
	if path == "" {
		b.Skip("set GWANJE_BENCH_INDEX to an index.db")
	}
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var cams []string
	var lo, hi int64
	rows, err := db.QueryContext(ctx, `SELECT camera FROM camera_summary ORDER BY camera`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var c string
		rows.Scan(&c)
		cams = append(cams, c)
	}
	rows.Close()
	if err := db.QueryRowContext(ctx, `SELECT min(start_90k), max(end_90k) FROM segment WHERE camera = ?`, cams[0]).Scan(&lo, &hi); err != nil {
		b.Fatal(err)
	}
	const tenMin = 600 * 90000
	// count runs q and scans its rows: segment rows, or with summary
	// Cameras' five columns.
	count := func(b *testing.B, summary bool, q string, args ...any) int {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		n := 0
		for rows.Next() {
			var err error
			switch {
			case summary:
				var c CameraSummary
				err = rows.Scan(&c.Camera, &c.Oldest, &c.Newest, &c.Segments, &c.Bytes)
			case q == listSpans:
				var r Row
				var state, disc, codec int
				var key sql.RawBytes
				err = rows.Scan(&r.ID, &state, &r.Start, &r.End, &disc, &codec, &key, &r.Frames, &r.FileBytes)
			default:
				_, err = scanRow(rows)
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		return n
	}
	oldList := `SELECT ` + rowCols + ` FROM segment
		WHERE (? = '' OR camera = ?) AND start_90k < ? AND (end_90k > ? OR state = 1)
		ORDER BY camera, start_90k`
	rng := rand.New(rand.NewPCG(1, 1))
	at := func() (string, int64) { return cams[rng.IntN(len(cams))], lo + rng.Int64N(hi-lo-tenMin) }
	b.Run("view-10min/before", func(b *testing.B) {
		for b.Loop() {
			c, t := at()
			count(b, false, oldList, c, c, t+tenMin, t)
		}
	})
	b.Run("view-10min/after", func(b *testing.B) {
		for b.Loop() {
			c, t := at()
			count(b, false, listCamera, c, t+tenMin, t)
		}
	})
	day := int64(86400 * 90000)
	b.Run("day-list/before", func(b *testing.B) {
		for b.Loop() {
			c, _ := at()
			count(b, false, oldList, c, c, hi, hi-day)
		}
	})
	b.Run("day-list/after-spans", func(b *testing.B) {
		for b.Loop() {
			c, _ := at()
			count(b, false, listSpans, c, hi, hi-day)
		}
	})
	b.Run("cameras/before", func(b *testing.B) {
		for b.Loop() {
			count(b, true, `SELECT camera, min(start_90k), max(end_90k), count(*), sum(file_bytes) FROM segment GROUP BY camera ORDER BY camera`)
		}
	})
	b.Run("cameras/after", func(b *testing.B) {
		for b.Loop() {
			count(b, true, camerasQuery)
		}
	})
}
