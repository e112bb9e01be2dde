package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
)

func testCheckout(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 799, 4)
	bowl := addProduct(t, s, "Green Bowl", 300, 2)

	start := time.Now()
	// The plate comes first in the cart although its number is higher: lines keep the
	// cart's order.
	o, err := s.Checkout(ctx, storify.NewOrder{Customer: "  Ada Lovelace ", Items: []storify.CartItem{item(plate, 3), item(mug, 2)}})
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	want := storify.Order{
		ID:       o.ID,
		Customer: "Ada Lovelace",
		Lines: []storify.OrderLine{
			{ProductID: plate.ID, Name: "Red Plate", Qty: 3, UnitPrice: 799},
			{ProductID: mug.ID, Name: "Blue Mug", Qty: 2, UnitPrice: 1250},
		},
		Total:  3*799 + 2*1250,
		Status: storify.StatusPlaced,
		Placed: o.Placed,
	}
	if o.ID <= 0 {
		t.Errorf("Checkout: order number %d, want a positive one", o.ID)
	}
	sameOrder(t, "Checkout", o, want)
	if o.Placed.Before(start.Add(-placedSlack)) || o.Placed.After(time.Now().Add(placedSlack)) {
		t.Errorf("Checkout: placed at %v, want about %v", o.Placed, start)
	}
	if o.Units() != 5 {
		t.Errorf("Checkout: %d units, want 5", o.Units())
	}

	got, err := s.Order(ctx, o.ID)
	if err != nil {
		t.Fatalf("Order(%d): %v", o.ID, err)
	}
	sameOrder(t, "Order after Checkout", got, want)
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != 1 {
		t.Errorf("Orders: %d orders, want 1", len(os))
	} else {
		sameOrder(t, "Orders after Checkout", os[0], want)
	}

	wantStock(t, s, mug.ID, 8, 10)
	wantStock(t, s, plate.ID, 1, 4)
	wantStock(t, s, bowl.ID, 2, 2)

	o2 := checkout(t, s, "Bob", item(bowl, 1))
	if o2.ID == o.ID {
		t.Errorf("two orders got number %d", o.ID)
	}
	checkInvariant(t, s)
}

// Buying exactly what is left is allowed and leaves the product sold out.
func testCheckoutLastUnits(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 3)
	checkout(t, s, "Ada", item(mug, 3))
	wantStock(t, s, mug.ID, 0, 3)

	_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{item(mug, 1)}})
	msg := wantCode(t, "Checkout of a sold-out product", err, storify.ECONFLICT)
	if msg != "" && !strings.Contains(msg, "Blue Mug") {
		t.Errorf("Checkout of a sold-out product: message %q does not name Blue Mug", msg)
	}
	wantStock(t, s, mug.ID, 0, 3)
	checkInvariant(t, s)
}

func testCheckoutInvalid(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 20_000)
	tests := []struct {
		what     string
		customer string
		items    []storify.CartItem
	}{
		{"no items", "Ada", nil},
		{"an empty cart", "Ada", []storify.CartItem{}},
		{"a zero quantity", "Ada", []storify.CartItem{item(mug, 0)}},
		{"a negative quantity", "Ada", []storify.CartItem{item(mug, -1)}},
		{"a negative quantity on a second line", "Ada", []storify.CartItem{item(mug, 2), item(mug, -1)}},
		{"a quantity above the maximum", "Ada", []storify.CartItem{item(mug, storify.MaxQty+1)}},
		{"an empty customer name", "", []storify.CartItem{item(mug, 1)}},
		{"a blank customer name", "  ", []storify.CartItem{item(mug, 1)}},
		{"a customer name that is a number", "123", []storify.CartItem{item(mug, 1)}},
		{"a customer name with an escape sequence", "Ada\x1b[31m", []storify.CartItem{item(mug, 1)}},
		{"a customer name too long", strings.Repeat("a", storify.MaxNameLen+1), []storify.CartItem{item(mug, 1)}},
	}
	for _, tt := range tests {
		_, err := s.Checkout(ctx, storify.NewOrder{Customer: tt.customer, Items: tt.items})
		wantCode(t, "Checkout with "+tt.what, err, storify.EINVALID)
	}
	wantStock(t, s, mug.ID, 20_000, 20_000)
	wantNoOrders(t, s)
}

func testCheckoutUnknownProduct(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 5)
	for _, items := range [][]storify.CartItem{
		{item(mug, 2), {ProductID: mug.ID + 100, Qty: 1}},
		{{ProductID: mug.ID + 100, Qty: 1}, item(mug, 2)},
		{{ProductID: 0, Qty: 1}},
	} {
		_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: items})
		if code := storify.ErrorCode(err); code != storify.ENOTFOUND && code != storify.ECONFLICT {
			t.Errorf("Checkout(%v) with an unknown product: error %v (code %q), want ENOTFOUND or ECONFLICT", items, err, code)
		}
	}
	wantStock(t, s, mug.ID, 5, 5)
	wantNoOrders(t, s)
}

// A short line fails the whole order: no unit is taken from any line, whatever the
// order of the lines in the cart or of the products in the catalog.
func testCheckoutShortLineTakesNothing(t *testing.T, s storify.Store) {
	plate := addProduct(t, s, "Red Plate", 800, 10)
	mug := addProduct(t, s, "Blue Mug", 1250, 2)
	bowl := addProduct(t, s, "Green Bowl", 300, 10)
	for _, items := range [][]storify.CartItem{
		{item(plate, 3), item(mug, 5), item(bowl, 4)},
		{item(mug, 5), item(plate, 3), item(bowl, 4)},
		{item(bowl, 4), item(plate, 3), item(mug, 3)},
		{item(mug, 3)},
	} {
		_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: items})
		if msg := wantCode(t, fmt.Sprintf("Checkout(%v)", items), err, storify.ECONFLICT); msg != "" && msg != "only 2 Blue Mug left" {
			t.Errorf("Checkout(%v): message %q, want %q", items, msg, "only 2 Blue Mug left")
		}
		wantStock(t, s, plate.ID, 10, 10)
		wantStock(t, s, mug.ID, 2, 2)
		wantStock(t, s, bowl.ID, 10, 10)
	}
	wantNoOrders(t, s)

	// The store still sells what it has.
	checkout(t, s, "Ada", item(plate, 3), item(mug, 2))
	wantStock(t, s, plate.ID, 7, 10)
	wantStock(t, s, mug.ID, 0, 2)
	checkInvariant(t, s)
}

func testCheckoutSoldOut(t *testing.T, s storify.Store) {
	plate := addProduct(t, s, "Red Plate", 800, 10)
	mug := addProduct(t, s, "Blue Mug", 1250, 0)
	_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(plate, 1), item(mug, 1)}})
	msg := wantCode(t, "Checkout with a sold-out line", err, storify.ECONFLICT)
	if msg != "" && !strings.Contains(msg, "Blue Mug") {
		t.Errorf("Checkout with a sold-out line: message %q does not name Blue Mug", msg)
	}
	wantStock(t, s, plate.ID, 10, 10)
	wantNoOrders(t, s)
}

func testCheckoutDiscontinued(t *testing.T, s storify.Store) {
	plate := addProduct(t, s, "Red Plate", 800, 10)
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	if _, err := s.Discontinue(context.Background(), mug.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(plate, 1), item(mug, 1)}})
	msg := wantCode(t, "Checkout of a discontinued product", err, storify.ECONFLICT)
	if msg != "" && !strings.Contains(msg, "Blue Mug") {
		t.Errorf("Checkout of a discontinued product: message %q does not name Blue Mug", msg)
	}
	wantStock(t, s, plate.ID, 10, 10)
	wantStock(t, s, mug.ID, 10, 10)
	wantNoOrders(t, s)
}

// The same product twice in one checkout counts once against its stock, with the
// quantities added: two lines that each fit must not together sell more than there is.
func testCheckoutDuplicateItems(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 3)
	_, err := s.Checkout(context.Background(), storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(mug, 2), item(mug, 2)}})
	if msg := wantCode(t, "Checkout of 2+2 of 3 units", err, storify.ECONFLICT); msg != "" && msg != "only 3 Blue Mug left" {
		t.Errorf("Checkout of 2+2 of 3 units: message %q, want %q", msg, "only 3 Blue Mug left")
	}
	wantStock(t, s, mug.ID, 3, 3)
	wantNoOrders(t, s)

	if _, err := s.Restock(context.Background(), mug.ID, 2); err != nil {
		t.Fatalf("Restock: %v", err)
	}
	o := checkout(t, s, "Ada", item(mug, 2), item(mug, 2))
	if o.Units() != 4 || o.Total != 4*1250 {
		t.Errorf("Checkout of 2+2 of 5 units: %d units, total %s; want 4 units, 50.00", o.Units(), o.Total)
	}
	for _, l := range o.Lines {
		if l.ProductID != mug.ID || l.UnitPrice != 1250 {
			t.Errorf("Checkout of 2+2: line %+v, want Blue Mug at 12.50", l)
		}
	}
	wantStock(t, s, mug.ID, 1, 5)
	checkInvariant(t, s)
}
