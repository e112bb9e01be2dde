package telnet

import "github.com/storify/storify/internal/lineinput"

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

// ayeReply answers IAC AYT. It starts on a new line so it does not run into a prompt.
const ayeReply = "\r\n[yes]\r\n"

// event is what decoding one byte may produce for ReadLine.
type event = lineinput.Event

const (
	evNone      = lineinput.None
	evLine      = lineinput.Line      // the decoder holds a complete line
	evInterrupt = lineinput.Interrupt // Ctrl-C, interrupt process or abort output: the partial line was discarded
	evTooLong   = lineinput.TooLong   // a line over the cap ended; it was discarded
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

// decoder holds the state that must survive between reads: the telnet sequence in
// progress and, in the embedded line decoder, the line and what is typed of it.
type decoder struct {
	lineinput.Decoder
	ts   telnetState
	verb byte // WILL/WONT/DO/DONT awaiting its option byte

	// The subnegotiation in progress: its option, and the first bytes of its
	// payload (a NAWS payload is four); sbLen counts past the array, so that a
	// payload of the wrong length is known and ignored.
	sbOpt byte
	sb    [4]byte
	sbLen int
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
		return d.Byte(b)
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
		return d.Byte(iac)
	case will, wont, do, dont:
		d.verb = b
		d.ts = tsOpt
	case sb:
		d.ts = tsSBOpt
	case ayt:
		c.queueReply([]byte(ayeReply)...)
	case ip, ao:
		d.Interrupt()
		return evInterrupt
	case ec:
		d.EraseRune()
	case el:
		d.EraseLine()
	}
	// NOP, DM, BRK, GA, a stray SE and unknown commands carry nothing for a line.
	return evNone
}

// endOfInput finishes a partial line at end of input; evNone if nothing is pending.
func (d *decoder) endOfInput() event {
	d.ts = tsData
	return d.EndOfInput()
}
