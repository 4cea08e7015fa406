package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A camera's List is a range of the (camera, start_90k, ...) index
// starting at the last segment that begins by the range's start, ListSpans
// reads that index alone, and Cameras reads the summary table: none scans
// the segment table (they did, making every
// playback view and the home page cost a pass over a month of rows).
func TestIndexQueriesUseNoScan(t *testing.T) {
	ctx := context.Background()
	x, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for name, q := range map[string]string{"List of a camera": listCamera, "ListSpans": listSpans, "Cameras": camerasQuery,
		"Coverage first": coverageFirst, "Coverage tail": coverageTail, "Coverage spans": coverageSpans} {
		args := []any{"cam", 1, 0}
		if q == camerasQuery {
			args = nil
		}
		rows, err := x.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, d := range plan {
			if strings.HasPrefix(d, "SCAN segment") {
				t.Errorf("%s scans the segment table: %q", name, plan)
			}
		}
		// A listing of spans reads the index alone, never the rows with
		// their frame indexes.
		if (q == listSpans || strings.HasPrefix(name, "Coverage")) && (len(plan) == 0 || !strings.Contains(plan[0], "COVERING INDEX")) {
			t.Errorf("%s reads the segment rows: %q", name, plan)
		}
		if strings.HasPrefix(name, "Coverage") && slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, "TEMP B-TREE") }) {
			t.Errorf("%s sorts in a temporary b-tree: %q", name, plan)
		}
	}
}

// camera_summary stays equal to a GROUP BY over the segment table through
// inserts, the updates that close a row, and deletes of the oldest, the
// newest and the last row of a camera; List of a camera finds the row
// that reaches into the range from before it.
func TestCameraSummaryInStep(t *testing.T) {
	ctx := context.Background()
	x, err := OpenSQLite(ctx, filepath.Join(t.TempDir(), "index.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := x.db.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	insert := func(cam string, start, end int64, state int) {
		exec(`INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key, file_bytes)
			VALUES (?, ?, ?, ?, 0, 1, x'00', 'k', x'00', ?)`, cam, state, start, end, end-start)
	}
	check := func(when string) {
		t.Helper()
		got, err := x.Cameras(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.db.QueryContext(ctx, `SELECT camera, min(start_90k), max(end_90k), count(*), sum(file_bytes) FROM segment GROUP BY camera ORDER BY camera`)
		if err != nil {
			t.Fatal(err)
		}
		var want []CameraSummary
		for rows.Next() {
			var c CameraSummary
			rows.Scan(&c.Camera, &c.Oldest, &c.Newest, &c.Segments, &c.Bytes)
			want = append(want, c)
		}
		rows.Close()
		if !slices.Equal(got, want) {
			t.Fatalf("%s: Cameras %+v, want %+v", when, got, want)
		}
	}
	for i := range 10 {
		insert("a", int64(i*100), int64(i*100+100), 2)
		insert("b", int64(i*50), int64(i*50+50), 2)
	}
	insert("a", 1000, 1000, 1) // open
	check("inserted")
	exec(`UPDATE segment SET state = 2, end_90k = 1100, file_bytes = 77 WHERE camera = 'a' AND state = 1`)
	check("closed")
	exec(`DELETE FROM segment WHERE camera = 'a' AND start_90k < 300`)
	check("oldest deleted")
	exec(`DELETE FROM segment WHERE camera = 'a' AND start_90k = 1000`)
	check("newest deleted")
	exec(`DELETE FROM segment WHERE camera = 'b'`)
	check("a camera's last row deleted")
	insert("b", 5000, 5100, 2)
	check("a camera back")

	for _, tc := range []struct{ start, end int64 }{{350, 360}, {300, 400}, {0, 320}, {850, 5000}, {950, 960}} {
		got, err := x.List(ctx, "a", tc.start, tc.end)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for s := int64(300); s < 1000; s += 100 {
			if s < tc.end && s+100 > tc.start {
				want = append(want, fmt.Sprint(s))
			}
		}
		var have []string
		for _, r := range got {
			have = append(have, fmt.Sprint(r.Start))
		}
		spans, err := x.ListSpans(ctx, "a", tc.start, tc.end)
		if err != nil {
			t.Fatal(err)
		}
		for k := range got {
			got[k].ParamsSealed, got[k].WrappedKey, got[k].SHA256, got[k].FrameIndex = nil, nil, nil, nil
			got[k].KeyFrames, got[k].MediaBytes = 0, 0
		}
		if !reflect.DeepEqual(spans, got) {
			t.Errorf("ListSpans [%d, %d): %+v, want List's rows without blobs %+v", tc.start, tc.end, spans, got)
		}
		if !slices.Equal(have, want) {
			t.Errorf("List [%d, %d): starts %v, want %v", tc.start, tc.end, have, want)
		}
	}
}
