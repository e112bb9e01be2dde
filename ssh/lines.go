package ssh

import (
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

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
	rw      io.ReadWriter
	rbuf    []byte
	r, w    int
	rerr    error
	maxLine int

	line     []byte
	overflow bool // the line passed maxLine; discarded at its end
	lastCR   bool // a CR ended the last line: an LF right after it belongs to it
	esc      escState

	out  []byte
	werr *server.WriteError
}

type escState uint8

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [: parameters until a final byte
	escSS3            // after ESC O: one more byte
)

func newLineCodec(rw io.ReadWriter, first []byte, maxLine int) server.Codec {
	c := &lineCodec{rw: rw, rbuf: make([]byte, max(readChunk, len(first))), maxLine: maxLine}
	c.w = copy(c.rbuf, first)
	return c
}

type lineEvent uint8

const (
	lineNone lineEvent = iota
	lineDone
	lineInterrupt
)

func (c *lineCodec) ReadLine() (string, error) {
	for {
		if c.werr != nil {
			return "", c.werr
		}
		for c.r < c.w {
			b := c.rbuf[c.r]
			c.r++
			switch c.step(b) {
			case lineDone:
				return c.finish()
			case lineInterrupt:
				return "", shell.ErrInterrupt
			}
		}
		if c.rerr != nil {
			err := c.rerr
			if err != io.EOF {
				c.rerr = nil // a deadline: the caller may read on
				return "", err
			}
			if len(c.line) > 0 || c.overflow {
				return c.finish()
			}
			return "", io.EOF
		}
		n, err := c.rw.Read(c.rbuf)
		c.r, c.w, c.rerr = 0, n, err
	}
}

// step decodes one input byte.
func (c *lineCodec) step(b byte) lineEvent {
	lastCR := c.lastCR
	c.lastCR = false
	switch c.esc {
	case escStart:
		switch b {
		case '[':
			c.esc = escCSI
		case 'O':
			c.esc = escSS3
		default:
			c.esc = escNone
		}
		return lineNone
	case escCSI:
		if b >= 0x40 && b <= 0x7e {
			c.esc = escNone
		}
		return lineNone
	case escSS3:
		c.esc = escNone
		return lineNone
	}
	switch b {
	case '\n':
		if lastCR {
			return lineNone
		}
		return lineDone
	case '\r':
		c.lastCR = true
		return lineDone
	case 0x03: // Ctrl-C
		c.line, c.overflow = c.line[:0], false
		return lineInterrupt
	case 0x15: // Ctrl-U
		c.line = c.line[:0]
	case 0x7f, 0x08: // Backspace
		if len(c.line) > 0 {
			_, size := utf8.DecodeLastRune(c.line)
			c.line = c.line[:len(c.line)-size]
		}
	case 0x1b:
		c.esc = escStart
	case '\t':
		c.add(' ')
	default:
		if b >= 0x20 {
			c.add(b)
		}
	}
	return lineNone
}

func (c *lineCodec) add(b byte) {
	if c.overflow {
		return
	}
	if len(c.line) >= c.maxLine {
		c.overflow = true
		c.line = c.line[:0]
		return
	}
	c.line = append(c.line, b)
}

// finish returns the line decoded and starts the next one.
func (c *lineCodec) finish() (string, error) {
	if c.overflow {
		c.overflow = false
		c.line = c.line[:0]
		return "", shell.ErrLineTooLong
	}
	line := cleanLine(c.line)
	c.line = c.line[:0]
	return line, nil
}

// cleanCommand decodes an exec request's command as a typed line is decoded,
// line ends taken as spaces: no escape sequence or control character is left.
func cleanCommand(cmd string) string {
	c := &lineCodec{maxLine: len(cmd)}
	for i := 0; i < len(cmd); i++ {
		b := cmd[i]
		if b == '\r' || b == '\n' {
			b = ' '
		}
		c.step(b)
	}
	return cleanLine(c.line)
}

// cleanLine makes typed bytes a line fit to show anyone: valid UTF-8 with no C1
// control characters (U+0080 to U+009F, which some terminals take as escapes).
func cleanLine(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	s := strings.ToValidUTF8(string(b), "")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
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
	if !c.overflow {
		c.WriteString(cleanLine(c.line))
	}
}

func (c *lineCodec) BreakLine() { c.WriteString("\n") }

func (c *lineCodec) PromptShown(string) {}

// HideInput does nothing: without a terminal on the server's side, echo is the
// client's.
func (c *lineCodec) HideInput(bool) {}
