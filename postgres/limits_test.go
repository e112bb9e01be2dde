package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
	"golang.org/x/crypto/bcrypt"
)

// sharedThrottles returns a login throttle on each store, as each instance has
// one, sharing the store's records.
func sharedThrottles(stores ...*postgres.Store) []*shell.LoginThrottle {
	var ths []*shell.LoginThrottle
	for _, s := range stores {
		th := shell.NewLoginThrottle()
		th.Shared = s
		ths = append(ths, th)
	}
	return ths
}

// guess makes one login attempt on th that gets as far as a wrong password, and
// reports whether the password was checked.
func guess(t *testing.T, th *shell.LoginThrottle, name, addr string) bool {
	ctx := context.Background()
	at, _, err := th.Reserve(ctx, name, addr)
	if err != nil {
		t.Errorf("Reserve %s: %v", name, err)
		return false
	}
	if at == nil {
		return false
	}
	defer at.Release(ctx)
	_, ok, err := at.Check(ctx)
	if err != nil {
		t.Errorf("Check %s: %v", name, err)
	}
	if !ok {
		return false
	}
	if err := at.Fail(ctx); err != nil {
		t.Errorf("Fail %s: %v", name, err)
	}
	return true
}

// raceGuesses makes sixty wrong guesses at once, the i-th for the name and from
// the address that at gives, spread over the instances' throttles in turn, and
// returns how many were checked.
func raceGuesses(t *testing.T, ths []*shell.LoginThrottle, at func(i int) (name, addr string)) int32 {
	var checked atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		wg.Go(func() {
			<-start
			name, addr := at(i)
			if guess(t, ths[i%len(ths)], name, addr) {
				checked.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	return checked.Load()
}

// Sixty wrong guesses at once for one name, spread over three instances, are
// throttled as by one throttle: five are checked, and the name is paused on every
// instance.
func TestLoginThrottleHoldsForTheStore(t *testing.T) {
	sc := newSchema(t)
	stores := []*postgres.Store{mustOpen(t, sc.dsn), mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)}
	ths := sharedThrottles(stores...)
	n := raceGuesses(t, ths, func(i int) (name, addr string) { return "bob", fmt.Sprintf("10.0.%d.1", i%7) })
	if n != 5 {
		t.Errorf("%d of 60 parallel guesses over 3 instances were checked, want 5", n)
	}
	for i, th := range ths {
		if at, wait, err := th.Reserve(context.Background(), "bob", "10.9.9.9"); at != nil || err != nil || wait <= 0 {
			t.Errorf("instance %d after 5 failures: attempt %v, wait %v, err %v; want a pause", i+1, at, wait, err)
		}
	}
	if at, _, _ := ths[1].Reserve(context.Background(), "alice", "10.0.1.1"); at == nil {
		t.Errorf("alice is kept out by the failures on bob")
	}
}

// The rule against spraying counts across instances: parallel guesses at as many
// names from one address, spread over three instances, check PerAddr names, and
// the address is then held back on every instance.
func TestLoginSprayingHeldForTheStore(t *testing.T) {
	sc := newSchema(t)
	stores := []*postgres.Store{mustOpen(t, sc.dsn), mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)}
	ths := sharedThrottles(stores...)
	n := raceGuesses(t, ths, func(i int) (name, addr string) { return fmt.Sprintf("user%d", i), "198.51.100.7" })
	if want := int32(ths[0].PerAddr); n != want {
		t.Errorf("%d names checked from one address over 3 instances, want %d", n, want)
	}
	for i, th := range ths {
		if at, wait, err := th.Reserve(context.Background(), "carol", "198.51.100.7"); at != nil || err != nil || wait <= 0 {
			t.Errorf("instance %d, a new name from the spraying address: attempt %v, wait %v, err %v; want a pause", i+1, at, wait, err)
		}
	}
}

// An instance that stops in the middle of checking passwords keeps the name
// locked for CheckHold only: then the other instances may try it again.
func TestCrashedAttemptLapses(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	crashing, err := postgres.Open(ctx, sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	other := mustOpen(t, sc.dsn)
	ths := sharedThrottles(crashing, other)
	for _, th := range ths {
		th.CheckHold = 2 * time.Second
	}
	for i := range 5 {
		at, _, err := ths[0].Reserve(ctx, "bob", "10.0.0.1")
		if at == nil || err != nil {
			t.Fatalf("attempt %d refused: %v", i+1, err)
		}
		if _, ok, err := at.Check(ctx); !ok || err != nil {
			t.Fatalf("check %d refused: %v", i+1, err)
		}
		// Never decided: the instance stops here.
	}
	crashing.Close()
	began := time.Now()
	if at, _, err := ths[1].Reserve(ctx, "bob", "10.0.0.2"); at != nil || err != nil {
		t.Fatalf("with 5 checks in flight on a stopped instance: attempt %v, err %v; want it held", at, err)
	}
	deadline := began.Add(ths[1].CheckHold + 10*time.Second)
	for {
		at, wait, err := ths[1].Reserve(ctx, "bob", "10.0.0.2")
		if err != nil {
			t.Fatal(err)
		}
		if at != nil {
			t.Logf("bob may be tried again %v after the instance stopped", time.Since(began).Round(time.Millisecond))
			at.Release(ctx)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("bob is still held %v after the instance stopped (wait %v); CheckHold is %v", time.Since(began), wait, ths[1].CheckHold)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// While the database does not answer, a login is refused with the store's
// unavailable error within the budget, never let through unchecked.
func TestLoginThrottleWhileDatabaseAway(t *testing.T) {
	s, p, _ := openProxied(t)
	th := sharedThrottles(s)[0]
	at, _, err := th.Reserve(context.Background(), "bob", "10.0.0.1")
	if at == nil || err != nil {
		t.Fatalf("Reserve with the database there: %v", err)
	}
	p.pause()
	err = bounded(t, "Check", within, func() error {
		_, ok, err := at.Check(context.Background())
		if ok {
			t.Errorf("a check was granted with the database away")
		}
		return err
	})
	if storify.ErrorCode(err) != storify.EUNAVAILABLE {
		t.Errorf("Check with the database away: %v, want ErrUnavailable", err)
	}
	err = bounded(t, "CheckPassword", within, func() error {
		_, err := shell.CheckPassword(context.Background(), s, th, shell.NewPasswords(shell.PasswordBudget{}), nil, "bob", "guess", "10.0.0.1")
		return err
	})
	if storify.ErrorMessage(err) != storify.ErrorMessage(storify.ErrUnavailable) {
		t.Errorf("a password given with the database away: %v, want the store's unavailable line", err)
	}
}

// A ban made on one instance turns its addresses away on the others, promptly;
// bans lists it on any instance; one lifted on another is lifted everywhere; one
// that lapses is dropped everywhere; and while an instance cannot reach the
// database, the bans it read keep applying.
func TestBansHoldForTheStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sc := newSchema(t)
	p := newProxy(t, targetOf(t, sc.dsn))
	far, err := postgres.Open(ctx, p.proxied(sc.dsn), postgres.Options{Timeout: budget})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.resume()
		far.Close()
	})
	a, b := &server.Bans{Shared: mustOpen(t, sc.dsn)}, &server.Bans{Shared: far}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	for _, bans := range []*server.Bans{a, b} {
		wg.Go(func() { bans.Follow(ctx, 200*time.Millisecond) })
	}
	net := netip.MustParsePrefix("203.0.113.0/24")
	addr := netip.MustParseAddr("203.0.113.9")
	if err := a.Ban(ctx, net, time.Time{}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	eventually(t, "B does not turn away an address banned on A", func() error {
		if !b.Banned(addr) {
			return fmt.Errorf("not banned")
		}
		return nil
	})
	t.Logf("B turns the address away %v after A banned it", time.Since(began).Round(time.Millisecond))
	if bs, err := b.Bans(ctx); err != nil || len(bs) != 1 || bs[0].Prefix != net {
		t.Errorf("bans on B: %v, %v; want A's", bs, err)
	}

	short := netip.MustParsePrefix("198.51.100.7/32")
	if err := b.Ban(ctx, short, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	eventually(t, "A does not turn away an address banned on B", func() error {
		if !a.Banned(short.Addr()) {
			return fmt.Errorf("not banned")
		}
		return nil
	})
	time.Sleep(time.Until(began.Add(1500 * time.Millisecond)))
	if a.Banned(short.Addr()) || b.Banned(short.Addr()) {
		t.Errorf("a ban that lapsed still turns away")
	}
	if bs, err := a.Bans(ctx); err != nil || len(bs) != 1 {
		t.Errorf("bans on A after one lapsed: %v, %v; want only the first", bs, err)
	}

	p.pause()
	time.Sleep(time.Second) // several of B's refreshes fail meanwhile
	if !b.Banned(addr) {
		t.Errorf("with the database away, B forgot the ban")
	}
	if err := bounded(t, "bans", within, func() error { _, err := b.Bans(ctx); return err }); storify.ErrorCode(err) != storify.EUNAVAILABLE {
		t.Errorf("bans on B with the database away: %v, want ErrUnavailable", err)
	}
	p.resume()

	if ok, err := b.Unban(ctx, net); !ok || err != nil {
		t.Fatalf("unban on B: %v, %v", ok, err)
	}
	eventually(t, "A still turns away an address unbanned on B", func() error {
		if a.Banned(addr) {
			return fmt.Errorf("banned")
		}
		return nil
	})
}

// Sixty sign-ups at once from sixty addresses, spread over three instances whose
// sign-up limits allow ten accounts for the store, open exactly ten: the
// register command, as customers type it.
func TestSignupCapHoldsForTheStore(t *testing.T) {
	sc := newSchema(t)
	stores := []*postgres.Store{mustOpen(t, sc.dsn), mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)}
	var limits []*shell.RegisterThrottle
	for _, s := range stores {
		l := shell.NewRegisterThrottle(10)
		l.Shared = s
		limits = append(limits, l)
	}
	// Room to hash every password that gets a place: the hashing budget's
	// refusals are not what this test is about.
	passwords := shell.NewPasswords(shell.PasswordBudget{Cost: bcrypt.MinCost, Queue: 60, QueueWait: time.Minute})
	var opened, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 60 {
		wg.Go(func() {
			var out bytes.Buffer
			term := shell.NewLineTerm(strings.NewReader(fmt.Sprintf("register shopper%d\na-password\na-password\n", i)), &out, 1024)
			c := shell.NewCustomer(stores[i%3], term, shell.CustomerConfig{
				StoreName: "Test", Addr: fmt.Sprintf("203.0.113.%d", i+1), Registrations: limits[i%3], Passwords: passwords,
			})
			<-start
			if err := c.Run(context.Background()); err != nil {
				t.Errorf("sign-up %d: %v", i, err)
			}
			term.Flush()
			switch got := out.String(); {
			case strings.Contains(got, "your account is open"):
				opened.Add(1)
			case strings.Contains(got, "Too many new accounts right now"):
				refused.Add(1)
			default:
				t.Errorf("sign-up %d: %q", i, got)
			}
		})
	}
	close(start)
	wg.Wait()
	accounts, err := stores[0].Accounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if opened.Load() != 10 || len(accounts) != 10 {
		t.Errorf("%d sign-ups told their account is open, %d accounts in the store, %d refused; want 10", opened.Load(), len(accounts), refused.Load())
	}
}

// BenchmarkSharedLoginThrottle measures what the shared throttle adds to a login:
// its three decisions (Reserve before the prompt, Check before the hash, Succeed
// after it), each a transaction on the store's records.
func BenchmarkSharedLoginThrottle(b *testing.B) {
	sc := newSchema(b)
	th := sharedThrottles(mustOpen(b, sc.dsn))[0]
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		at, _, err := th.Reserve(ctx, fmt.Sprintf("user%d", i%100), "10.0.0.1")
		if at == nil || err != nil {
			b.Fatalf("Reserve: %v", err)
		}
		if _, ok, err := at.Check(ctx); !ok || err != nil {
			b.Fatalf("Check: %v", err)
		}
		if err := at.Succeed(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
