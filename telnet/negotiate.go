package telnet

// qstate is one side of one option in RFC 1143's Q method, which exists so that two
// peers answering each other can never loop: a request is answered only when it
// changes the option's state.
type qstate uint8

const (
	qNo qstate = iota
	qYes
	qWantNo  // we sent WONT and wait for DONT
	qWantYes // we sent WILL and wait for DO
)

// qopt is our side of one option; opposite is RFC 1143's queue bit: the caller changed
// its mind while a request was in flight.
type qopt struct {
	state    qstate
	opposite bool
}

// negotiate answers IAC verb opt. We agree to WILL SGA, and to WILL ECHO only while
// the caller wants hidden input; on the client's side we agree only to NAWS, so
// that it tells us its window size. Every other option is refused.
func (c *Conn) negotiate(verb, opt byte) {
	switch verb {
	case do:
		switch opt {
		case optTimingMark:
			// RFC 860: the client (telnet after Ctrl-C) discards our output until
			// this arrives; it is answered every time and changes no state.
			c.sendOption(will, opt)
		case optEcho:
			c.receiveDo(&c.echo, opt, c.hideEcho)
		case optSGA:
			c.receiveDo(&c.sga, opt, true)
		default:
			c.sendOption(wont, opt)
		}
	case dont:
		switch opt {
		case optEcho:
			c.receiveDont(&c.echo, opt)
		case optSGA:
			c.receiveDont(&c.sga, opt)
		}
		// Any other option is already off on our side: nothing to confirm.
	case will:
		if opt == optNAWS {
			// Agreed once; a repeated offer changes nothing, so it is not answered.
			if c.naws.state != qYes {
				c.naws.state = qYes
				c.sendOption(do, opt)
			}
			return
		}
		// The client's side of every other option stays off, so each offer is
		// refused. A refusal changes nothing for a compliant client, so it cannot loop.
		c.sendOption(dont, opt)
	case wont:
		// WONT confirms the client's side is off, which it always is but for
		// NAWS: that one is confirmed once, and the size it sent is forgotten.
		if opt == optNAWS && c.naws.state == qYes {
			c.naws.state = qNo
			c.width, c.height = 0, 0
			c.sendOption(dont, opt)
		}
	}
}

// WindowSize is the client's window in columns and lines, as it last reported
// it (RFC 1073, NAWS); 0, 0 when it has not. A client reports it when it offers
// NAWS (PuTTY, and telnet on port 23, do) and again each time the window changes.
// A zero in either means the client does not know that dimension.
func (c *Conn) WindowSize() (width, height int) { return c.width, c.height }

// receiveDo applies RFC 1143's rules for an incoming DO.
func (c *Conn) receiveDo(q *qopt, opt byte, agree bool) {
	switch q.state {
	case qNo:
		if agree {
			q.state = qYes
			c.sendOption(will, opt)
		} else {
			c.sendOption(wont, opt)
		}
	case qWantNo:
		if q.opposite {
			q.state, q.opposite = qYes, false
		} else {
			q.state = qNo // the client answered our WONT with DO: RFC 1143 settles on off
		}
	case qWantYes:
		if q.opposite {
			q.state, q.opposite = qWantNo, false
			c.sendOption(wont, opt)
		} else {
			q.state = qYes
		}
	}
}

// receiveDont applies RFC 1143's rules for an incoming DONT.
func (c *Conn) receiveDont(q *qopt, opt byte) {
	switch q.state {
	case qYes:
		q.state = qNo
		c.sendOption(wont, opt)
	case qWantNo:
		if q.opposite {
			q.state, q.opposite = qWantYes, false
			c.sendOption(will, opt)
		} else {
			q.state = qNo
		}
	case qWantYes:
		q.state, q.opposite = qNo, false
	}
}

// sendOption queues IAC verb opt as a reply that ReadLine flushes before it returns
// or blocks, since the client may be waiting for it.
func (c *Conn) sendOption(verb, opt byte) {
	c.queueReply(iac, verb, opt)
}

// queueReply queues an answer to the client's telnet command, unless the
// connection can no longer be written: then it is dropped, so that a client that
// floods commands and reads nothing gains no memory.
func (c *Conn) queueReply(b ...byte) {
	if c.werr != nil {
		return
	}
	c.out = append(c.out, b...)
	c.outCR = false
	c.reply = true
}

// SetEcho asks the client to stop (hidden=true) or resume (hidden=false) its local
// echo, for password entry: IAC WILL ECHO, then IAC WONT ECHO. The request is queued in
// the output buffer; the caller flushes it with the prompt. A request already in effect
// or in flight sends nothing, so a raw client (nc) sees at most one such sequence.
//
// With hidden input the client does not echo the Enter either: the caller writes the
// line end after reading the password. The error is always nil, since nothing is sent
// until Flush; it is there so a Conn over another transport could report one.
func (c *Conn) SetEcho(hidden bool) error {
	c.hideEcho = hidden
	q := &c.echo
	if hidden {
		switch q.state {
		case qNo:
			q.state = qWantYes
			c.out = append(c.out, iac, will, optEcho)
			c.outCR = false
		case qWantNo:
			q.opposite = true
		case qWantYes:
			q.opposite = false
		}
		return nil
	}
	switch q.state {
	case qYes:
		q.state = qWantNo
		c.out = append(c.out, iac, wont, optEcho)
		c.outCR = false
	case qWantNo:
		q.opposite = false
	case qWantYes:
		q.opposite = true
	}
	return nil
}
