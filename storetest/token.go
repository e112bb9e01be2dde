package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/storify/storify"
)

// A checkout sent twice with one token places one order: the second gets the first's
// order, and the stock is taken once. Orders finds it by its token.
func testCheckoutTokenPlacesOnce(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	pen := addProduct(t, s, "Red Pen", 150, 10)
	no := storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(mug, 2), item(pen, 1)}, Token: storify.NewToken()}
	first, err := s.Checkout(ctx, no)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPrice(ctx, mug.ID, 9900); err != nil {
		t.Fatal(err)
	}
	again, err := s.Checkout(ctx, no)
	if err != nil {
		t.Fatalf("Checkout with the token of order #%d: %v", first.ID, err)
	}
	if again.ID != first.ID || again.Total != first.Total || len(again.Lines) != 2 || again.Lines[0].UnitPrice != 1250 {
		t.Errorf("Checkout sent again = %+v, want the first order %+v as placed", again, first)
	}
	if got := getProduct(t, s, mug.ID).Stock; got != 8 {
		t.Errorf("Blue Mug stock = %d after one checkout sent twice, want 8", got)
	}
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != 1 {
		t.Errorf("%d orders after one checkout sent twice, want 1", len(os))
	}

	os := listOrders(t, s, storify.OrderFilter{Token: no.Token})
	if len(os) != 1 || os[0].ID != first.ID {
		t.Errorf("Orders by token = %+v, want order #%d", os, first.ID)
	}
	if os := listOrders(t, s, storify.OrderFilter{Token: storify.NewToken()}); len(os) != 0 {
		t.Errorf("Orders by an unknown token = %+v, want none", os)
	}

	// Another token is another order.
	other := no
	other.Token = storify.NewToken()
	if o, err := s.Checkout(ctx, other); err != nil || o.ID == first.ID {
		t.Errorf("Checkout with a new token = #%d, %v; want a new order", o.ID, err)
	}
	// No token: the store chooses one, so each such checkout is an order of its own.
	other.Token = ""
	a, errA := s.Checkout(ctx, other)
	b, errB := s.Checkout(ctx, other)
	if errA != nil || errB != nil || a.ID == b.ID {
		t.Errorf("two checkouts without a token = #%d (%v), #%d (%v); want two orders", a.ID, errA, b.ID, errB)
	}
}

// The same checkout sent many times at once (a client retrying on several
// connections) still places one order, and every copy is answered with it.
func testCheckoutTokenConcurrent(t *testing.T, s storify.Store) {
	const copies = 20
	mug := addProduct(t, s, "Blue Mug", 1250, 100)
	no := storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(mug, 3)}, Token: storify.NewToken()}
	var wg sync.WaitGroup
	start := make(chan struct{})
	orders := make([]storify.Order, copies)
	errs := make([]error, copies)
	for i := range copies {
		wg.Go(func() {
			<-start
			orders[i], errs[i] = s.Checkout(context.Background(), no)
		})
	}
	close(start)
	wg.Wait()
	for i := range copies {
		if errs[i] != nil || orders[i].ID != orders[0].ID {
			t.Errorf("copy %d: order #%d, %v; want order #%d like copy 0 (%v)", i, orders[i].ID, errs[i], orders[0].ID, errs[0])
		}
	}
	if got := getProduct(t, s, mug.ID).Stock; got != 97 {
		t.Errorf("Blue Mug stock = %d after %d copies of one checkout, want 97", got, copies)
	}
}

// A token that is too long or not printable is refused before anything is placed.
func testCheckoutTokenInvalid(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	for _, tok := range []string{strings.Repeat("x", storify.MaxTokenLen+1), "two words", "tab\t"} {
		_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(mug, 1)}, Token: tok})
		if storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("Checkout with token %q: %v, want EINVALID", tok, err)
		}
	}
	if got := getProduct(t, s, mug.ID).Stock; got != 10 {
		t.Errorf("Blue Mug stock = %d, want 10", got)
	}
}
