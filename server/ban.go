package server

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// bannedMessage is all a banned address hears before the connection is closed.
const bannedMessage = "This store does not serve your address.\r\n"

// Bans keeps addresses out: a connection from a banned address is told so and
// closed as it is accepted, before it becomes a session. The manager bans and
// unbans through it (shell.Banner). Bans are kept in memory, by this instance, until
// they expire or the store closes. Bans is safe for concurrent use; its zero value
// bans no one.
type Bans struct {
	Log *slog.Logger // where refusals are logged; nil for nowhere
	// Metrics, if set, counts each refusal (reason "banned").
	Metrics storify.ServerMetrics

	mu   sync.Mutex
	bans map[netip.Prefix]time.Time // until when; the zero time for until unbanned
}

var _ shell.Banner = (*Bans)(nil)

// Ban keeps the addresses of p out until until (the zero time: until Unban).
func (b *Bans) Ban(p netip.Prefix, until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bans == nil {
		b.bans = map[netip.Prefix]time.Time{}
	}
	b.bans[p.Masked()] = until
}

// Unban lifts the ban of exactly p, and reports whether there was one.
func (b *Bans) Unban(p netip.Prefix) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	p = p.Masked()
	_, ok := b.bans[p]
	delete(b.bans, p)
	return ok
}

// Bans lists the bans in force, by address.
func (b *Bans) Bans() []shell.BanInfo {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	var out []shell.BanInfo
	for p, until := range b.bans {
		if !until.IsZero() && !now.Before(until) {
			delete(b.bans, p)
			continue
		}
		out = append(out, shell.BanInfo{Prefix: p, Until: until})
	}
	slices.SortFunc(out, func(x, y shell.BanInfo) int { return x.Prefix.Addr().Compare(y.Prefix.Addr()) })
	return out
}

// Banned reports whether addr is banned now.
func (b *Bans) Banned(addr netip.Addr) bool {
	addr = addr.Unmap()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.bans) == 0 {
		return false
	}
	now := time.Now()
	for p, until := range b.bans {
		if p.Contains(addr) && (until.IsZero() || now.Before(until)) {
			return true
		}
	}
	return false
}

// Listener returns l with banned addresses turned away: its Accept returns only
// connections from addresses not banned.
func (b *Bans) Listener(l net.Listener) net.Listener { return &banningListener{Listener: l, bans: b} }

type banningListener struct {
	net.Listener
	bans *Bans
}

// refuseWait bounds the one write to a banned address. A fresh connection's send
// buffer is empty, so it does not wait in practice; the bound keeps the accept loop
// from ever waiting longer on one.
const refuseWait = 100 * time.Millisecond

func (l *banningListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ap, perr := netip.ParseAddrPort(c.RemoteAddr().String())
		if perr != nil || !l.bans.Banned(ap.Addr()) {
			return c, nil
		}
		if l.bans.Log != nil {
			l.bans.Log.Warn("customer refused", "addr", c.RemoteAddr().String(), "why", "banned")
		}
		if l.bans.Metrics != nil {
			l.bans.Metrics.ConnectionRefused("banned")
		}
		c.SetWriteDeadline(time.Now().Add(refuseWait))
		c.Write([]byte(bannedMessage))
		c.Close()
	}
}
