package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"

	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends (synchronous=FULL, group
// commit) from many concurrent callers, as the web layer makes them,
// packing included.
func BenchmarkAppend(b *testing.B) { benchAppend(b) }

// BenchmarkAppendNoPacks is BenchmarkAppend with packing off (every
// commit stays one tail row): what packing costs appends.
func BenchmarkAppendNoPacks(b *testing.B) {
	defer func(n int) { packEntries = n }(packEntries)
	packEntries = 1 << 30
	benchAppend(b)
}

func benchAppend(b *testing.B) {
	l, _ := openTest(b, b.TempDir(), 1000)
	e := sample(1)
	b.SetParallelism(256)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Append(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
}

// BenchmarkPlainInsert is the peer of BenchmarkAppend: the same records
// inserted as entry rows (one per entry, version 1's layout) with the same
// durability, by one caller in transactions of 1024 rows, one INSERT per
// row, with no hashing, chaining or packing. It bounds what a row per
// entry costs on this machine.
func BenchmarkPlainInsert(b *testing.B) {
	dir := b.TempDir()
	st, err := openSQLite(context.Background(), filepath.Join(dir, DBName), false)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	e := sample(1)
	body := Encode(&e)
	b.ResetTimer()
	for i := 0; i < b.N; {
		tx, err := st.w.Begin()
		if err != nil {
			b.Fatal(err)
		}
		stmt, _ := tx.Prepare(`INSERT INTO entry(seq, rec) VALUES (?, ?)`)
		for j := 0; j < 1024 && i < b.N; j++ {
			i++
			if _, err := stmt.Exec(int64(i), body); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkVerify measures how many entries per second Verify (what
// `gwanje ledger verify` calls) checks on a packed ledger: open, every
// signature, the whole chain.
func BenchmarkVerify(b *testing.B) { benchVerify(b, 200_000) }

// BenchmarkVerifyLarge is BenchmarkVerify on a million entries (a year of
// a busy site), to show the rate does not fall with size.
func BenchmarkVerifyLarge(b *testing.B) { benchVerify(b, 1_000_000) }

// BenchmarkVerifyNoPacks is Verify's peer on a ledger stored as version 1
// stored it, every entry a row: a ledger not yet opened by this version,
// and the rate before packs.
func BenchmarkVerifyNoPacks(b *testing.B) {
	dir, key := buildV1Chain(b, 200_000)
	benchVerifyDir(b, 200_000, dir, key)
}

func benchVerify(b *testing.B, n int) {
	dir, key := buildChain(b, n)
	benchVerifyDir(b, n, dir, key)
}

func benchVerifyDir(b *testing.B, n int, dir string, key *Key) {
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		rep, err := Verify(context.Background(), VerifyOptions{Dir: dir, PublicKey: key.Public()})
		if err != nil || !rep.OK() || rep.Entries != uint64(n) || rep.SignedThrough != uint64(n) {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
	// The machine is shared; entries per CPU-second does not depend on
	// what else runs. Wall rate ≈ this × free cores.
	b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "entries/cpu-s")
}

// BenchmarkScanOnly is Verify's peer: the same entries read from one
// snapshot by one goroutine, packs parsed, with no hashing or checks. It
// is the ceiling Verify's single reader sets.
func BenchmarkScanOnly(b *testing.B) {
	dir, _ := buildChain(b, 200_000)
	st, err := openSQLite(context.Background(), filepath.Join(dir, DBName), true)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		s, err := st.snapshot(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		var rows []Record
		if err := s.Walk(context.Background(), func(u Unit) error {
			rows, err = u.Records(rows[:0])
			n += len(rows)
			return err
		}); err != nil || n != 200_000 {
			b.Fatal(n, err)
		}
		s.Close()
	}
	b.StopTimer()
	b.ReportMetric(float64(200_000)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}

// buildV1Chain writes n entries as version 1 did: one entry row each, a
// checkpoint every 1000, no pack or tail table.
func buildV1Chain(b *testing.B, n int) (string, *Key) {
	dir := b.TempDir()
	key, err := LoadOrCreateKey(DefaultKeyPath(dir))
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", testDSN(filepath.Join(dir, DBName)))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schemaV1); err != nil {
		b.Fatal(err)
	}
	tx, _ := db.Begin()
	ins, _ := tx.Prepare(`INSERT INTO entry(seq, rec) VALUES (?, ?)`)
	var prev [32]byte
	for i := 1; i <= n; i++ {
		e := sample(i)
		e.Seq, e.Prev, e.Time = uint64(i), prev, t0
		body := Encode(&e)
		prev = sha256Sum(body)
		if _, err := ins.Exec(i, append(body, prev[:]...)); err != nil {
			b.Fatal(err)
		}
		if i%1000 == 0 || i == n {
			cp := key.sign(uint64(i), prev, t0)
			if _, err := tx.Exec(`INSERT INTO checkpoint(seq, hash, time_ns, key_id, sig) VALUES (?, ?, ?, ?, ?)`, i, cp.Hash[:], cp.Time.UnixNano(), cp.KeyID, cp.Sig); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return dir, key
}

func buildChain(b *testing.B, n int) (string, *Key) {
	dir := b.TempDir()
	st, err := openSQLite(context.Background(), filepath.Join(dir, DBName), false)
	if err != nil {
		b.Fatal(err)
	}
	key, err := LoadOrCreateKey(DefaultKeyPath(dir))
	if err != nil {
		b.Fatal(err)
	}
	// Build a valid chain quickly, bypassing group commit, with a signed
	// checkpoint every 1000 entries (the default CheckpointEvery) and at
	// the end, and packed as appends pack it.
	var rows []Record
	var prev [32]byte
	for i := 1; i <= n; i++ {
		e := sample(i)
		e.Seq, e.Prev, e.Time = uint64(i), prev, t0
		body := Encode(&e)
		e.Hash = sha256Sum(body)
		rows = append(rows, Record{Seq: e.Seq, Body: body, Hash: e.Hash})
		prev = e.Hash
		if i%1000 == 0 || i == n {
			cp := key.sign(e.Seq, e.Hash, t0)
			if err := st.insert(context.Background(), rows[0].Seq-1, rows, &cp); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
	}
	st.Close()
	return dir, key
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

// BenchmarkChainInMemory is the chain check alone (hash and link checks on
// rows already in memory, one core): what Verify would reach if reading
// rows were free.
func BenchmarkChainInMemory(b *testing.B) {
	const n = 100_000
	rows := make([]Record, n)
	var prev [32]byte
	for i := range rows {
		e := sample(i)
		e.Seq, e.Prev, e.Time = uint64(i+1), prev, t0
		body := Encode(&e)
		rows[i] = Record{Seq: e.Seq, Body: body, Hash: sha256Sum(body)}
		prev = rows[i].Hash
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var prev [32]byte
		for j := range rows {
			if p := checkRow(&rows[j], sha256Sum(rows[j].Body), prev, nil); p != nil {
				b.Fatal(p)
			}
			prev = rows[j].Hash
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
