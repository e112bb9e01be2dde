package ssh

import (
	"bytes"
	"io"
	"sync/atomic"

	"github.com/storify/storify/lineedit"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// editor is the server.Codec of an SSH session with a terminal (a PTY): the
// client's terminal is raw, so the server echoes, edits (lineedit) and turns
// LF into CR LF. The control goroutine only stores a new window size; the
// session's goroutine picks it up at its next read.
type editor struct {
	width atomic.Int32 // set by window-change

	rw   io.ReadWriter
	ed   *lineedit.Editor
	rbuf []byte
	r, w int
	rerr error

	out  []byte
	werr *server.WriteError
}

func newEditor(width, height int) *editor {
	e := &editor{ed: lineedit.New(width)}
	e.width.Store(int32(e.ed.Width()))
	return e
}

func (e *editor) resize(width, height int) {
	if width > 0 {
		e.width.Store(int32(width))
	}
}

// codec is the server.SessionConfig Codec: it puts the editor on rw.
func (e *editor) codec(rw io.ReadWriter, first []byte, maxLine int) server.Codec {
	e.rw = rw
	e.ed.MaxLine = maxLine
	e.rbuf = make([]byte, max(readChunk, len(first)))
	e.w = copy(e.rbuf, first)
	return e
}

// SetCompletion sets what Tab completes with (server.Completer).
func (e *editor) SetCompletion(complete func(before string) []string) { e.ed.Complete = complete }

func (e *editor) ReadLine() (string, error) {
	for {
		if e.werr != nil {
			return "", e.werr
		}
		e.ed.SetWidth(int(e.width.Load()))
		for e.r < e.w {
			b := e.rbuf[e.r]
			e.r++
			ev := e.ed.Feed(b)
			if ev == lineedit.None {
				continue
			}
			e.echo()
			switch ev {
			case lineedit.Line:
				return e.ed.Line(), e.Flush()
			case lineedit.Interrupt:
				return "", shell.ErrInterrupt
			case lineedit.TooLong:
				return "", shell.ErrLineTooLong
			case lineedit.EOF:
				return "", io.EOF
			}
		}
		if e.echo(); len(e.out) > 0 {
			if err := e.Flush(); err != nil {
				return "", err
			}
		}
		if e.rerr != nil {
			err := e.rerr
			if err != io.EOF {
				e.rerr = nil // a deadline: the caller may read on
			}
			return "", err
		}
		n, err := e.rw.Read(e.rbuf)
		e.r, e.w, e.rerr = 0, n, err
	}
}

// echo moves the editor's output to the output buffer.
func (e *editor) echo() {
	if out := e.ed.TakeOutput(); len(out) > 0 {
		e.out = append(e.out, out...)
	}
}

// Write queues reply text, with LF turned into CR LF.
func (e *editor) Write(p []byte) (int, error) {
	if e.werr != nil {
		return 0, e.werr
	}
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			e.out = append(e.out, p...)
			break
		}
		e.out = append(e.out, p[:i]...)
		e.out = append(e.out, '\r', '\n')
		p = p[i+1:]
	}
	if len(e.out) >= maxOutput {
		if err := e.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func (e *editor) WriteString(s string) (int, error) {
	n, err := e.Write([]byte(s))
	if err == nil {
		n = len(s)
	}
	return n, err
}

func (e *editor) Flush() error {
	if e.werr != nil {
		return e.werr
	}
	e.echo()
	if len(e.out) == 0 {
		return nil
	}
	_, err := e.rw.Write(e.out)
	e.out = e.out[:0]
	if cap(e.out) > maxOutput {
		e.out = nil
	}
	if err != nil {
		e.werr = &server.WriteError{Err: err}
		e.out = nil
		return e.werr
	}
	return nil
}

func (e *editor) Buffered() int { return len(e.out) }

func (e *editor) ShowPrompt(prompt string) {
	e.ed.SetWidth(int(e.width.Load()))
	e.ed.Show(prompt)
	e.echo()
}

func (e *editor) PromptShown(prompt string) { e.ed.Shown(prompt) }

func (e *editor) BreakLine() {
	e.ed.BreakLine()
	e.echo()
}

func (e *editor) HideInput(hide bool) { e.ed.SetHidden(hide) }
