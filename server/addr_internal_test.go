package server

import (
	"net"
	"testing"
)

func TestClientKeyGroupsIPv6By64(t *testing.T) {
	for _, tt := range []struct{ addr, key string }{
		{"203.0.113.7:4000", "203.0.113.7"},
		{"[::ffff:203.0.113.7]:4000", "203.0.113.7"},
		{"[2001:db8:1:2::1]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff:ffff:ffff:ffff]:4000", "2001:db8:1:2::/64"},
		{"[2001:db8:1:3::1]:4000", "2001:db8:1:3::/64"},
		{"[fe80::1%eth0]:4000", "fe80::/64"},
		{"[::1]:4000", "::1"},
		{"127.0.0.1:4000", "127.0.0.1"},
	} {
		a, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		if got := clientKey(a); got != tt.key {
			t.Errorf("clientKey(%s) = %q, want %q", tt.addr, got, tt.key)
		}
	}
	if !isLoopback(clientKey(&net.TCPAddr{IP: net.IPv6loopback})) {
		t.Errorf("the key of ::1 is not loopback")
	}
}
