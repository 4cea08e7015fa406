//go:build !unix

package store

// mapFile maps nothing here: chunks are read with ReadAt.
func mapFile(f ReadFile) ([]byte, func() error) { return nil, nil }
