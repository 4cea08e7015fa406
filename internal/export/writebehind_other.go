//go:build !linux || arm

package export

import "errors"

func startWriteback(fd uintptr, off, n int64) {}

func setDirect(fd uintptr, on bool) error {
	if on {
		return errors.ErrUnsupported
	}
	return nil
}

func directRefused(err error) bool { return false }
