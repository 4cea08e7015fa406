package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gwanje/gwanje/internal/durable"
	"github.com/gwanje/gwanje/internal/errs"
)

// Disk is Files on a local directory: <root>/<camera>/<id>.gws.
type Disk struct {
	root string
	// noSync skips every fsync (OpenFixture only).
	noSync bool
}

// NewDisk returns the Files of directory root, creating it if needed.
func NewDisk(root string) (*Disk, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, errs.E("store.NewDisk", errs.IO, err)
	}
	return &Disk{root: root}, nil
}

// Path returns the path of a segment file.
func (d *Disk) Path(camera string, id int64) string {
	return filepath.Join(d.root, camera, strconv.FormatInt(id, 10)+".gws")
}

type diskFile struct {
	*os.File
	noSync bool
}

// Sync implements AppendFile.
func (f diskFile) Sync() error {
	if f.noSync {
		return nil
	}
	return f.File.Sync()
}

func (d *Disk) syncDir(dir string) error {
	if d.noSync {
		return nil
	}
	return syncDir(dir)
}

func (f diskFile) Size() int64 {
	fi, err := f.Stat()
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Create implements Files.
func (d *Disk) Create(camera string, id int64) (AppendFile, error) {
	const op = "store.Disk.Create"
	if err := ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	dir := filepath.Join(d.root, camera)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, errs.E(op, errs.IO, err)
		}
		if err := d.syncDir(d.root); err != nil {
			return nil, errs.E(op, err)
		}
	}
	f, err := os.OpenFile(d.Path(camera, id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, errs.E(op, errs.Exist, err)
		}
		return nil, errs.E(op, errs.IO, err)
	}
	if err := d.syncDir(dir); err != nil {
		f.Close()
		return nil, errs.E(op, err)
	}
	return diskFile{File: f, noSync: d.noSync}, nil
}

// Open implements Files.
func (d *Disk) Open(camera string, id int64) (ReadFile, error) {
	const op = "store.Disk.Open"
	if err := ValidCamera(camera); err != nil {
		return nil, errs.E(op, err)
	}
	f, err := os.Open(d.Path(camera, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errs.E(op, errs.NotExist, err)
	}
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return diskFile{File: f}, nil
}

// Truncate implements Files.
func (d *Disk) Truncate(camera string, id int64, size int64) error {
	const op = "store.Disk.Truncate"
	f, err := os.OpenFile(d.Path(camera, id), os.O_RDWR, 0)
	if err != nil {
		return errs.E(op, errs.IO, err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return errs.E(op, errs.IO, err)
	}
	if err := f.Sync(); err != nil {
		return errs.E(op, errs.IO, err)
	}
	return nil
}

// Remove implements Files.
func (d *Disk) Remove(camera string, id int64) error {
	if err := os.Remove(d.Path(camera, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return errs.E("store.Disk.Remove", errs.IO, err)
	}
	return nil
}

// SyncDir implements Files.
func (d *Disk) SyncDir(camera string) error {
	err := d.syncDir(filepath.Join(d.root, camera))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// List implements Files. Files whose names are not <id>.gws in a valid
// camera directory are not segment files and are not listed.
func (d *Disk) List() ([]FileRef, error) {
	const op = "store.Disk.List"
	cams, err := os.ReadDir(d.root)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	var out []FileRef
	for _, c := range cams {
		if !c.IsDir() || ValidCamera(c.Name()) != nil {
			continue
		}
		ents, err := os.ReadDir(filepath.Join(d.root, c.Name()))
		if err != nil {
			return nil, errs.E(op, errs.IO, err)
		}
		for _, e := range ents {
			name, ok := strings.CutSuffix(e.Name(), ".gws")
			id, err := strconv.ParseInt(name, 10, 64)
			if !ok || err != nil || e.IsDir() {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return nil, errs.E(op, errs.IO, err)
			}
			out = append(out, FileRef{Camera: c.Name(), ID: id, Size: fi.Size()})
		}
	}
	return out, nil
}

func syncDir(dir string) error {
	if err := durable.SyncDir(dir); err != nil {
		return errs.E("store.syncDir", errs.IO, err)
	}
	return nil
}

var _ Files = (*Disk)(nil)
