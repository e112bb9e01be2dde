package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify/server"
)

var ctx = context.Background()

// TestBans: an address is banned by itself or within a network, a ban that has
// run out bans no more, and unban lifts exactly the ban given.
func TestBans(t *testing.T) {
	var b server.Bans
	addr := netip.MustParseAddr("203.0.113.7")
	if b.Banned(addr) {
		t.Fatal("the zero Bans bans someone")
	}
	b.Ban(ctx, netip.MustParsePrefix("203.0.113.0/24"), time.Time{})
	b.Ban(ctx, netip.MustParsePrefix("198.51.100.1/32"), time.Now().Add(-time.Second))
	if !b.Banned(addr) || !b.Banned(netip.MustParseAddr("::ffff:203.0.113.8")) || b.Banned(netip.MustParseAddr("203.0.114.1")) {
		t.Error("a network's ban does not cover its addresses, and only them")
	}
	if b.Banned(netip.MustParseAddr("198.51.100.1")) {
		t.Error("a ban that ran out still bans")
	}
	if bs, _ := b.Bans(ctx); len(bs) != 1 || bs[0].Prefix.String() != "203.0.113.0/24" {
		t.Errorf("Bans() = %v, want the one in force", bs)
	}
	if ok, _ := b.Unban(ctx, netip.MustParsePrefix("203.0.113.7/32")); ok {
		t.Error("unban lifts a ban that was not made")
	}
	if ok, _ := b.Unban(ctx, netip.MustParsePrefix("203.0.113.0/24")); !ok || b.Banned(addr) {
		t.Error("unban lifts another ban than the one given, or not the one given")
	}
}

// TestBannedListener: a connection from a banned address is told so and closed,
// and the listener goes on to accept the next one.
func TestBannedListener(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var b server.Bans
	b.Ban(ctx, netip.MustParsePrefix("127.0.0.1/32"), time.Time{})
	l := b.Listener(raw)
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			accepted <- c
		}
	}()
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "This store does not serve your address.\r\n" {
		t.Errorf("a banned address read %q, %v", got, err)
	}
	b.Unban(ctx, netip.MustParsePrefix("127.0.0.1/32"))
	c, err = net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case s := <-accepted:
		s.Write([]byte("hello\n"))
		s.Close()
		if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "hello") {
			t.Errorf("read %q from the accepted connection", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the listener did not accept a connection after the ban was lifted")
	}
}
