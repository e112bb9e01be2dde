package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/pires/go-proxyproto"
	"github.com/storify/storify"
)

// proxyHeaderTimeout bounds how long a trusted proxy may take to send the PROXY
// header once it has connected (HAProxy sends it at once).
const proxyHeaderTimeout = 5 * time.Second

// proxyListener accepts customers behind a load balancer that speaks the PROXY
// protocol (v1 or v2). A connection from a trusted proxy must start with a PROXY
// header, and then has the customer's address as its RemoteAddr, which every limit,
// throttle, log line and the manager's customers list use; without a valid header
// it is closed. A connection from anywhere else is passed on as it is: its own
// address counts, and a PROXY line it sends is just a line (an unknown command).
//
// The header is read in a goroutine of the connection's own, so a slow proxy
// stalls no other connection, and the server's accept loop never waits for it.
type proxyListener struct {
	net.Listener
	trusted []netip.Prefix
	log     *slog.Logger
	metrics storify.ServerMetrics // counts connections closed for want of a header

	ready chan net.Conn // connections ready to serve
	errc  chan error    // the inner listener's Accept error
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
}

func newProxyListener(l net.Listener, trusted []netip.Prefix, log *slog.Logger, metrics storify.ServerMetrics) *proxyListener {
	if metrics == nil {
		metrics = storify.NoMetrics{}
	}
	p := &proxyListener{
		Listener: l, trusted: trusted, log: log, metrics: metrics,
		ready: make(chan net.Conn), errc: make(chan error, 1), done: make(chan struct{}),
	}
	go p.acceptLoop()
	return p
}

func (p *proxyListener) acceptLoop() {
	for {
		conn, err := p.Listener.Accept()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			p.errc <- err
			return
		}
		if !p.isTrusted(conn.RemoteAddr()) {
			p.hand(conn)
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			pc := proxyproto.NewConn(conn, proxyproto.WithPolicy(proxyproto.REQUIRE),
				proxyproto.SetReadHeaderTimeout(proxyHeaderTimeout))
			if pc.ProxyHeader() == nil {
				// A LOCAL header (a health check) is a header too; none at all, or a
				// bad one, from a proxy we trust is a misconfiguration worth a line.
				p.log.Warn("connection from a trusted proxy without a valid PROXY header; closed", "addr", conn.RemoteAddr().String())
				p.metrics.ConnectionRefused("no_proxy_header")
				conn.Close()
				return
			}
			p.hand(pc)
		}()
	}
}

// hand gives conn to Accept, or closes it if the listener is closed.
func (p *proxyListener) hand(conn net.Conn) {
	select {
	case p.ready <- conn:
	case <-p.done:
		conn.Close()
	}
}

func (p *proxyListener) isTrusted(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip, ok := netip.AddrFromSlice(ta.IP)
	if !ok {
		return false
	}
	ip = ip.Unmap()
	for _, pr := range p.trusted {
		if pr.Contains(ip) {
			return true
		}
	}
	return false
}

// Accept returns the next connection ready to serve.
func (p *proxyListener) Accept() (net.Conn, error) {
	select {
	case conn := <-p.ready:
		return conn, nil
	case err := <-p.errc:
		p.errc <- err // for the next call too
		return nil, err
	case <-p.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; connections still sending their header are closed.
func (p *proxyListener) Close() error {
	err := p.Listener.Close()
	p.once.Do(func() { close(p.done) })
	return err
}

// parseTrustedProxies reads a comma-separated list of CIDRs (a bare address means
// that address alone).
func parseTrustedProxies(s string) ([]netip.Prefix, error) {
	var ps []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return nil, fmt.Errorf("%q is not an address or CIDR", f)
			}
			ps = append(ps, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		pr, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an address or CIDR", f)
		}
		if pr.Addr().Is4In6() {
			pr = netip.PrefixFrom(pr.Addr().Unmap(), pr.Bits()-96)
		}
		ps = append(ps, pr.Masked())
	}
	return ps, nil
}
