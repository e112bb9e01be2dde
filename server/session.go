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
)

// maxPending bounds the notices queued for a customer who is busy or not reading.
const maxPending = 64

// goodbyeTimeout is the longest a stopped session (kicked, or the store closing)
// waits for its customer to read the goodbye, whatever the WriteTimeout.
const goodbyeTimeout = time.Second

// Session is one connected customer (or a manager over SSH). It is the shell.Term
// the commands read from and write to, on any transport.
//
// Only the session's own goroutine touches the connection and the codec,
// and it holds no lock while it does. Other goroutines (the console, broadcasts,
// order notices, kicks, shutdown) put bounded messages in its mailbox and wake it
// by moving its read deadline to now; what they need to know about it they read
// from values it publishes atomically. So a customer who stops reading holds up
// only their own goroutine, until the write deadline drops them.
type Session struct {
	ID         int64
	RemoteAddr string
	Since      time.Time

	srv        *Server
	conn       net.Conn
	spec       *sessionSpec // shared by every telnet session
	tc         Codec
	exitStatus int                      // set by the handler; sent by transports that carry one (SSH)
	lastActive atomic.Int64             // unix nanos
	customer   atomic.Pointer[Customer] // whom the session serves, once known
	stopped    atomic.Bool              // a goodbye is due: writes get goodbyeTimeout
	busy       atomic.Bool              // running a command: from a line read to the next prompt

	// Owned by the session's goroutine.
	hidden       bool // echo is off for a password; back on at the next ordinary prompt
	goodbyeArmed bool // the write deadline is the goodbye's
	onScreen     bool // a prompt is on the customer's screen, waiting for a line
	firstRead    bool // awaitInput read first, before the codec existed
	first        byte
	// readArmed and writeArmed are the deadlines last set on the connection, as
	// times since Since, or unarmed. (Not time.Time: an idle session is held
	// 10,000 times over, and these are 16 bytes of it.)
	readArmed, writeArmed time.Duration
	shown                 string // the prompt the greeting ended with, still on screen

	// The mailbox. mu guards only these fields and is never held across a
	// network read or write, a database call or a log write.
	mu       sync.Mutex
	atPrompt bool     // the session goroutine is blocked reading a line
	pending  []string // notices not yet shown
	dropped  int      // notices dropped because pending was full
	stopping string   // set once: the goodbye line; the session ends at its next prompt
}

// Customer is what the server asks of the customer a session serves. Its methods
// are called from other goroutines (the manager's customers command, order
// notices) and must not block: they read a snapshot, not state the customer's
// own commands may hold a lock on.
type Customer interface {
	Name() string
	Account() string
	CartUnits() int
	Owns(o storify.Order) bool
}

// sessionSpec is what a session was started with (see SessionConfig). Every
// telnet session shares the server's, so that an idle one costs one pointer.
type sessionSpec struct {
	handler  Handler
	newCodec func(rw io.ReadWriter, first []byte, maxLine int) Codec
	welcome  []byte // the greeting and the first prompt, written by awaitInput
	prompt   string // the handler's prompt, "" if it is not a Prompter
	manager  bool
	command  string
	account  *storify.Account
	key      storify.AccountKey
}

// newSpec makes the spec of a session started with cfg.
func newSpec(srv *Server, cfg *SessionConfig) *sessionSpec {
	sp := &sessionSpec{handler: cfg.Handler, newCodec: cfg.Codec, manager: cfg.Manager, command: cfg.Command, account: cfg.Account, key: cfg.Key}
	if sp.handler == nil {
		sp.handler = srv.Handler
	}
	if p, ok := sp.handler.(Prompter); ok {
		sp.prompt = p.Prompt()
	}
	greeting, newLine := cfg.Greeting, cfg.NewLine
	if greeting == "" {
		greeting = defaultGreeting(srv.Name)
	}
	if newLine == "" {
		newLine = "\r\n"
	}
	sp.welcome = []byte(greeting + newLine + sp.prompt)
	return sp
}

// unarmed is a Session's readArmed or writeArmed when no deadline is set.
const unarmed time.Duration = -1

func newSession(srv *Server, id int64, conn net.Conn, spec *sessionSpec) *Session {
	s := &Session{ID: id, RemoteAddr: conn.RemoteAddr().String(), Since: time.Now(), srv: srv, conn: conn, spec: spec,
		readArmed: unarmed, writeArmed: unarmed}
	s.lastActive.Store(s.Since.UnixNano())
	return s
}

func defaultGreeting(name string) string {
	return "Welcome to " + name + ". Type help or ? to list commands."
}

// Command is the one command an SSH exec request asked for; "" for an
// interactive session.
func (s *Session) Command() string { return s.spec.command }

// Account is the account the transport authenticated (SessionConfig.Account),
// nil for a guest.
func (s *Session) Account() *storify.Account { return s.spec.account }

// Key is the SSH key the client came in with, zero for none.
func (s *Session) Key() storify.AccountKey { return s.spec.key }

// SetExitStatus sets the status the session ends with, for a transport that
// reports one (an SSH exec request): 0 for success, 1 when the command failed.
func (s *Session) SetExitStatus(code int) { s.exitStatus = code }

// exitStatusSetter is a connection that reports an exit status when it closes.
type exitStatusSetter interface{ SetExitStatus(int) }

// Codec is the session's line discipline, for a handler that needs more than
// the Term (an SSH manager's line editor completing names).
func (s *Session) Codec() Codec { return s.tc }

// wire is the connection as the codec sees it: every write first moves the write
// deadline, so that no write, a negotiation answer included, can block longer
// than WriteTimeout (or goodbyeTimeout once the session is stopping).
type wire struct{ s *Session }

func (w wire) Read(p []byte) (int, error) { return w.s.conn.Read(p) }

func (w wire) Write(p []byte) (int, error) {
	w.s.armWrite(time.Now())
	return w.s.conn.Write(p)
}

// awaitInput greets the customer and waits for the first thing to happen: input,
// a notice, a stop or the idle deadline. It runs before the session's codec and
// command engine exist, on as little stack as a goroutine can have, because many
// customers connect and then sit at the first prompt: holding 10,000 of them must
// cost little more than their sockets.
func (s *Session) awaitInput() {
	s.armWrite(s.Since)
	if _, err := s.conn.Write(s.spec.welcome); err != nil {
		return // the session's first read or write fails the same way and ends it
	}
	if s.spec.prompt == "" {
		return // the handler shows its own prompt: nothing to wait at here
	}
	s.shown = s.spec.prompt
	if !s.enterPrompt(s.Since.Add(s.srv.IdleTimeout - s.srv.IdleWarning)) {
		return
	}
	// One byte: that input came is all this waits for, and the codec reads the rest.
	// The buffer lives on the heap (the read is through an interface) for as long as
	// the customer sits at the prompt, so every byte of it is paid 10,000 times over.
	var buf [1]byte
	n, _ := s.conn.Read(buf[:]) // an error comes back on the codec's first read
	s.leavePrompt()
	if n > 0 {
		s.first, s.firstRead = buf[0], true
	}
}

// startCodec puts the codec on the connection, fed first with what awaitInput
// read.
func (s *Session) startCodec() {
	var first []byte
	if s.firstRead {
		first = []byte{s.first}
	}
	s.tc = s.spec.newCodec(wire{s}, first, s.srv.MaxLine)
}

// SetCustomer tells the session whom it serves, for the manager's customer list and
// for order notices.
func (s *Session) SetCustomer(c Customer) { s.customer.Store(&c) }

func (s *Session) getCustomer() Customer {
	if c := s.customer.Load(); c != nil {
		return *c
	}
	return nil
}

// Info describes the session for the manager's customers command. It never waits
// for the session.
func (s *Session) Info() shell.CustomerInfo {
	ci := shell.CustomerInfo{ID: s.ID, Addr: s.RemoteAddr, Since: s.Since, LastActive: time.Unix(0, s.lastActive.Load())}
	if c := s.getCustomer(); c != nil {
		ci.Name, ci.Account, ci.CartUnits = c.Name(), c.Account(), c.CartUnits()
	}
	return ci
}

// Write buffers reply text; it is flushed with the next prompt (or sooner, when a
// long reply passes the codec's output cap). Only the session's goroutine calls it.
func (s *Session) Write(p []byte) (int, error) { return s.tc.Write(p) }

// ReadLine writes the notices that came in meanwhile, then the prompt, flushes the
// whole reply in one write, and reads the next line. Notices that arrive while it
// waits are shown at once, with the prompt again. A stopped session answers io.EOF
// after its goodbye.
func (s *Session) ReadLine(prompt string) (string, error) {
	if s.hidden {
		s.tc.HideInput(false)
		s.hidden = false
	}
	return s.readLine(prompt)
}

// ReadPassword reads a line with echo off (on telnet, IAC WILL ECHO before the
// prompt); echo comes back with the next ordinary prompt (IAC WONT ECHO), so that
// two password prompts in a row stay hidden. It implements shell.PasswordReader.
func (s *Session) ReadPassword(prompt string) (string, error) {
	if !s.hidden {
		s.tc.HideInput(true)
		s.hidden = true
	}
	return s.readLine(prompt)
}

func (s *Session) readLine(prompt string) (string, error) {
	// One clock reading serves the idle timer, the activity shown to the manager
	// and the write deadline: the reply to the customer's last action is done.
	s.busy.Store(false)
	now := time.Now()
	start := now
	warned := false
	if s.shown == "" {
		s.lastActive.Store(now.UnixNano())
	} else {
		// The greeting's prompt is on the customer's screen: the first command
		// reads after it, and idle time counts from the connection.
		start = s.Since
		s.onScreen = s.shown == prompt && s.tc.Buffered() == 0
		if s.onScreen {
			s.tc.PromptShown(prompt)
		}
		s.shown = ""
	}
	idle := start.Add(s.srv.IdleTimeout)
	warnAt := idle.Add(-s.srv.IdleWarning)
	for {
		if goodbye := s.deliverMail(); goodbye != "" {
			s.tc.WriteString(goodbye + "\n")
			s.tc.Flush()
			return "", io.EOF
		}
		if !s.onScreen {
			// After a notice, with what the customer had typed, as they typed it.
			s.tc.ShowPrompt(prompt)
			if err := s.tc.Flush(); err != nil {
				return "", s.writeFailed(err)
			}
			s.onScreen = true
		}
		deadline := idle
		if !warned {
			deadline = warnAt
		}
		if !s.enterPrompt(deadline) {
			continue // mail came: show it first
		}
		line, err := s.tc.ReadLine()
		s.leavePrompt()
		switch {
		case err != nil && isWriteError(err):
			return "", s.writeFailed(err)
		case errors.Is(err, os.ErrDeadlineExceeded):
			now = time.Now()
			switch {
			case s.hasMail():
				continue // woken by Notify or stop; the decoder keeps what was typed
			case now.Before(deadline):
				// Armed a little early (see armRead): wait for the rest.
				s.readArmed = unarmed
				continue
			case !warned:
				warned = true
				s.tc.WriteString(fmt.Sprintf("\n*** You have been idle a while; you will be disconnected in %s unless you type something.\n",
					idle.Sub(now).Round(time.Second)))
				s.onScreen = false
				continue
			}
			s.srv.Log.Info("customer idle; disconnecting", "session", s.ID)
			s.say("You have been idle too long. Goodbye.")
			return "", io.EOF
		}
		s.onScreen = false
		if err == nil {
			s.busy.Store(true)
		}
		return line, err
	}
}

// isWriteError tells a failed write (the customer is not reading) from a read
// error, a read deadline included.
func isWriteError(err error) bool {
	var we *WriteError
	return errors.As(err, &we)
}

// deliverMail takes the mailbox's notices and queues them for output, on a line of
// their own; it returns the goodbye line if the session is to stop.
func (s *Session) deliverMail() (goodbye string) {
	s.mu.Lock()
	notices, dropped, goodbye := s.pending, s.dropped, s.stopping
	s.pending, s.dropped = nil, 0
	s.mu.Unlock()
	if len(notices) == 0 && dropped == 0 && goodbye == "" {
		return ""
	}
	if s.onScreen {
		s.tc.BreakLine() // off the prompt the customer may be typing at
		s.onScreen = false
	}
	for _, n := range notices {
		s.tc.WriteString("*** " + n + "\n")
	}
	if dropped > 0 {
		s.tc.WriteString("*** (some messages were dropped while you were away)\n")
	}
	return goodbye
}

func (s *Session) hasMail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending) > 0 || s.dropped > 0 || s.stopping != ""
}

// enterPrompt arms the read deadline and marks the session as waiting for input,
// so that Notify and stop can wake it; false if mail is already waiting. The
// deadline is set under mu so that a wake coming after it cannot be undone by it.
func (s *Session) enterPrompt(deadline time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) > 0 || s.dropped > 0 || s.stopping != "" {
		return false
	}
	s.armRead(deadline)
	s.atPrompt = true
	return true
}

func (s *Session) leavePrompt() {
	s.mu.Lock()
	s.atPrompt = false
	s.mu.Unlock()
}

// armRead sets the read deadline to t, unless the one set already falls a
// little (at most slack) before it. Moving a timer on every command costs more
// than that precision is worth; a deadline that fires early is re-armed by
// readLine.
func (s *Session) armRead(t time.Time) {
	at := t.Sub(s.Since)
	if d := at - s.readArmed; s.readArmed != unarmed && d >= 0 && d <= s.srv.deadlineSlack(s.srv.IdleTimeout) {
		return
	}
	s.conn.SetReadDeadline(t)
	s.readArmed = at
}

// armWrite gives the write about to start WriteTimeout from now. The deadline is
// moved only when the one set is more than a tenth of WriteTimeout old, for the
// same reason as in armRead: a customer who stops reading is dropped after 90 to
// 100% of it. Once the session is stopping, the goodbye gets goodbyeTimeout.
func (s *Session) armWrite(now time.Time) {
	if s.goodbyeArmed {
		return
	}
	if s.stopped.Load() {
		s.armGoodbye(now)
		return
	}
	if t := now.Add(s.srv.WriteTimeout); s.writeArmed == unarmed || t.Sub(s.Since)-s.writeArmed > s.srv.deadlineSlack(s.srv.WriteTimeout) {
		s.conn.SetWriteDeadline(t)
		s.writeArmed = t.Sub(s.Since)
		// stop may have cut the deadline short just before this moved it on.
		if s.stopped.Load() {
			s.armGoodbye(now)
		}
	}
}

func (s *Session) armGoodbye(now time.Time) {
	t := now.Add(min(s.srv.WriteTimeout, goodbyeTimeout))
	s.writeArmed = t.Sub(s.Since)
	s.conn.SetWriteDeadline(t)
	s.goodbyeArmed = true
}

// writeFailed ends the session after a failed write. A customer who read nothing
// for the whole write deadline is worth a line in the log.
func (s *Session) writeFailed(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) && !s.stopped.Load() {
		s.srv.Metrics.SlowReaderDropped()
		s.srv.Log.Info("customer not reading; dropped", "session", s.ID, "addr", s.RemoteAddr, "after", s.srv.WriteTimeout)
	}
	return err
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
// Setting a deadline does not wait for the network.
func (s *Session) wakeLocked() {
	if s.atPrompt {
		now := time.Now()
		s.readArmed = now.Sub(s.Since)
		s.conn.SetReadDeadline(now)
	}
}

// stop ends the session with a goodbye line: at once if it waits at the prompt,
// otherwise when the command in progress has finished. A write under way, to a
// customer who does not read, is cut short to goodbyeTimeout.
func (s *Session) stop(goodbye string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping != "" {
		return
	}
	s.stopping = goodbye
	s.stopped.Store(true)
	s.conn.SetWriteDeadline(time.Now().Add(min(s.srv.WriteTimeout, goodbyeTimeout)))
	s.wakeLocked()
}

// say writes one line and flushes it, from the session's own goroutine.
func (s *Session) say(msg string) {
	s.tc.WriteString(msg + "\n")
	s.tc.Flush()
}

// close sends what is left and closes the connection, from the session's own
// goroutine.
func (s *Session) close() {
	if es, ok := s.conn.(exitStatusSetter); ok {
		es.SetExitStatus(s.exitStatus)
	}
	if s.tc != nil && s.tc.Flush() != nil {
		s.conn.Close() // the customer is not reading: nothing more to say
		return
	}
	s.linger()
	s.conn.Close()
}

// Bounds on what linger reads and waits for.
const (
	lingerBytes = 16 << 10
	lingerTime  = 250 * time.Millisecond
)

// linger ends the session's half of the connection first and reads what the
// client still sends (negotiation answers, a line typed after quit) until it
// closes its half, for a moment at most. Closing a socket with unread input makes
// the kernel reset the connection, and the reset can reach the client before the
// goodbye is shown: PuTTY then reports a fatal error instead of the goodbye.
func (s *Session) linger() {
	cw, ok := s.conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	s.conn.SetReadDeadline(time.Now().Add(lingerTime))
	io.CopyN(io.Discard, s.conn, lingerBytes)
}
