package mask

import (
	"os"
	"path/filepath"

	"github.com/gwanje/gwanje/internal/errs"
)

// ZoneFilter is the filter graph masking a camera's privacy zones in a
// stream that ffmpeg converts on the fly (live view and playback for a
// role that must not see them, docs/design/masking.md): the same graph as
// a masked export's, without regions or watermark.
type ZoneFilter struct {
	script string
	inputs []string
}

// NewZoneFilter validates zones and writes the graph for a W×H picture
// and the zones' mask images into dir (a private directory of the
// caller's, removed by it once ffmpeg has ended).
func NewZoneFilter(zones []Zone, style Style, W, H int, dir string) (*ZoneFilter, error) {
	const op = "mask.NewZoneFilter"
	spec := &Spec{Style: style, Zones: zones}
	if len(zones) == 0 {
		return nil, errs.Errorf(op, errs.Invalid, "no zones")
	}
	if err := spec.Validate(); err != nil {
		return nil, errs.E(op, err)
	}
	g, err := (&Renderer{}).graph(spec, W, H, dir, 0)
	if err != nil {
		return nil, errs.E(op, err)
	}
	script := filepath.Join(dir, "graph.txt")
	if err := os.WriteFile(script, []byte(g.filter), 0o600); err != nil {
		return nil, errs.E(op, errs.IO, err)
	}
	return &ZoneFilter{script: script, inputs: g.inputs}, nil
}

// Args are ffmpeg's arguments after the stream's own input (input 0): the
// mask images as inputs 1…n, the graph on one filter thread (as a masked
// export's: its filters work on small areas), and its output as the one
// stream, every source frame kept with its timestamp. Run ffmpeg with
// FFmpegEnv.
func (f *ZoneFilter) Args() []string {
	var a []string
	for _, in := range f.inputs {
		a = append(a, "-i", in)
	}
	return append(a, "-filter_complex_threads", "1", "-filter_complex_script", f.script, "-map", "[out]", "-fps_mode", "passthrough")
}
