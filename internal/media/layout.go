package media

// The layout accessors below let a caller that writes the whole file front
// to back (an export) assemble it itself, copying each stored frame once,
// instead of going through ReadAt, which fetches and copies sample by
// sample for random access. The bytes are the same: the header, then for
// each sample its in-band prefix and its stored bytes, in order.

// Header returns the file's bytes before the first sample: ftyp, moov (with
// what SetRecorded added) and the mdat header. Callers must not modify it.
func (f *File) Header() []byte { return f.header }

// Samples returns the number of samples in the file.
func (f *File) Samples() int { return len(f.sizes) }

// Layout returns what the file holds for sample i, in order: the in-band
// parameter sets written before the stored bytes (nil if none; callers must
// not modify it) and the stored size the fetch must return.
func (f *File) Layout(i int) (prefix []byte, size uint32) {
	return f.prefix[i], f.sizes[i]
}
