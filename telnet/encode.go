package telnet

import (
	"bytes"
	"io"
	"unsafe"
)

// Write queues p for the client: "\n" becomes "\r\n" (an existing "\r\n" is kept),
// a bare "\r" stays, and 0xFF is doubled so it is not read as a command. Nothing is
// sent until Flush, so a whole reply goes out in one segment, unless the queue
// passes Options.MaxOutput: then it is sent at once. After a failed write, Write
// discards p and returns the *WriteError.
func (c *Conn) Write(p []byte) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	c.grabOut()
	c.out = encode(c.out, p, c.outCR)
	if len(p) > 0 {
		c.outCR = p[len(p)-1] == '\r'
	}
	return len(p), c.flushFull()
}

// WriteString is Write for a string, without copying it: encode only reads it.
func (c *Conn) WriteString(s string) (int, error) {
	if c.werr != nil {
		return 0, c.werr
	}
	c.grabOut()
	c.out = encode(c.out, unsafe.Slice(unsafe.StringData(s), len(s)), c.outCR)
	if len(s) > 0 {
		c.outCR = s[len(s)-1] == '\r'
	}
	return len(s), c.flushFull()
}

// flushFull sends the queue when it has grown past the cap.
func (c *Conn) flushFull() error {
	if len(c.out) < c.maxOut {
		return nil
	}
	return c.Flush()
}

// encode appends p to out in telnet form; prevCR tells whether the byte before p was CR.
// Replies are mostly plain text with a line end every few dozen bytes, so it copies
// whole runs between line ends, found with IndexByte, and looks for IAC only once.
func encode(out, p []byte, prevCR bool) []byte {
	if bytes.IndexByte(p, iac) >= 0 {
		return encodeIAC(out, p, prevCR)
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			return append(out, p...)
		}
		out = append(out, p[:i]...)
		if i > 0 && p[i-1] != '\r' || i == 0 && !prevCR {
			out = append(out, '\r')
		}
		out = append(out, '\n')
		p, prevCR = p[i+1:], false
	}
}

// encodeIAC is encode for text that holds IAC bytes, one byte at a time.
func encodeIAC(out, p []byte, prevCR bool) []byte {
	start := 0
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '\n':
			out = append(out, p[start:i]...)
			if i > 0 && p[i-1] != '\r' || i == 0 && !prevCR {
				out = append(out, '\r')
			}
			start = i // the LF goes out with the next run
		case iac:
			out = append(out, p[start:i+1]...)
			start = i // the IAC goes out again with the next run
		}
	}
	return append(out, p[start:]...)
}

// Flush sends everything queued. An error is a *WriteError, and final: the unsent
// bytes are dropped, and so is everything written later.
func (c *Conn) Flush() error {
	if c.werr != nil {
		return c.werr
	}
	if len(c.out) == 0 {
		return nil
	}
	n, err := c.rw.Write(c.out)
	if err == nil && n < len(c.out) {
		err = io.ErrShortWrite
	}
	if err != nil {
		c.werr = &WriteError{Err: err}
	}
	if c.outP != nil && cap(c.out) <= maxKeptOutput {
		*c.outP = c.out[:0]
		outPool.Put(c.outP)
	}
	c.out, c.outP = nil, nil
	if c.werr != nil {
		return c.werr
	}
	return nil
}

// grabOut takes an output buffer from the pool when none is in use.
func (c *Conn) grabOut() {
	if c.outP == nil {
		c.outP = outPool.Get().(*[]byte)
		c.out = append((*c.outP)[:0], c.out...) // negotiation replies queued meanwhile
	}
}

// Buffered returns the number of bytes waiting to be flushed.
func (c *Conn) Buffered() int {
	return len(c.out)
}
