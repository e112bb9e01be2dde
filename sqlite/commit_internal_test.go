package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/groupcommit"
)

// These tests stop the committer at a known point: a transaction held open on the one
// writer connection makes it wait, in BEGIN, with the checkout it took, while the
// next ones queue behind it.

func openAt(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// holdWriter takes the writer connection until release is called.
func holdWriter(t *testing.T, s *Store) (release func()) {
	t.Helper()
	tx, err := s.writer.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatalf("hold the writer: %v", err)
	}
	return func() {
		if err := tx.Rollback(); err != nil {
			t.Errorf("release the writer: %v", err)
		}
	}
}

// waitFor polls cond until it holds; the test fails if it never does.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// committerBlocked waits until the committer has taken a checkout and waits for the
// held writer connection.
func committerBlocked(t *testing.T, s *Store) {
	t.Helper()
	waitFor(t, "the committer waits for the writer", func() bool { return s.writer.Stats().WaitCount >= 1 })
}

// queueHas waits until n checkouts wait in the queue.
func queueHas(t *testing.T, s *Store, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d checkouts are queued", n), func() bool {
		return s.commit.Len() == n
	})
}

type answer struct {
	order storify.Order
	err   error
}

// goCheckout runs a checkout in its own goroutine and returns where its answer comes.
func goCheckout(ctx context.Context, s *Store, customer string, accountID int64, items ...storify.CartItem) <-chan answer {
	c := make(chan answer, 1)
	go func() {
		o, err := s.Checkout(ctx, storify.NewOrder{Customer: customer, AccountID: accountID, Items: items})
		c <- answer{o, err}
	}()
	return c
}

func mustAdd(t *testing.T, s *Store, name string, stock int) storify.Product {
	t.Helper()
	p, err := s.AddProduct(context.Background(), storify.NewProduct{Name: name, Price: 100, Stock: stock})
	if err != nil {
		t.Fatalf("AddProduct: %v", err)
	}
	return p
}

func countOrders(t *testing.T, s *Store) int {
	t.Helper()
	os, err := s.Orders(context.Background(), storify.OrderFilter{})
	if err != nil {
		t.Fatalf("Orders: %v", err)
	}
	return len(os)
}

func stockOf(t *testing.T, s *Store, id int64) int {
	t.Helper()
	p, err := s.Product(context.Background(), id)
	if err != nil {
		t.Fatalf("Product: %v", err)
	}
	return p.Stock
}

// Checkouts queued together are committed in one transaction, and each one's
// failure is its own: the others are placed and every caller hears its own answer.
func TestGroupCommitSavepoints(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "s.db"))
	mug := mustAdd(t, s, "Blue Mug", 100)
	plate := mustAdd(t, s, "Red Plate", 1)
	ada, err := s.CreateAccount(ctx, "Ada", []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCart(ctx, ada.ID, []storify.CartItem{{ProductID: mug.ID, Qty: 1}}); err != nil {
		t.Fatal(err)
	}
	one := func(p storify.Product, qty int) storify.CartItem { return storify.CartItem{ProductID: p.ID, Qty: qty} }

	release := holdWriter(t, s)
	first := goCheckout(ctx, s, "First", 0, one(mug, 1))
	committerBlocked(t, s)
	tests := []struct {
		customer  string
		accountID int64
		items     []storify.CartItem
		code, msg string
		answer    <-chan answer
	}{
		{"Short", 0, []storify.CartItem{one(mug, 1), one(plate, 2)}, storify.ECONFLICT, "only 1 Red Plate left", nil},
		{"Guest", 0, []storify.CartItem{one(mug, 2)}, "", "", nil},
		{"Unknown", 0, []storify.CartItem{one(mug, 1), {ProductID: plate.ID + 10, Qty: 1}}, storify.ENOTFOUND, "", nil},
		{"Ada", ada.ID, []storify.CartItem{one(mug, 1)}, "", "", nil},
		{"Last plate", 0, []storify.CartItem{one(plate, 1)}, "", "", nil},
		{"No account", ada.ID + 10, []storify.CartItem{one(mug, 1)}, storify.ENOTFOUND, "", nil},
	}
	// One at a time, so that the queue's order, and so each answer, is known.
	for i := range tests {
		tests[i].answer = goCheckout(ctx, s, tests[i].customer, tests[i].accountID, tests[i].items...)
		queueHas(t, s, i+1)
	}
	release()

	if a := <-first; a.err != nil {
		t.Fatalf("the first checkout: %v", a.err)
	}
	var placed []storify.Order
	for _, tt := range tests {
		a := <-tt.answer
		if code := storify.ErrorCode(a.err); code != tt.code || tt.msg != "" && storify.ErrorMessage(a.err) != tt.msg {
			t.Errorf("checkout for %s: %v (code %q), want code %q %s", tt.customer, a.err, code, tt.code, tt.msg)
		}
		if a.err != nil {
			continue
		}
		if a.order.Customer != tt.customer || a.order.AccountID != tt.accountID {
			t.Errorf("checkout for %s got order %+v", tt.customer, a.order)
		}
		if n := len(placed); n > 0 && (a.order.ID <= placed[n-1].ID || a.order.Placed.Before(placed[n-1].Placed)) {
			t.Errorf("order #%d placed %v after order #%d placed %v: numbers and times must rise in queue order",
				a.order.ID, a.order.Placed, placed[n-1].ID, placed[n-1].Placed)
		}
		placed = append(placed, a.order)
	}
	if n := s.commit.Batches(); n != 2 {
		t.Errorf("%d transactions committed, want 2: the first checkout's and the rest's together", n)
	}
	if got := stockOf(t, s, mug.ID); got != 100-1-2-1 {
		t.Errorf("Blue Mug stock %d, want %d: failed checkouts must put back what they took", got, 100-1-2-1)
	}
	if got := stockOf(t, s, plate.ID); got != 0 {
		t.Errorf("Red Plate stock %d, want 0", got)
	}
	if n := countOrders(t, s); n != 1+len(placed) {
		t.Errorf("%d orders, want %d", n, 1+len(placed))
	}
	for _, o := range placed {
		got, err := s.Order(ctx, o.ID)
		if err != nil || got.Customer != o.Customer || got.AccountID != o.AccountID || got.Total != o.Total {
			t.Errorf("Order(%d) = %+v, %v; want %+v", o.ID, got, err, o)
		}
	}
	if cart, err := s.SavedCart(ctx, ada.ID); err != nil || len(cart) != 0 {
		t.Errorf("Ada's saved cart after her checkout: %v, %v; want empty", cart, err)
	}
}

// A checkout whose context ends while it waits in the queue is never run, and its
// caller is answered at once; one already started runs to the end.
func TestCheckoutContextWhileQueued(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "s.db"))
	mug := mustAdd(t, s, "Blue Mug", 10)
	items := []storify.CartItem{{ProductID: mug.ID, Qty: 1}}

	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Checkout(done, storify.NewOrder{Customer: "Ada", Items: items}); !errors.Is(err, context.Canceled) {
		t.Errorf("Checkout with a cancelled context: %v, want context.Canceled", err)
	}

	release := holdWriter(t, s)
	startedCtx, cancelStarted := context.WithCancel(ctx)
	started := goCheckout(startedCtx, s, "Started", 0, items...)
	committerBlocked(t, s)
	queuedCtx, cancelQueued := context.WithCancel(ctx)
	queued := goCheckout(queuedCtx, s, "Queued", 0, items...)
	queueHas(t, s, 1)

	cancelStarted()
	cancelQueued()
	// Answered while the committer is still stuck: it did not wait for its turn.
	if a := <-queued; !errors.Is(a.err, context.Canceled) {
		t.Errorf("a queued checkout whose context ended: %+v, want context.Canceled", a)
	}
	release()
	if a := <-started; a.err != nil || a.order.ID == 0 {
		t.Errorf("a started checkout whose context ended: %+v, %v; want its order", a.order, a.err)
	}
	if n := countOrders(t, s); n != 1 {
		t.Errorf("%d orders, want 1: the queued checkout must not run", n)
	}
	if got := stockOf(t, s, mug.ID); got != 9 {
		t.Errorf("stock %d, want 9", got)
	}
}

// Close answers the checkouts already queued before it returns, and refuses new ones.
func TestCloseDrainsQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := openAt(t, path)
	mug := mustAdd(t, s, "Blue Mug", 10)
	items := []storify.CartItem{{ProductID: mug.ID, Qty: 1}}

	release := holdWriter(t, s)
	answers := []<-chan answer{goCheckout(ctx, s, "Ada", 0, items...)}
	committerBlocked(t, s)
	answers = append(answers, goCheckout(ctx, s, "Bob", 0, items...), goCheckout(ctx, s, "Cy", 0, items...))
	queueHas(t, s, 2)

	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	waitFor(t, "Close has begun", func() bool {
		return s.commit.Closed()
	})
	if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Late", Items: items}); !errors.Is(err, groupcommit.ErrClosed) {
		t.Errorf("Checkout after Close: %v, want %v", err, groupcommit.ErrClosed)
	}
	release()
	for i, c := range answers {
		if a := <-c; a.err != nil {
			t.Errorf("checkout %d queued before Close: %v", i, a.err)
		}
	}
	if err := <-closed; err != nil {
		t.Errorf("Close: %v", err)
	}

	s2 := openAt(t, path)
	if n := countOrders(t, s2); n != 3 {
		t.Errorf("after reopening: %d orders, want the 3 acknowledged", n)
	}
}

// When the COMMIT itself fails, no checkout of the batch is acknowledged, and the
// store goes on working.
func TestCommitFailureFailsBatch(t *testing.T) {
	ctx := context.Background()
	s := openAt(t, filepath.Join(t.TempDir(), "s.db"))
	mug := mustAdd(t, s, "Blue Mug", 10)
	items := []storify.CartItem{{ProductID: mug.ID, Qty: 1}}

	// A deferred foreign key is checked at COMMIT: an order for "Doomed" breaks one,
	// so its transaction fails to commit. TEMP objects live on the writer connection
	// only, which is the one connection that commits checkouts.
	if _, err := s.writer.ExecContext(ctx, `
		CREATE TEMP TABLE doom_parent (id INTEGER PRIMARY KEY);
		CREATE TEMP TABLE doom_child (parent INTEGER REFERENCES doom_parent (id) DEFERRABLE INITIALLY DEFERRED);
		CREATE TEMP TRIGGER doom AFTER INSERT ON main.orders WHEN NEW.customer = 'Doomed'
		BEGIN INSERT INTO doom_child VALUES (1); END;`); err != nil {
		t.Fatal(err)
	}

	release := holdWriter(t, s)
	first := goCheckout(ctx, s, "First", 0, items...)
	committerBlocked(t, s)
	batch := []<-chan answer{
		goCheckout(ctx, s, "Ada", 0, items...),
		goCheckout(ctx, s, "Doomed", 0, items...),
		goCheckout(ctx, s, "Bob", 0, items...),
	}
	queueHas(t, s, len(batch))
	release()

	if a := <-first; a.err != nil {
		t.Fatalf("the first checkout: %v", a.err)
	}
	for i, c := range batch {
		if a := <-c; a.err == nil || !strings.Contains(a.err.Error(), "commit") {
			t.Errorf("checkout %d of a batch that failed to commit: %+v, %v; want the commit's error", i, a.order, a.err)
		}
	}
	if n := countOrders(t, s); n != 1 {
		t.Errorf("%d orders, want only the first", n)
	}
	if got := stockOf(t, s, mug.ID); got != 9 {
		t.Errorf("stock %d, want 9", got)
	}
	if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "After", Items: items}); err != nil {
		t.Errorf("Checkout after a failed commit: %v", err)
	}
}
