package postgres_test

import (
	"bytes"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// proxy forwards TCP connections from a listener on 127.0.0.1 to the database. It
// can be paused, as a network partition does: it keeps accepting and keeps every
// socket open, but forwards nothing, so the store's calls hang rather than fail;
// and cut, as a dropped link does: every connection is closed at once (new ones are
// still accepted and forwarded).
type proxy struct {
	tb     testing.TB
	ln     net.Listener
	target string

	mu    sync.Mutex
	gate  chan struct{} // closed while forwarding; open (blocking) while paused
	links map[*link]struct{}
	// trap, if set, pauses the proxy when the store next sends a chunk holding
	// trap.marker: after forwarding it (the server acts, its answer never comes)
	// or before (the server never hears it).
	trap *trap
	wg   sync.WaitGroup
	// lag, if not 0, holds each chunk from the database that long before it is
	// forwarded to the store, in order: a slow link.
	lag atomic.Int64
}

type trap struct {
	marker  []byte
	forward bool
	sprung  chan struct{} // closed when the trap pauses the proxy
}

// pauseAt arms the proxy to pause when the store next sends marker, forwarding that
// chunk first if forward is set; the channel is closed when it has paused.
func (p *proxy) pauseAt(marker string, forward bool) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.trap = &trap{marker: []byte(marker), forward: forward, sprung: make(chan struct{})}
	return p.trap.sprung
}

// sprung reports whether chunk, sent by the store, springs the trap; if so the
// trap is disarmed and the proxy paused (after the chunk is forwarded, if wanted).
func (p *proxy) sprung(chunk []byte) (tr *trap) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.trap == nil || !bytes.Contains(chunk, p.trap.marker) {
		return nil
	}
	tr, p.trap = p.trap, nil
	if !tr.forward {
		p.gate = make(chan struct{})
		close(tr.sprung)
	}
	return tr
}

// link is one forwarded connection: the store's end and the database's.
type link struct {
	client, server net.Conn
	done           chan struct{} // closed when the link is cut
	once           sync.Once
}

func (l *link) close() {
	l.once.Do(func() {
		close(l.done)
		l.client.Close()
		l.server.Close()
	})
}

// newProxy starts a proxy to target (host:port) and stops it when the test ends.
func newProxy(tb testing.TB, target string) *proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &proxy{tb: tb, ln: ln, target: target, gate: make(chan struct{}), links: map[*link]struct{}{}}
	close(p.gate)
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.close)
	return p
}

// proxied returns dsn (a URL) with its host and port replaced by the proxy's.
func (p *proxy) proxied(dsn string) string {
	p.tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		p.tb.Skipf("the proxy tests need a postgres:// URL in %s", dsnEnv)
	}
	u.Host = p.ln.Addr().String()
	return u.String()
}

// targetOf returns the host:port that dsn (a URL) connects to.
func targetOf(tb testing.TB, dsn string) string {
	tb.Helper()
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		tb.Skipf("the proxy tests need a postgres:// URL in %s", dsnEnv)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "5432")
	}
	return u.Host
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		l := &link{client: c, server: s, done: make(chan struct{})}
		p.mu.Lock()
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(l, l.server, l.client, true)
		go p.pipe(l, l.client, l.server, false)
	}
}

// pipe copies src to dst, holding what it read while the proxy is paused.
func (p *proxy) pipe(l *link, dst, src net.Conn, fromStore bool) {
	defer p.wg.Done()
	defer func() {
		l.close()
		p.mu.Lock()
		delete(p.links, l)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			var tr *trap
			if fromStore {
				tr = p.sprung(buf[:n])
			}
			if tr != nil && tr.forward {
				dst.Write(buf[:n]) //nolint:errcheck // the test looks at what the server did
				p.pause()
				close(tr.sprung)
				continue
			}
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			select {
			case <-gate:
			case <-l.done:
				return
			}
			if d := time.Duration(p.lag.Load()); d > 0 && !fromStore {
				time.Sleep(d)
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// pause stops forwarding, keeping every connection open.
func (p *proxy) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // paused already
	}
}

// resume forwards again, what was held first.
func (p *proxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// cut closes every connection forwarded so far.
func (p *proxy) cut() {
	p.mu.Lock()
	links := make([]*link, 0, len(p.links))
	for l := range p.links {
		links = append(links, l)
	}
	p.mu.Unlock()
	for _, l := range links {
		l.close()
	}
}

func (p *proxy) close() {
	p.ln.Close()
	p.resume()
	p.cut()
	p.wg.Wait()
}
