// Package server is storify's customer server: it accepts TCP connections, speaks
// telnet on them, and runs one shell session per connection, with limits on every
// connection and a graceful shutdown. Its shape follows net/http.Server.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Handler serves one customer session; it returns when the session is over.
type Handler interface {
	ServeSession(ctx context.Context, s *Session)
}

// Prompter is a Handler that says the prompt its sessions read commands with. The
// server then sends the greeting and the first prompt in one write, before the
// handler runs, and the handler's first read shows no prompt of its own.
type Prompter interface {
	Prompt() string
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, s *Session)

// ServeSession calls f(ctx, s).
func (f HandlerFunc) ServeSession(ctx context.Context, s *Session) { f(ctx, s) }

// Defaults for the Server's limits.
const (
	DefaultMaxLine      = 1024
	DefaultMaxCustomers = 20000
	DefaultMaxPerIP     = 200
	DefaultIdleTimeout  = 30 * time.Minute
	DefaultWriteTimeout = 10 * time.Second
)

// Server accepts customers. Set its fields before calling Serve; zero limits take the
// defaults above.
type Server struct {
	Addr    string // TCP address for ListenAndServe, e.g. "127.0.0.1:65432"
	Name    string // the store's name, used in the greeting and goodbye lines
	Handler Handler
	Log     *slog.Logger

	MaxLine      int // bytes in one command line
	MaxCustomers int // connected customers in all
	MaxPerIP     int // connected customers from one address
	// LimitLoopback applies MaxPerIP to loopback addresses too. Off by default: on
	// loopback every customer of a local proxy or load test shares one address.
	LimitLoopback bool
	IdleTimeout   time.Duration // a customer silent this long is disconnected
	IdleWarning   time.Duration // warned this long before; default a fifth of IdleTimeout, at most a minute
	WriteTimeout  time.Duration // a customer who does not read for this long is dropped
	// Metrics is told of customers connecting and leaving, connections refused and
	// customers dropped for not reading; nil reports nothing.
	Metrics storify.ServerMetrics

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	tickets   map[*Ticket]struct{} // admitted connections of transports with a handshake (SSH); telnet's are found by their sessions
	sessions  map[int64]*Session
	managers  map[int64]*Session // the manager sessions among them, told every event
	admitted  int                // len(tickets): counted against MaxCustomers
	perIP     map[string]int
	nextID    int64
	telnet    *sessionSpec // what every telnet session is started with
	shutting  atomic.Bool
	wg        sync.WaitGroup
	baseCtx   context.Context
	cancelCtx context.CancelFunc
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server: closed")

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions != nil {
		return
	}
	s.listeners = map[net.Listener]struct{}{}
	s.sessions = map[int64]*Session{}
	s.tickets = map[*Ticket]struct{}{}
	s.managers = map[int64]*Session{}
	s.perIP = map[string]int{}
	s.baseCtx, s.cancelCtx = context.WithCancel(context.Background())
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.Metrics == nil {
		s.Metrics = storify.NoMetrics{}
	}
	if s.MaxLine <= 0 {
		s.MaxLine = DefaultMaxLine
	}
	if s.MaxCustomers <= 0 {
		s.MaxCustomers = DefaultMaxCustomers
	}
	if s.MaxPerIP <= 0 {
		s.MaxPerIP = DefaultMaxPerIP
	}
	if s.IdleTimeout <= 0 {
		s.IdleTimeout = DefaultIdleTimeout
	}
	s.telnet = newSpec(s, &SessionConfig{Codec: NewTelnetCodec})
	if s.IdleWarning <= 0 || s.IdleWarning >= s.IdleTimeout {
		s.IdleWarning = min(s.IdleTimeout/5, time.Minute)
	}
	if s.WriteTimeout <= 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
}

// ListenAndServe listens on s.Addr and serves customers until Shutdown.
func (s *Server) ListenAndServe() error {
	if s.shutting.Load() {
		return ErrServerClosed
	}
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	return s.Serve(l)
}

// Serve accepts telnet connections on l until Shutdown, which makes it return
// ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error { return s.ServeTransport(l, telnetTransport{}) }

// ServeTransport accepts connections on l for tr until Shutdown, which makes it
// return ErrServerClosed. Each connection is counted against the limits before
// tr sees it; one over a limit is given to tr.Refuse. It closes l.
func (s *Server) ServeTransport(l net.Listener, tr Transport) error {
	s.init()
	s.mu.Lock()
	if s.shutting.Load() {
		s.mu.Unlock()
		l.Close()
		return ErrServerClosed
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()
	var backoff time.Duration
	for {
		conn, err := l.Accept()
		if err != nil {
			if s.shutting.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, errTooManyFiles) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.Log.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.accept(conn, tr)
	}
}

// accept counts a connection against the limits and hands it to its transport,
// or turns it away politely when a limit is reached.
func (s *Server) accept(conn net.Conn, tr Transport) {
	ip := clientKey(conn.RemoteAddr())
	s.mu.Lock()
	var refusal, reason string
	switch {
	case s.shutting.Load():
		refusal, reason = "The store is closing now. Thank you for shopping, goodbye.", "shutting_down"
	case s.admitted >= s.MaxCustomers:
		refusal, reason = "The store is full right now; please try again in a few minutes.", "max_customers"
	case s.perIP[ip] >= s.MaxPerIP && (s.LimitLoopback || !isLoopback(ip)):
		refusal, reason = "Too many connections from your address; please close one and try again.", "max_per_ip"
	}
	if refusal != "" {
		s.mu.Unlock()
		s.Metrics.ConnectionRefused(reason)
		s.Log.Warn("customer refused", "addr", conn.RemoteAddr().String(), "why", refusal)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			defer s.recoverConn(conn)
			tr.Refuse(conn, refusal)
		}()
		return
	}
	s.nextID++
	t := &Ticket{srv: s, conn: conn, ip: ip, id: s.nextID, transport: transportName(tr)}
	s.admitted++
	s.perIP[ip]++
	s.wg.Add(1)
	// A telnet session starts here, not in its goroutine: allocating takes stack,
	// which an idle session would then keep for good. Its ticket needs no place
	// in tickets, which costs every idle session a map entry: Shutdown finds the
	// connection through the session.
	var sess *Session
	if _, ok := tr.(telnetTransport); ok {
		sess = newSession(s, t.id, conn, s.telnet)
		s.sessions[sess.ID] = sess
		t.sess = sess
		s.Metrics.CustomerConnected(t.transport)
	} else {
		s.tickets[t] = struct{}{}
	}
	s.mu.Unlock()
	// Logged here, not in the connection's goroutine, for the same reason:
	// formatting a log line takes several KiB of stack.
	s.Log.Info("customer connected", "session", t.id, "addr", conn.RemoteAddr().String())
	if sess != nil {
		go t.serveTelnet(sess)
	} else {
		go t.run(tr)
	}
}

// recoverConn logs a panic in a transport's own code; the connection is closed by
// the caller.
func (s *Server) recoverConn(conn net.Conn) {
	if v := recover(); v != nil {
		s.Log.Error("connection panicked", "addr", conn.RemoteAddr().String(), "panic", v, "stack", string(debug.Stack()))
	}
}

// shutdownGrace is how long Shutdown waits, after its context has ended and it has
// closed every connection and cancelled the commands in flight, for the sessions'
// goroutines to return before it gives up on them.
const shutdownGrace = time.Second

// Shutdown stops accepting customers, says goodbye to each one (after the command in
// progress, if any), and waits for their sessions to end. A customer who does not
// read the goodbye is dropped after at most a second. If ctx ends first, the
// remaining connections are closed at once and the commands in flight see their
// context cancelled; Shutdown then returns within another second at most. It
// returns nil when no command was cut off, otherwise an error that wraps ctx's and
// says how many commands were cut off and how many sessions it had to abandon.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.shutting.Store(true)
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	sessions := s.sessionList(true)
	var unstarted []net.Conn // admitted, still in a transport's handshake
	for t := range s.tickets {
		if t.sess == nil {
			unstarted = append(unstarted, t.conn)
		}
	}
	s.mu.Unlock()
	for _, c := range unstarted {
		c.Close()
	}
	for _, sess := range sessions {
		sess.stop("The store is closing now. Thank you for shopping, goodbye.")
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		s.cancelCtx()
		return nil
	case <-ctx.Done():
	}
	// Time is up: cut off whoever is left. A customer still being sent the
	// goodbye is only dropped; a command in flight is abandoned, and said so.
	s.cancelCtx()
	s.mu.Lock()
	sessions = s.sessionList(true)
	unstarted = unstarted[:0]
	for t := range s.tickets {
		unstarted = append(unstarted, t.conn)
	}
	s.mu.Unlock()
	busy := 0
	for _, sess := range sessions {
		if sess.busy.Load() {
			busy++
		}
		sess.conn.Close()
	}
	for _, c := range unstarted {
		c.Close()
	}
	if len(sessions) > 0 {
		s.Log.Info("shutdown: closed connections that had not ended", "sessions", len(sessions), "commands_in_flight", busy)
	}
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
		if busy > 0 {
			return fmt.Errorf("%w: %s in flight cut off", ctx.Err(), plural(busy, "command"))
		}
		return nil
	case <-grace.C:
		return fmt.Errorf("%w: %s in flight cut off; %s still running, abandoned", ctx.Err(), plural(busy, "command"), plural(s.Len(), "session"))
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// deadlineSlack is how far early a deadline of length d may fire: a tenth of it, at
// most a second.
func (s *Server) deadlineSlack(d time.Duration) time.Duration {
	return min(d/10, time.Second)
}

// sessionList returns the customers' sessions in id order, and the managers' too
// if managers is set; s.mu must be held.
func (s *Server) sessionList(managers bool) []*Session {
	list := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		if managers || !sess.spec.manager {
			list = append(list, sess)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// Customers lists the connected customers (shell.Hub).
func (s *Server) Customers() []shell.CustomerInfo {
	s.init()
	s.mu.Lock()
	list := s.sessionList(false)
	s.mu.Unlock()
	infos := make([]shell.CustomerInfo, 0, len(list))
	for _, sess := range list {
		infos = append(infos, sess.Info())
	}
	return infos
}

// Kick disconnects one customer (shell.Hub).
func (s *Server) Kick(id int64) bool {
	s.init()
	s.mu.Lock()
	sess := s.sessions[id]
	s.mu.Unlock()
	if sess == nil || sess.spec.manager {
		return false
	}
	sess.stop("The manager has closed your session. Goodbye.")
	return true
}

// Broadcast sends msg to every connected customer (shell.Hub). It does not wait for
// the network: each session writes it from its own goroutine.
func (s *Server) Broadcast(msg string) int {
	s.init()
	s.mu.Lock()
	list := s.sessionList(false)
	s.mu.Unlock()
	for _, sess := range list {
		sess.Notify("Message from the store: " + msg)
	}
	return len(list)
}

// Roster lists the connected customers (shell.Hub); it never fails.
func (s *Server) Roster(context.Context) (shell.Roster, error) {
	return shell.Roster{Customers: s.Customers()}, nil
}

// KickSession disconnects one customer (shell.Hub): ENOTFOUND if there is no such
// session, or it names an instance (a Server alone is no instance of several).
func (s *Server) KickSession(_ context.Context, ref shell.SessionRef) error {
	if ref.Instance != "" || !s.Kick(ref.ID) {
		return storify.Errorf(storify.ENOTFOUND, "no customer session %s; type customers to list them", ref)
	}
	return nil
}

// Say sends msg to every connected customer (shell.Hub); it never fails.
func (s *Server) Say(_ context.Context, msg string) (shell.Told, error) {
	return shell.Told{Customers: s.Broadcast(msg)}, nil
}

// NotifyOrder tells the connected customers whose order o is (shell.Hub).
func (s *Server) NotifyOrder(o storify.Order, msg string) int {
	s.init()
	s.mu.Lock()
	list := s.sessionList(false)
	s.mu.Unlock()
	n := 0
	for _, sess := range list {
		if c := sess.getCustomer(); c != nil && c.Owns(o) {
			sess.Notify(msg)
			n++
		}
	}
	return n
}

// NotifyManagers shows msg to the managers connected over SSH, above the line
// they are typing, as the console shows events; it returns how many. Like
// Broadcast it never waits for the network.
func (s *Server) NotifyManagers(msg string) int {
	s.init()
	s.mu.Lock()
	list := make([]*Session, 0, len(s.managers))
	for _, sess := range s.managers {
		list = append(list, sess)
	}
	s.mu.Unlock()
	for _, sess := range list {
		sess.Notify(msg)
	}
	return len(list)
}

// Len is the number of connections admitted: customers, and SSH connections
// still in their handshake or serving a manager.
func (s *Server) Len() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.admitted
}

func isLoopback(ip string) bool {
	a := net.ParseIP(ip)
	return a != nil && a.IsLoopback()
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
