package main

import (
	"context"
	"os"
	"testing"
)

// TestMain lets a test run the gwanje binary as a child process: the test
// binary re-executes itself with GWANJE_TEST_MAIN=1 and the command line,
// so a crash test can kill -9 a real recorder process.
func TestMain(m *testing.M) {
	if os.Getenv("GWANJE_TEST_MAIN") == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
