package server_test

import (
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
)

// serverMetrics records what a server reports.
type serverMetrics struct {
	storify.NoMetrics
	mu        sync.Mutex
	connected map[string]int // by transport, now
	refused   map[string]int // by reason
	slow      int
}

func newServerMetrics() *serverMetrics {
	return &serverMetrics{connected: map[string]int{}, refused: map[string]int{}}
}

func (m *serverMetrics) CustomerConnected(tr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.connected[tr]++
}

func (m *serverMetrics) CustomerDisconnected(tr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.connected[tr]--
}

func (m *serverMetrics) ConnectionRefused(reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refused[reason]++
}

func (m *serverMetrics) SlowReaderDropped() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.slow++
}

func (m *serverMetrics) get(f func() int) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return f()
}

// Customers connected are counted while their session runs, by transport; refusals
// by reason: the address over its limit, the store full, a banned address.
func TestServerReportsConnections(t *testing.T) {
	m := newServerMetrics()
	srv := &server.Server{MaxCustomers: 3, MaxPerIP: 2, LimitLoopback: true, Metrics: m}
	addr := startServer(t, srv)
	a, b := connect(t, addr), connect(t, addr)
	a.until("echo> ")
	b.until("echo> ")
	if n := m.get(func() int { return m.connected["telnet"] }); n != 2 {
		t.Errorf("telnet customers connected: %d, want 2", n)
	}
	connect(t, addr).rest() // a third from one address
	if n := m.get(func() int { return m.refused["max_per_ip"] }); n != 1 {
		t.Errorf("refused for max_per_ip: %d, want 1", n)
	}
	a.send("quit")
	a.rest()
	waitFor(t, func() bool { return m.get(func() int { return m.connected["telnet"] }) == 1 })

	// The store full.
	full := newServerMetrics()
	addr = startServer(t, &server.Server{MaxCustomers: 1, Metrics: full})
	connect(t, addr).until("echo> ")
	if got := connect(t, addr).rest(); !strings.Contains(got, "The store is full") {
		t.Errorf("over the limit: %q", got)
	}
	if n := full.get(func() int { return full.refused["max_customers"] }); n != 1 {
		t.Errorf("refused for max_customers: %d, want 1", n)
	}

	// A banned address.
	banned := newServerMetrics()
	bans := &server.Bans{Metrics: banned}
	bans.Ban(context.Background(), netip.MustParsePrefix("127.0.0.0/8"), time.Time{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bl := bans.Listener(l)
	defer bl.Close()
	go bl.Accept() // turns the banned away, then waits for a connection that never comes
	c := connect(t, l.Addr())
	if got := c.rest(); !strings.Contains(got, "does not serve your address") {
		t.Errorf("banned address got %q", got)
	}
	if n := banned.get(func() int { return banned.refused["banned"] }); n != 1 {
		t.Errorf("refused as banned: %d, want 1", n)
	}
}

// A customer who reads nothing and is dropped for it is counted as a slow reader
// dropped; one who leaves is not.
func TestServerReportsSlowReaders(t *testing.T) {
	m := newServerMetrics()
	srv := &server.Server{WriteTimeout: 300 * time.Millisecond, Metrics: m}
	addr := startServer(t, srv)
	polite := connect(t, addr)
	polite.until("echo> ")
	polite.send("quit")
	polite.rest()
	slow := connect(t, addr)
	go func() {
		line := strings.Repeat("y", 900) + "\r\n"
		for i := 0; i < 100000; i++ { // bounded; it stops when the server drops it
			if _, err := io.WriteString(slow.conn, line); err != nil {
				return
			}
		}
	}()
	waitFor(t, func() bool { return m.get(func() int { return m.slow }) == 1 && srv.Len() == 0 })
	if n := m.get(func() int { return m.connected["telnet"] }); n != 0 {
		t.Errorf("telnet customers connected after both left: %d", n)
	}
}
