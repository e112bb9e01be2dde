package server_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/stalltest"
	"github.com/storify/storify/server"
	"github.com/storify/storify/sqlite"
	"golang.org/x/crypto/bcrypt"
)

// shopServer starts a shop on a new SQLite store with one product, Mug, and
// returns the server, its address and the store.
func shopServer(t *testing.T, srv *server.Server) (*server.Server, net.Addr, storify.Store) {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.AddProduct(context.Background(), storify.NewProduct{Name: "Mug", Price: 450, Stock: 1000,
		Description: strings.Repeat("A sturdy mug. ", 14)}); err != nil {
		t.Fatal(err)
	}
	srv.Handler = server.Shop(store, "Test", slog.New(slog.DiscardHandler))
	return srv, startServer(t, srv), store
}

// dialSmall connects with a small receive buffer, set before the connection is
// made so that the window stays small, as a client that means to stall would.
func dialSmall(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// stallServer makes conn's session block in a write: it sends commands whose
// replies it never reads until the server stops reading them too (a send has
// made no progress for half a second). It gives up after 64 MiB of commands.
func stallServer(t *testing.T, conn net.Conn, line string) {
	t.Helper()
	msg := []byte(strings.Repeat(line+"\r\n", 64<<10/(len(line)+2)))
	for i := 0; i < 1024; i++ {
		conn.SetWriteDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := conn.Write(msg); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return
			}
			t.Fatalf("stalling the server: %v", err)
		}
	}
	t.Fatal("the server kept reading commands whose replies were never read")
}

// TestNeverReadingCustomerStallsNoOne: with a customer whose session is blocked
// writing to them, and a write timeout of a minute, the console's customers,
// say, ship (which tells another customer) and kick each answer at once, and the
// other customer is served and notified. Before sessions owned their sockets,
// each of these waited for that customer's write deadline.
func TestNeverReadingCustomerStallsNoOne(t *testing.T) {
	srv, addr, store := shopServer(t, &server.Server{WriteTimeout: time.Minute})

	alice := connect(t, addr)
	alice.until("Test> ")
	alice.send("add Mug")
	alice.until("Test> ")
	alice.send("checkout Alice")
	if got := alice.until("Test> "); !strings.Contains(got, "Order #1 is placed") {
		t.Fatalf("checkout: %q", got)
	}

	sink := dialSmall(t, addr)
	stallServer(t, sink, "help")
	waitFor(t, func() bool { return srv.Len() == 2 })

	const limit = time.Second // the promise is well under 100 ms; a second leaves room for -race on a busy machine
	var reply string
	stalltest.Timed(t, "customers", limit, func() { reply = stalltest.ManagerExec(store, srv, "customers") })
	if !strings.Contains(reply, "Alice") || strings.Count(reply, "127.0.0.1") != 2 {
		t.Errorf("customers = %q", reply)
	}
	stalltest.Timed(t, "say", limit, func() { reply = stalltest.ManagerExec(store, srv, "say Closing at six") })
	if got := alice.until("Test> "); !strings.Contains(got, "Closing at six") {
		t.Errorf("alice got %q after say", got)
	}
	stalltest.Timed(t, "ship", limit, func() { reply = stalltest.ManagerExec(store, srv, "ship 1") })
	if got := alice.until("Test> "); !strings.Contains(got, "#1") || !strings.Contains(got, "shipped") {
		t.Errorf("alice got %q after ship (console said %q)", got, reply)
	}
	alice.send("cart")
	if got := alice.until("Test> "); !strings.Contains(got, "Your cart is empty") {
		t.Errorf("alice's cart: %q", got)
	}
	var sinkID int64
	for _, c := range srv.Customers() {
		if c.Name == "" {
			sinkID = c.ID
		}
	}
	stalltest.Timed(t, "kick", limit, func() { reply = stalltest.ManagerExec(store, srv, fmt.Sprintf("kick %d", sinkID)) })
	// The kicked customer is gone once the goodbye has had its second, not after
	// the write timeout.
	stalltest.Timed(t, "kicked customer gone", 5*time.Second, func() {
		for srv.Len() != 1 {
			time.Sleep(5 * time.Millisecond)
		}
	})
}

// TestShutdownWithNeverReadingCustomers: shutdown is bounded by its context (plus
// a second) whatever the write timeout, and a customer who never reads the
// goodbye does not make it fail: no command was cut off.
func TestShutdownWithNeverReadingCustomers(t *testing.T) {
	srv, addr, _ := shopServer(t, &server.Server{WriteTimeout: time.Minute})
	for range 3 {
		stallServer(t, dialSmall(t, addr), "help")
	}
	other := connect(t, addr)
	other.until("Test> ")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var err error
	stalltest.Timed(t, "Shutdown", 5*time.Second, func() { err = srv.Shutdown(ctx) })
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if got := other.rest(); !strings.Contains(got, "The store is closing now.") {
		t.Errorf("the reading customer got %q", got)
	}
}

// TestNegotiationFloodIsBounded: a client that sends telnet commands (which the
// server answers) and never reads is dropped by the write deadline, and the
// answers it never read do not pile up in the server's memory.
func TestNegotiationFloodIsBounded(t *testing.T) {
	const writeTimeout = time.Second
	srv, addr, _ := shopServer(t, &server.Server{WriteTimeout: writeTimeout})
	conn := dialSmall(t, addr)
	chunk := bytes.Repeat([]byte{255, 253, 99, 255, 246}, 64<<10/5) // IAC DO 99, IAC AYT
	const most = 64 << 20
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := before.HeapInuse
	sent, start := 0, time.Now()
	for sent < most {
		conn.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
		n, err := conn.Write(chunk)
		sent += n
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				if time.Since(start) > 10*writeTimeout {
					break
				}
				continue // the server is not reading: it is blocked on its answers
			}
			break // the server dropped us
		}
	}
	t.Logf("sent %d KiB in %v; heap in use %d MiB before, %d MiB at most", sent>>10, time.Since(start).Round(time.Millisecond), before.HeapInuse>>20, peak>>20)
	if grew := int64(peak) - int64(before.HeapInuse); grew > 16<<20 {
		t.Errorf("the heap grew by %d MiB while one client flooded telnet commands", grew>>20)
	}
	waitFor(t, func() bool { return srv.Len() == 0 })
	if sent >= most {
		t.Errorf("the server read all %d MiB without dropping the client", most>>20)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Errorf("after the flood: %v", err)
	}
}

// stuckCarts is a store whose next cart call, once armed, waits until released: a
// database that has stopped answering in the middle of a customer's command.
type stuckCarts struct {
	storify.Store
	arm     atomic.Bool
	blocked chan struct{} // receives when a cart call is held
	release chan struct{}
}

func (s *stuckCarts) stall() {
	if s.arm.CompareAndSwap(true, false) {
		s.blocked <- struct{}{}
		<-s.release
	}
}

func (s *stuckCarts) SavedCart(ctx context.Context, id int64) ([]storify.CartItem, error) {
	s.stall()
	return s.Store.SavedCart(ctx, id)
}

func (s *stuckCarts) SaveCart(ctx context.Context, id int64, items []storify.CartItem) error {
	s.stall()
	return s.Store.SaveCart(ctx, id, items)
}

// TestSlowDatabaseStallsNotTheConsole: while a logged-in customer's command waits
// on the database, the console's customers and ship answer at once.
func TestSlowDatabaseStallsNotTheConsole(t *testing.T) {
	base, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { base.Close() })
	ctx := context.Background()
	if _, err := base.AddProduct(ctx, storify.NewProduct{Name: "Mug", Price: 450, Stock: 10}); err != nil {
		t.Fatal(err)
	}
	hash, _ := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if _, err := base.CreateAccount(ctx, "bob", hash); err != nil {
		t.Fatal(err)
	}
	store := &stuckCarts{Store: base, blocked: make(chan struct{}, 1), release: make(chan struct{})}
	srv := &server.Server{Handler: server.Shop(store, "Test", slog.New(slog.DiscardHandler))}
	addr := startServer(t, srv)
	bob := connect(t, addr)
	bob.until("Test> ")
	bob.send("login bob")
	bob.until("Password: ")
	bob.send("correct horse")
	if got := bob.until("Test> "); !strings.Contains(got, "Welcome back, bob") {
		t.Fatalf("login: %q", got)
	}
	store.arm.Store(true)
	bob.send("add Mug")
	select {
	case <-store.blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("add never reached the cart in the store")
	}
	var reply string
	stalltest.Timed(t, "customers", time.Second, func() { reply = stalltest.ManagerExec(store, srv, "customers") })
	if !strings.Contains(reply, "bob") {
		t.Errorf("customers = %q", reply)
	}
	close(store.release)
	if got := bob.until("Test> "); !strings.Contains(got, "Added 1 Mug") {
		t.Errorf("add: %q", got)
	}
}
