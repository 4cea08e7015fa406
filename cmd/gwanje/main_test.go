package main

import (
	"os"
	"testing"
)

// TestMain lets a test run the gwanje binary as a child process: the test
// binary re-executes itself with GWANJE_TEST_MAIN=1 and the command line
// and runs main's own entry (runMain), so a test can start a real `gwanje
// serve`, stop it with SIGTERM, or kill -9 a real recorder.
func TestMain(m *testing.M) {
	if os.Getenv("GWANJE_TEST_MAIN") == "1" {
		os.Exit(runMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}
