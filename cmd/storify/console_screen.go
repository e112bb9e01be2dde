package main

import (
	"os"

	"golang.org/x/term"
)

// ScreenRows is the height of the console's terminal, so that the manager's long
// lists are paged to fit it (shell.Screen); 0 when it cannot be read.
func (t *readlineTerm) ScreenRows() int {
	_, h, err := term.GetSize(int(os.Stdout.Fd()))
	if err != nil {
		return 0
	}
	return h
}
