package server

import "syscall"

// errTooManyFiles is accept's error when the process is out of file descriptors; the
// server waits and retries rather than stopping.
var errTooManyFiles = syscall.EMFILE
