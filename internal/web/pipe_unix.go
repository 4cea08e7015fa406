package web

import "os"

// pipe is os.Pipe (a file pair ffmpeg can inherit as descriptor 3).
func pipe() (r, w *os.File, err error) { return os.Pipe() }
