package postgres_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// waitAlone reads through s until its reads need no round of the listener: it is the
// only instance of its store.
func waitAlone(t *testing.T, s *postgres.Store, id int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !postgres.Alone(s) {
		if time.Now().After(deadline) {
			t.Fatal("the only instance of its store is not alone after 10s")
		}
		if _, err := s.Product(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

// commitAs readies s, so far the only instance of sc's store, to commit its
// checkouts as an instance alone does, or, with company, as one that shares its
// store does (with another instance it opens), and returns what s's checkouts then
// send to commit.
func commitAs(t *testing.T, s *postgres.Store, sc testSchema, company bool) (commit string) {
	t.Helper()
	ready, commit := func() bool { return postgres.CommitsAlone(s) }, postgres.LoneCommit
	if company {
		other := mustOpen(t, withParams(t, sc.dsn, map[string]string{"application_name": sc.name + " other"}))
		waitListening(t, s, other)
		// Once the other holds the presence lock, s cannot be alone.
		ready, commit = func() bool { return postgres.HoldsPresence(other) && !postgres.CommitsAlone(s) }, postgres.CheckoutCommit
	}
	for deadline := time.Now().Add(10 * time.Second); !ready(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the store does not commit as with company=%v after 10s", company)
		}
	}
	return commit
}

// aloneBehindProxy opens a store in a new schema through a proxy, adds a product,
// and waits until the store is alone.
func aloneBehindProxy(t *testing.T) (testSchema, *proxy, *postgres.Store, storify.Product) {
	t.Helper()
	sc := newSchema(t)
	p := newProxy(t, targetOf(t, sc.dsn))
	a := mustOpen(t, p.proxied(sc.dsn))
	mug, err := a.AddProduct(context.Background(), storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitAlone(t, a, mug.ID)
	return sc, p, a, mug
}

// An instance alone on its store serves reads from its copy without a round trip on
// its listener for each window: a round per half lease at most, where an instance
// with others makes one every half ReadWindow while reads come.
func TestLoneInstanceReadsWithoutRounds(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	a := mustOpen(t, sc.dsn)
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitAlone(t, a, mug.ID)

	const leases = 20
	before, start, reads := postgres.Rounds(a), time.Now(), 0
	for time.Since(start) < leases*postgres.AloneLease {
		got, err := a.Product(ctx, mug.ID)
		if err != nil || got.Stock != 5 {
			t.Fatalf("read %d: stock %d, %v; want 5", reads+1, got.Stock, err)
		}
		reads++
		time.Sleep(50 * time.Microsecond)
	}
	rounds := postgres.Rounds(a) - before
	t.Logf("%d reads in %v, %d rounds", reads, time.Since(start).Round(time.Millisecond), rounds)
	if limit := int64(2*leases + 3); rounds > limit {
		t.Errorf("%d rounds of the listener for %d reads over %d leases; want at most %d", rounds, reads, leases, limit)
	}
}

// A lone instance stops serving reads without rounds as soon as another instance of
// its store comes: a change made through the newcomer is seen by a read through the
// first ReadWindow after it returned, though the first instance's link to the
// database is slow (each answer comes 20 ms late, and so does each notice), so that
// a copy served without a round would be the old one. Customers browse the first
// instance all the while, so that its listener's lease does not run out of itself,
// and it is not alone again while the newcomer listens.
func TestNewcomerEndsAloneness(t *testing.T) {
	ctx := context.Background()
	sc, p, a, mug := aloneBehindProxy(t)

	p.lag.Store(int64(20 * time.Millisecond))
	defer browse(t, a)()
	b := mustOpen(t, sc.dsn)
	for i := range 3 {
		restocked, err := b.Restock(ctx, mug.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(postgres.ReadWindow)
		if got, err := a.Product(ctx, mug.ID); err != nil || got.Stock != restocked.Stock {
			t.Errorf("restock %d through the newcomer: read through the first instance %v after it returned: stock %d, %v; want %d",
				i+1, postgres.ReadWindow, got.Stock, err, restocked.Stock)
		}
	}
	for start := time.Now(); time.Since(start) < 4*postgres.AloneLease; time.Sleep(time.Millisecond) {
		if postgres.Alone(a) {
			t.Fatal("the first instance is alone with another instance listening")
		}
	}
}

// A lone instance whose link to the database stalls (each answer and each notice
// comes 200 ms late, longer than its lease) does not hold up another instance's
// writes, and does not serve its copy after one: once its lease is over, its reads
// wait for a round, whose answer comes after the notice of the change.
func TestStalledLoneInstanceServesNoOldCopy(t *testing.T) {
	ctx := context.Background()
	sc, p, a, mug := aloneBehindProxy(t)

	p.lag.Store(int64(200 * time.Millisecond))
	b := mustOpen(t, sc.dsn)
	restocked, err := b.Restock(ctx, mug.ID, 1)
	if err != nil {
		t.Fatalf("restock through another instance while the lone one stalls: %v", err)
	}
	if got, err := a.Product(ctx, mug.ID); err != nil || got.Stock != restocked.Stock {
		t.Errorf("read through the stalled instance after the restock returned: stock %d, %v; want %d",
			got.Stock, err, restocked.Stock)
	}
}

// aloneMetrics keeps what a store last reported of being alone.
type aloneMetrics struct {
	storify.NoMetrics
	alone atomic.Bool
}

func (m *aloneMetrics) Alone(alone bool) { m.alone.Store(alone) }

// Two instances listening are neither of them alone; when one closes, the other is
// alone again. The metrics say so (storify_instance_alone).
func TestAloneAgainWhenTheOtherLeaves(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	m := &aloneMetrics{}
	a, err := postgres.Open(ctx, sc.dsn, postgres.Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := postgres.Open(ctx, sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, a, b)

	// Longer than an instance waits before it first tries to be alone.
	for start := time.Now(); time.Since(start) < 1500*time.Millisecond; time.Sleep(time.Millisecond) {
		for i, s := range []*postgres.Store{a, b} {
			if _, err := s.Product(ctx, mug.ID); err != nil {
				t.Fatal(err)
			}
			if postgres.Alone(s) {
				t.Fatalf("instance %d is alone with another listening", i+1)
			}
		}
		if m.alone.Load() {
			t.Fatal("the metrics say the first instance is alone with another listening")
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !postgres.Alone(a) {
		if time.Now().After(deadline) {
			t.Fatalf("still not alone %v after the other instance closed", 15*time.Second)
		}
		if _, err := a.Product(ctx, mug.ID); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
	if !m.alone.Load() {
		t.Error("the metrics do not say the instance is alone")
	}
}

// An instance whose listener is lost while one of its writes is in flight still
// holds the presence lock, through that write's transaction: no other instance
// becomes alone before the write has ended, and the change is seen. Here b's
// restock has reached the server and its answer is held (b's link paused), and b's
// listener is ended by the server; a, reading all the while, must not be alone.
func TestNoOneAloneWhileAWriteIsInFlight(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	a := mustOpen(t, sc.dsn)
	p := newProxy(t, targetOf(t, sc.dsn))
	bName := sc.name + "_b"
	b := mustOpen(t, p.proxied(withParams(t, sc.dsn, map[string]string{"application_name": bName})))
	admin := adminConn(t)
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}
	waitListening(t, a, b)
	time.Sleep(postgres.AloneSettle + 2*postgres.AloneLease) // a would try to be alone by now

	held := p.pauseAt("UPDATE products SET stock = stock +", true)
	type result struct {
		p   storify.Product
		err error
	}
	done := make(chan result, 1)
	go func() {
		restocked, err := b.Restock(ctx, mug.ID, 1)
		done <- result{restocked, err}
	}()
	<-held
	pids := listeners(t, admin, bName)
	if len(pids) != 1 {
		t.Fatalf("b's listeners: %v, want one", pids)
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend($1)`, pids[0]); err != nil {
		t.Fatal(err)
	}
	for start := time.Now(); time.Since(start) < 10*postgres.AloneLease; time.Sleep(time.Millisecond) {
		if _, err := a.Product(ctx, mug.ID); err != nil {
			t.Fatal(err)
		}
		if postgres.Alone(a) {
			p.resume()
			t.Fatal("a is alone while b's restock is in flight")
		}
	}
	p.resume()
	r := <-done
	if r.err != nil {
		t.Fatalf("b's restock: %v", r.err)
	}
	time.Sleep(postgres.ReadWindow)
	if got, err := a.Product(ctx, mug.ID); err != nil || got.Stock != r.p.Stock {
		t.Errorf("read through a after b's restock returned: stock %d, %v; want %d", got.Stock, err, r.p.Stock)
	}
}
