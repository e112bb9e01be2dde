package server

import (
	"net"
	"net/netip"
)

// clientKey is the key every per-address limit counts a connection under: the
// IPv4 address, or the /64 network of an IPv6 address (one subscriber usually
// has a whole /64, and could otherwise walk past any per-address limit by
// changing its last 64 bits). Loopback addresses are kept whole, so that
// isLoopback still knows them.
func clientKey(a net.Addr) string {
	host := hostOf(a)
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is4() || ip.IsLoopback() {
		return ip.String()
	}
	p, err := ip.WithZone("").Prefix(64)
	if err != nil {
		return host
	}
	return p.String()
}
