package ssh

import (
	"bytes"
	"io"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/storify/storify/lineedit"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// editor is the server.Codec of an SSH session with a terminal (a PTY): the
// client's terminal is raw, so the server echoes, edits (lineedit) and turns
// LF into CR LF. The control goroutine only stores a new window size; the
// session's goroutine picks it up at its next read.
type editor struct {
	width  atomic.Int32 // set by window-change
	height atomic.Int32 // likewise; 0 until the client says

	rw   io.ReadWriter
	ed   *lineedit.Editor
	rbuf []byte
	r, w int
	rerr error

	out  []byte
	werr *server.WriteError
	// Where reply text is on the screen, for wrapping (see Write).
	col       int  // the column the next character goes to
	indent    int  // the leading spaces of the line being written
	inIndent  bool // still in them
	lastSpace int  // the index in out of the row's last space after the indent; -1 if none
}

func newEditor(width, height int) *editor {
	e := &editor{ed: lineedit.New(width), inIndent: true, lastSpace: -1}
	e.width.Store(int32(e.ed.Width()))
	e.height.Store(int32(max(height, 0)))
	return e
}

func (e *editor) resize(width, height int) {
	if width > 0 {
		e.width.Store(int32(width))
	}
	if height > 0 {
		e.height.Store(int32(height))
	}
}

// WindowSize is the terminal's size as the client last reported it (pty-req,
// window-change), so that long lists are paged to fit it.
func (e *editor) WindowSize() (width, height int) {
	return int(e.width.Load()), int(e.height.Load())
}

// codec is the server.SessionConfig Codec: it puts the editor on rw.
func (e *editor) codec(rw io.ReadWriter, first []byte, maxLine int) server.Codec {
	e.rw = rw
	e.ed.MaxLine = maxLine
	e.rbuf = make([]byte, max(readChunk, len(first)))
	e.w = copy(e.rbuf, first)
	return e
}

// SetCompletion sets what Tab completes with (server.Completer). The editor
// wants whole texts: each candidate put in place of the text it replaces, and a
// space after a single one, so that the next word can be typed at once.
func (e *editor) SetCompletion(complete func(before string) (string, []string)) {
	e.ed.Complete = func(before string) []string {
		text, cands := complete(before)
		if !strings.HasSuffix(before, text) {
			return nil
		}
		head := before[:len(before)-len(text)]
		out := make([]string, len(cands))
		for i, c := range cands {
			out[i] = head + c
		}
		if len(out) == 1 && !strings.HasSuffix(out[0], " ") {
			out[0] += " "
		}
		return out
	}
}

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
			e.atLineStart() // the editor ended its line
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

// Write queues reply text, with LF turned into CR LF, and lines longer than the
// window wrapped at a space, the continuation indented as the line is: a
// description or a help line stays readable in a narrow window, and follows
// window-change.
func (e *editor) Write(p []byte) (int, error) {
	if e.werr != nil {
		return 0, e.werr
	}
	n := len(p)
	width := int(e.width.Load())
	for len(p) > 0 {
		r, size := utf8.DecodeRune(p)
		p = p[size:]
		if r == '\n' {
			e.out = append(e.out, '\r', '\n')
			e.atLineStart()
			continue
		}
		w := lineedit.RuneWidth(r)
		if e.inIndent && r == ' ' {
			e.indent++
		} else {
			e.inIndent = false
		}
		if e.col+w > width && e.col > 0 {
			e.wrap(width)
		}
		if r == ' ' && !e.inIndent {
			e.lastSpace = len(e.out)
		}
		e.out = utf8.AppendRune(e.out, r)
		e.col += w
	}
	if len(e.out) >= maxOutput {
		if err := e.Flush(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// wrap ends the row being written: at its last space if it has one (the rest of
// the row moves to the next, indented), else where it is.
func (e *editor) wrap(width int) {
	indent := min(e.indent, width/2)
	if e.lastSpace < 0 {
		e.out = append(e.out, '\r', '\n')
		e.out = append(e.out, spaces[:indent]...)
		e.col = indent
		return
	}
	tail := append([]byte(nil), e.out[e.lastSpace+1:]...)
	e.out = append(e.out[:e.lastSpace], '\r', '\n')
	e.out = append(e.out, spaces[:indent]...)
	e.out = append(e.out, tail...)
	e.col = indent + lineedit.StringWidth(string(tail))
	e.lastSpace = -1
}

var spaces = bytes.Repeat([]byte{' '}, 512)

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
	e.lastSpace = -1 // in what was sent
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
	e.atLineStart()
}

// atLineStart notes that the cursor is at the start of a line: the editor put it
// there.
func (e *editor) atLineStart() { e.col, e.indent, e.inIndent, e.lastSpace = 0, 0, true, -1 }

func (e *editor) HideInput(hide bool) { e.ed.SetHidden(hide) }
