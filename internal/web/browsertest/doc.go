// Package browsertest drives gwanje's pages in a real browser: Debian's
// Chromium, headless, through chromedp, against a running gwanje (the
// composition of internal/app) recording simulated cameras (internal/camsim),
// with yesterday's footage written into its store beforehand. Its tests
// write a screenshot of every page they visit to $GWANJE_ARTIFACTS (or a
// directory under os.TempDir) for a person to look at.
//
// Without /usr/bin/chromium the tests skip, unless CI=true (scripts/test
// sets it), where they fail: scripts/test-deps installs it.
package browsertest
