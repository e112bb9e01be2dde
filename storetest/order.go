package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/storify/storify"
)

func testOrdersNewestFirst(t *testing.T, s storify.Store) {
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != 0 {
		t.Errorf("a new store lists %d orders, want none", len(os))
	}
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	o1 := checkout(t, s, "Ada", item(mug, 1))
	o2 := checkout(t, s, "Bob", item(plate, 2), item(mug, 1))
	o3 := checkout(t, s, "Cy", item(plate, 1))

	got := listOrders(t, s, storify.OrderFilter{})
	want := []storify.Order{o3, o2, o1}
	if !slices.Equal(orderIDs(got), orderIDs(want)) {
		t.Fatalf("Orders = %v, want %v (newest first)", orderIDs(got), orderIDs(want))
	}
	for i := range want {
		sameOrder(t, "Orders", got[i], want[i])
		if i > 0 && got[i].Placed.After(got[i-1].Placed) {
			t.Errorf("order #%d placed %v, after the newer order #%d placed %v",
				got[i].ID, got[i].Placed, got[i-1].ID, got[i-1].Placed)
		}
	}
}

func testOrdersFilter(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	o1 := checkout(t, s, "Ada", item(mug, 1))
	o2 := checkout(t, s, "Bob", item(mug, 1))
	o3 := checkout(t, s, "Cy", item(mug, 1))
	o4 := checkout(t, s, "Di", item(mug, 1))
	if _, err := s.Ship(ctx, o2.ID); err != nil {
		t.Fatalf("Ship: %v", err)
	}
	if _, err := s.Cancel(ctx, o3.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}

	tests := []struct {
		filter storify.OrderFilter
		want   []int64
	}{
		{storify.OrderFilter{}, []int64{o4.ID, o3.ID, o2.ID, o1.ID}},
		{storify.OrderFilter{IDs: []int64{o1.ID, o3.ID}}, []int64{o3.ID, o1.ID}},
		{storify.OrderFilter{IDs: []int64{o3.ID, o1.ID, o4.ID + 100}}, []int64{o3.ID, o1.ID}},
		{storify.OrderFilter{IDs: []int64{}}, nil},
		{storify.OrderFilter{Status: storify.StatusPlaced}, []int64{o4.ID, o1.ID}},
		{storify.OrderFilter{Status: storify.StatusShipped}, []int64{o2.ID}},
		{storify.OrderFilter{Status: storify.StatusCancelled}, []int64{o3.ID}},
		{storify.OrderFilter{Limit: 2}, []int64{o4.ID, o3.ID}},
		{storify.OrderFilter{Limit: 10}, []int64{o4.ID, o3.ID, o2.ID, o1.ID}},
		{storify.OrderFilter{Status: storify.StatusPlaced, Limit: 1}, []int64{o4.ID}},
		{storify.OrderFilter{IDs: []int64{o1.ID, o2.ID, o4.ID}, Status: storify.StatusPlaced}, []int64{o4.ID, o1.ID}},
		{storify.OrderFilter{IDs: []int64{o1.ID, o2.ID, o4.ID}, Limit: 2}, []int64{o4.ID, o2.ID}},
	}
	for _, tt := range tests {
		got := listOrders(t, s, tt.filter)
		if !slices.Equal(orderIDs(got), tt.want) {
			t.Errorf("Orders(%+v) = %v, want %v", tt.filter, orderIDs(got), tt.want)
		}
		for _, o := range got {
			if len(o.Lines) != 1 || o.Lines[0].ProductID != mug.ID {
				t.Errorf("Orders(%+v): order #%d has lines %+v, want its one Blue Mug line", tt.filter, o.ID, o.Lines)
			}
		}
	}
}

func testOrderNotFound(t *testing.T, s storify.Store) {
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	o := checkout(t, s, "Ada", item(mug, 1))
	for _, id := range []int64{o.ID + 1, 0, -1} {
		_, err := s.Order(context.Background(), id)
		wantCode(t, fmt.Sprintf("Order(%d)", id), err, storify.ENOTFOUND)
	}
}

func testShip(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	o := checkout(t, s, "Ada", item(mug, 2))

	got, err := s.Ship(ctx, o.ID)
	if err != nil {
		t.Fatalf("Ship: %v", err)
	}
	want := o
	want.Status = storify.StatusShipped
	sameOrder(t, "Ship", got, want)
	if got, err := s.Order(ctx, o.ID); err != nil {
		t.Fatalf("Order: %v", err)
	} else {
		sameOrder(t, "Order after Ship", got, want)
	}
	wantStock(t, s, mug.ID, 8, 10)

	_, err = s.Ship(ctx, o.ID)
	wantCode(t, "Ship of a shipped order", err, storify.ECONFLICT)
	_, err = s.Cancel(ctx, o.ID)
	wantCode(t, "Cancel of a shipped order", err, storify.ECONFLICT)
	wantStock(t, s, mug.ID, 8, 10)
	if got, _ := s.Order(ctx, o.ID); got.Status != storify.StatusShipped {
		t.Errorf("a refused Cancel left the order %s, want shipped", got.Status)
	}

	_, err = s.Ship(ctx, o.ID+1)
	wantCode(t, "Ship of no order", err, storify.ENOTFOUND)
	checkInvariant(t, s)
}

func testCancel(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 5)
	o := checkout(t, s, "Ada", item(mug, 3), item(plate, 5))
	kept := checkout(t, s, "Bob", item(mug, 1))
	wantStock(t, s, mug.ID, 6, 10)
	wantStock(t, s, plate.ID, 0, 5)

	got, err := s.Cancel(ctx, o.ID)
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	want := o
	want.Status = storify.StatusCancelled
	sameOrder(t, "Cancel", got, want)
	if got, err := s.Order(ctx, o.ID); err != nil {
		t.Fatalf("Order: %v", err)
	} else {
		sameOrder(t, "Order after Cancel", got, want)
	}
	wantStock(t, s, mug.ID, 9, 10)
	wantStock(t, s, plate.ID, 5, 5)

	_, err = s.Cancel(ctx, o.ID)
	wantCode(t, "Cancel of a cancelled order", err, storify.ECONFLICT)
	_, err = s.Ship(ctx, o.ID)
	wantCode(t, "Ship of a cancelled order", err, storify.ECONFLICT)
	wantStock(t, s, mug.ID, 9, 10)
	wantStock(t, s, plate.ID, 5, 5)
	if got, _ := s.Order(ctx, o.ID); got.Status != storify.StatusCancelled {
		t.Errorf("a refused Ship left the order %s, want cancelled", got.Status)
	}
	if got, _ := s.Order(ctx, kept.ID); got.Status != storify.StatusPlaced {
		t.Errorf("cancelling order #%d changed order #%d to %s", o.ID, kept.ID, got.Status)
	}

	_, err = s.Cancel(ctx, kept.ID+1)
	wantCode(t, "Cancel of no order", err, storify.ENOTFOUND)

	// Units put back can be sold again.
	checkout(t, s, "Cy", item(plate, 5))
	wantStock(t, s, plate.ID, 0, 5)
	checkInvariant(t, s)
}

func testSales(t *testing.T, s storify.Store) {
	ctx := context.Background()
	sales, err := s.Sales(ctx)
	if err != nil {
		t.Fatalf("Sales: %v", err)
	}
	if len(sales) != 0 {
		t.Errorf("a new store has sales %+v, want none", sales)
	}

	mug := addProduct(t, s, "Blue Mug", 1000, 100)
	unsold := addProduct(t, s, "Green Bowl", 300, 100)
	plate := addProduct(t, s, "Red Plate", 800, 100)
	cup := addProduct(t, s, "Old Cup", 200, 100)

	checkout(t, s, "Ada", item(plate, 1), item(mug, 2)) // mug 2 × 10.00, plate 8.00
	if _, err := s.SetPrice(ctx, mug.ID, 1500); err != nil {
		t.Fatalf("SetPrice: %v", err)
	}
	shipped := checkout(t, s, "Bob", item(mug, 1)) // mug 1 × 15.00
	if _, err := s.Ship(ctx, shipped.ID); err != nil {
		t.Fatalf("Ship: %v", err)
	}
	cancelled := checkout(t, s, "Cy", item(plate, 5), item(unsold, 3))
	if _, err := s.Cancel(ctx, cancelled.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	checkout(t, s, "Di", item(cup, 4)) // sold, then discontinued: still in the report
	if _, err := s.Discontinue(ctx, cup.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}

	sales, err = s.Sales(ctx)
	if err != nil {
		t.Fatalf("Sales: %v", err)
	}
	want := []storify.Sale{
		{ProductID: mug.ID, Name: "Blue Mug", Units: 3, Revenue: 2*1000 + 1500},
		{ProductID: plate.ID, Name: "Red Plate", Units: 1, Revenue: 800},
		{ProductID: cup.ID, Name: "Old Cup", Units: 4, Revenue: 800},
	}
	if fmt.Sprint(sales) != fmt.Sprint(want) {
		t.Errorf("Sales =\n%+v\nwant\n%+v", sales, want)
	}
}

// A run of everything a store does keeps every unit accounted for.
func testStockInvariant(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 3)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		checkInvariant(t, s)
	}
	o1, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{item(mug, 4), item(plate, 1)}})
	step("Checkout", err)
	_, err = s.Restock(ctx, plate.ID, 7)
	step("Restock", err)
	o2, err := s.Checkout(ctx, storify.NewOrder{Customer: "Bob", Items: []storify.CartItem{item(plate, 9)}})
	step("Checkout", err)
	_, err = s.Checkout(ctx, storify.NewOrder{Customer: "Cy", Items: []storify.CartItem{item(mug, 1), item(plate, 1)}})
	if storify.ErrorCode(err) != storify.ECONFLICT {
		t.Fatalf("Checkout of the sold-out plate: %v, want ECONFLICT", err)
	}
	checkInvariant(t, s)
	_, err = s.Cancel(ctx, o2.ID)
	step("Cancel", err)
	_, err = s.Ship(ctx, o1.ID)
	step("Ship", err)
	_, err = s.Discontinue(ctx, mug.ID)
	step("Discontinue", err)
	_, err = s.SetPrice(ctx, plate.ID, 100)
	step("SetPrice", err)
	wantStock(t, s, mug.ID, 6, 10)
	wantStock(t, s, plate.ID, 9, 10)
}
