package server

import (
	"errors"
	"io"
	"os"

	"github.com/storify/storify/shell"
	"github.com/storify/storify/telnet"
)

// Codec is a session's line discipline on its connection: telnet for telnet
// customers, plain lines or a line editor for SSH. Only the session's goroutine
// calls it. Output is buffered up to a cap and sent by Flush (or by a Write that
// passes the cap); every write to the connection goes through the session's
// write deadline.
type Codec interface {
	// ReadLine reads the next line, without its line end and without control
	// characters. It returns shell.ErrInterrupt for Ctrl-C, shell.ErrLineTooLong
	// for a line over the cap (both leave the codec usable), a *WriteError once a
	// write has failed, and read errors unchanged: after a read deadline a later
	// ReadLine goes on with the same line.
	ReadLine() (string, error)
	Write(p []byte) (int, error)
	WriteString(s string) (int, error)
	// Flush sends the buffered output; a failure is a *WriteError, and final.
	Flush() error
	// Buffered is the number of bytes waiting for Flush.
	Buffered() int
	// ShowPrompt queues prompt, followed by what has been typed of the next
	// line so far (unless input is hidden), as a line editor redraws its line.
	ShowPrompt(prompt string)
	// PromptShown tells the codec that prompt was shown before it existed (with
	// the greeting), and the cursor is after it.
	PromptShown(prompt string)
	// BreakLine queues what moves the cursor off a prompt being typed at, to the
	// start of a new line, so that a notice can be shown.
	BreakLine()
	// HideInput turns the echo of typed input off (a password) or back on.
	HideInput(hide bool)
	// WindowSize is the client's window in columns and lines as it last reported
	// it; 0 where it has not, and a height of -1 where there is no screen at all
	// (an SSH session without a terminal), so that lists are not paged.
	WindowSize() (width, height int)
}

// Completer is a Codec that completes what is typed (a line editor's Tab). A
// handler gives it the completion of its command set.
type Completer interface {
	// SetCompletion sets the function that completes the text before the
	// cursor: it returns the end of that text which the candidates replace,
	// and the candidates (as shell.Shell.Complete does).
	SetCompletion(complete func(before string) (text string, candidates []string))
}

// A WriteError is a codec's failure to send to its client, a write deadline
// passing included. It is final: the codec sends nothing more.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "write: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *WriteError) Unwrap() error { return e.Err }

// telnetCodec is the Codec of telnet customers (and nc, socat).
type telnetCodec struct {
	*telnet.Conn
	hidden bool
}

// NewTelnetCodec returns the telnet Codec on rw, fed first with first.
func NewTelnetCodec(rw io.ReadWriter, first []byte, maxLine int) Codec {
	return &telnetCodec{Conn: telnet.NewConn(rw, telnet.Options{MaxLine: maxLine, Read: first})}
}

func (c *telnetCodec) ReadLine() (string, error) {
	line, err := c.Conn.ReadLine()
	if c.hidden && !errors.Is(err, os.ErrDeadlineExceeded) {
		c.WriteString("\n") // the client did not echo the Enter either
	}
	if err != nil {
		err = codecError(err)
	}
	return line, err
}

func (c *telnetCodec) Flush() error {
	if err := c.Conn.Flush(); err != nil {
		return codecError(err)
	}
	return nil
}

// codecError turns the telnet codec's errors into the server's and the shell's.
// It is called only when there is an error: the target of errors.As escapes to the
// heap, which would cost every reply an allocation.
func codecError(err error) error {
	var we *telnet.WriteError
	switch {
	case errors.As(err, &we):
		return &WriteError{we.Err}
	case errors.Is(err, telnet.ErrInterrupt):
		return shell.ErrInterrupt
	case errors.Is(err, telnet.ErrLineTooLong):
		return shell.ErrLineTooLong
	}
	return err
}

func (c *telnetCodec) ShowPrompt(prompt string) {
	c.WriteString(prompt)
	if !c.hidden {
		c.WriteString(c.Partial())
	}
}

func (c *telnetCodec) BreakLine() { c.WriteString("\n") }

func (c *telnetCodec) PromptShown(string) {}

// HideInput asks the client to stop echoing (IAC WILL ECHO), or to echo again.
func (c *telnetCodec) HideInput(hide bool) {
	c.hidden = hide
	c.SetEcho(hide)
}
