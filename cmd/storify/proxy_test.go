package main

import (
	"bufio"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pires/go-proxyproto"
)

// dialProxied connects as a load balancer would: a PROXY header for the customer
// at src (v1 or v2), then the customer's bytes.
func dialProxied(t *testing.T, addr net.Addr, src string, version byte) (*customer, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	from, err := net.ResolveTCPAddr("tcp", src)
	if err != nil {
		t.Fatal(err)
	}
	proto := proxyproto.TCPv4
	if from.IP.To4() == nil {
		proto = proxyproto.TCPv6
	}
	h := &proxyproto.Header{Version: version, Command: proxyproto.PROXY, TransportProtocol: proto,
		SourceAddr: from, DestinationAddr: addr}
	if proto == proxyproto.TCPv6 {
		h.DestinationAddr = &net.TCPAddr{IP: net.IPv6loopback, Port: 65432}
	}
	if _, err := h.WriteTo(conn); err != nil {
		t.Fatal(err)
	}
	c := &customer{t: t, conn: conn, r: bufio.NewReader(conn)}
	// Up to the first prompt, or the end of a refused connection.
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for !strings.HasSuffix(b.String(), "> ") {
		ch, err := c.r.ReadByte()
		if err != nil {
			break
		}
		b.WriteByte(ch)
	}
	return c, b.String()
}

// TestProxyProtocol: behind a trusted proxy, the customer's own address (from a
// v1 or v2 PROXY header) is what the manager's customers list shows and what the
// per-address limit counts, IPv6 by /64.
func TestProxyProtocol(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "proxy.db"), "--no-sample",
		"--proxy-protocol", "--trusted-proxies", "127.0.0.0/8,::1", "--max-per-ip", "2")
	// A proxy connection that has not sent its header yet holds up no one.
	silent, err := net.Dial("tcp", p.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	for i, v := range []byte{1, 2} {
		if _, greeting := dialProxied(t, p.m.Addr(), "203.0.113.7:4000", v); !strings.Contains(greeting, "Welcome to Test") {
			t.Fatalf("connection %d: %q", i, greeting)
		}
	}
	if _, got := dialProxied(t, p.m.Addr(), "203.0.113.7:4001", 1); !strings.Contains(got, "Too many connections from your address") {
		t.Errorf("third connection from 203.0.113.7: %q, want refused", got)
	}
	if _, got := dialProxied(t, p.m.Addr(), "198.51.100.9:4000", 2); !strings.Contains(got, "Welcome to Test") {
		t.Errorf("another customer behind the same proxy: %q", got)
	}
	// Two addresses of one IPv6 /64 are one customer's; another /64 is another's.
	for _, src := range []string{"[2001:db8:0:1::1]:4000", "[2001:db8:0:1::2]:4000"} {
		if _, got := dialProxied(t, p.m.Addr(), src, 2); !strings.Contains(got, "Welcome to Test") {
			t.Errorf("%s: %q", src, got)
		}
	}
	if _, got := dialProxied(t, p.m.Addr(), "[2001:db8:0:1:ffff::3]:4000", 1); !strings.Contains(got, "Too many connections from your address") {
		t.Errorf("a third address of the same /64: %q, want refused", got)
	}
	if _, got := dialProxied(t, p.m.Addr(), "[2001:db8:0:2::1]:4000", 1); !strings.Contains(got, "Welcome to Test") {
		t.Errorf("another /64: %q", got)
	}
	// From a trusted proxy, a connection without a PROXY header is closed unserved.
	bare, err := net.Dial("tcp", p.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	io.WriteString(bare, "list\r\n")
	bare.SetReadDeadline(time.Now().Add(10 * time.Second))
	if b, err := io.ReadAll(bare); err != nil || len(b) != 0 {
		t.Errorf("a trusted connection without a header got %q, %v; want it closed unserved", b, err)
	}
	got := p.manager("customers")
	for _, want := range []string{"203.0.113.7:4000", "198.51.100.9:4000", "[2001:db8:0:1::1]:4000"} {
		if !strings.Contains(got, want) {
			t.Errorf("customers does not show %s:\n%s", want, got)
		}
	}
	if strings.Contains(got, "127.0.0.1") {
		t.Errorf("customers shows the proxy's address:\n%s", got)
	}
}

// TestProxyHeaderFromUntrustedIsIgnored: a PROXY line from an address that is
// not a trusted proxy changes nothing: the connection keeps its own address.
func TestProxyHeaderFromUntrustedIsIgnored(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "proxy.db"), "--no-sample",
		"--proxy-protocol", "--trusted-proxies", "10.0.0.0/8")
	c := dial(t, p.m.Addr())
	if got := c.do("PROXY TCP4 203.0.113.7 127.0.0.1 4000 65432"); !strings.Contains(got, "Unknown command") {
		t.Errorf("a PROXY line from an untrusted peer: %q", got)
	}
	got := p.manager("customers")
	if strings.Contains(got, "203.0.113.7") || !strings.Contains(got, "127.0.0.1:") {
		t.Errorf("customers:\n%s", got)
	}
}
