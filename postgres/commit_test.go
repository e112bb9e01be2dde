package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// holdProduct locks a product's row from outside the store until the returned
// function is called, and waits until a checkout of the store is stopped by it.
// Checkouts made meanwhile queue up behind that one, to be committed together.
func holdProduct(t *testing.T, sc testSchema, id int64, checkout func()) (release func()) {
	t.Helper()
	return changeProduct(t, sc, `SELECT FROM `+sc.ident()+`.products WHERE id = $1 FOR UPDATE`, id, checkout, false)
}

// changeProduct runs sql (with the product's id) in a transaction from outside the
// store, then calls checkout in a goroutine and waits until it is stopped by the
// transaction's lock. The returned function ends the transaction: it commits if
// commit is set, else it rolls back.
func changeProduct(t *testing.T, sc testSchema, sql string, id int64, checkout func(), commit bool) (end func()) {
	t.Helper()
	ctx := context.Background()
	holder, err := adminConn(t).Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, sql, id); err != nil {
		t.Fatal(err)
	}
	go checkout()
	admin := adminConn(t)
	deadline := time.Now().Add(10 * time.Second)
	for waiting := 0; waiting == 0; time.Sleep(5 * time.Millisecond) {
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE application_name = $1 AND wait_event_type = 'Lock'`, sc.name).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the first checkout did not wait for the held row")
		}
	}
	return func() {
		end := holder.Rollback
		if commit {
			end = holder.Commit
		}
		if err := end(ctx); err != nil {
			t.Error(err)
		}
	}
}

// A checkout that waits for a restock to commit sells the units it brought: the
// checkout reads the product only once it holds its lock, so its checks and its
// update see the same row (an UPDATE computed from an older row version would fail
// the stock >= 0 CHECK).
func TestCheckoutAfterConcurrentRestock(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 0})
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	commit := changeProduct(t, sc, `UPDATE `+sc.ident()+`.products SET stock = stock + 2, received = received + 2 WHERE id = $1`,
		mug.ID, func() {
			_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}})
			errc <- err
		}, true)
	commit()
	if err := <-errc; err != nil {
		t.Fatalf("Checkout of the two units a concurrent restock brought: %v", err)
	}
	if p, err := s.Product(ctx, mug.ID); err != nil || p.Stock != 0 || p.Received != 2 {
		t.Errorf("Product = %+v, %v; want stock 0, received 2", p, err)
	}
}

// waitQueued waits until n checkouts wait for the store's committer.
func waitQueued(t *testing.T, s *postgres.Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); postgres.Queued(s) < n; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d checkouts queued after 10s, want %d", postgres.Queued(s), n)
		}
	}
}

// Checkouts that arrive while a transaction is in flight are committed together, in
// one transaction, and each gets its own order; a refusal among them undoes none of
// the others.
func TestCheckoutsCommittedTogether(t *testing.T) {
	const waiting = 10
	ctx := context.Background()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: waiting})
	if err != nil {
		t.Fatal(err)
	}
	plate, err := s.AddProduct(ctx, storify.NewProduct{Name: "Red Plate", Price: 800, Stock: 100})
	if err != nil {
		t.Fatal(err)
	}
	buy := func(name string, items ...storify.CartItem) (storify.Order, error) {
		return s.Checkout(ctx, storify.NewOrder{Customer: name, Items: items})
	}

	first := make(chan error, 1)
	release := holdProduct(t, sc, mug.ID, func() {
		_, err := buy("First", storify.CartItem{ProductID: mug.ID, Qty: 1})
		first <- err
	})
	before := postgres.Batches(s)
	var wg sync.WaitGroup
	orders := make([]storify.Order, waiting)
	errs := make([]error, waiting)
	for i := range waiting {
		wg.Go(func() {
			// Ten customers want a mug each, and there are nine left: the last
			// one in line is refused, and buys nothing, plate or mug.
			orders[i], errs[i] = buy(fmt.Sprintf("Buyer %d", i),
				storify.CartItem{ProductID: plate.ID, Qty: 1}, storify.CartItem{ProductID: mug.ID, Qty: 1})
		})
		waitQueued(t, s, i+1) // in this order
	}
	release()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("the first checkout: %v", err)
	}

	if n := postgres.Batches(s) - before; n != 2 {
		t.Errorf("%d checkout transactions for 1+%d checkouts, want 2: the first, and the others together", n, waiting)
	}
	ids := map[int64]bool{}
	for i := range waiting - 1 {
		if errs[i] != nil {
			t.Errorf("buyer %d: %v", i, errs[i])
			continue
		}
		ids[orders[i].ID] = true
		if o := orders[i]; o.Total != 1250+800 || len(o.Lines) != 2 || o.Lines[0].Name != "Red Plate" || o.Lines[1].Name != "Blue Mug" {
			t.Errorf("buyer %d: order %+v, want a plate and a mug for 20.50", i, o)
		}
	}
	if len(ids) != waiting-1 {
		t.Errorf("%d distinct orders, want %d", len(ids), waiting-1)
	}
	if msg := storify.ErrorMessage(errs[waiting-1]); msg != "Blue Mug is sold out" {
		t.Errorf("the last buyer: %v, want %q", errs[waiting-1], "Blue Mug is sold out")
	}
	for _, want := range []struct {
		id           int64
		stock, recvd int
	}{{mug.ID, 0, waiting}, {plate.ID, 100 - (waiting - 1), 100}} {
		if p, err := s.Product(ctx, want.id); err != nil || p.Stock != want.stock || p.Received != want.recvd {
			t.Errorf("Product(%d) = %+v, %v; want stock %d, received %d", want.id, p, err, want.stock, want.recvd)
		}
	}
}

// A checkout whose statement the server refuses fails alone: the others committed
// with it are placed all the same.
func TestCheckoutFailingStatementFailsAlone(t *testing.T) {
	const waiting = 5
	ctx := context.Background()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 100})
	if err != nil {
		t.Fatal(err)
	}
	// The database itself refuses Mallory's orders, as it would a bug's.
	for _, sql := range []string{
		`CREATE FUNCTION ` + sc.ident() + `.refuse_mallory() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.customer = 'Mallory' THEN RAISE EXCEPTION 'no orders for Mallory'; END IF;
			RETURN NEW;
		END $$`,
		`CREATE TRIGGER refuse_mallory BEFORE INSERT ON ` + sc.ident() + `.orders
			FOR EACH ROW EXECUTE FUNCTION ` + sc.ident() + `.refuse_mallory()`,
	} {
		if _, err := adminConn(t).Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	buy := func(name string) (storify.Order, error) {
		return s.Checkout(ctx, storify.NewOrder{Customer: name, Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
	}

	release := holdProduct(t, sc, mug.ID, func() { buy("First") })
	var wg sync.WaitGroup
	names := make([]string, waiting)
	errs := make([]error, waiting)
	for i := range waiting {
		names[i] = fmt.Sprintf("Buyer %d", i)
		if i == 2 {
			names[i] = "Mallory"
		}
		wg.Go(func() { _, errs[i] = buy(names[i]) })
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()

	for i, err := range errs {
		switch {
		case names[i] == "Mallory" && (err == nil || storify.ErrorCode(err) != storify.EINTERNAL):
			t.Errorf("Mallory's checkout: %v, want an internal error", err)
		case names[i] != "Mallory" && err != nil:
			t.Errorf("%s's checkout, committed with Mallory's: %v", names[i], err)
		}
	}
	os, err := s.Orders(ctx, storify.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(os) != waiting { // the first and all but Mallory
		t.Errorf("%d orders, want %d", len(os), waiting)
	}
	if p, err := s.Product(ctx, mug.ID); err != nil || p.Stock != 100-waiting {
		t.Errorf("Product = %+v, %v; want stock %d", p, err, 100-waiting)
	}
}

// After Close, Checkout fails at once and places nothing.
func TestCheckoutAfterClose(t *testing.T) {
	sc := newSchema(t)
	s, err := postgres.Open(context.Background(), sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	mug, err := s.AddProduct(context.Background(), storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 1})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}}); err == nil {
		t.Error("Checkout after Close succeeded")
	}
	var n int
	if err := adminConn(t).QueryRow(context.Background(), `SELECT count(*) FROM `+pgx.Identifier{sc.name, "orders"}.Sanitize()).Scan(&n); err != nil || n != 0 {
		t.Errorf("orders after Close: %d, %v; want none", n, err)
	}
}

// mugStore opens a store on a new schema with one product, 100 Blue Mugs, and
// returns it with a function that buys one, with a token ("" for a new one).
func mugStore(t *testing.T) (testSchema, *postgres.Store, storify.Product, func(name, token string) (storify.Order, error)) {
	t.Helper()
	sc := newSchema(t)
	s := mustOpen(t, sc.dsn)
	mug, err := s.AddProduct(context.Background(), storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 100})
	if err != nil {
		t.Fatal(err)
	}
	return sc, s, mug, func(name, token string) (storify.Order, error) {
		return s.Checkout(context.Background(), storify.NewOrder{Customer: name, Token: token, Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
	}
}

// A checkout sent again with the token of an order placed already, which queues
// while a batch waits for a product's lock and so is taken on by it, is answered
// with that order, as placed, and buys nothing more; the checkouts queued beside it
// are placed, each once, and the stock is taken once for each order.
func TestCheckoutTakenOnWithAPlacedToken(t *testing.T) {
	ctx := context.Background()
	sc, s, mug, buy := mugStore(t)
	token := storify.NewToken()
	placed, err := buy("Ada", token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPrice(ctx, mug.ID, 9900); err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	release := holdProduct(t, sc, mug.ID, func() {
		_, err := buy("First", "")
		first <- err
	})
	var wg sync.WaitGroup
	var again storify.Order
	var errAgain error
	others := make([]storify.Order, 2)
	errs := make([]error, 2)
	wg.Go(func() { others[0], errs[0] = buy("Bea", "") })
	waitQueued(t, s, 1)
	wg.Go(func() {
		again, errAgain = s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Token: token, Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
	})
	waitQueued(t, s, 2)
	wg.Go(func() { others[1], errs[1] = buy("Cy", "") })
	waitQueued(t, s, 3)
	release()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("the first checkout: %v", err)
	}
	if errAgain != nil || again.ID != placed.ID || again.Total != 1250 {
		t.Errorf("the checkout sent again = %+v, %v; want order #%d as placed (total 12.50)", again, errAgain, placed.ID)
	}
	for i, err := range errs {
		if err != nil || others[i].ID == 0 || others[i].ID == placed.ID || others[i].Total != 9900 {
			t.Errorf("checkout %d beside it = %+v, %v; want a new order at the new price", i, others[i], err)
		}
	}
	os, err := s.Orders(ctx, storify.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(os) != 4 {
		t.Errorf("%d orders, want 4: Ada's, First's, Bea's and Cy's", len(os))
	}
	if p, err := s.Product(ctx, mug.ID); err != nil || p.Stock != 96 {
		t.Errorf("Product = %+v, %v; want stock 96", p, err)
	}
}

// Checkouts that queue while a batch waits for a product's lock (held here from
// outside, as another instance's batch holds it until its commit) are placed with
// that batch, in its one commit, if they need nothing else locked. One of them
// arrives with a token whose lock another transaction holds (an earlier attempt of
// the same checkout, still in flight): the batch cannot wait for that lock while it
// holds the product, so that checkout is placed after it, once the lock is let go,
// and exactly once, in a batch of its own, without holding up the others' answers.
func TestCheckoutsQueuedDuringALockWaitJoinTheBatch(t *testing.T) {
	const waiting = 5
	ctx := context.Background()
	sc, s, mug, buy := mugStore(t)
	inFlight := storify.NewToken()
	other := adminConn(t)
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, postgres.TokenLockClass, inFlight); err != nil {
		t.Fatal(err)
	}

	first := make(chan error, 1)
	release := holdProduct(t, sc, mug.ID, func() {
		_, err := buy("First", "")
		first <- err
	})
	before := postgres.Batches(s)
	var wg sync.WaitGroup
	errs := make([]error, waiting)
	orders := make([]storify.Order, waiting)
	retried := make(chan error, 1)
	for i := range waiting {
		if i == 2 {
			go func() { _, err := buy("Again", inFlight); retried <- err }()
		} else {
			wg.Go(func() { orders[i], errs[i] = buy(fmt.Sprintf("Buyer %d", i), "") })
		}
		waitQueued(t, s, i+1)
	}
	release()
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("the first checkout: %v", err)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("buyer %d: %v", i, err)
		}
	}
	select {
	case err := <-retried:
		t.Fatalf("the checkout whose token is locked elsewhere was answered before the lock was let go: %v", err)
	default:
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock($1, hashtext($2))`, postgres.TokenLockClass, inFlight); err != nil {
		t.Fatal(err)
	}
	if err := <-retried; err != nil {
		t.Errorf("the checkout whose token was locked elsewhere: %v", err)
	}

	if n := postgres.Batches(s) - before; n != 2 {
		t.Errorf("%d checkout batches for 1+%d checkouts, want 2: those queued joined the first, but for the one after it", n, waiting)
	}
	os, err := s.Orders(ctx, storify.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(os) != 1+waiting {
		t.Errorf("%d orders, want %d", len(os), 1+waiting)
	}
	if again, err := s.Orders(ctx, storify.OrderFilter{Token: inFlight}); err != nil || len(again) != 1 {
		t.Errorf("orders with the token locked elsewhere: %d, %v; want 1", len(again), err)
	}
	if p, err := s.Product(ctx, mug.ID); err != nil || p.Stock != 100-1-waiting {
		t.Errorf("Product = %+v, %v; want stock %d", p, err, 100-1-waiting)
	}
}

// With another instance on the store, a checkout batch lets go of its products'
// rows when its commit is written, not when it is flushed: during the flush (made
// to last 100 ms) another transaction reads the stock it took and locks the product,
// while the checkout's customer is not answered yet; the answer comes after the
// flush, so that an order acknowledged is on disk.
func TestCheckoutFreesItsRowsBeforeItsFlush(t *testing.T) {
	ctx := context.Background()
	admin := adminConn(t)
	sc := newSchema(t)
	s := mustOpen(t, slowFlush(t, sc.dsn, 100*time.Millisecond))
	commitAs(t, s, sc, true)
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: 10})
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the stock taken is seen while a transaction of the store is still
	// committing (it has a transaction id: the batch's, or the one whose commit
	// waits for the flush), and the customer is not answered. A checkout answered
	// first is a failure, unless the test itself was held up past the flush (a
	// busy machine), so up to five checkouts are tried.
	const tries = 5
	var stock int
	var done chan error
	for try := 1; ; try++ {
		if try > tries {
			t.Fatalf("each of %d checkouts was answered before another transaction saw its stock during its flush", tries)
		}
		stock = 10 - 2*try
		done = make(chan error, 1)
		go func() {
			_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 2}}})
			done <- err
		}()
		if seenDuringFlush(t, admin, sc, mug.ID, stock, done) {
			break
		}
	}
	// The product can be locked at once: the batch holds its row no longer.
	tx, err := admin.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var locked int
	if err := tx.QueryRow(ctx, `SELECT stock FROM `+sc.ident()+`.products WHERE id = $1 FOR UPDATE NOWAIT`, mug.ID).Scan(&locked); err != nil || locked != stock {
		t.Errorf("locking the product during the batch's flush: stock %d, %v; want %d, the row free", locked, err, stock)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Checkout: %v", err)
	}
}

// seenDuringFlush watches the checkout whose answer done brings: it reports true
// when the product's stock is seen at want while a transaction of the store is
// still committing and the checkout is not answered, false once it is answered
// (successfully; else the test fails).
func seenDuringFlush(t *testing.T, admin *pgx.Conn, sc testSchema, product int64, want int, done <-chan error) bool {
	t.Helper()
	ctx := context.Background()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Checkout: %v", err)
			}
			return false
		case <-time.After(time.Millisecond):
		}
		var seen bool
		if err := admin.QueryRow(ctx, `SELECT (SELECT stock FROM `+sc.ident()+`.products WHERE id = $1) = $3
			AND EXISTS (SELECT FROM pg_stat_activity WHERE application_name = $2 AND backend_xid IS NOT NULL)`,
			product, sc.name, want).Scan(&seen); err != nil {
			t.Fatal(err)
		}
		if seen {
			return true
		}
	}
}
