package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Segment file format, version 1:
//
//	header:  magic "GWJSEG\r\n" (8) | version (1) | reserved, zero (3) | segment id, big-endian int64 (8)
//	chunk*:  sealed length L, big-endian uint32 (4) | AES-256-GCM ciphertext and tag (L)
//
// Chunk n (from 0) is sealed with the segment's chunk key, nonce
// 0x00000000 || n (big-endian uint64) and AAD "gwanje chunk v1\0" || header
// || n, so chunks cannot be reordered, dropped from the middle, moved to
// another segment or edited without Open failing. The sequence number is
// never stored: it is the chunk's position.
const (
	// HeaderSize is the size of a segment file header.
	HeaderSize = 20
	// FormatVersion is the segment file format written by this package.
	FormatVersion = 1
	// MaxChunkSize bounds a chunk's plaintext; a longer length prefix is
	// corruption, and readers never allocate more than this per chunk.
	MaxChunkSize = 64 << 20
	// ChunkOverhead is what sealing adds to a chunk's plaintext on disk.
	ChunkOverhead = 4 + 16
)

var magic = [8]byte{'G', 'W', 'J', 'S', 'E', 'G', '\r', '\n'}

// Header is the plaintext header of a segment file.
type Header struct {
	Version   byte
	SegmentID int64
}

// AppendHeader appends the header of segment segID to dst.
func AppendHeader(dst []byte, segID int64) []byte {
	dst = append(dst, magic[:]...)
	dst = append(dst, FormatVersion, 0, 0, 0)
	return binary.BigEndian.AppendUint64(dst, uint64(segID))
}

// ParseHeader parses a segment file header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("seal: segment header: %d bytes, want %d", len(b), HeaderSize)
	}
	if [8]byte(b[:8]) != magic {
		return Header{}, errors.New("seal: segment header: bad magic (not a gwanje segment file)")
	}
	if b[8] != FormatVersion {
		return Header{}, fmt.Errorf("seal: segment header: unknown format version %d", b[8])
	}
	if b[9] != 0 || b[10] != 0 || b[11] != 0 {
		return Header{}, errors.New("seal: segment header: reserved bytes are not zero")
	}
	return Header{Version: b[8], SegmentID: int64(binary.BigEndian.Uint64(b[12:20]))}, nil
}

func chunkNonce(seq uint64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[4:], seq)
	return n[:]
}

func chunkAAD(dst, header []byte, seq uint64) []byte {
	dst = append(dst[:0], "gwanje chunk v1\x00"...)
	dst = append(dst, header[:HeaderSize]...)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// ChunkSealer seals the chunks of one segment in order.
type ChunkSealer struct {
	dk     *DataKey
	header []byte
	seq    uint64
	aad    []byte
}

// NewChunkSealer returns a sealer for segment segID starting at chunk 0.
func NewChunkSealer(dk *DataKey, segID int64) *ChunkSealer {
	return &ChunkSealer{dk: dk, header: AppendHeader(nil, segID)}
}

// Header returns the file header to write before the first chunk.
func (s *ChunkSealer) Header() []byte { return s.header }

// Seq returns the sequence number the next chunk will get.
func (s *ChunkSealer) Seq() uint64 { return s.seq }

// Seal appends the next chunk (length prefix and ciphertext) to dst.
func (s *ChunkSealer) Seal(dst, plaintext []byte) ([]byte, error) {
	if len(plaintext) > MaxChunkSize {
		return dst, fmt.Errorf("seal: chunk of %d bytes exceeds the limit of %d", len(plaintext), MaxChunkSize)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(plaintext)+16))
	s.aad = chunkAAD(s.aad, s.header, s.seq)
	dst = s.dk.chunks.Seal(dst, chunkNonce(s.seq), plaintext, s.aad)
	s.seq++
	return dst, nil
}

// OpenChunk authenticates and decrypts chunk seq of the segment whose file
// header is header. body is the chunk without its length prefix. The
// plaintext is appended to dst.
func (dk *DataKey) OpenChunk(dst, header []byte, seq uint64, body []byte) ([]byte, error) {
	if len(header) < HeaderSize {
		return nil, errors.New("seal: short segment header")
	}
	if len(body) < 16 {
		return nil, fmt.Errorf("seal: chunk %d: %d bytes is shorter than its tag", seq, len(body))
	}
	p, err := dk.chunks.Open(dst, chunkNonce(seq), body, chunkAAD(nil, header, seq))
	if err != nil {
		return nil, fmt.Errorf("seal: chunk %d: authentication failed", seq)
	}
	return p, nil
}

// Stop says why Scan stopped.
type Stop uint8

// Stop values. Append-only.
const (
	StopEnd     Stop = iota // the file ends exactly after the last valid chunk
	StopTorn                // the file ends with an incomplete or zero-filled chunk: a crash while writing
	StopCorrupt             // a complete chunk fails authentication and more data follows it
	StopHeader              // the file header is missing or invalid; no chunk was read
)

func (s Stop) String() string {
	switch s {
	case StopEnd:
		return "end"
	case StopTorn:
		return "torn tail"
	case StopCorrupt:
		return "corrupt"
	case StopHeader:
		return "bad header"
	}
	return fmt.Sprintf("stop(%d)", uint8(s))
}

// ChunkRef locates one chunk in a segment file.
type ChunkRef struct {
	Seq    uint64
	Offset int64 // of the length prefix
	Size   int64 // length prefix included
}

// ScanResult is the longest valid prefix of a segment file.
type ScanResult struct {
	Header Header
	Chunks []ChunkRef
	// End is the length of the valid prefix: the header and every chunk in
	// Chunks. A recovered file is truncated to End.
	End    int64
	Stop   Stop
	Reason string // why Scan stopped, if not StopEnd
	// At is the file offset where the first invalid byte region begins
	// (equal to End unless Stop is StopEnd).
	At int64
}

// Scan walks the segment file r of the given size, authenticating every
// chunk with dk, and calls fn (if not nil) with each chunk's plaintext in
// order; the plaintext is only valid during the call. If fn returns an
// error, the chunk counts as invalid: Scan stops with StopCorrupt and the
// error as the reason. Scan allocates at most one chunk's worth of memory,
// never more than the file's size. An error is returned only if reading r
// fails.
func Scan(r io.ReaderAt, size int64, dk *DataKey, fn func(seq uint64, plaintext []byte) error) (*ScanResult, error) {
	res := &ScanResult{}
	hdr := make([]byte, HeaderSize)
	if size < HeaderSize {
		res.Stop, res.Reason = StopHeader, fmt.Sprintf("file of %d bytes is shorter than a header", size)
		return res, nil
	}
	if _, err := r.ReadAt(hdr, 0); err != nil {
		return nil, err
	}
	h, err := ParseHeader(hdr)
	if err != nil {
		res.Stop, res.Reason = StopHeader, err.Error()
		return res, nil
	}
	res.Header = h
	off := int64(HeaderSize)
	res.End = off
	var body, plain, aad []byte
	var lenbuf [4]byte
	for seq := uint64(0); ; seq++ {
		res.At = off
		if off == size {
			res.Stop = StopEnd
			return res, nil
		}
		if size-off < 4 {
			res.Stop, res.Reason = StopTorn, fmt.Sprintf("chunk %d: %d bytes left, too few for a length", seq, size-off)
			return res, nil
		}
		if _, err := r.ReadAt(lenbuf[:], off); err != nil {
			return nil, err
		}
		n := int64(binary.BigEndian.Uint32(lenbuf[:]))
		bad := func(torn bool, reason string) (*ScanResult, error) {
			if !torn {
				zero, err := allZero(r, off, size)
				if err != nil {
					return nil, err
				}
				torn = zero
			}
			res.Stop, res.Reason = StopCorrupt, reason
			if torn {
				res.Stop = StopTorn
			}
			return res, nil
		}
		switch {
		case n < 16 || n > MaxChunkSize+16:
			return bad(false, fmt.Sprintf("chunk %d at offset %d: impossible length %d", seq, off, n))
		case off+4+n > size:
			return bad(true, fmt.Sprintf("chunk %d at offset %d: length %d runs past the end of the file (%d bytes)", seq, off, n, size))
		}
		if int64(cap(body)) < n {
			body = make([]byte, n)
		}
		body = body[:n]
		if _, err := r.ReadAt(body, off+4); err != nil {
			return nil, err
		}
		aad = chunkAAD(aad, hdr, seq)
		plain, err = dk.chunks.Open(plain[:0], chunkNonce(seq), body, aad)
		if err != nil {
			return bad(off+4+n == size, fmt.Sprintf("chunk %d at offset %d: authentication failed", seq, off))
		}
		if fn != nil {
			if err := fn(seq, plain); err != nil {
				res.Stop, res.Reason = StopCorrupt, fmt.Sprintf("chunk %d at offset %d: %v", seq, off, err)
				return res, nil
			}
		}
		res.Chunks = append(res.Chunks, ChunkRef{Seq: seq, Offset: off, Size: 4 + n})
		off += 4 + n
		res.End = off
	}
}

// allZero reports whether r holds only zero bytes in [off, size): a tail a
// crash left allocated but unwritten.
func allZero(r io.ReaderAt, off, size int64) (bool, error) {
	var buf [4096]byte
	for off < size {
		n := min(int64(len(buf)), size-off)
		if _, err := r.ReadAt(buf[:n], off); err != nil {
			return false, err
		}
		for _, c := range buf[:n] {
			if c != 0 {
				return false, nil
			}
		}
		off += n
	}
	return true, nil
}
