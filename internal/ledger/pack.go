package ledger

import (
	"encoding/binary"
	"fmt"
)

// A pack holds the stored records (body ‖ hash, exactly the bytes of a
// version 1 entry row's rec) of packEntries consecutive entries in one
// SQLite row, so that Verify and Query step one row per packEntries
// entries instead of one per entry. Tail rows (one per commit) use the
// same encoding. Packing moves records; it never changes their bytes, so a
// packed entry verifies by the same rules as an unpacked one.

// packV1 is the version byte of the pack encoding: u8 version, then per
// entry a uvarint length followed by that many bytes of record.
const packV1 = 1

// packEntries is how many entries a pack holds. A variable so tests can
// build packed ledgers from a few entries.
var packEntries = 256

// packsPerCommit bounds how many packs one append transaction writes, so a
// commit never stalls behind a long backlog (Open packs the backlog).
const packsPerCommit = 8

// appendPackRecord appends one record to a pack encoding.
func appendPackRecord(b, rec []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(rec)))
	return append(b, rec...)
}

// countPack returns how many records a pack encoding holds.
func countPack(b []byte) (int, error) {
	if len(b) == 0 || b[0] != packV1 {
		return 0, fmt.Errorf("not a pack encoding v1")
	}
	n := 0
	for off := 1; off < len(b); n++ {
		l, k := binary.Uvarint(b[off:])
		if k <= 0 || l > uint64(len(b)-off-k) {
			return n, fmt.Errorf("bad record at byte %d", off)
		}
		off += k + int(l)
	}
	return n, nil
}

// parsePack splits a pack encoding into rows numbered first, first+1...
// (their places; Verify compares them with the seq inside each body). It
// returns the rows parsed before any error; the error says where the
// encoding breaks.
func parsePack(first uint64, b []byte, rows []Record) ([]Record, error) {
	if len(b) == 0 || b[0] != packV1 {
		if len(b) == 0 {
			return rows, fmt.Errorf("pack is empty")
		}
		return rows, fmt.Errorf("pack has unknown encoding version %d", b[0])
	}
	off := 1
	seq := first
	for off < len(b) {
		n, k := binary.Uvarint(b[off:])
		if k <= 0 {
			return rows, fmt.Errorf("bad record length at byte %d", off)
		}
		off += k
		if n > uint64(len(b)-off) {
			return rows, fmt.Errorf("record of %d bytes at byte %d overruns the pack", n, off)
		}
		rows = append(rows, splitRec(seq, b[off:off+int(n)]))
		off += int(n)
		seq++
	}
	return rows, nil
}
