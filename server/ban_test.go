package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
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

// sharedBans is a storify.SharedBans in memory, standing for a store that
// several instances share; fail makes it unreachable.
type sharedBans struct {
	mu    sync.Mutex
	bans  map[netip.Prefix]time.Time
	watch []func()
	fail  bool
}

func (s *sharedBans) AddBan(_ context.Context, p netip.Prefix, until time.Time) error {
	s.mu.Lock()
	if s.fail {
		s.mu.Unlock()
		return storify.ErrUnavailable
	}
	s.bans[p] = until
	watch := slices.Clone(s.watch)
	s.mu.Unlock()
	for _, f := range watch {
		f()
	}
	return nil
}

func (s *sharedBans) RemoveBan(_ context.Context, p netip.Prefix) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return false, storify.ErrUnavailable
	}
	_, ok := s.bans[p]
	delete(s.bans, p)
	return ok, nil
}

func (s *sharedBans) Bans(context.Context) ([]storify.Ban, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail {
		return nil, storify.ErrUnavailable
	}
	var out []storify.Ban
	for p, u := range s.bans {
		out = append(out, storify.Ban{Prefix: p, Until: u})
	}
	return out, nil
}

func (s *sharedBans) WatchBans(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f != nil {
		s.watch = append(s.watch, f)
	}
}

// TestSharedBansFollowed: an instance's copy of a shared store's bans follows a
// ban made through another instance, as soon as the store tells of it, and keeps
// the bans it read while the store cannot be reached.
func TestSharedBansFollowed(t *testing.T) {
	store := &sharedBans{bans: map[netip.Prefix]time.Time{}}
	here, there := &server.Bans{Shared: store}, &server.Bans{Shared: store}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		here.Follow(ctx, time.Hour) // only the store's word refreshes it here
	}()
	defer func() { cancel(); <-done }()
	// The first ban may be read by Follow's first read; the second only when the
	// store tells of it.
	var addr netip.Addr
	for _, p := range []string{"192.0.2.0/24", "203.0.113.0/24"} {
		time.Sleep(50 * time.Millisecond)
		prefix := netip.MustParsePrefix(p)
		if err := there.Ban(ctx, prefix, time.Time{}); err != nil {
			t.Fatal(err)
		}
		addr = prefix.Addr().Next()
		deadline := time.Now().Add(10 * time.Second)
		for !here.Banned(addr) {
			if time.Now().After(deadline) {
				t.Fatalf("a ban of %s made through another instance is not followed", p)
			}
			time.Sleep(time.Millisecond)
		}
	}
	store.mu.Lock()
	store.fail = true
	store.mu.Unlock()
	if err := here.Refresh(ctx); err == nil {
		t.Fatal("Refresh with the store unreachable succeeded")
	}
	if !here.Banned(addr) {
		t.Error("the bans read are forgotten while the store cannot be reached")
	}
	if _, err := here.Bans(ctx); storify.ErrorCode(err) != storify.EUNAVAILABLE {
		t.Errorf("bans with the store unreachable: %v, want it unavailable", err)
	}
	if err := here.Ban(ctx, netip.MustParsePrefix("198.51.100.1/32"), time.Time{}); err == nil || here.Banned(netip.MustParseAddr("198.51.100.1")) {
		t.Errorf("a ban the store could not keep: %v; it must fail and ban nothing", err)
	}
}
