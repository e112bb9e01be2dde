// Package telnet turns a byte stream, normally a customer's TCP connection, into a
// line-oriented telnet session: it decodes what real clients send (inetutils telnet,
// PuTTY, nc, socat) into clean lines of text, answers option negotiation without ever
// looping, and encodes replies with telnet line ends.
//
// The server never starts a negotiation on its own, so a raw client such as nc sees no
// stray bytes; the only bytes it may see are those the caller asks for with SetEcho.
package telnet

import (
	"errors"
	"io"
	"sync"

	"github.com/storify/storify/internal/lineinput"
)

// ErrLineTooLong is returned by ReadLine, at the end of a line that exceeded
// Options.MaxLine. The line was discarded; the next ReadLine reads the next line.
var ErrLineTooLong = errors.New("telnet: line too long")

// ErrInterrupt is returned by ReadLine when the customer pressed Ctrl-C (IAC IP or a
// raw 0x03) or sent IAC AO. The partial line was discarded; the caller cancels
// the prompt in progress.
var ErrInterrupt = errors.New("telnet: interrupted")

// DefaultMaxLine is the line length cap used when Options.MaxLine is zero or negative.
const DefaultMaxLine = 1024

// DefaultMaxOutput is the output kept waiting for Flush when Options.MaxOutput is
// zero or negative: past it, Write sends what is queued.
const DefaultMaxOutput = 64 << 10

// A WriteError is a failure to send to the client, a write deadline passing
// included. It is final: the output queued is freed, later writes are discarded,
// and Flush and ReadLine return it, so that a client who stops reading can never
// make its replies (or negotiation answers) pile up in memory. It is a distinct
// type so that a caller never takes a write deadline for its own read deadline.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "telnet: write: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *WriteError) Unwrap() error { return e.Err }

// readBufferSize is small because 10,000 connections are held at once and a line
// typed by a person rarely fills even this.
const readBufferSize = 512

// maxKeptOutput is the largest output buffer given back for reuse after Flush; a
// bigger one (a huge catalog reply) is dropped so that it does not pin memory.
const maxKeptOutput = 64 << 10

// outPool holds output buffers between replies. A session holds one only from its
// first Write to the Flush that sends it, so idle sessions hold none, and with a
// thousand customers the buffer a reply is encoded into is one that the last
// reply on the same CPU used, still in its cache, rather than one per session.
var outPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Options configures a Conn. The zero value is ready to use.
type Options struct {
	// MaxLine caps one line in bytes (after decoding); longer lines are dropped
	// and reported as ErrLineTooLong. Zero means DefaultMaxLine.
	MaxLine int
	// Read holds bytes the caller has already read from the stream: they are
	// decoded before anything more is read.
	Read []byte
	// MaxOutput caps the bytes queued for the client: a Write that takes the
	// queue past it sends the queue at once. Zero means DefaultMaxOutput.
	MaxOutput int
}

// Conn wraps a byte stream (normally a net.Conn) as a line-oriented telnet session.
//
// Not safe for concurrent use: one goroutine reads and writes; the caller serializes.
// To interrupt a blocked ReadLine (e.g. to deliver a broadcast), set a read deadline
// on the underlying connection: the deadline error is returned and a later ReadLine
// continues where the decoder left off.
type Conn struct {
	rw io.ReadWriter

	rbuf []byte // read buffer; rbuf[r:w] is not yet decoded
	r, w int
	rerr error // error from the last Read, returned once buffered bytes are decoded

	dec   decoder
	intr  int  // interrupts decoded after a line was complete, returned by later calls
	reply bool // negotiation replies are queued in out and must be flushed

	out    []byte      // encoded output waiting for Flush
	maxOut int         // Options.MaxOutput
	werr   *WriteError // the first failed write; then nothing more is sent
	outP   *[]byte     // the pool's holder of out, when out came from outPool
	outCR  bool        // the last byte given to Write was '\r', so a following '\n' needs no CR

	naws          qopt // the client's side of NAWS: qYes once we sent DO
	width, height int  // the window size the client last sent (NAWS); 0 before

	echo      qopt // our side of ECHO, per RFC 1143
	sga       qopt // our side of SUPPRESS-GO-AHEAD
	hideEcho  bool // the caller asked for ECHO (hidden input) via SetEcho
	readCalls int  // consecutive empty reads, to fail instead of spinning
}

// NewConn returns a telnet session over rw. It sends nothing: the first bytes on the
// wire are negotiation replies, SetEcho requests or what the caller writes.
func NewConn(rw io.ReadWriter, opts Options) *Conn {
	limit := opts.MaxLine
	if limit <= 0 {
		limit = DefaultMaxLine
	}
	maxOut := opts.MaxOutput
	if maxOut <= 0 {
		maxOut = DefaultMaxOutput
	}
	c := &Conn{rw: rw, rbuf: make([]byte, max(readBufferSize, len(opts.Read))), dec: decoder{Decoder: lineinput.New(limit)}, maxOut: maxOut}
	c.w = copy(c.rbuf, opts.Read)
	return c
}

// ReadLine returns the next line typed by the customer, without its line end. The line
// is valid UTF-8 and holds no control characters (a TAB becomes a space); telnet
// commands, escape sequences (arrow keys) and invalid bytes never reach it.
//
// It returns ErrInterrupt for Ctrl-C and ErrLineTooLong for a line over the cap; both
// leave the session usable. A partial line at end of input is returned as a line and
// io.EOF follows. Read errors such as os.ErrDeadlineExceeded are returned unchanged and
// the decoder keeps its state, so a later ReadLine continues the same line. Once a
// write has failed, ReadLine returns that *WriteError.
func (c *Conn) ReadLine() (string, error) {
	const maxEmptyReads = 100
	for {
		if c.werr != nil {
			return "", c.werr
		}
		if c.intr > 0 {
			c.intr--
			return "", ErrInterrupt
		}
		if ev := c.decodeBuffered(); ev != evNone {
			line, err := c.result(ev)
			// Commands that came right behind the line (IAC DO TIMING-MARK after
			// IAC IP, say) are answered now: the client waits for the answer and
			// discards our output until it arrives.
			c.drainCommands()
			c.flushReplies()
			return line, err
		}
		if c.reply {
			c.reply = false
			if err := c.Flush(); err != nil {
				return "", err
			}
		}
		if c.rerr != nil {
			return c.readError()
		}
		n, err := c.rw.Read(c.rbuf)
		c.r, c.w = 0, n
		c.rerr = err
		if n == 0 && err == nil {
			c.readCalls++
			if c.readCalls >= maxEmptyReads {
				return "", io.ErrNoProgress
			}
			continue
		}
		c.readCalls = 0
	}
}

// Partial returns what the customer has typed of the next line so far: empty
// unless the client sends characters as they are typed. A caller that interrupts
// a ReadLine to show something shows it again after its prompt, as a line editor
// would.
func (c *Conn) Partial() string {
	return c.dec.Partial()
}

// decodeBuffered decodes buffered input until a line, an interrupt or the end of the buffer.
func (c *Conn) decodeBuffered() event {
	for c.r < c.w {
		b := c.rbuf[c.r]
		c.r++
		if ev := c.step(b); ev != evNone {
			return ev
		}
	}
	return evNone
}

// drainCommands decodes the telnet commands that directly follow in the buffer, and the
// LF or NUL completing a CR, stopping at the first other data byte. Interrupts among
// them are counted for later calls.
func (c *Conn) drainCommands() {
	for c.r < c.w {
		b := c.rbuf[c.r]
		if c.dec.ts == tsData && b != iac && !c.dec.EndsLine(b) {
			return
		}
		c.r++
		if c.step(b) == evInterrupt {
			c.intr++
		}
	}
}

// result turns a decoder event into ReadLine's return values and starts the next line.
func (c *Conn) result(ev event) (string, error) {
	switch ev {
	case evInterrupt:
		return "", ErrInterrupt
	case evTooLong:
		return "", ErrLineTooLong
	}
	return c.dec.Take(), nil
}

// readError reports the stored Read error once everything before it was decoded.
func (c *Conn) readError() (string, error) {
	err := c.rerr
	if err != io.EOF {
		// Not sticky: after a deadline the caller may extend it and read on.
		c.rerr = nil
		return "", err
	}
	ev := c.dec.endOfInput()
	if ev == evNone {
		return "", io.EOF
	}
	return c.result(ev)
}

// flushReplies sends queued negotiation replies. A write error is not returned with a
// line already decoded: the bytes stay buffered and the caller's next Flush reports it.
func (c *Conn) flushReplies() {
	if c.reply {
		c.reply = false
		_ = c.Flush()
	}
}
