package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/seal"
)

// Violation is one broken invariant of docs/design/storage.md.
type Violation struct {
	Invariant int    // number in docs/design/storage.md
	Camera    string // "" if not about one camera
	Segment   int64  // 0 if not about one segment
	Msg       string
}

func (v Violation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "invariant %d", v.Invariant)
	if v.Camera != "" {
		fmt.Fprintf(&b, ": camera %s", v.Camera)
	}
	if v.Segment != 0 {
		fmt.Fprintf(&b, ": segment %d", v.Segment)
	}
	return b.String() + ": " + v.Msg
}

// CheckReport is the result of Check.
type CheckReport struct {
	Full       bool // chunks were decrypted and hashes computed
	Segments   int
	Files      int
	Garbage    int
	Violations []Violation
}

// OK reports whether no invariant is broken.
func (r *CheckReport) OK() bool { return len(r.Violations) == 0 }

// Check verifies every invariant of docs/design/storage.md on the data
// directory dir and reports every violation. It takes the directory lock,
// so it refuses to run beside a recorder, and changes nothing. keys may be
// nil unless full is set; full also hashes every file and decrypts every
// chunk.
func Check(ctx context.Context, dir string, keys *seal.Keyring, full bool) (*CheckReport, error) {
	const op = "store.Check"
	if full && keys == nil {
		return nil, errs.Errorf(op, errs.Invalid, "a full check needs the master keys")
	}
	if _, err := os.Stat(filepath.Join(dir, "index.db")); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.Errorf(op, errs.NotExist, "%s has no index.db: not a gwanje data directory", dir)
		}
		return nil, errs.E(op, errs.IO, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, errs.E(op, err)
	}
	defer lock.Close()
	idx, err := OpenSQLite(ctx, filepath.Join(dir, "index.db"))
	if err != nil {
		return nil, errs.E(op, err)
	}
	defer idx.Close()
	disk := &Disk{root: filepath.Join(dir, "segments")}
	rep := &CheckReport{Full: full}
	cols, err := idx.Columns(ctx)
	if err != nil {
		return nil, errs.E(op, err)
	}
	if !slices.Equal(cols, SegmentColumns) {
		rep.add(11, "", 0, "segment table has columns %v, want %v", cols, SegmentColumns)
	}
	if err := checkBackend(ctx, rep, idx, disk, keys, full); err != nil {
		return nil, errs.E(op, err)
	}
	return rep, nil
}

func (r *CheckReport) add(inv int, camera string, seg int64, format string, a ...any) {
	r.Violations = append(r.Violations, Violation{Invariant: inv, Camera: camera, Segment: seg, Msg: fmt.Sprintf(format, a...)})
}

// checkBackend checks the invariants that hold for any Index and Files.
func checkBackend(ctx context.Context, rep *CheckReport, idx Index, files Files, keys *seal.Keyring, full bool) error {
	rows, err := idx.List(ctx, "", math.MinInt64, math.MaxInt64)
	if err != nil {
		return err
	}
	garbage, err := idx.Garbage(ctx)
	if err != nil {
		return err
	}
	list, err := files.List()
	if err != nil {
		return err
	}
	rep.Segments, rep.Garbage, rep.Files = len(rows), len(garbage), len(list)
	onDisk := map[int64]FileRef{}
	for _, f := range list {
		onDisk[f.ID] = f
	}
	inIndex := map[int64]bool{}
	for i := range rows {
		r := &rows[i]
		inIndex[r.ID] = true
		f, ok := onDisk[r.ID]
		if ok && f.Camera != r.Camera {
			rep.add(2, r.Camera, r.ID, "file is under camera %s", f.Camera)
		}
		if !ok {
			rep.add(2, r.Camera, r.ID, "segment file is missing")
		}
		checkRow(ctx, rep, r, files, ok, keys, full)
	}
	for _, f := range list {
		if !inIndex[f.ID] {
			rep.add(2, f.Camera, f.ID, "file has no segment row (%d bytes)", f.Size)
		}
	}
	// Overlaps and tiling, per camera; rows are ordered by camera, start.
	for i := 1; i < len(rows); i++ {
		p, r := &rows[i-1], &rows[i]
		if p.Camera != r.Camera || p.State != StateClosed || r.State != StateClosed {
			continue
		}
		if p.End > r.Start {
			rep.add(8, r.Camera, r.ID, "starts at %d, before segment %d ends at %d", r.Start, p.ID, p.End)
		} else if !r.Discontinuity && p.End != r.Start {
			rep.add(9, r.Camera, r.ID, "has no discontinuity but starts at %d, %d after segment %d ends", r.Start, r.Start-p.End, p.ID)
		}
	}
	for _, g := range garbage {
		rep.add(10, g.Camera, g.SegmentID, "garbage entry left by an interrupted destruction (next start-up finishes it)")
		if _, ok := onDisk[g.SegmentID]; ok {
			rep.add(10, g.Camera, g.SegmentID, "destroyed segment's file still exists")
		}
	}
	return nil
}

func checkRow(ctx context.Context, rep *CheckReport, r *Row, files Files, hasFile bool, keys *seal.Keyring, full bool) {
	if ValidCamera(r.Camera) != nil {
		rep.add(1, r.Camera, r.ID, "invalid camera id")
	}
	if len(r.WrappedKey) != seal.WrappedSize {
		rep.add(7, r.Camera, r.ID, "wrapped key is %d bytes, want %d", len(r.WrappedKey), seal.WrappedSize)
	}
	if keys != nil && !keys.Has(r.KeyID) {
		rep.add(7, r.Camera, r.ID, "master key %s is not in the keyring", r.KeyID)
	}
	if len(r.ParamsSealed) < 1+12+16 || r.ParamsSealed[0] != 1 {
		rep.add(11, r.Camera, r.ID, "params_sealed is not a sealed blob")
	}
	if r.State == StateOpen {
		rep.add(3, r.Camera, r.ID, "segment is open with no recorder running")
		return
	}
	if r.State == StateReplacing {
		rep.add(3, r.Camera, r.ID, "replacement left by an interrupted range destruction (next start-up deletes it)")
		return
	}
	if r.State != StateClosed {
		rep.add(3, r.Camera, r.ID, "unknown state %d", r.State)
		return
	}
	frames, chunks, err := decodeIndex(r.FrameIndex, r.Start, seal.HeaderSize)
	if err != nil {
		rep.add(5, r.Camera, r.ID, "%v", err)
		return
	}
	var keyN int
	var mediaN, dur int64
	for _, f := range frames {
		dur += f.Duration
		mediaN += int64(f.Size)
		if f.Key {
			keyN++
		}
	}
	if len(frames) != r.Frames || keyN != r.KeyFrames || mediaN != r.MediaBytes {
		rep.add(5, r.Camera, r.ID, "row says %d frames, %d key, %d bytes; index has %d, %d, %d",
			r.Frames, r.KeyFrames, r.MediaBytes, len(frames), keyN, mediaN)
	}
	if dur != r.End-r.Start {
		rep.add(5, r.Camera, r.ID, "durations add up to %d, end - start is %d", dur, r.End-r.Start)
	}
	if len(frames) == 0 || !frames[0].Key {
		rep.add(5, r.Camera, r.ID, "does not start with a key frame")
	}
	var csize int64
	for _, c := range chunks {
		csize += c.Size
	}
	if csize != r.FileBytes-seal.HeaderSize {
		rep.add(6, r.Camera, r.ID, "chunks add up to %d bytes, file_bytes - header is %d", csize, r.FileBytes-seal.HeaderSize)
	}
	if !hasFile {
		return
	}
	f, err := files.Open(r.Camera, r.ID)
	if err != nil {
		rep.add(2, r.Camera, r.ID, "opening file: %v", err)
		return
	}
	defer f.Close()
	if f.Size() != r.FileBytes {
		rep.add(4, r.Camera, r.ID, "file is %d bytes, row says %d", f.Size(), r.FileBytes)
	}
	hdr := make([]byte, seal.HeaderSize)
	if _, err := f.ReadAt(hdr, 0); err != nil {
		rep.add(4, r.Camera, r.ID, "reading header: %v", err)
		return
	}
	if h, err := seal.ParseHeader(hdr); err != nil || h.SegmentID != r.ID {
		rep.add(4, r.Camera, r.ID, "file header: %v (names segment %d)", err, h.SegmentID)
	}
	if !full {
		return
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, f.Size())); err != nil {
		rep.add(4, r.Camera, r.ID, "reading file: %v", err)
	} else if !bytes.Equal(h.Sum(nil), r.SHA256) {
		rep.add(4, r.Camera, r.ID, "SHA-256 of the file differs from the row's")
	}
	dk, err := keys.Unwrap(r.WrappedKey, r.ID, r.KeyID)
	if err != nil {
		rep.add(7, r.Camera, r.ID, "%v", err)
		return
	}
	if _, err := openParams(dk, r); err != nil {
		rep.add(7, r.Camera, r.ID, "%v", err)
	}
	rb := rebuilder{start: r.Start}
	res, err := seal.Scan(f, f.Size(), dk, rb.chunk)
	if err != nil {
		rep.add(7, r.Camera, r.ID, "scanning: %v", err)
		return
	}
	if res.Stop != seal.StopEnd {
		rep.add(7, r.Camera, r.ID, "chunks: %v at offset %d: %s", res.Stop, res.At, res.Reason)
	}
	if len(rb.chunks) != len(chunks) || !slices.Equal(rb.frames, frames) {
		rep.add(7, r.Camera, r.ID, "chunks hold %d frames in %d chunks that differ from the index (%d in %d)",
			len(rb.frames), len(rb.chunks), len(frames), len(chunks))
	}
	for i, c := range res.Chunks {
		if i < len(chunks) && (c.Offset != chunks[i].Offset || c.Size != chunks[i].Size) {
			rep.add(6, r.Camera, r.ID, "chunk %d is at %d+%d, index says %d+%d", i, c.Offset, c.Size, chunks[i].Offset, chunks[i].Size)
		}
	}
	_ = ctx
}
