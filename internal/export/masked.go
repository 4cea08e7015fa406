package export

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/gwanje/gwanje/internal/errs"
	"github.com/gwanje/gwanje/internal/mask"
	"github.com/gwanje/gwanje/internal/media"
	"github.com/gwanje/gwanje/internal/playback"
)

// Masking is what a masked export hides and who checked it: a copy for a
// data subject (열람) in which everyone else is hidden. The package is an
// ordinary evidence package whose clips are re-encoded by mask.Renderer;
// each clip's manifest entry says so under "masked".
type Masking struct {
	// Renderer runs ffmpeg; nil uses mask's defaults.
	Renderer *mask.Renderer
	// Specs gives the spec of every camera of the request (the camera's
	// privacy zones from the registry and the reviewer's regions). The
	// times of regions and keyframes are seconds from the request's From;
	// they are moved to the clip's own timeline (which starts at the key
	// frame at or before From) before rendering, and the manifest records
	// them on the clip's timeline.
	Specs map[string]*mask.Spec
	// Reviewer is the user name of who checked the regions over the
	// footage (proposals by mask.Faces are never the only check).
	Reviewer string
	// Progress, when set, is called with each camera's rendering progress.
	Progress func(camera string, p mask.Progress)
}

// Masked is a clip's record of its masking, so that the copy can be traced
// to its source: the clip's segments (Clip.Segments) are the source
// footage; SourceSHA256 is the hash of the unmasked clip cut from them
// (what an unmasked export of the same range carries, before the
// metadata); the rest says what was hidden, how, and who checked it.
type Masked struct {
	SourceSHA256 string          `json:"source_sha256"`
	SourceBytes  int64           `json:"source_bytes"`
	Style        mask.Style      `json:"style"`
	Zones        []mask.Zone     `json:"zones,omitempty"`
	Regions      []mask.Region   `json:"regions,omitempty"` // seconds from the clip's first frame
	Watermark    *mask.Watermark `json:"watermark,omitempty"`
	Reviewer     string          `json:"reviewer"`
	Encoder      string          `json:"encoder"` // e.g. "ffmpeg libx264 preset veryfast crf 20"
}

// masking is the state of one masked export, on the copy of the Exporter
// that runs it.
type masking struct {
	Masking
	offset func(clipStart int64) float64 // seconds from the clip's start to the request's From
	work   string                        // private directory beside the package for the source and masked MP4s
}

func (mk *Masking) validate(req *Request) error {
	const op = "export.Masking"
	if strings.TrimSpace(mk.Reviewer) == "" || len([]rune(mk.Reviewer)) > maxField || strings.ContainsAny(mk.Reviewer, "\x00\r\n") {
		return errs.E(op, errs.Invalid, errs.Code("export.reviewer"), "a masked export needs the reviewer's name")
	}
	for _, c := range req.Cameras {
		s := mk.Specs[c.ID]
		if s == nil {
			return errs.E(op, errs.Invalid, errs.Code("export.mask_camera"), errs.Params{"camera": c.ID},
				fmt.Sprintf("no masking spec for camera %s", c.ID))
		}
		if err := s.Validate(); err != nil {
			return errs.E(op, err)
		}
	}
	return nil
}

// ExportMasked writes a package like Export whose clips are masked: per
// camera, the unmasked clip is written to a private directory beside path
// (hashed on the way), masked by ffmpeg there, and copied into the
// package; the directory is removed at the end, whatever happens. The
// ledger row is written by the gate before any footage is read, as for
// every export; its object says the copy is masked. A spec is required for
// every camera (an empty one to hand a camera over unmasked on purpose),
// and a reviewer: both are checked before the gate is asked.
func (x *Exporter) ExportMasked(ctx context.Context, gate Gate, req Request, mk Masking, path string) (*Manifest, error) {
	const op = "export.ExportMasked"
	if err := req.validate(); err != nil {
		return nil, errs.E(op, err)
	}
	if err := mk.validate(&req); err != nil {
		return nil, errs.E(op, err)
	}
	if mk.Renderer == nil {
		mk.Renderer = &mask.Renderer{}
	}
	if mk.Progress == nil && req.Progress != nil {
		// A job's progress (job.go): microseconds of video rendered.
		mk.Progress = func(camera string, p mask.Progress) {
			req.Progress.Report(camera, p.Done.Microseconds(), p.Total.Microseconds())
		}
	}
	work, err := os.MkdirTemp(filepath.Dir(path), "."+filepath.Base(path)+".mask.*")
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer os.RemoveAll(work)
	from := media.Time90k(req.From)
	y := *x
	y.masking = &masking{Masking: mk, work: work,
		offset: func(start int64) float64 { return float64(from-start) / media.Hz }}
	return y.Export(ctx, gate, req, path)
}

// objectForm is how the ledger row's object names the package.
func (x *Exporter) objectForm() string {
	if x.masking != nil {
		return "마스킹 MP4, 증거 패키지 ZIP"
	}
	return "MP4, 증거 패키지 ZIP"
}

// shift moves a spec's times by d seconds (to the clip's timeline),
// dropping regions that end before the clip starts and starting the others
// no earlier than its start.
func shift(s *mask.Spec, d float64) *mask.Spec {
	out := *s
	out.Regions = nil
	for _, r := range s.Regions {
		r.From, r.To = r.From+d, r.To+d
		if r.To <= 0 {
			continue // over before the clip's first frame
		}
		r.From = max(r.From, 0)
		ks := make([]mask.Keyframe, len(r.Keyframes))
		for i, k := range r.Keyframes {
			k.T += d
			ks[i] = k
		}
		r.Keyframes = ks
		if len(ks) == 0 {
			r.Keyframes = nil
		}
		out.Regions = append(out.Regions, r)
	}
	return &out
}

// writeMaskedClip writes one camera's masked MP4 into the ZIP.
func (x *Exporter) writeMaskedClip(ctx context.Context, zw *zip.Writer, c *playback.Clip, loc *time.Location) (*Clip, error) {
	const op = "export.writeMaskedClip"
	mk := x.masking
	start := media.FromTime90k(c.Start).In(loc)
	if err := c.File.SetRecorded(start); err != nil {
		return nil, errs.E(op, err)
	}
	cl := &Clip{Camera: c.Camera, Start: start, End: media.FromTime90k(c.End).In(loc), Frames: c.Frames,
		File: clipDir + c.Camera + "_" + start.Format("20060102T150405") + "_masked.mp4"}
	if err := x.describe(ctx, cl, c, loc); err != nil {
		return nil, errs.E(op, err)
	}
	// The unmasked clip, hashed as it is written.
	src := filepath.Join(mk.work, c.Camera+".src.mp4")
	f, err := os.OpenFile(src, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	h := sha256.New()
	rd := c.NewStream(ctx)
	n, err := pipeCopy(f, h, rd)
	rd.Close()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errs.E(op, err)
	}
	spec := shift(mk.Specs[c.Camera], mk.offset(c.Start))
	rend := mk.Renderer
	out := filepath.Join(mk.work, c.Camera+".masked.mp4")
	job := mask.Job{Input: src, Duration: time.Duration(c.File.Duration()) * time.Second / media.Hz, Recorded: start}
	job.Width, job.Height = pictureSize(c.File) // else the renderer runs ffprobe
	if mk.Progress != nil {
		job.Progress = func(p mask.Progress) { mk.Progress(c.Camera, p) }
	}
	if err := rend.Render(ctx, spec, job, out); err != nil {
		return nil, errs.E(op, err)
	}
	os.Remove(src)
	preset, crf := rend.Preset, rend.CRF
	if preset == "" {
		preset = "veryfast"
	}
	if crf <= 0 {
		crf = 20
	}
	cl.Masked = &Masked{SourceSHA256: hex.EncodeToString(h.Sum(nil)), SourceBytes: n, Style: spec.Style,
		Zones: spec.Zones, Regions: spec.Regions, Watermark: spec.Watermark, Reviewer: mk.Reviewer,
		Encoder: fmt.Sprintf("ffmpeg libx264 preset %s crf %d", preset, crf)}
	mf, err := os.Open(out)
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	defer mf.Close()
	w, err := zw.CreateHeader(&zip.FileHeader{Name: cl.File, Method: zip.Store, Modified: start})
	if err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	mh := sha256.New()
	if cl.Bytes, err = io.CopyBuffer(io.MultiWriter(w, mh), mf, make([]byte, 1<<20)); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	cl.SHA256 = hex.EncodeToString(mh.Sum(nil))
	return cl, nil
}

// pictureSize is the picture's size in pixels that the clip's parameter
// sets (in its MP4 header) declare, or zeros when it cannot be read.
func pictureSize(f *media.File) (w, h int) {
	var p pmp4.Presentation
	if err := p.Unmarshal(f.NewReader()); err != nil {
		return 0, 0
	}
	for _, t := range p.Tracks {
		var mp media.Params
		switch c := t.Codec.(type) {
		case *codecs.H264:
			mp = media.Params{Codec: media.CodecH264, SPS: c.SPS, PPS: c.PPS}
		case *codecs.H265:
			mp = media.Params{Codec: media.CodecH265, VPS: c.VPS, SPS: c.SPS, PPS: c.PPS}
		default:
			continue
		}
		if w, h, err := mp.Size(); err == nil {
			return w, h
		}
	}
	return 0, 0
}

// describe fills a clip's gaps and source segments (with the hashes the
// store index keeps), as writeClip does for an unmasked clip.
func (x *Exporter) describe(ctx context.Context, cl *Clip, c *playback.Clip, loc *time.Location) error {
	for _, g := range c.Gaps {
		cl.Gaps = append(cl.Gaps, Span{From: media.FromTime90k(g.Start).In(loc), To: media.FromTime90k(g.End).In(loc)})
	}
	for _, id := range c.Segments {
		b, err := x.Source.Brief(ctx, id)
		if err != nil {
			return fmt.Errorf("segment %d: %w", id, err)
		}
		s := Segment{ID: id, Start: media.FromTime90k(b.Start).In(loc), End: media.FromTime90k(b.End).In(loc), Bytes: b.Bytes}
		if len(b.SHA256) > 0 {
			s.SHA256 = hex.EncodeToString(b.SHA256)
		}
		cl.Segments = append(cl.Segments, s)
	}
	return nil
}
