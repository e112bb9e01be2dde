// Package lineinput turns the bytes a client types into lines, for every transport
// whose client sends raw keystrokes or whole lines: telnet (after its commands are
// taken out) and SSH without a terminal. A line it returns is valid UTF-8 and holds
// no control character: line ends (CR LF, CR NUL, LF, CR) end it, Backspace and
// Ctrl-U edit it, Ctrl-C interrupts it, a TAB becomes a space, escape sequences
// (arrow keys) and invalid or C1 bytes are dropped, and a line over the cap is
// dropped whole, so that a flood without a line end never grows memory.
package lineinput

import "unicode/utf8"

// Event is what decoding one byte may produce.
type Event uint8

const (
	None      Event = iota
	Line            // the line is complete: Take returns it
	Interrupt       // Ctrl-C: what was typed of the line is gone
	TooLong         // a line over the cap ended; it was dropped
)

// Control bytes with a meaning in a line.
const (
	ctrlC   = 0x03 // interrupt, as sent by a raw client (nc, socat)
	ctrlU   = 0x15 // kill line, as in a terminal's canonical mode
	escByte = 0x1b
	del     = 0x7f
)

// escState is the position inside an ANSI escape sequence sent by a terminal key.
type escState uint8

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [: parameters until a final byte
	escSS3            // after ESC O: one more byte
)

// Decoder holds what must survive between reads: the escape sequence in
// progress, the partial UTF-8 rune and the line. Its zero value takes no line;
// make one with New.
type Decoder struct {
	max      int
	esc      escState
	lastCR   bool // a CR ended the last line; an LF or NUL right after it is part of that end
	overflow bool // the line passed max: drop bytes until its end

	pend  [utf8.UTFMax]byte // bytes of an incomplete multi-byte rune
	npend int
	need  int // length of the rune in pend, from its first byte

	line []byte
}

// New returns a decoder of lines of at most max bytes.
func New(max int) Decoder { return Decoder{max: max} }

// Byte decodes one typed byte.
func (d *Decoder) Byte(b byte) Event {
	if d.lastCR {
		d.lastCR = false
		if b == '\n' || b == 0 {
			return None
		}
	}
	if d.esc != escNone && d.inEscape(b) {
		return None
	}
	if b >= 0x80 {
		d.utf8Byte(b)
		return None
	}
	d.npend = 0 // an ASCII byte cuts any multi-byte rune short; its bytes are invalid
	if b >= ' ' && b < del {
		d.appendByte(b)
		return None
	}
	switch b {
	case '\r':
		d.lastCR = true
		return d.endLine()
	case '\n':
		return d.endLine()
	case ctrlC:
		d.Interrupt()
		return Interrupt
	case '\b', del:
		d.EraseRune()
	case ctrlU:
		d.EraseLine()
	case '\t':
		d.appendByte(' ')
	case escByte:
		d.esc = escStart
	}
	// Other control bytes (NUL, bell, Ctrl-D...) are dropped.
	return None
}

// EndsLine reports whether b would only complete the line end already decoded
// (the LF or NUL after a CR).
func (d *Decoder) EndsLine(b byte) bool { return d.lastCR && (b == '\n' || b == 0) }

// Take returns the line completed (after Line) and starts the next.
func (d *Decoder) Take() string {
	var line string
	if len(d.line) > 0 {
		line = string(d.line)
	}
	d.line = d.line[:0]
	return line
}

// Partial returns what has been typed of the line so far; "" once it is over the cap.
func (d *Decoder) Partial() string {
	if d.overflow {
		return ""
	}
	return string(d.line)
}

// inEscape reports whether b belongs to the escape sequence in progress and was consumed.
// A control or non-ASCII byte aborts the sequence and is decoded normally, so ESC
// followed by Enter still ends the line.
func (d *Decoder) inEscape(b byte) bool {
	switch d.esc {
	case escStart:
		switch {
		case b == '[':
			d.esc = escCSI
			return true
		case b == 'O':
			d.esc = escSS3
			return true
		case b == escByte:
			return true
		case b >= ' ' && b < del:
			d.esc = escNone // a two-byte sequence such as Alt+key
			return true
		}
	case escCSI:
		switch {
		case b >= 0x20 && b <= 0x3f: // parameter and intermediate bytes
			return true
		case b >= 0x40 && b <= 0x7e: // final byte
			d.esc = escNone
			return true
		}
	case escSS3:
		if b >= ' ' && b < del {
			d.esc = escNone
			return true
		}
	}
	d.esc = escNone
	return false
}

// utf8Byte collects a multi-byte rune; invalid bytes and C1 controls are dropped.
func (d *Decoder) utf8Byte(b byte) {
	if d.npend > 0 {
		if b&0xc0 == 0x80 {
			d.pend[d.npend] = b
			d.npend++
			if d.npend == d.need {
				d.npend = 0
				p := d.pend[:d.need]
				r, size := utf8.DecodeRune(p)
				// size < need: overlong, surrogate or out of range.
				if size == d.need && (r < 0x80 || r > 0x9f) {
					d.appendBytes(p)
				}
			}
			return
		}
		d.npend = 0 // the rune was cut short; b may start a new one
	}
	switch {
	case b >= 0xc2 && b <= 0xdf:
		d.need = 2
	case b >= 0xe0 && b <= 0xef:
		d.need = 3
	case b >= 0xf0 && b <= 0xf4:
		d.need = 4
	default:
		return // a stray continuation byte or one that never occurs in UTF-8
	}
	d.pend[0] = b
	d.npend = 1
}

// appendBytes adds one rune's bytes to the line, or starts dropping it once it passes
// the cap.
func (d *Decoder) appendBytes(p []byte) {
	if d.overflow {
		return
	}
	if len(d.line)+len(p) > d.max {
		d.overflow = true
		d.line = d.line[:0]
		return
	}
	d.line = append(d.line, p...)
}

// appendByte is appendBytes for one ASCII byte, the common case.
func (d *Decoder) appendByte(b byte) {
	if d.overflow {
		return
	}
	if len(d.line) >= d.max {
		d.overflow = true
		d.line = d.line[:0]
		return
	}
	d.line = append(d.line, b)
}

// EraseRune removes the last rune of the line (Backspace, telnet's IAC EC), and
// any rune partly typed.
func (d *Decoder) EraseRune() {
	d.npend = 0
	if d.overflow || len(d.line) == 0 {
		return
	}
	_, size := utf8.DecodeLastRune(d.line)
	d.line = d.line[:len(d.line)-size]
}

// EraseLine empties the line (Ctrl-U, telnet's IAC EL). An overlong line is erased
// too, so it is no longer reported as too long.
func (d *Decoder) EraseLine() {
	d.line = d.line[:0]
	d.npend = 0
	d.overflow = false
}

// Interrupt forgets everything typed since the last line end (Ctrl-C, telnet's IAC IP).
func (d *Decoder) Interrupt() {
	d.EraseLine()
	d.esc = escNone
}

// endLine finishes the line at a line end.
func (d *Decoder) endLine() Event {
	d.npend = 0
	if d.overflow {
		d.overflow = false
		return TooLong
	}
	return Line
}

// EndOfInput finishes a partial line at the end of input; None if nothing is pending.
func (d *Decoder) EndOfInput() Event {
	d.npend = 0
	d.esc = escNone
	if d.overflow || len(d.line) > 0 {
		return d.endLine()
	}
	return None
}
