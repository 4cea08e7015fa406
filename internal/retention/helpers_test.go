package retention

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gwanje/gwanje/internal/store"
)

func strconvItoa(i int64) string { return strconv.FormatInt(i, 10) }

func sha256hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

func reopen(t *testing.T, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Dir: dir, Keys: testKeys, SegmentDuration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// storeCheck closes the store, runs the full store check and reopens it.
func storeCheck(e *env) (string, error) {
	e.st.Close()
	rep, err := store.Check(context.Background(), e.dir, testKeys, true)
	e.st = reopen(e.t, e.dir)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range rep.Violations {
		fmt.Fprintln(&b, "check:", v)
	}
	return b.String(), nil
}
