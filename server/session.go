package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/telnet"
)

// maxPending bounds the notices queued for a customer who is busy or not reading.
const maxPending = 64

// Session is one connected customer. It is the shell.Term the customer's commands
// read from and write to. Only the session's own goroutine writes to the connection:
// others (broadcasts, kicks, shutdown) queue what they have to say and wake it by
// moving its read deadline to now, so a slow customer can stall no one else.
type Session struct {
	ID         int64
	RemoteAddr string
	Since      time.Time

	srv        *Server
	conn       net.Conn
	tc         *telnet.Conn
	lastActive atomic.Int64 // unix nanos

	mu       sync.Mutex
	atPrompt bool     // blocked reading a line
	pending  []string // notices not yet shown
	dropped  int      // notices dropped because pending was full
	stopping string   // set once: the goodbye line; the session ends at its next prompt
	hidden   bool     // echo is off for a password; back on at the next ordinary prompt
	// The deadlines last set on the connection (see armReadLocked, flushLocked).
	readArmed, writeArmed time.Time
	first                 []byte // read by awaitInput, before the codec existed
	shown                 string // the prompt the greeting ended with, still on screen
	customer              Customer
}

// Customer is what the server asks of the customer a session serves.
type Customer interface {
	Name() string
	Account() string
	CartUnits() int
	Owns(o storify.Order) bool
}

func newSession(srv *Server, id int64, conn net.Conn) *Session {
	s := &Session{
		ID: id, RemoteAddr: conn.RemoteAddr().String(), Since: time.Now(),
		srv: srv, conn: conn,
	}
	s.lastActive.Store(s.Since.UnixNano())
	return s
}

// awaitInput greets the customer and waits for the first thing to happen: input,
// a notice, a stop or the idle deadline. It runs before the session's codec and
// command engine exist, on as little stack as a goroutine can have, because many
// customers connect and then sit at the first prompt: holding 10,000 of them must
// cost little more than their sockets.
func (s *Session) awaitInput() {
	s.conn.SetWriteDeadline(time.Now().Add(s.srv.WriteTimeout))
	if _, err := s.conn.Write(s.srv.welcome); err != nil {
		return // the session's first read or write fails the same way and ends it
	}
	if s.srv.prompt == "" {
		return // the handler shows its own prompt: nothing to wait at here
	}
	s.mu.Lock()
	s.shown = s.srv.prompt
	if s.stopping != "" || len(s.pending) > 0 {
		s.mu.Unlock()
		return
	}
	s.readArmed = s.Since.Add(s.srv.IdleTimeout - s.srv.IdleWarning)
	s.conn.SetReadDeadline(s.readArmed)
	s.atPrompt = true
	s.mu.Unlock()
	var buf [64]byte
	n, _ := s.conn.Read(buf[:]) // an error comes back on the codec's first read
	s.mu.Lock()
	s.atPrompt = false
	s.mu.Unlock()
	if n > 0 {
		s.first = append([]byte(nil), buf[:n]...)
	}
}

// startCodec puts the telnet codec on the connection, fed first with what
// awaitInput read.
func (s *Session) startCodec() {
	s.mu.Lock()
	s.tc = telnet.NewConn(s.conn, telnet.Options{MaxLine: s.srv.MaxLine, Read: s.first})
	s.first = nil
	s.mu.Unlock()
}

// SetCustomer tells the session whom it serves, for the manager's customer list and
// for order notices.
func (s *Session) SetCustomer(c Customer) {
	s.mu.Lock()
	s.customer = c
	s.mu.Unlock()
}

func (s *Session) getCustomer() Customer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.customer
}

// Info describes the session for the manager's customers command.
func (s *Session) Info() shell.CustomerInfo {
	ci := shell.CustomerInfo{ID: s.ID, Addr: s.RemoteAddr, Since: s.Since, LastActive: time.Unix(0, s.lastActive.Load())}
	if c := s.getCustomer(); c != nil {
		ci.Name, ci.Account, ci.CartUnits = c.Name(), c.Account(), c.CartUnits()
	}
	return ci
}

// Write buffers reply text; it is flushed with the next prompt.
func (s *Session) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tc.Write(p)
}

// ReadLine writes the notices that came in meanwhile, then the prompt, flushes the
// whole reply in one write, and reads the next line. Notices that arrive while it
// waits are shown at once, with the prompt again. A stopped session answers io.EOF
// after its goodbye.
func (s *Session) ReadLine(prompt string) (string, error) {
	s.mu.Lock()
	if s.hidden {
		s.tc.SetEcho(false)
		s.hidden = false
	}
	s.mu.Unlock()
	return s.readLine(prompt)
}

// ReadPassword reads a line with the client's echo off (IAC WILL ECHO before the
// prompt); echo comes back with the next ordinary prompt (IAC WONT ECHO), so that
// two password prompts in a row stay hidden. It implements shell.PasswordReader.
func (s *Session) ReadPassword(prompt string) (string, error) {
	s.mu.Lock()
	if !s.hidden {
		s.tc.SetEcho(true)
		s.hidden = true
	}
	s.mu.Unlock()
	line, err := s.readLine(prompt)
	s.mu.Lock()
	s.tc.WriteString("\n") // the client did not echo the Enter either
	s.mu.Unlock()
	return line, err
}

func (s *Session) readLine(prompt string) (string, error) {
	// One clock reading serves the idle timer, the activity shown to the manager
	// and the write deadline: the reply to the customer's last action is done.
	now := time.Now()
	start := now
	warned, show := false, true
	s.mu.Lock()
	if s.shown == "" {
		s.lastActive.Store(now.UnixNano())
	} else {
		// The greeting's prompt is on the customer's screen: the first command
		// reads after it, and idle time counts from the connection.
		start = s.Since
		switch {
		case len(s.pending) > 0:
			s.tc.WriteString("\n")
		case s.shown == prompt && s.tc.Buffered() == 0:
			show = false
		}
		s.shown = ""
	}
	idle := start.Add(s.srv.IdleTimeout)
	warnAt := idle.Add(-s.srv.IdleWarning)
	s.writePendingLocked()
	for {
		if s.stopping != "" {
			s.tc.WriteString(s.stopping + "\n")
			s.flushLocked(now)
			s.mu.Unlock()
			return "", io.EOF
		}
		if show {
			s.tc.WriteString(prompt)
			if err := s.flushLocked(now); err != nil {
				s.mu.Unlock()
				return "", err
			}
			show = false
		}
		deadline := idle
		if !warned {
			deadline = warnAt
		}
		// Armed under mu, so that a Notify coming after it can move it to now.
		s.armReadLocked(deadline)
		s.atPrompt = true
		s.mu.Unlock()

		line, err := s.tc.ReadLine()

		s.mu.Lock()
		s.atPrompt = false
		if errors.Is(err, os.ErrDeadlineExceeded) {
			now = time.Now()
			switch {
			case len(s.pending) > 0 || s.stopping != "":
				// Woken by Notify or stop: show what came, then the prompt again.
				// The decoder keeps what the customer had typed so far.
				s.tc.WriteString("\n")
				s.writePendingLocked()
				show = true
				continue
			case now.Before(deadline):
				// Armed a little early (see armReadLocked): wait for the rest.
				s.readArmed = time.Time{}
				continue
			case !warned:
				warned, show = true, true
				s.tc.WriteString(fmt.Sprintf("\n*** You have been idle a while; you will be disconnected in %s unless you type something.\n",
					idle.Sub(now).Round(time.Second)))
				continue
			}
		}
		s.mu.Unlock()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.srv.Log.Info("customer idle; disconnecting", "session", s.ID)
			s.say("You have been idle too long. Goodbye.")
			return "", io.EOF
		case errors.Is(err, telnet.ErrInterrupt):
			return "", shell.ErrInterrupt
		case errors.Is(err, telnet.ErrLineTooLong):
			return "", shell.ErrLineTooLong
		}
		return line, err
	}
}

// armReadLocked sets the read deadline to t, unless the one set already falls a
// little (at most slack) before it. Moving a timer on every command costs more
// than that precision is worth; a deadline that fires early is re-armed by
// readLine.
func (s *Session) armReadLocked(t time.Time) {
	if d := t.Sub(s.readArmed); d >= 0 && d <= s.srv.deadlineSlack(s.srv.IdleTimeout) {
		return
	}
	s.conn.SetReadDeadline(t)
	s.readArmed = t
}

// writePendingLocked queues the pending notices for output; s.mu must be held.
func (s *Session) writePendingLocked() {
	for _, n := range s.pending {
		s.tc.WriteString("*** " + n + "\n")
	}
	if s.dropped > 0 {
		s.tc.WriteString("*** (some messages were dropped while you were away)\n")
		s.dropped = 0
	}
	s.pending = s.pending[:0]
}

// flushLocked writes out the reply; now is the time, as the caller read it. The
// write deadline is moved only when the one set is more than a tenth of
// WriteTimeout old, for the same reason as in armReadLocked: a customer who stops
// reading is dropped after 90 to 100% of it.
func (s *Session) flushLocked(now time.Time) error {
	if t := now.Add(s.srv.WriteTimeout); t.Sub(s.writeArmed) > s.srv.deadlineSlack(s.srv.WriteTimeout) {
		s.conn.SetWriteDeadline(t)
		s.writeArmed = t
	}
	return s.tc.Flush()
}

// Notify shows a message to the customer: at once if they wait at the prompt (the
// prompt is shown again after it), otherwise after the reply to the command they
// run. It never blocks on the network.
func (s *Session) Notify(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping != "" {
		return
	}
	if len(s.pending) < maxPending {
		s.pending = append(s.pending, msg)
	} else {
		s.dropped++
	}
	s.wakeLocked()
}

// wakeLocked interrupts a read in progress so the session goroutine can write.
func (s *Session) wakeLocked() {
	if s.atPrompt {
		s.readArmed = time.Now()
		s.conn.SetReadDeadline(s.readArmed)
	}
}

// stop ends the session with a goodbye line: at once if it waits at the prompt,
// otherwise when the command in progress has finished.
func (s *Session) stop(goodbye string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping == "" {
		s.stopping = goodbye
		s.wakeLocked()
	}
}

// say writes one line and flushes it, from the session's own goroutine.
func (s *Session) say(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tc.WriteString(msg + "\n")
	s.flushLocked(time.Now())
}

func (s *Session) close() {
	s.mu.Lock()
	if s.tc != nil {
		s.flushLocked(time.Now())
	}
	s.mu.Unlock()
	s.conn.Close()
}
