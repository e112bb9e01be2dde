package server

import (
	"context"
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
// unbans through it (shell.Banner). Without Shared, bans are kept in memory, by
// this instance, until they expire or the store closes. With Shared (a store that
// several instances share), they are the store's: a ban made on any instance holds
// on every one. Connections are still checked against a copy in memory, never the
// database, and Follow keeps the copy true; while the database is away, the last
// bans read keep applying. Bans is safe for concurrent use; its zero value bans no
// one.
type Bans struct {
	Log *slog.Logger // where refusals are logged; nil for nowhere
	// Metrics, if set, counts each refusal (reason "banned").
	Metrics storify.ServerMetrics
	// Shared, if set, keeps the bans in the store the instances share.
	Shared storify.SharedBans

	mu      sync.Mutex
	bans    map[netip.Prefix]time.Time // until when; the zero time for until unbanned
	changed uint64                     // counts this instance's changes, so a read of Shared older than one is not kept
}

var _ shell.Banner = (*Bans)(nil)

// Ban keeps the addresses of p out until until (the zero time: until Unban).
func (b *Bans) Ban(ctx context.Context, p netip.Prefix, until time.Time) error {
	p = p.Masked()
	if b.Shared != nil {
		if err := b.Shared.AddBan(ctx, p, until); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bans == nil {
		b.bans = map[netip.Prefix]time.Time{}
	}
	b.bans[p] = until
	b.changed++
	return nil
}

// Unban lifts the ban of exactly p, and reports whether there was one.
func (b *Bans) Unban(ctx context.Context, p netip.Prefix) (bool, error) {
	p = p.Masked()
	var shared bool
	if b.Shared != nil {
		var err error
		if shared, err = b.Shared.RemoveBan(ctx, p); err != nil {
			return false, err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.bans[p]
	delete(b.bans, p)
	b.changed++
	return ok || shared, nil
}

// Bans lists the bans in force, by address: with Shared, the store's, read now.
func (b *Bans) Bans(ctx context.Context) ([]shell.BanInfo, error) {
	if b.Shared != nil {
		if err := b.Refresh(ctx); err != nil {
			return nil, err
		}
	}
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
	return out, nil
}

// Refresh reads the bans of Shared again into the copy that accepted connections
// are checked against. On an error the copy stays as it was.
func (b *Bans) Refresh(ctx context.Context) error {
	for range 3 {
		b.mu.Lock()
		before := b.changed
		b.mu.Unlock()
		list, err := b.Shared.Bans(ctx)
		if err != nil {
			return err
		}
		bans := make(map[netip.Prefix]time.Time, len(list))
		for _, ban := range list {
			bans[ban.Prefix.Masked()] = ban.Until
		}
		b.mu.Lock()
		if b.changed == before {
			b.bans = bans
			b.mu.Unlock()
			return nil
		}
		b.mu.Unlock() // changed here meanwhile: that read may be older than the change
	}
	return nil // changing still: the copy has this instance's changes, the next read the rest
}

// Follow keeps the copy of Shared's bans true until ctx ends: it reads them
// again whenever the store says they changed, and every period in any case (in
// case a change was not heard). A failed read is logged once per outage; the
// last bans read keep applying meanwhile.
func (b *Bans) Follow(ctx context.Context, period time.Duration) {
	if b.Shared == nil {
		return
	}
	changed := make(chan struct{}, 1)
	b.Shared.WatchBans(func() {
		select {
		case changed <- struct{}{}:
		default: // a read is due already
		}
	})
	defer b.Shared.WatchBans(nil)
	t := time.NewTicker(period)
	defer t.Stop()
	failing := false
	for {
		if err := b.Refresh(ctx); err != nil && ctx.Err() == nil {
			if !failing && b.Log != nil {
				b.Log.Warn("the bans cannot be read from the database: the last ones read keep applying", "err", err)
			}
			failing = true
		} else if failing {
			failing = false
			if b.Log != nil {
				b.Log.Info("the bans are read from the database again")
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-t.C:
		}
	}
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
