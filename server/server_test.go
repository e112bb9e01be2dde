package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// echo is a handler that answers each line with "you said: LINE" and quits on "quit";
// "slow" takes 300 ms, "panic" panics.
var echo = server.HandlerFunc(func(ctx context.Context, s *server.Session) {
	for {
		line, err := s.ReadLine("echo> ")
		switch {
		case errors.Is(err, shell.ErrLineTooLong):
			fmt.Fprintf(s, "too long\n")
			continue
		case err != nil:
			return
		}
		switch line {
		case "quit":
			fmt.Fprintf(s, "bye\n")
			return
		case "slow":
			time.Sleep(300 * time.Millisecond)
		case "panic":
			panic("boom")
		}
		fmt.Fprintf(s, "you said: %s\n", line)
	}
})

func startServer(t *testing.T, srv *server.Server) net.Addr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if srv.Handler == nil {
		srv.Handler = echo
	}
	srv.Name = "Test"
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; !errors.Is(err, server.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return l.Addr()
}

type client struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func connect(t *testing.T, addr net.Addr) *client {
	t.Helper()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// until reads until marker and returns what was read.
func (c *client) until(marker string) string {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b strings.Builder
	for !strings.HasSuffix(b.String(), marker) {
		ch, err := c.r.ReadByte()
		if err != nil {
			c.t.Fatalf("waiting for %q: %v; got %q", marker, err, b.String())
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func (c *client) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// rest reads everything until the server closes the connection.
func (c *client) rest() string {
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c.r)
	if err != nil {
		c.t.Errorf("reading to the end: %v", err)
	}
	return string(b)
}

func TestGreetingAndOneWritePerReply(t *testing.T) {
	addr := startServer(t, &server.Server{})
	c := connect(t, addr)
	if got := c.until("echo> "); got != "Welcome to Test. Type help or ? to list commands.\r\necho> " {
		t.Errorf("greeting = %q", got)
	}
	c.send("hello")
	if got := c.until("echo> "); got != "you said: hello\r\necho> " {
		t.Errorf("reply = %q", got)
	}
	c.send("quit")
	if got := c.rest(); got != "bye\r\n" {
		t.Errorf("after quit: %q", got)
	}
}

func TestLimits(t *testing.T) {
	srv := &server.Server{MaxCustomers: 3, MaxPerIP: 2, MaxLine: 32, LimitLoopback: true}
	addr := startServer(t, srv)
	a, b := connect(t, addr), connect(t, addr)
	a.until("echo> ")
	b.until("echo> ")
	if got := connect(t, addr).rest(); !strings.Contains(got, "Too many connections from your address") {
		t.Errorf("third connection from one address got %q", got)
	}
	a.send(strings.Repeat("x", 100))
	if got := a.until("echo> "); got != "too long\r\necho> " {
		t.Errorf("over-long line got %q", got)
	}
	a.send("still here")
	if got := a.until("echo> "); !strings.Contains(got, "you said: still here") {
		t.Errorf("line after the long one got %q", got)
	}
}

func TestLoopbackIsNotLimitedPerAddress(t *testing.T) {
	addr := startServer(t, &server.Server{MaxPerIP: 1})
	connect(t, addr).until("echo> ")
	connect(t, addr).until("echo> ")
}

// TestFloodFromOneAddress: 300 connections at once from one address; those over the
// limit are refused politely, and a customer already in keeps shopping.
func TestFloodFromOneAddress(t *testing.T) {
	srv := &server.Server{MaxPerIP: 20, LimitLoopback: true}
	addr := startServer(t, srv)
	first := connect(t, addr)
	first.until("echo> ")
	var wg sync.WaitGroup
	var mu sync.Mutex
	welcomed, refused := 0, 0
	release := make(chan struct{}) // every connection stays open until all have answers
	var answered sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		answered.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
			if err != nil {
				answered.Done()
				return
			}
			defer conn.Close()
			defer func() { <-release }()
			defer answered.Done()
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 200)
			n, _ := io.ReadAtLeast(conn, buf, 20)
			mu.Lock()
			defer mu.Unlock()
			switch s := string(buf[:n]); {
			case strings.HasPrefix(s, "Welcome"):
				welcomed++
			case strings.HasPrefix(s, "Too many connections from your address"):
				refused++
			}
		}()
	}
	answered.Wait()
	close(release)
	wg.Wait()
	if welcomed > 19 || welcomed+refused != 300 {
		t.Errorf("%d welcomed, %d refused; want at most 19 welcomed and the rest refused", welcomed, refused)
	}
	first.send("still here")
	if got := first.until("echo> "); !strings.Contains(got, "you said: still here") {
		t.Errorf("the customer already in got %q", got)
	}
	waitFor(t, func() bool { return srv.Len() == 1 })
}

func TestMaxCustomers(t *testing.T) {
	addr := startServer(t, &server.Server{MaxCustomers: 2})
	connect(t, addr).until("echo> ")
	connect(t, addr).until("echo> ")
	if got := connect(t, addr).rest(); !strings.Contains(got, "The store is full right now") {
		t.Errorf("connection over the limit got %q", got)
	}
}

func TestPanicEndsOnlyThatSession(t *testing.T) {
	srv := &server.Server{}
	addr := startServer(t, srv)
	a, b := connect(t, addr), connect(t, addr)
	a.until("echo> ")
	b.until("echo> ")
	a.send("panic")
	if got := a.rest(); !strings.Contains(got, "Sorry, something went wrong on our side. Goodbye.") {
		t.Errorf("panicking session got %q", got)
	}
	b.send("ok")
	if got := b.until("echo> "); !strings.Contains(got, "you said: ok") {
		t.Errorf("other session got %q", got)
	}
	waitFor(t, func() bool { return srv.Len() == 1 })
}

func TestIdleTimeout(t *testing.T) {
	srv := &server.Server{IdleTimeout: 1500 * time.Millisecond, IdleWarning: 1200 * time.Millisecond}
	addr := startServer(t, srv)
	c := connect(t, addr)
	c.until("echo> ")
	// A warning first, with the prompt again; typing then keeps the session.
	if got := c.until("echo> "); !strings.Contains(got, "*** You have been idle a while; you will be disconnected in") {
		t.Errorf("idle customer was not warned: %q", got)
	}
	c.send("here")
	if got := c.until("echo> "); !strings.Contains(got, "you said: here") {
		t.Errorf("after the warning: %q", got)
	}
	got := c.rest()
	if !strings.Contains(got, "*** You have been idle a while") || !strings.HasSuffix(got, "echo> You have been idle too long. Goodbye.\r\n") {
		t.Errorf("idle customer got %q", got)
	}
	waitFor(t, func() bool { return srv.Len() == 0 })
}

// TestSlowReaderStallsNoOne: a customer who never reads is dropped by the write
// deadline, while broadcasts and other customers go on.
func TestSlowReaderStallsNoOne(t *testing.T) {
	srv := &server.Server{WriteTimeout: 300 * time.Millisecond}
	addr := startServer(t, srv)
	slow := connect(t, addr)
	fast := connect(t, addr)
	fast.until("echo> ")
	// The slow client sends a flood of lines and reads nothing: its replies pile up.
	go func() {
		line := strings.Repeat("y", 900) + "\r\n"
		for i := 0; i < 100000; i++ { // bounded; it stops when the server drops it
			if _, err := io.WriteString(slow.conn, line); err != nil {
				return
			}
		}
	}()
	var seen strings.Builder
	for i := 0; i < 20; i++ {
		srv.Broadcast(fmt.Sprintf("note %d", i))
		fast.send(fmt.Sprint("ping ", i))
		seen.WriteString(fast.until(fmt.Sprintf("you said: ping %d\r\n", i)))
	}
	srv.Broadcast("last")
	seen.WriteString(fast.until("last\r\necho> "))
	// Every notice arrives, in order.
	out := seen.String()
	for i, at := 0, 0; i < 20; i++ {
		j := strings.Index(out[at:], fmt.Sprintf("*** Message from the store: note %d\r\n", i))
		if j < 0 {
			t.Fatalf("note %d missing or out of order in %q", i, out)
		}
		at += j
	}
	waitFor(t, func() bool { return srv.Len() == 1 })
}

func TestShutdownFinishesCommandInFlight(t *testing.T) {
	srv := &server.Server{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Handler, srv.Name = echo, "Test"
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	busy, idle := connect(t, l.Addr()), connect(t, l.Addr())
	busy.until("echo> ")
	idle.until("echo> ")
	busy.send("slow")
	time.Sleep(50 * time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	}()
	if got := busy.rest(); got != "you said: slow\r\nThe store is closing now. Thank you for shopping, goodbye.\r\n" {
		t.Errorf("busy customer got %q", got)
	}
	if got := idle.rest(); !strings.Contains(got, "The store is closing now.") {
		t.Errorf("idle customer got %q", got)
	}
	wg.Wait()
	if err := <-done; !errors.Is(err, server.ErrServerClosed) {
		t.Errorf("Serve returned %v", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Errorf("the server still accepts after Shutdown")
	}
}

func TestNoticeAtPrompt(t *testing.T) {
	srv := &server.Server{}
	addr := startServer(t, srv)
	c := connect(t, addr)
	c.until("echo> ")
	waitFor(t, func() bool { return srv.Len() == 1 })
	if n := srv.Broadcast("hello all"); n != 1 {
		t.Errorf("Broadcast reached %d", n)
	}
	if got := c.until("echo> "); got != "\r\n*** Message from the store: hello all\r\necho> " {
		t.Errorf("notice = %q", got)
	}
	infos := srv.Customers()
	if len(infos) != 1 || infos[0].ID != 1 || !strings.HasPrefix(infos[0].Addr, "127.0.0.1:") {
		t.Errorf("Customers() = %+v", infos)
	}
	if !srv.Kick(1) || srv.Kick(99) {
		t.Errorf("Kick answered wrong")
	}
	if got := c.rest(); !strings.Contains(got, "The manager has closed your session.") {
		t.Errorf("kicked customer got %q", got)
	}
}

// TestLastActive: the manager sees a customer's last activity move when they run
// a command, and not while they only stay connected.
func TestLastActive(t *testing.T) {
	srv := &server.Server{}
	addr := startServer(t, srv)
	c := connect(t, addr)
	c.until("echo> ")
	waitFor(t, func() bool { return srv.Len() == 1 })
	first := srv.Customers()[0].LastActive
	time.Sleep(20 * time.Millisecond)
	if got := srv.Customers()[0].LastActive; !got.Equal(first) {
		t.Errorf("LastActive moved from %v to %v while the customer did nothing", first, got)
	}
	sent := time.Now()
	c.send("hello")
	c.until("echo> ")
	waitFor(t, func() bool { return !srv.Customers()[0].LastActive.Before(sent) })
	if got := srv.Customers()[0].LastActive; got.After(time.Now()) {
		t.Errorf("LastActive %v is in the future", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNoGoroutineOutlivesItsSession: sessions that end every way (quit, hang-up,
// panic, kick) leave no goroutine behind.
func TestNoGoroutineOutlivesItsSession(t *testing.T) {
	srv := &server.Server{}
	addr := startServer(t, srv)
	time.Sleep(50 * time.Millisecond)
	before := runtime.NumGoroutine()
	for i := 0; i < 40; i++ {
		c := connect(t, addr)
		c.until("echo> ")
		switch i % 4 {
		case 0:
			c.send("quit")
			c.rest()
		case 1:
			c.conn.Close()
		case 2:
			c.send("panic")
			c.rest()
		case 3:
			waitFor(t, func() bool { return srv.Len() > 0 })
			srv.Broadcast("hello")
			for _, info := range srv.Customers() {
				srv.Kick(info.ID)
			}
			c.rest()
		}
	}
	waitFor(t, func() bool { return srv.Len() == 0 && runtime.NumGoroutine() <= before })
}

// promptingEcho is echo as a Prompter: the server shows its first prompt with the
// greeting and holds the session on a small stack until the customer acts.
type promptingEcho struct{}

func (promptingEcho) Prompt() string { return "echo> " }
func (promptingEcho) ServeSession(ctx context.Context, s *server.Session) {
	echo.ServeSession(ctx, s)
}

func TestAwaitingFirstInput(t *testing.T) {
	srv := &server.Server{Handler: promptingEcho{}, IdleTimeout: 1500 * time.Millisecond, IdleWarning: 1200 * time.Millisecond}
	addr := startServer(t, srv)

	// The greeting and the first prompt come in one piece; input is answered
	// with no second prompt before it.
	a := connect(t, addr)
	if got := a.until("echo> "); got != "Welcome to Test. Type help or ? to list commands.\r\necho> " {
		t.Errorf("greeting = %q", got)
	}
	a.send("hello")
	if got := a.until("echo> "); got != "you said: hello\r\necho> " {
		t.Errorf("first reply = %q", got)
	}

	// A notice reaches a customer who has not typed anything yet.
	b := connect(t, addr)
	b.until("echo> ")
	waitFor(t, func() bool { return srv.Len() == 2 })
	srv.Broadcast("hi all")
	if got := b.until("echo> "); got != "\r\n*** Message from the store: hi all\r\necho> " {
		t.Errorf("notice before any input = %q", got)
	}
	a.until("echo> ")

	// So does a kick, and the idle warning.
	c := connect(t, addr)
	c.until("echo> ")
	waitFor(t, func() bool { return srv.Len() == 3 })
	srv.Kick(3)
	if got := c.rest(); got != "\r\nThe manager has closed your session. Goodbye.\r\n" {
		t.Errorf("kick before any input = %q", got)
	}
	if got := b.until("echo> "); !strings.Contains(got, "*** You have been idle a while") {
		t.Errorf("idle warning before any input = %q", got)
	}
	if got := b.rest(); !strings.Contains(got, "You have been idle too long. Goodbye.") {
		t.Errorf("idle end = %q", got)
	}
}
