package server

import (
	"io"

	"github.com/storify/storify"
	"net"
	"runtime/debug"
	"time"
)

// Transport is a way in to the store: telnet, SSH. The server accepts its
// connections, counts them against the limits (MaxCustomers, MaxPerIP: one count
// for every transport) and shuts them down; the transport speaks its protocol and
// runs a session on each connection it admits through its Ticket.
type Transport interface {
	// Refuse turns away a connection over a limit, with a line saying why. It
	// must return within a few seconds; the server closes conn afterwards.
	Refuse(conn net.Conn, why string)
	// ServeConn runs an admitted connection until it ends, starting at most one
	// session on it with t.Serve. The server closes conn afterwards. Until the
	// session starts, Shutdown ends the connection by closing conn.
	ServeConn(conn net.Conn, t *Ticket)
}

// SessionConfig is what a transport gives for the session it starts on a Ticket.
type SessionConfig struct {
	// Conn carries the session. Its read and write deadlines must work as a
	// net.Conn's do, from any goroutine: moving the read deadline is how the
	// session is woken for a notice, and the write deadline is what drops a
	// customer who stops reading. Close must not block for long.
	Conn net.Conn
	// Codec makes the session's line discipline on rw (which arms the write
	// deadline before each write), fed first with the bytes already read.
	Codec func(rw io.ReadWriter, first []byte, maxLine int) Codec
	// Handler runs the session; nil means the server's Handler.
	Handler Handler
	// Manager marks a manager's session (an SSH manager console): it is not
	// listed among the customers nor sent their messages, and is shut down
	// with them.
	Manager bool
	// Command, if not "", is the one command the session is to run (SSH exec):
	// no greeting is shown and the handler runs it and returns.
	Command string
	// NewLine ends the greeting's line: "\n" for a client that shows bytes as
	// they come (SSH without a terminal); "" means "\r\n".
	NewLine string
	// Greeting replaces the first line shown, "Welcome to NAME. Type help or ?
	// to list commands.", when not "".
	Greeting string
	// Account is the account the transport authenticated (an SSH key bound to
	// it, or its password), nil for a guest; Key is the SSH key the client
	// authenticated with, zero for none. The handler logs the account in, and
	// lets the customer bind the key.
	Account *storify.Account
	Key     storify.AccountKey
}

// Ticket is an admitted connection's place in the server: its share of the
// limits, and what Shutdown closes.
type Ticket struct {
	srv       *Server
	conn      net.Conn
	ip        string
	id        int64
	transport string   // the transport's name, for the metrics: telnet, ssh
	sess      *Session // while a session runs; guarded by srv.mu
}

// Named is a Transport with a name for the metrics ("ssh"); telnet is "telnet",
// and a transport without a name "other".
type Named interface {
	Name() string
}

func transportName(tr Transport) string {
	switch tr := tr.(type) {
	case telnetTransport:
		return "telnet"
	case Named:
		return tr.Name()
	}
	return "other"
}

// ID is the session id the connection's session gets, as logged at connect.
func (t *Ticket) ID() int64 { return t.id }

func (t *Ticket) run(tr Transport) {
	defer t.release()
	defer t.srv.recoverConn(t.conn)
	tr.ServeConn(t.conn, t)
}

// release gives the ticket's share of the limits back and closes its connection.
func (t *Ticket) release() {
	s := t.srv
	s.mu.Lock()
	delete(s.tickets, t)
	s.admitted--
	if s.perIP[t.ip]--; s.perIP[t.ip] <= 0 {
		delete(s.perIP, t.ip)
	}
	s.mu.Unlock()
	t.conn.Close()
	s.wg.Done()
}

// serveTelnet runs a telnet connection's session, registered by accept. It waits
// for the customer's first input on the goroutine's first frames, before any
// allocation, deferred call or interface hop: held idle at the first prompt, a
// session then fits the smallest stack a goroutine has (see Session.awaitInput).
func (t *Ticket) serveTelnet(sess *Session) {
	sess.awaitInput()
	t.finish(sess)
	t.release()
}

// Serve runs a session on the ticket's connection, in the caller's goroutine, and
// returns when it is over: the customer left, was dropped or kicked, or the server
// shut down. It says goodbye and closes cfg.Conn. A ticket serves one session.
func (t *Ticket) Serve(cfg SessionConfig) {
	sess := t.start(&cfg)
	if sess == nil {
		return
	}
	if cfg.Command == "" {
		sess.awaitInput()
	}
	t.finish(sess)
}

// start registers the session, or closes cfg.Conn and returns nil when the
// server is shutting down or the ticket served one already.
func (t *Ticket) start(cfg *SessionConfig) *Session {
	s := t.srv
	sess := newSession(s, t.id, cfg.Conn, newSpec(s, cfg))
	s.mu.Lock()
	if s.shutting.Load() || t.sess != nil {
		s.mu.Unlock()
		cfg.Conn.Close()
		return nil
	}
	s.sessions[sess.ID] = sess
	if sess.spec.manager {
		s.managers[sess.ID] = sess
	}
	t.sess = sess
	s.mu.Unlock()
	if !sess.spec.manager {
		s.Metrics.CustomerConnected(t.transport)
	}
	return sess
}

// finish runs the session's handler, then ends the session: a panic ends only
// this session, with an apology.
func (t *Ticket) finish(sess *Session) {
	s := t.srv
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess.ID)
		delete(s.managers, sess.ID)
		s.mu.Unlock()
		if !sess.spec.manager {
			s.Metrics.CustomerDisconnected(t.transport)
		}
		sess.close()
		if sess.spec.manager {
			s.Log.Info("manager left", "session", sess.ID, "addr", sess.RemoteAddr)
		} else {
			s.Log.Info("customer left", "session", sess.ID, "addr", sess.RemoteAddr)
		}
	}()
	defer func() {
		if v := recover(); v != nil {
			s.Log.Error("session panicked", "session", sess.ID, "panic", v, "stack", string(debug.Stack()))
			sess.say("Sorry, something went wrong on our side. Goodbye.")
			sess.SetExitStatus(1)
		}
	}()
	sess.startCodec()
	sess.spec.handler.ServeSession(s.baseCtx, sess)
}

// telnetTransport runs a session on the connection at once: telnet has no
// handshake.
type telnetTransport struct{}

func (telnetTransport) Refuse(conn net.Conn, why string) {
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write([]byte(why + "\r\n"))
}

// ServeConn runs the session; the server itself starts telnet sessions with
// Ticket.serveTelnet instead, on a smaller stack.
func (telnetTransport) ServeConn(conn net.Conn, t *Ticket) {
	t.Serve(SessionConfig{Conn: conn, Codec: NewTelnetCodec})
}
