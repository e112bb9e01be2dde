package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// budget is the stores' --db-timeout in these tests: short, so that they run
// quickly, yet long enough for a loaded machine's good answers.
const budget = time.Second

// within is how long a call may take in all when the budget runs out: the budget and
// room for a busy machine. The tests check that calls end, not how fast.
const within = 2*budget + 3*time.Second

// openProxied opens a store on a fresh schema through a proxy, with the budget.
func openProxied(t *testing.T) (*postgres.Store, *proxy, testSchema) {
	t.Helper()
	sc := newSchema(t)
	p := newProxy(t, targetOf(t, sc.dsn))
	s, err := postgres.Open(context.Background(), p.proxied(sc.dsn), postgres.Options{Timeout: budget})
	if err != nil {
		t.Fatalf("Open through the proxy: %v", err)
	}
	t.Cleanup(func() {
		p.resume()
		s.Close()
	})
	return s, p, sc
}

// bounded runs call and fails the test if it has not returned within limit; it
// returns call's error, or nil after failing the test.
func bounded(t *testing.T, what string, limit time.Duration, call func() error) error {
	t.Helper()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- call() }()
	select {
	case err := <-done:
		t.Logf("%s returned after %v: %v", what, time.Since(start).Round(time.Millisecond), err)
		return err
	case <-time.After(limit):
		t.Errorf("%s still waits after %v with the database away; want an answer within the budget (%v)", what, limit, budget)
		if f, err := os.CreateTemp("", "storify-stuck-*.txt"); err == nil {
			pprof.Lookup("goroutine").WriteTo(f, 2)
			t.Logf("goroutines: %s", f.Name())
			f.Close()
		}
		return nil
	}
}

// wantUnavailable checks that err is the store saying it cannot reach its database.
func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, storify.ErrUnavailable) || storify.ErrorCode(err) != storify.EUNAVAILABLE {
		t.Errorf("%s with the database away: %v (code %q), want storify.ErrUnavailable", what, err, storify.ErrorCode(err))
	}
}

// With the database partitioned away (the proxy forwards nothing, the sockets stay
// open), every read answers within the budget that the store cannot reach its
// database, whether it was waiting for the listener, a catalog reload, or a
// connection; and once the database is back, so are the answers.
func TestReadsAnswerWhilePaused(t *testing.T) {
	s, p, _ := openProxied(t)
	ctx := context.Background()
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	o, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if !postgres.WaitListening(s, 10*time.Second) {
		t.Fatal("the listener did not start")
	}

	p.pause()
	var wg sync.WaitGroup
	reads := map[string]func() error{
		"Products": func() error { _, err := s.Products(ctx, storify.ProductFilter{}); return err },
		"Product":  func() error { _, err := s.Product(ctx, mug.ID); return err },
		"Order":    func() error { _, err := s.Order(ctx, o.ID); return err },
		"Orders":   func() error { _, err := s.Orders(ctx, storify.OrderFilter{}); return err },
		"Checkout": func() error {
			_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
			return err
		},
	}
	for name, read := range reads {
		for i := range 3 { // several at once: some wait for another's load or ping
			wg.Go(func() {
				what := fmt.Sprintf("%s (%d of 3)", name, i+1)
				if err := bounded(t, what, within, read); err != nil || !t.Failed() {
					wantUnavailable(t, what, err)
				}
			})
		}
	}
	wg.Wait()

	p.resume()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := s.Products(ctx, storify.ProductFilter{})
		if err == nil {
			if len(ps) != 1 || ps[0].Stock != 9 {
				t.Errorf("Products after the database came back = %+v, want Blue Mug with 9 left", ps)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Products 10 s after the database came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close with the database partitioned away returns within the budget rather than
// waiting on connections (pings, the listener) to a host that does not answer.
func TestCloseBoundedWhilePaused(t *testing.T) {
	sc := newSchema(t)
	p := newProxy(t, targetOf(t, sc.dsn))
	s, err := postgres.Open(context.Background(), p.proxied(sc.dsn), postgres.Options{Timeout: budget})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 100})
	if err != nil {
		t.Fatal(err)
	}
	// Several connections in the pool, and the listener's.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			s.Checkout(ctx, storify.NewOrder{Customer: fmt.Sprint("Buyer ", i), Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
		})
	}
	wg.Wait()
	postgres.WaitListening(s, 10*time.Second)
	time.Sleep(1100 * time.Millisecond) // idle long enough that pgxpool pings before reuse

	p.pause()
	// Reads in flight, too: one holds a pooled connection while pgxpool pings it.
	go s.Order(ctx, 1)
	go s.Products(ctx, storify.ProductFilter{})
	time.Sleep(300 * time.Millisecond)
	bounded(t, "Close", within, s.Close)
}

// Under repeated cuts of the connection during concurrent checkouts, no customer is
// misled: every order in the database was confirmed to its customer, or is found by
// the orders path (its token) for a customer told it could not be confirmed; no
// customer told that nothing was placed has an order; and the stock adds up.
func TestCheckoutsUnderCuts(t *testing.T) {
	s, p, sc := openProxied(t)
	ctx := context.Background()
	var products []storify.Product
	for _, name := range []string{"Blue Mug", "Red Pen", "Notebook"} {
		pr, err := s.AddProduct(ctx, storify.NewProduct{Name: name, Price: 100, Stock: 100000})
		if err != nil {
			t.Fatal(err)
		}
		products = append(products, pr)
	}

	type outcome struct {
		customer, token string
		order           storify.Order
		err             error
	}
	const customers, cuts, maxCuts = 8, 25, 200
	results := make([][]outcome, customers)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for c := range customers {
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				no := storify.NewOrder{Customer: fmt.Sprintf("c%d-%d", c, n), Token: storify.NewToken()}
				for _, pr := range products {
					if rand.IntN(2) == 0 || len(no.Items) == 0 && pr.ID == products[len(products)-1].ID {
						no.Items = append(no.Items, storify.CartItem{ProductID: pr.ID, Qty: 1 + rand.IntN(3)})
					}
				}
				o, err := s.Checkout(ctx, no)
				results[c] = append(results[c], outcome{no.Customer, no.Token, o, err})
			}
		})
	}
	// At least cuts cuts, and more (up to maxCuts) until some COMMITs have lost
	// their connection, the case this test is about.
	n := 0
	for ; n < cuts || n < maxCuts && postgres.UnknownCommits(s) < 3; n++ {
		time.Sleep(time.Duration(20+rand.IntN(80)) * time.Millisecond)
		p.cut()
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	// The customers told "could not confirm" type orders: the token settles it.
	placed := map[string]int64{} // customer → order confirmed or found
	notPlaced := map[string]bool{}
	told := map[string]error{} // the error of each customer told nothing was placed
	var confirmed, refused, unconfirmed, foundLater int
	for _, rs := range results {
		for _, r := range rs {
			switch {
			case r.err == nil:
				confirmed++
				placed[r.customer] = r.order.ID
			case errors.Is(r.err, storify.ErrUnconfirmed):
				unconfirmed++
				var os []storify.Order
				var err error
				for range 20 {
					if os, err = s.Orders(ctx, storify.OrderFilter{Token: r.token}); err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				switch {
				case err != nil:
					t.Errorf("%s: orders by token after the cuts: %v", r.customer, err)
				case len(os) == 1:
					foundLater++
					placed[r.customer] = os[0].ID
				default:
					notPlaced[r.customer] = true
				}
			default:
				refused++
				notPlaced[r.customer] = true
				told[r.customer] = r.err
			}
		}
	}
	t.Logf("%d cuts, %d COMMITs cut off; %d checkouts confirmed, %d refused (nothing placed), %d unconfirmed (%d of them found placed by their token)",
		n, postgres.UnknownCommits(s), confirmed, refused, unconfirmed, foundLater)
	if confirmed == 0 {
		t.Errorf("no checkout succeeded between %d cuts", cuts)
	}

	admin := adminConn(t)
	rows, err := admin.Query(ctx, `SELECT id, customer FROM `+sc.ident()+`.orders`)
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[string]int64{}
	for rows.Next() {
		var id int64
		var customer string
		if err := rows.Scan(&id, &customer); err != nil {
			t.Fatal(err)
		}
		inDB[customer] = id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for customer, id := range inDB {
		switch {
		case notPlaced[customer]:
			t.Errorf("order #%d of %s is in the database, but %s was told nothing was placed (%v)", id, customer, customer, told[customer])
		case placed[customer] != id:
			t.Errorf("order #%d of %s is in the database, but %s was told of order #%d", id, customer, customer, placed[customer])
		}
	}
	for customer, id := range placed {
		if inDB[customer] != id {
			t.Errorf("%s was told of order #%d, which is not in the database", customer, id)
		}
	}

	var bad int
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM `+sc.ident()+`.products p
		WHERE p.received <> p.stock + coalesce((SELECT sum(l.qty) FROM `+sc.ident()+`.order_lines l
			JOIN `+sc.ident()+`.orders o ON o.id = l.order_id WHERE l.product_id = p.id AND o.status <> 'cancelled'), 0)`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d products whose stock does not add up with their orders", bad)
	}
}

// commitModes runs test as subtests: with a store alone on its store, which commits
// its checkouts plainly, and with one that has company, which lets its rows go
// before the flush (commitAs); commit is what the store's checkouts send to commit.
func commitModes(t *testing.T, test func(t *testing.T, s *postgres.Store, p *proxy, commit string)) {
	for _, company := range []bool{false, true} {
		t.Run(map[bool]string{false: "alone", true: "with company"}[company], func(t *testing.T) {
			s, p, sc := openProxied(t)
			test(t, s, p, commitAs(t, s, sc, company))
		})
	}
}

// A COMMIT that reaches the server, whose answer is then lost in a partition that
// lasts past the budget, is reported as unconfirmed, not as a failure; the token
// finds the order once the database is back.
func TestCommitAnswerLostIsUnconfirmedThenFound(t *testing.T) {
	commitModes(t, func(t *testing.T, s *postgres.Store, p *proxy, commit string) {
		ctx := context.Background()
		mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
		if err != nil {
			t.Fatal(err)
		}
		sprung := p.pauseAt(commit, true)
		no := storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}, Token: storify.NewToken()}
		err = bounded(t, "Checkout", within, func() error { _, err := s.Checkout(ctx, no); return err })
		select {
		case <-sprung:
		default:
			t.Fatal("the checkout sent no COMMIT")
		}
		if !errors.Is(err, storify.ErrUnconfirmed) {
			t.Errorf("Checkout whose COMMIT's answer was lost: %v, want storify.ErrUnconfirmed", err)
		}
		p.resume()
		os := ordersByToken(t, s, no.Token)
		if len(os) != 1 || os[0].Customer != "Ada" || os[0].Units() != 2 {
			t.Errorf("orders by token after the partition = %+v, want Ada's order of 2", os)
		}
		// Sent again, the same checkout places nothing more.
		o, err := s.Checkout(ctx, no)
		if err != nil || len(os) == 1 && o.ID != os[0].ID {
			t.Errorf("the same checkout sent again = #%d, %v; want #%d", o.ID, err, os[0].ID)
		}
		if p, _ := s.Product(ctx, mug.ID); p.Stock != 8 {
			t.Errorf("Blue Mug stock = %d, want 8", p.Stock)
		}
	})
}

// A COMMIT that never reaches the server, in a partition that lasts past the budget,
// is unconfirmed too (the store cannot tell); the token then finds no order, since
// the server ends the transaction its client abandoned (the sessions'
// idle_in_transaction_session_timeout is the budget) before the partition heals and
// the held COMMIT arrives.
func TestCommitNeverSentIsUnconfirmedThenNotFound(t *testing.T) {
	commitModes(t, func(t *testing.T, s *postgres.Store, p *proxy, commit string) {
		ctx := context.Background()
		mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
		if err != nil {
			t.Fatal(err)
		}
		sprung := p.pauseAt(commit, false)
		no := storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}, Token: storify.NewToken()}
		err = bounded(t, "Checkout", within, func() error { _, err := s.Checkout(ctx, no); return err })
		<-sprung
		if !errors.Is(err, storify.ErrUnconfirmed) {
			t.Errorf("Checkout whose COMMIT was held: %v, want storify.ErrUnconfirmed", err)
		}
		time.Sleep(2*budget + 500*time.Millisecond)
		p.resume()
		if os := ordersByToken(t, s, no.Token); len(os) != 0 {
			t.Errorf("orders by token after the partition = %+v, want none", os)
		}
		if p, _ := s.Product(ctx, mug.ID); p.Stock != 10 {
			t.Errorf("Blue Mug stock = %d, want 10", p.Stock)
		}
	})
}

// ordersByToken looks a checkout up by its token, as the customer's orders does,
// trying again while the store is still reconnecting.
func ordersByToken(t *testing.T, s *postgres.Store, token string) []storify.Order {
	t.Helper()
	var err error
	for range 50 {
		var os []storify.Order
		if os, err = s.Orders(context.Background(), storify.OrderFilter{Token: token}); err == nil {
			return os
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Orders by token after the partition: %v", err)
	return nil
}

// Open against a database that accepts connections and never answers fails within
// the budget, with storify.ErrUnavailable, so that storify can say so at start-up.
func TestOpenWhilePausedFailsWithinBudget(t *testing.T) {
	sc := newSchema(t)
	p := newProxy(t, targetOf(t, sc.dsn))
	p.pause()
	err := bounded(t, "Open", within, func() error {
		s, err := postgres.Open(context.Background(), p.proxied(sc.dsn), postgres.Options{Timeout: budget})
		if err == nil {
			s.Close()
		}
		return err
	})
	if !t.Failed() {
		wantUnavailable(t, "Open", err)
	}
}
