package shell_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// awayStore is a store whose database is away for the next awayCalls calls of
// Products (or ProductsPage), Orders and Checkout: reads fail as a backend's do when their budget runs
// out, checkouts as unconfirmed ones do (placing the order first when commitAnyway is
// set, as a COMMIT that went through before the connection was lost).
type awayStore struct {
	storify.Store
	awayCalls    atomic.Int32
	commitAnyway bool
}

var errTimeout = errors.New("postgres: connect: dial tcp 127.0.0.1:5432: i/o timeout")

func (s *awayStore) away() bool { return s.awayCalls.Add(-1) >= 0 }

func (s *awayStore) Products(ctx context.Context, f storify.ProductFilter) ([]storify.Product, error) {
	if s.away() {
		return nil, storify.Unavailable(errTimeout)
	}
	return s.Store.Products(ctx, f)
}

func (s *awayStore) ProductsPage(ctx context.Context, f storify.ProductFilter, from, to int) ([]storify.Product, int, error) {
	if s.away() {
		return nil, 0, storify.Unavailable(errTimeout)
	}
	return s.Store.ProductsPage(ctx, f, from, to)
}

func (s *awayStore) Orders(ctx context.Context, f storify.OrderFilter) ([]storify.Order, error) {
	if s.away() {
		return nil, storify.Unavailable(errTimeout)
	}
	return s.Store.Orders(ctx, f)
}

func (s *awayStore) Checkout(ctx context.Context, o storify.NewOrder) (storify.Order, error) {
	if !s.away() {
		return s.Store.Checkout(ctx, o)
	}
	if s.commitAnyway {
		if _, err := s.Store.Checkout(ctx, o); err != nil {
			return storify.Order{}, err
		}
	}
	return storify.Order{}, storify.Unconfirmed(errTimeout)
}

// runLines runs a customer session over lines and returns its output and what it
// logged.
func runLines(t *testing.T, store storify.Store, lines ...string) (out, logged string) {
	t.Helper()
	var buf, logBuf bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &buf, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test",
		Log: slog.New(slog.NewTextHandler(&logBuf, nil))})
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return buf.String(), logBuf.String()
}

// A database that does not answer costs the customer one honest line, not an
// internal error, and the session goes on as soon as it is back.
func TestUnavailableIsOneClearLine(t *testing.T) {
	store := &awayStore{Store: mustOpenStore(t)}
	store.awayCalls.Store(2)
	out, logged := runLines(t, store, "list", "search mug", "list")
	lines := strings.Split(out, "\n")
	want := "Test> The store cannot reach its database just now, so nothing was done and nothing was charged; please try again in a moment."
	if len(lines) < 3 || lines[0] != want || lines[1] != want {
		t.Errorf("first two replies:\n%s\nwant each to be the one line %q", out, want)
	}
	wantContains(t, out, "Blue Mug")
	if strings.Contains(out, "something went wrong") {
		t.Errorf("reply calls it an internal error:\n%s", out)
	}
	if strings.Contains(logged, "level=ERROR") || strings.Count(logged, "level=WARN") != 1 {
		t.Errorf("log:\n%s\nwant one warning and no error", logged)
	}
}

// A checkout whose commit could not be confirmed says so honestly, keeps the cart,
// and orders settles it: placed after all (the cart is emptied) ...
func TestUnconfirmedCheckoutSettledByOrders(t *testing.T) {
	store := &awayStore{Store: mustOpenStore(t), commitAnyway: true}
	store.awayCalls.Store(1)
	out, _ := runLines(t, store, "add 1 2", "checkout Ada", "cart", "orders", "cart")
	wantContains(t, out,
		"Test> The store lost its database while placing your order and could not confirm it; your cart is kept. Type orders in a moment to check.",
		"Your cart:",
		"Your last checkout went through after all: order #1 is placed: 2 units, total 25.00.",
		"Order #1",
		"Your cart is empty.",
	)
	ps, _ := store.Products(context.Background(), storify.ProductFilter{})
	if ps[0].Stock != 3 {
		t.Errorf("Blue Mug stock = %d, want 3: bought once", ps[0].Stock)
	}
}

// ... or not placed (the cart is kept, and checking out again places it once).
func TestUnconfirmedCheckoutNotPlaced(t *testing.T) {
	store := &awayStore{Store: mustOpenStore(t)}
	store.awayCalls.Store(1)
	out, _ := runLines(t, store, "add 1 2", "checkout Ada", "checkout Ada", "orders")
	wantContains(t, out,
		"could not confirm it",
		"Your last checkout was not placed; nothing was charged, and your cart is unchanged.",
		"Thank you, Ada. Order #1 is placed: 2 units, total 25.00.",
	)
	if os, _ := store.Orders(context.Background(), storify.OrderFilter{}); len(os) != 1 {
		t.Errorf("%d orders in the store, want 1", len(os))
	}
}

// A command cut short because the store is shutting down is not an internal error.
func TestCancelledCommandIsNotAnError(t *testing.T) {
	store := &cancelledStore{Store: mustOpenStore(t)}
	out, logged := runLines(t, store, "list")
	wantContains(t, out, "The store is closing, so that was not done.")
	if strings.Contains(out, "something went wrong") || strings.Contains(logged, "level=ERROR") {
		t.Errorf("a cancelled command was reported as an internal error:\n%s\nlog:\n%s", out, logged)
	}
}

type cancelledStore struct{ storify.Store }

func (s *cancelledStore) Products(context.Context, storify.ProductFilter) ([]storify.Product, error) {
	return nil, errCancelledRead
}

func (s *cancelledStore) ProductsPage(context.Context, storify.ProductFilter, int, int) ([]storify.Product, int, error) {
	return nil, 0, errCancelledRead
}

var errCancelledRead = errors.Join(context.Canceled, errors.New("postgres: read the catalog: conn closed"))

// A logged-in customer's unconfirmed checkout is settled the same way, and the cart
// is the saved cart as the order left it: empty.
func TestUnconfirmedCheckoutOfAnAccount(t *testing.T) {
	store := &awayStore{Store: mustOpenStore(t), commitAnyway: true}
	store.awayCalls.Store(1) // the first of Products, Orders, Checkout: the checkout
	out, _ := session(t, store, shell.NewLoginThrottle(), "10.0.0.1",
		"register", "Ada", "correct horse", "correct horse", "add 1 2", "checkout", "orders", "cart")
	wantContains(t, out,
		"could not confirm it",
		"Your last checkout went through after all: order #1 is placed: 2 units, total 25.00.",
		"Your cart is empty.",
	)
}
