// Package shell is storify's command engine: it reads command lines from a Term and
// writes replies to it, knowing nothing of sockets or terminals. The customer and
// manager command sets are tables of Command rows; help is generated from them.
package shell

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// Term is a session's terminal. Writes are buffered by the Term; ReadLine writes the
// prompt, flushes everything written so far in one go, then reads one line.
type Term interface {
	io.Writer
	// ReadLine shows prompt and returns the next line without its line end. It returns
	// ErrInterrupt when the user pressed Ctrl-C, ErrLineTooLong for an over-long line,
	// and io.EOF at the end of input.
	ReadLine(prompt string) (string, error)
}

// Errors a Term returns from ReadLine for what the user did rather than what failed.
var (
	ErrInterrupt   = errors.New("interrupted")
	ErrLineTooLong = errors.New("line too long")
)

// LineTerm is a Term on a plain reader and writer: a pipe, a script, a test. Lines
// end with LF or CR LF.
type LineTerm struct {
	r       *bufio.Reader
	w       *bufio.Writer
	maxLine int
}

// NewLineTerm returns a Term reading lines of at most maxLine bytes from r and
// writing to w.
func NewLineTerm(r io.Reader, w io.Writer, maxLine int) *LineTerm {
	return &LineTerm{r: bufio.NewReader(r), w: bufio.NewWriter(w), maxLine: maxLine}
}

func (t *LineTerm) Write(p []byte) (int, error) { return t.w.Write(p) }

// Flush writes out what is buffered.
func (t *LineTerm) Flush() error { return t.w.Flush() }

// ReadLine writes prompt, flushes, and reads one line. A longer line than maxLine is
// skipped up to its end and reported as ErrLineTooLong.
func (t *LineTerm) ReadLine(prompt string) (string, error) {
	t.w.WriteString(prompt)
	if err := t.w.Flush(); err != nil {
		return "", err
	}
	var line []byte
	tooLong := false
	for {
		frag, err := t.r.ReadSlice('\n')
		if !tooLong {
			line = append(line, frag...)
			if len(line) > t.maxLine+2 {
				tooLong, line = true, nil
			}
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil && (len(line) == 0 || err != io.EOF) {
			return "", err
		}
		break
	}
	if tooLong {
		return "", ErrLineTooLong
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}
