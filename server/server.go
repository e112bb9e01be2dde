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

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	sessions  map[int64]*Session
	perIP     map[string]int
	nextID    int64
	welcome   []byte // the greeting, and the first prompt if the Handler is a Prompter
	prompt    string
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
	s.perIP = map[string]int{}
	s.baseCtx, s.cancelCtx = context.WithCancel(context.Background())
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
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
	if p, ok := s.Handler.(Prompter); ok {
		s.prompt = p.Prompt()
	}
	s.welcome = []byte("Welcome to " + s.Name + ". Type help or ? to list commands.\r\n" + s.prompt)
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

// Serve accepts connections on l until Shutdown, which makes it return
// ErrServerClosed. It closes l.
func (s *Server) Serve(l net.Listener) error {
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
		s.accept(conn)
	}
}

// accept registers a connection as a session, or turns it away politely when a limit
// is reached, and starts serving it.
func (s *Server) accept(conn net.Conn) {
	ip := clientKey(conn.RemoteAddr())
	s.mu.Lock()
	var refusal string
	switch {
	case len(s.sessions) >= s.MaxCustomers:
		refusal = "The store is full right now; please try again in a few minutes."
	case s.perIP[ip] >= s.MaxPerIP && (s.LimitLoopback || !isLoopback(ip)):
		refusal = "Too many connections from your address; please close one and try again."
	}
	if refusal != "" {
		s.mu.Unlock()
		s.Log.Warn("customer refused", "addr", conn.RemoteAddr().String(), "why", refusal)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			conn.SetWriteDeadline(time.Now().Add(time.Second))
			conn.Write([]byte(refusal + "\r\n"))
			conn.Close()
		}()
		return
	}
	s.nextID++
	sess := newSession(s, s.nextID, conn)
	s.sessions[sess.ID] = sess
	s.perIP[ip]++
	s.wg.Add(1)
	s.mu.Unlock()
	// Logged here, not in the session's goroutine: formatting a log line takes
	// several KiB of stack, which an idle session would then keep for good.
	s.Log.Info("customer connected", "session", sess.ID, "addr", sess.RemoteAddr)
	go s.await(sess, ip)
}

// await runs a session: first on a small stack until the customer does something
// (see Session.awaitInput), then with the codec and the handler.
func (s *Server) await(sess *Session, ip string) {
	sess.awaitInput()
	s.serve(sess, ip)
}

func (s *Server) serve(sess *Session, ip string) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.sessions, sess.ID)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
		sess.close()
		s.Log.Info("customer left", "session", sess.ID, "addr", sess.RemoteAddr)
	}()
	defer func() {
		if v := recover(); v != nil {
			s.Log.Error("session panicked", "session", sess.ID, "panic", v, "stack", string(debug.Stack()))
			sess.say("Sorry, something went wrong on our side. Goodbye.")
		}
	}()
	sess.startCodec()
	s.Handler.ServeSession(s.baseCtx, sess)
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
	sessions := s.sessionList()
	s.mu.Unlock()
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
	sessions = s.sessionList()
	s.mu.Unlock()
	busy := 0
	for _, sess := range sessions {
		if sess.busy.Load() {
			busy++
		}
		sess.conn.Close()
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

// sessionList returns the sessions in id order; s.mu must be held.
func (s *Server) sessionList() []*Session {
	list := make([]*Session, 0, len(s.sessions))
	for _, sess := range s.sessions {
		list = append(list, sess)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list
}

// Customers lists the connected customers (shell.Hub).
func (s *Server) Customers() []shell.CustomerInfo {
	s.init()
	s.mu.Lock()
	list := s.sessionList()
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
	if sess == nil {
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
	list := s.sessionList()
	s.mu.Unlock()
	for _, sess := range list {
		sess.Notify("Message from the store: " + msg)
	}
	return len(list)
}

// NotifyOrder tells the connected customers whose order o is (shell.Hub).
func (s *Server) NotifyOrder(o storify.Order, msg string) int {
	s.init()
	s.mu.Lock()
	list := s.sessionList()
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

// Len is the number of connected customers.
func (s *Server) Len() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
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
