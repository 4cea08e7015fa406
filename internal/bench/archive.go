package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/gwanje/gwanje/internal/clip"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/seal"
	_ "github.com/gwanje/gwanje/internal/sqlitedb" // the SQLite driver
	"github.com/gwanje/gwanje/internal/store"
)

// ArchiveConfig describes a seek benchmark's archive: the segment index of
// Cameras cameras recording one-minute segments for Days days before End
// (every row such an archive has), with Targets places to seek to, chosen
// by Seed, each Window minutes of real sealed 25 fps H.264 written
// through the store (docs/benchmarks.md, "Playback seek on a 30-day
// archive", says what is real and what is not).
type ArchiveConfig struct {
	Cameras int
	Days    int
	// End is the end of the archive (exclusive): a midnight.
	End     time.Time
	Targets int
	// Window is the minutes of real video at each target (default 10, a
	// playback view's length).
	Window int
	Seed   uint64
	// Progress, when set, is called now and then with the segments written.
	Progress func(done, total int) `json:"-"`
}

// Archive is a built archive: its data directory (index.db and segments/)
// and the places of real video.
type Archive struct {
	Config  ArchiveConfig `json:"config"`
	Targets []Target      `json:"targets"`
	// Segments is the number of segment rows; Real of them have files of
	// real video.
	Segments int `json:"segments"`
	Real     int `json:"real"`
	// Built is how long building took.
	Built time.Duration `json:"built"`
}

// Target is the start of a window of real video in the archive.
type Target struct {
	Camera string    `json:"camera"`
	Start  time.Time `json:"start"`
}

// ArchiveCamera names camera i (1-based) of an archive.
func ArchiveCamera(i int) string { return fmt.Sprintf("cam-%02d", i) }

const archiveDone = "archive.json"

func (c ArchiveConfig) window() int {
	if c.Window <= 0 {
		return 10
	}
	return c.Window
}

// LoadArchive returns the archive built under dir with cfg, or ok false if
// none is there (or one with other parameters).
func LoadArchive(dir string, cfg ArchiveConfig) (*Archive, bool) {
	b, err := os.ReadFile(filepath.Join(dir, archiveDone))
	if err != nil {
		return nil, false
	}
	var a Archive
	if json.Unmarshal(b, &a) != nil {
		return nil, false
	}
	c := a.Config
	if c.Cameras != cfg.Cameras || c.Days != cfg.Days || !c.End.Equal(cfg.End) || c.Targets != cfg.Targets ||
		c.window() != cfg.window() || c.Seed != cfg.Seed {
		return nil, false
	}
	return &a, true
}

// BuildArchive writes the archive into dir/data (removing anything there)
// with keys. The windows of real video are written through the store
// (store.OpenFixture: no fsync), each minute a sealed segment with its own
// key, file and frame index. Every other minute's row is then inserted in
// bulk as a copy of a two-frame stand-in segment's row, under its own
// camera and time but with no file, and a wrapped key bound to the
// stand-in's id: nothing opens those rows (a view reads only the segments
// of its own ten minutes), and `gwanje check` would report them. The data
// directory is otherwise an ordinary one; archive.json is written last.
func BuildArchive(ctx context.Context, dir string, keys *seal.Keyring, cfg ArchiveConfig) (*Archive, error) {
	t0 := time.Now()
	os.Remove(filepath.Join(dir, archiveDone))
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	c, err := clip.Load(media.CodecH264)
	if err != nil {
		return nil, err
	}
	real, err := realMinute(c)
	if err != nil {
		return nil, err
	}
	win := cfg.window()
	a := &Archive{Config: cfg}
	rng := rand.New(rand.NewPCG(cfg.Seed, 7))
	minutes := cfg.Days * 1440
	if minutes < 2*win+2 {
		return nil, fmt.Errorf("bench: an archive of %d minutes has no room for windows of %d", minutes, win)
	}
	taken := map[string]map[int]bool{} // camera → minutes of real video
	begin := cfg.End.AddDate(0, 0, -cfg.Days)
	for len(a.Targets) < cfg.Targets {
		i := 1 + rng.IntN(cfg.Cameras)
		cam := ArchiveCamera(i)
		m := 1 + rng.IntN(minutes-win-1) // never the first or last minute
		if taken[cam] == nil {
			taken[cam] = map[int]bool{}
		}
		free := true
		for k := m - 1; k <= m+win; k++ {
			free = free && !taken[cam][k]
		}
		if !free {
			continue
		}
		for k := m; k < m+win; k++ {
			taken[cam][k] = true
		}
		a.Targets = append(a.Targets, Target{Camera: cam, Start: begin.Add(time.Duration(m) * time.Minute)})
	}

	// The windows of real video and one stand-in segment, through the
	// store.
	st, err := store.OpenFixture(ctx, store.Config{Dir: data, Keys: keys, SegmentDuration: time.Minute})
	if err != nil {
		return nil, err
	}
	const minute = 60 * media.Hz
	start := media.Time90k(begin)
	for i := 1; i <= cfg.Cameras; i++ {
		cam := ArchiveCamera(i)
		if len(taken[cam]) == 0 {
			continue
		}
		w, err := st.Writer(cam)
		if err != nil {
			st.Close()
			return nil, err
		}
		// A writer's first segment is cut short (the store staggers
		// cameras' cuts): spend it on a primer before the archive, removed
		// with the stand-in.
		key := media.Frame{Key: true, Params: c.Params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}, Wall: start - 10*minute}
		if err := w.WriteFrame(&key); err == nil {
			key.Wall += media.Hz
			err = w.WriteFrame(&key)
		}
		if err != nil {
			w.Close()
			st.Close()
			return nil, err
		}
		w.Break("archive primer")
		for m := range minutes {
			if !taken[cam][m] {
				continue
			}
			t := start + int64(m)*minute
			for k := range real {
				f := real[k]
				f.Wall = t + int64(k)*clip.FrameDuration
				if err := w.WriteFrame(&f); err != nil {
					w.Close()
					st.Close()
					return nil, err
				}
			}
			w.Break("archive minute")
			a.Real++
		}
		if err := w.Close(); err != nil {
			st.Close()
			return nil, err
		}
		if cfg.Progress != nil {
			cfg.Progress(a.Real, cfg.Targets*win)
		}
	}
	w, err := st.Writer("stand-in")
	if err != nil {
		st.Close()
		return nil, err
	}
	key := media.Frame{Key: true, Params: c.Params, Data: []byte{0, 0, 0, 4, 0x65, 0x88, 0x84, 0x00}, Wall: start - 2*minute}
	delta := media.Frame{Params: c.Params, Data: []byte{0, 0, 0, 3, 0x41, 0x9a, 0x02}, Wall: start - 2*minute + minute/2}
	w.WriteFrame(&key)
	w.WriteFrame(&delta)
	key.Wall += minute
	w.WriteFrame(&key) // cuts the first at a minute
	if err := w.Close(); err != nil {
		st.Close()
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	os.Remove(filepath.Join(data, "store.lock"))
	n, err := fillArchive(ctx, data, cfg, start, minutes, taken)
	if err != nil {
		return nil, err
	}
	a.Segments = n + a.Real
	a.Built = time.Since(t0)
	b, err := json.MarshalIndent(a, "", " ")
	if err != nil {
		return nil, err
	}
	return a, os.WriteFile(filepath.Join(dir, archiveDone), b, 0o600)
}

// fillArchive inserts, for every minute of every camera not taken by real
// video, a copy of the stand-in segment's row, and deletes the rows and
// files before start (the stand-in's and the primers). It returns the rows
// inserted.
func fillArchive(ctx context.Context, data string, cfg ArchiveConfig, start int64, minutes int, taken map[string]map[int]bool) (int, error) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(data, "index.db"))
	if err != nil {
		return 0, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF`); err != nil {
		return 0, err
	}
	var (
		codec                                    int
		params, wrapped, sha, index              []byte
		keyID                                    string
		frames, keyFrames, mediaBytes, fileBytes int64
	)
	if err := db.QueryRowContext(ctx, `SELECT codec, params_sealed, key_id, wrapped_key, frames, key_frames, media_bytes, file_bytes, sha256, frame_index
		FROM segment WHERE camera = 'stand-in' AND state = 2 ORDER BY start_90k LIMIT 1`).Scan(&codec, &params, &keyID, &wrapped,
		&frames, &keyFrames, &mediaBytes, &fileBytes, &sha, &index); err != nil {
		return 0, fmt.Errorf("bench: the stand-in row: %w", err)
	}
	rows, err := db.QueryContext(ctx, `SELECT id, camera FROM segment WHERE start_90k < ?`, start)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id int64
		var cam string
		if err := rows.Scan(&id, &cam); err != nil {
			rows.Close()
			return 0, err
		}
		os.Remove(filepath.Join(data, "segments", cam, fmt.Sprintf("%d.gws", id)))
	}
	rows.Close()
	os.Remove(filepath.Join(data, "segments", "stand-in"))
	if _, err := db.ExecContext(ctx, `DELETE FROM segment WHERE start_90k < ?`, start); err != nil {
		return 0, err
	}
	const minute = 60 * media.Hz
	const q = `INSERT INTO segment (camera, state, start_90k, end_90k, discontinuity, codec, params_sealed, key_id, wrapped_key,
		frames, key_frames, media_bytes, file_bytes, sha256, frame_index) VALUES (?, 2, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	n := 0
	for i := 1; i <= cfg.Cameras; i++ {
		cam := ArchiveCamera(i)
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return n, err
		}
		ins, err := tx.PrepareContext(ctx, q)
		if err != nil {
			tx.Rollback()
			return n, err
		}
		for m := range minutes {
			if taken[cam][m] {
				continue
			}
			t := start + int64(m)*minute
			disc := 0
			if m == 0 {
				disc = 1
			}
			if _, err := ins.ExecContext(ctx, cam, t, t+minute, disc, codec, params, keyID, wrapped, frames, keyFrames,
				mediaBytes, fileBytes, sha, index); err != nil {
				tx.Rollback()
				return n, err
			}
			n++
		}
		if err := tx.Commit(); err != nil {
			return n, err
		}
		if cfg.Progress != nil {
			cfg.Progress(n, cfg.Cameras*minutes)
		}
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return n, err
}

// realMinute is a minute of the clip at 25 fps (1500 frames), looped from
// its first key frame.
func realMinute(c *clip.Clip) ([]media.Frame, error) {
	out := make([]media.Frame, 0, 1500)
	for i := 0; len(out) < 1500; i++ {
		au := c.AUs[i%len(c.AUs)]
		data, err := media.ToAVCC(au.NALUs)
		if err != nil {
			return nil, err
		}
		out = append(out, media.Frame{Key: au.Key, Params: c.Params, Data: data})
	}
	return out, nil
}
