package stills_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/gwanje/gwanje/internal/clock"
	"github.com/gwanje/gwanje/internal/seal"
	"github.com/gwanje/gwanje/internal/stills"
	"github.com/gwanje/gwanje/internal/stills/stillstest"
)

func TestSQLiteConformance(t *testing.T) {
	stillstest.Run(t, func(t *testing.T) stills.Store {
		keys, err := seal.NewKeyring(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		s, err := stills.Open(context.Background(), stills.Config{Dir: t.TempDir(), Keys: keys, Clock: clock.NewFake(stillstest.T0)})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
