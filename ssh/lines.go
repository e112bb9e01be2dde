package ssh

import (
	"io"

	"github.com/storify/storify/internal/lineinput"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// maxOutput is the output a codec keeps waiting for Flush: past it, a Write sends
// what is queued, so a long reply never piles up in memory.
const maxOutput = 64 << 10

// lineCodec is the server.Codec of an SSH session without a terminal (ssh -T, a
// script, exec): lines end with LF (or CR LF, or CR), replies go out as they are,
// with LF line ends. The client's own terminal, if any, echoes and edits. Escape
// sequences and other control characters never reach a line: Ctrl-C (0x03)
// interrupts, Ctrl-U and Backspace edit, the rest is dropped.
type lineCodec struct {
	rw   io.ReadWriter
	rbuf []byte
	r, w int
	rerr error
	dec  lineinput.Decoder

	out  []byte
	werr *server.WriteError
}

func newLineCodec(rw io.ReadWriter, first []byte, maxLine int) server.Codec {
	c := &lineCodec{rw: rw, rbuf: make([]byte, max(readChunk, len(first))), dec: lineinput.New(maxLine)}
	c.w = copy(c.rbuf, first)
	return c
}

func (c *lineCodec) ReadLine() (string, error) {
	for {
		if c.werr != nil {
			return "", c.werr
		}
		for c.r < c.w {
			b := c.rbuf[c.r]
			c.r++
			if ev := c.dec.Byte(b); ev != lineinput.None {
				return result(&c.dec, ev)
			}
		}
		if c.rerr != nil {
			err := c.rerr
			if err != io.EOF {
				c.rerr = nil // a deadline: the caller may read on
				return "", err
			}
			if ev := c.dec.EndOfInput(); ev != lineinput.None {
				return result(&c.dec, ev)
			}
			return "", io.EOF
		}
		n, err := c.rw.Read(c.rbuf)
		c.r, c.w, c.rerr = 0, n, err
	}
}

// result is ReadLine's answer for a decoder's event.
func result(d *lineinput.Decoder, ev lineinput.Event) (string, error) {
	switch ev {
	case lineinput.Interrupt:
		return "", shell.ErrInterrupt
	case lineinput.TooLong:
		return "", shell.ErrLineTooLong
	}
	return d.Take(), nil
}

// cleanCommand decodes an exec request's command as a typed line is decoded,
// line ends taken as spaces: no escape sequence or control character is left.
func cleanCommand(cmd string) string {
	d := lineinput.New(len(cmd))
	for i := 0; i < len(cmd); i++ {
		b := cmd[i]
		if b == '\r' || b == '\n' {
			b = ' '
		}
		d.Byte(b)
	}
	return d.Partial()
}

func (c *lineCodec) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	c.out = append(c.out, p...)
	if len(c.out) >= maxOutput {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

func (c *lineCodec) WriteString(s string) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	c.out = append(c.out, s...)
	if len(c.out) >= maxOutput {
		if err := c.Flush(); err != nil {
			return 0, err
		}
	}
	return len(s), nil
}

func (c *lineCodec) Flush() error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.rw.Write(c.out)
	c.out = c.out[:0]
	if cap(c.out) > maxOutput {
		c.out = nil // a huge reply: do not keep its buffer
	}
	if err != nil {
		c.werr = &server.WriteError{Err: err}
		c.out = nil
		return c.werr
	}
	return nil
}

func (c *lineCodec) Buffered() int { return len(c.out) }

// WindowSize is 0, -1: without a terminal there is no screen, and long lists come
// whole, as to any script.
func (c *lineCodec) WindowSize() (width, height int) { return 0, -1 }

func (c *lineCodec) ShowPrompt(prompt string) {
	c.WriteString(prompt)
	c.WriteString(c.dec.Partial())
}

func (c *lineCodec) BreakLine() { c.WriteString("\n") }

func (c *lineCodec) PromptShown(string) {}

// HideInput does nothing: without a terminal on the server's side, echo is the
// client's.
func (c *lineCodec) HideInput(bool) {}
