package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// Two instances of storify (two Stores, two pools) on one database share one stock:
// forty customers split across them race for the last ten mugs, ten get one, and
// the stock is never seen below zero.
func TestInstancesRaceForLastUnits(t *testing.T) {
	const buyers, units = 40, 10
	ctx := context.Background()
	sc := newSchema(t)
	stores := []*postgres.Store{mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)}
	mug, err := stores[0].AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: units})
	if err != nil {
		t.Fatal(err)
	}

	// A watcher reads the stock through the other instance while the race runs.
	var lowest atomic.Int64
	lowest.Store(units)
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if p, err := stores[1].Product(ctx, mug.ID); err == nil && int64(p.Stock) < lowest.Load() {
				lowest.Store(int64(p.Stock))
			}
		}
	}()

	var wg sync.WaitGroup
	start := make(chan struct{})
	orders := make([]storify.Order, buyers)
	errs := make([]error, buyers)
	for i := range buyers {
		wg.Go(func() {
			<-start
			orders[i], errs[i] = stores[i%2].Checkout(ctx, storify.NewOrder{
				Customer: fmt.Sprintf("Buyer %d", i), Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}},
			})
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-watched

	ids := map[int64]bool{}
	for i, err := range errs {
		switch {
		case err == nil:
			ids[orders[i].ID] = true
		case storify.ErrorMessage(err) != "Blue Mug is sold out":
			t.Errorf("buyer %d: %v (code %q), want an order or %q", i, err, storify.ErrorCode(err), "Blue Mug is sold out")
		}
	}
	if len(ids) != units {
		t.Errorf("%d distinct orders were placed, want %d", len(ids), units)
	}
	if l := lowest.Load(); l < 0 {
		t.Errorf("the stock was seen at %d during the race", l)
	}
	for i, s := range stores {
		p, err := s.Product(ctx, mug.ID)
		if err != nil {
			t.Fatalf("instance %d: Product: %v", i+1, err)
		}
		if p.Stock != 0 || p.Received != units {
			t.Errorf("instance %d: stock %d, received %d; want 0, %d", i+1, p.Stock, p.Received, units)
		}
		os, err := s.Orders(ctx, storify.OrderFilter{})
		if err != nil {
			t.Fatalf("instance %d: Orders: %v", i+1, err)
		}
		if len(os) != units {
			t.Errorf("instance %d: %d orders, want %d", i+1, len(os), units)
		}
		for _, o := range os {
			if !ids[o.ID] {
				t.Errorf("instance %d lists order #%d, which no buyer was told of", i+1, o.ID)
			}
		}
	}
}

// What one instance writes, the other reads at once: each serves reads from its copy
// of the catalog, and a read waits until the listener has heard of every change
// committed before it began.
func TestInstancesSeeEachOthersWrites(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	a, b := mustOpen(t, sc.dsn), mustOpen(t, sc.dsn)
	waitListening(t, a, b) // so that reads are served from the copies

	// b reads first, so that a cache, if there were one, would hold the old values.
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantProduct := func(what string, s *postgres.Store, want storify.Product) {
		t.Helper()
		if got, err := s.Product(ctx, want.ID); err != nil || got != want {
			t.Errorf("after %s: Product = %+v, %v; want %+v", what, got, err, want)
		}
		if got, err := s.ProductByName(ctx, "BLUE MUG"); err != nil || got != want {
			t.Errorf("after %s: ProductByName = %+v, %v; want %+v", what, got, err, want)
		}
		ps, err := s.Products(ctx, storify.ProductFilter{All: true})
		if err != nil || len(ps) != 1 || ps[0] != want {
			t.Errorf("after %s: Products = %+v, %v; want [%+v]", what, ps, err, want)
		}
	}
	wantProduct("AddProduct through the other instance", b, mug)

	if mug, err = a.Restock(ctx, mug.ID, 9); err != nil {
		t.Fatalf("Restock: %v", err)
	}
	wantProduct("Restock through the other instance", b, mug)

	if mug, err = b.SetPrice(ctx, mug.ID, 999); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	wantProduct("SetPrice through the other instance", a, mug)
	o, err := a.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 10}}})
	if err != nil {
		t.Fatalf("Checkout of all ten through the other instance: %v", err)
	}
	if o.Total != 10*999 {
		t.Errorf("Checkout after SetPrice through the other instance: total %s, want %s", o.Total, storify.Cents(10*999))
	}
	mug.Stock = 0
	wantProduct("Checkout through the other instance", b, mug)
	if _, err := b.Checkout(ctx, storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}}); storify.ErrorCode(err) != storify.ECONFLICT {
		t.Errorf("Checkout of a mug the other instance sold out: %v, want ECONFLICT", err)
	}
	if got, err := b.Order(ctx, o.ID); err != nil || got.ID != o.ID || got.Total != o.Total {
		t.Errorf("Order(%d) through the other instance = %+v, %v", o.ID, got, err)
	}

	if _, err := b.Cancel(ctx, o.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	mug.Stock = 10
	wantProduct("Cancel through the other instance", a, mug)

	if mug, err = b.Discontinue(ctx, mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	if ps, err := a.Products(ctx, storify.ProductFilter{}); err != nil || len(ps) != 0 {
		t.Errorf("Products after Discontinue through the other instance = %+v, %v; want none", ps, err)
	}
	wantProduct("Discontinue through the other instance", a, mug)
}

// terminate ends the database backends of the schema's stores, as a server restart
// or a failover would, and returns how many it ended. It spares other tests' and
// other users' connections by their application_name.
func terminate(t *testing.T, admin *pgx.Conn, sc testSchema) int {
	t.Helper()
	rows, _ := admin.Query(context.Background(), `
		SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1`, sc.name)
	ended, err := pgx.CollectRows(rows, pgx.RowTo[bool])
	if err != nil {
		t.Fatalf("terminate backends: %v", err)
	}
	return len(ended)
}

// lostDeadline bounds each call after the database dropped the store's connections:
// far above a healthy call, far below the test's timeout, so a hang fails the test.
const lostDeadline = 15 * time.Second

// After the database drops every connection of the store, the store neither hangs nor
// panics: a first call may fail with an error, and the calls after it succeed on new
// connections, several rounds over.
func TestLostConnection(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	admin := adminConn(t)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 100})
	if err != nil {
		t.Fatal(err)
	}
	sold := 0
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Products", func(ctx context.Context) error {
			_, err := s.Products(ctx, storify.ProductFilter{})
			return err
		}},
		{"Checkout", func(ctx context.Context) error {
			_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
			if err == nil {
				sold++
			}
			return err
		}},
		{"Product", func(ctx context.Context) error {
			_, err := s.Product(ctx, mug.ID)
			return err
		}},
		{"Orders", func(ctx context.Context) error {
			_, err := s.Orders(ctx, storify.OrderFilter{Limit: 5})
			return err
		}},
	}

	for round := range 3 {
		// Several idle connections in the pool, all of which are about to die.
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { s.Products(ctx, storify.ProductFilter{}) })
		}
		wg.Wait()
		if n := terminate(t, admin, sc); n == 0 {
			t.Fatalf("round %d: the store has no backend to terminate", round+1)
		}

		for i, c := range calls {
			cctx, cancel := context.WithTimeout(ctx, lostDeadline)
			err := c.call(cctx)
			hung := cctx.Err() != nil
			cancel()
			switch {
			case hung:
				t.Fatalf("round %d: %s after the connections were lost ran into its %v deadline: %v", round+1, c.name, lostDeadline, err)
			case err != nil && i == 0 && storify.ErrorCode(err) == storify.EINTERNAL:
				t.Logf("round %d: the first call after the connections were lost failed: %v", round+1, err)
			case err != nil:
				t.Errorf("round %d: %s after the connections were lost: %v", round+1, c.name, err)
			}
		}
	}

	p, err := s.Product(ctx, mug.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Stock != 100-sold {
		t.Errorf("after %d checkouts of one mug: stock %d, want %d", sold, p.Stock, 100-sold)
	}
}

// A checkout whose connection is dropped in the middle of its transaction returns
// (having placed the order or not, never half of it), and the store goes on selling.
func TestLostConnectionMidCheckout(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 5})
	if err != nil {
		t.Fatal(err)
	}

	// Another session holds the mug's row, so the checkout stops inside its
	// transaction, waiting for the lock.
	holder, err := adminConn(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, `SELECT FROM `+sc.ident()+`.products WHERE id = $1 FOR UPDATE`, mug.ID); err != nil {
		t.Fatal(err)
	}
	type result struct {
		o   storify.Order
		err error
	}
	done := make(chan result, 1)
	go func() {
		cctx, cancel := context.WithTimeout(ctx, lostDeadline)
		defer cancel()
		o, err := s.Checkout(cctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}})
		done <- result{o, err}
	}()

	admin := adminConn(t) // pg_stat_activity is read once per transaction: not through holder
	for waiting := 0; waiting == 0; {
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, sc.name).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			t.Fatalf("Checkout returned before it waited for the lock: %+v", r)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if n := terminate(t, admin, sc); n == 0 {
		t.Fatal("the store has no backend to terminate")
	}
	time.Sleep(50 * time.Millisecond) // let the checkout notice before the lock goes
	if err := holder.Rollback(ctx); err != nil {
		t.Fatal(err)
	}

	var r result
	select {
	case r = <-done:
	case <-time.After(2 * lostDeadline):
		t.Fatal("Checkout whose connection was dropped did not return")
	}
	p, err := s.Product(ctx, mug.ID)
	if err != nil {
		t.Fatal(err)
	}
	os, err := s.Orders(ctx, storify.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if r.err != nil {
		t.Logf("Checkout whose connection was dropped: %v", r.err)
		if p.Stock != 5 || len(os) != 0 {
			t.Errorf("a failed checkout left stock %d and %d orders, want 5 and none", p.Stock, len(os))
		}
	} else {
		t.Logf("Checkout whose connection was dropped was retried and placed order #%d", r.o.ID)
		if p.Stock != 3 || len(os) != 1 || os[0].ID != r.o.ID {
			t.Errorf("a placed checkout left stock %d and orders %+v, want 3 and order #%d", p.Stock, os, r.o.ID)
		}
	}

	if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}}); err != nil {
		t.Errorf("Checkout after the dropped one: %v", err)
	}
}
