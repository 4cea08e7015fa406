package requests_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/requests"
	"github.com/gwanje/gwanje/internal/requests/requeststest"
	"github.com/gwanje/gwanje/internal/seal"
)

func testKeys(t *testing.T) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(seal.NewRandomKey())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openSQLite(t *testing.T, dir string, keys *seal.Keyring) *requests.SQLiteStore {
	t.Helper()
	s, err := requests.OpenSQLite(context.Background(), dir, keys)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSQLiteConformance(t *testing.T) {
	keys := testKeys(t)
	dirs := map[requests.Store]string{}
	requeststest.Run(t, requeststest.Factory{
		New: func(t *testing.T) requests.Store {
			dir := t.TempDir()
			s := openSQLite(t, dir, keys)
			dirs[s] = dir
			return s
		},
		Reopen: func(t *testing.T, s requests.Store) requests.Store {
			dir := dirs[s]
			s.Close()
			n := openSQLite(t, dir, keys)
			dirs[n] = dir
			return n
		},
	})
}

// The person's data is not in the file in the clear, the file is 0600, and
// forgetting leaves none of it behind (secure_delete, key gone).
func TestSQLitePersonalSealedAtRest(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := openSQLite(t, dir, testKeys(t))
	r, p := requeststest.Sample()
	p.Requester.Name, p.Requester.Phone, p.Purpose = "김비밀가명", "010-9876-5432", "UNIQUEPURPOSE1234"
	x, err := s.Create(ctx, r, 2026, "ABCD", p, nil)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		for _, f := range []string{"requests.db", "requests.db-wal"} {
			b, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				continue
			}
			for _, secret := range []string{"김비밀가명", "010-9876-5432", "01098765432", "UNIQUEPURPOSE1234"} {
				if bytes.Contains(b, []byte(secret)) {
					t.Fatalf("%s: %s holds %q in the clear", when, f, secret)
				}
			}
		}
	}
	check("stored")
	if st, err := os.Stat(filepath.Join(dir, "requests.db")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("requests.db mode %v %v, want 0600", st.Mode(), err)
	}
	// Another keyring cannot read it.
	s.Close()
	other := openSQLite(t, dir, testKeys(t))
	if _, _, err := other.Personal(ctx, x.ID); err == nil {
		t.Fatal("personal data opened under another master key")
	}
	other.Close()
	if _, err := requests.OpenSQLite(ctx, dir, nil); err == nil {
		t.Fatal("opened without a keyring: personal data would be kept in the clear")
	}
}

func TestSQLiteForgetRemovesKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys := testKeys(t)
	s := openSQLite(t, dir, keys)
	defer s.Close()
	r, p := requeststest.Sample()
	x, _ := s.Create(ctx, r, 2026, "ABCD", p, nil)
	x.State, x.ClosedAt = requests.Closed, r.Received
	if err := s.Update(ctx, x); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.Forget(ctx, r.Received.Add(time.Second), r.Received.AddDate(3, 0, 0)); err != nil || len(ids) != 1 {
		t.Fatalf("forget: %v %v", ids, err)
	}
	if _, ok, err := s.Personal(ctx, x.ID); ok || err != nil {
		t.Fatalf("personal after forgetting: %v %v", ok, err)
	}
}
