package telnet

import "unicode/utf8"

// Telnet commands (RFC 854) and the options this package acts on.
const (
	se   = 240 // end of subnegotiation
	nop  = 241
	dm   = 242 // data mark
	brk  = 243 // break
	ip   = 244 // interrupt process
	ao   = 245 // abort output
	ayt  = 246 // are you there
	ec   = 247 // erase character
	el   = 248 // erase line
	ga   = 249 // go ahead
	sb   = 250 // start of subnegotiation
	will = 251
	wont = 252
	do   = 253
	dont = 254
	iac  = 255

	optEcho       = 1  // RFC 857
	optSGA        = 3  // RFC 858
	optTimingMark = 6  // RFC 860
	optNAWS       = 31 // RFC 1073: the client's window size
)

// Control bytes with a meaning in a line.
const (
	ctrlC   = 0x03 // interrupt, as sent by a raw client (nc, socat)
	ctrlU   = 0x15 // kill line, as in a terminal's canonical mode
	escByte = 0x1b
	del     = 0x7f
)

// ayeReply answers IAC AYT. It starts on a new line so it does not run into a prompt.
const ayeReply = "\r\n[yes]\r\n"

// event is what decoding one byte may produce for ReadLine.
type event uint8

const (
	evNone      event = iota
	evLine            // dec.line holds a complete line
	evInterrupt       // Ctrl-C or abort output: the partial line was discarded
	evTooLong         // a line over the cap ended; it was discarded
)

// telnetState is the position inside an IAC sequence. It lives in the Conn, not on the
// stack, because a sequence may be split across reads.
type telnetState uint8

const (
	tsData  telnetState = iota
	tsIAC               // after IAC
	tsOpt               // after IAC WILL/WONT/DO/DONT, waiting for the option byte
	tsSBOpt             // after IAC SB, waiting for the option byte
	tsSB                // inside IAC SB ... IAC SE; only a NAWS payload is kept
	tsSBIAC             // IAC inside a subnegotiation
)

// escState is the position inside an ANSI escape sequence sent by a terminal key.
type escState uint8

const (
	escNone  escState = iota
	escStart          // after ESC
	escCSI            // after ESC [: parameters until a final byte
	escSS3            // after ESC O: one more byte
)

// decoder holds the state that must survive between reads: the telnet sequence in
// progress, the escape sequence in progress, the partial UTF-8 rune and the line.
type decoder struct {
	ts     telnetState
	verb   byte // WILL/WONT/DO/DONT awaiting its option byte
	esc    escState
	lastCR bool // a CR ended the last line; an LF or NUL right after it is part of that end

	pend  [utf8.UTFMax]byte // bytes of an incomplete multi-byte rune
	npend int
	need  int // length of the rune in pend, from its first byte

	// The subnegotiation in progress: its option, and the first bytes of its
	// payload (a NAWS payload is four); sbLen counts past the array, so that a
	// payload of the wrong length is known and ignored.
	sbOpt byte
	sb    [4]byte
	sbLen int

	line     []byte
	max      int
	overflow bool // the line passed max: drop bytes until its end
}

// step decodes one byte from the wire.
func (c *Conn) step(b byte) event {
	d := &c.dec
	switch d.ts {
	case tsData:
		if b == iac {
			d.ts = tsIAC
			return evNone
		}
		return d.data(b)
	case tsIAC:
		d.ts = tsData
		return c.command(b)
	case tsOpt:
		d.ts = tsData
		c.negotiate(d.verb, b)
	case tsSBOpt:
		d.sbOpt, d.sbLen = b, 0
		d.ts = tsSB
		if b == iac {
			d.ts = tsSBIAC // IAC SB IAC: malformed, handled as IAC inside a subnegotiation
		}
	case tsSB:
		// Only the window size is used, and only its four bytes are kept: a
		// subnegotiation of any length costs no memory.
		if b == iac {
			d.ts = tsSBIAC
			return evNone
		}
		d.sbByte(b)
	case tsSBIAC:
		switch b {
		case se:
			d.ts = tsData
			c.subnegotiated()
		case iac:
			d.ts = tsSB // an escaped 0xFF in the payload
			d.sbByte(iac)
		default:
			// IAC and anything but SE is malformed; ending the subnegotiation here
			// (as BSD telnetd does) keeps a client that forgot SE from losing all
			// further input.
			d.ts = tsData
			return c.command(b)
		}
	}
	return evNone
}

// sbByte takes one byte of a subnegotiation's payload.
func (d *decoder) sbByte(b byte) {
	if d.sbLen < len(d.sb) {
		d.sb[d.sbLen] = b
	}
	if d.sbLen <= len(d.sb) {
		d.sbLen++ // stops one past the array: too long is all it needs to know
	}
}

// subnegotiated acts on a complete subnegotiation: a window size (IAC SB NAWS
// WIDTH[2] HEIGHT[2] IAC SE) from a client that agreed to send it is kept; any
// other is ignored.
func (c *Conn) subnegotiated() {
	d := &c.dec
	if d.sbOpt != optNAWS || d.sbLen != len(d.sb) || c.naws.state != qYes {
		return
	}
	c.width = int(d.sb[0])<<8 | int(d.sb[1])
	c.height = int(d.sb[2])<<8 | int(d.sb[3])
}

// command acts on the byte after IAC.
func (c *Conn) command(b byte) event {
	d := &c.dec
	switch b {
	case iac:
		return d.data(iac)
	case will, wont, do, dont:
		d.verb = b
		d.ts = tsOpt
	case sb:
		d.ts = tsSBOpt
	case ayt:
		c.queueReply([]byte(ayeReply)...)
	case ip, ao:
		d.discardLine()
		return evInterrupt
	case ec:
		d.npend = 0
		d.eraseRune()
	case el:
		d.eraseLine()
	}
	// NOP, DM, BRK, GA, a stray SE and unknown commands carry nothing for a line.
	return evNone
}

// data decodes one data byte: line ends, editing keys, escape sequences and UTF-8.
func (d *decoder) data(b byte) event {
	if d.lastCR {
		d.lastCR = false
		if b == '\n' || b == 0 {
			return evNone
		}
	}
	if d.esc != escNone && d.inEscape(b) {
		return evNone
	}
	if b >= 0x80 {
		d.utf8Byte(b)
		return evNone
	}
	d.npend = 0 // an ASCII byte cuts any multi-byte rune short; its bytes are invalid
	if b >= ' ' && b < del {
		d.appendByte(b)
		return evNone
	}
	switch b {
	case '\r':
		d.lastCR = true
		return d.endLine()
	case '\n':
		return d.endLine()
	case ctrlC:
		d.discardLine()
		return evInterrupt
	case '\b', del:
		d.eraseRune()
	case ctrlU:
		d.eraseLine()
	case '\t':
		d.appendByte(' ')
	case escByte:
		d.esc = escStart
	}
	// Other control bytes (NUL, bell, Ctrl-D...) are dropped.
	return evNone
}

// inEscape reports whether b belongs to the escape sequence in progress and was consumed.
// A control or non-ASCII byte aborts the sequence and is decoded normally, so ESC
// followed by Enter still ends the line.
func (d *decoder) inEscape(b byte) bool {
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
func (d *decoder) utf8Byte(b byte) {
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
// the cap, so a flood without a line end never grows memory.
func (d *decoder) appendBytes(p []byte) {
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
func (d *decoder) appendByte(b byte) {
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

// eraseRune removes the last rune of the line (BS, DEL, IAC EC).
func (d *decoder) eraseRune() {
	if d.overflow || len(d.line) == 0 {
		return
	}
	_, size := utf8.DecodeLastRune(d.line)
	d.line = d.line[:len(d.line)-size]
}

// eraseLine empties the line (IAC EL, Ctrl-U). An overlong line is erased too, so it
// is no longer reported as too long.
func (d *decoder) eraseLine() {
	d.line = d.line[:0]
	d.npend = 0
	d.overflow = false
}

// discardLine forgets everything typed since the last line end (interrupt).
func (d *decoder) discardLine() {
	d.eraseLine()
	d.esc = escNone
}

// endLine finishes the line at a line end.
func (d *decoder) endLine() event {
	d.npend = 0
	if d.overflow {
		d.overflow = false
		return evTooLong
	}
	return evLine
}

// endOfInput finishes a partial line at end of input; evNone if nothing is pending.
func (d *decoder) endOfInput() event {
	d.npend = 0
	d.esc = escNone
	d.ts = tsData
	if d.overflow || len(d.line) > 0 {
		return d.endLine()
	}
	return evNone
}
