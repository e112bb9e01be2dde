package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/storify/storify"
)

// Orders and sales narrowed to a period: from Since, inclusive, to Before,
// exclusive; and each sale says its product's category.
func testReportsByPeriod(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	pen := addProduct(t, s, "Red Pen", 150, 10)
	if _, err := s.SetCategory(ctx, pen.ID, "Writing"); err != nil {
		t.Fatal(err)
	}
	checkout(t, s, "Ada", item(mug, 1))
	time.Sleep(2 * time.Millisecond) // so that the orders' times differ, at any clock's resolution
	checkout(t, s, "Bob", item(mug, 2), item(pen, 3))
	os := listOrders(t, s, storify.OrderFilter{}) // newest first, times as stored
	if len(os) != 2 || !os[1].Placed.Before(os[0].Placed) {
		t.Fatalf("orders = %+v", os)
	}
	first, second := os[1], os[0]

	for _, tt := range []struct {
		name   string
		period storify.Period
		want   []int64
	}{
		{"from the second", storify.Period{Since: second.Placed}, []int64{second.ID}},
		{"before the second", storify.Period{Before: second.Placed}, []int64{first.ID}},
		{"both", storify.Period{Since: first.Placed, Before: second.Placed.Add(time.Second)}, []int64{second.ID, first.ID}},
		{"none", storify.Period{Since: second.Placed.Add(time.Second)}, nil},
	} {
		if got := orderIDs(listOrders(t, s, storify.OrderFilter{Placed: tt.period})); !sameIDs(got, tt.want) {
			t.Errorf("%s: orders %v, want %v", tt.name, got, tt.want)
		}
	}

	sales, err := s.SalesFor(ctx, storify.Period{Since: second.Placed})
	want := []storify.Sale{
		{ProductID: mug.ID, Name: "Blue Mug", Units: 2, Revenue: 2500},
		{ProductID: pen.ID, Name: "Red Pen", Category: "Writing", Units: 3, Revenue: 450},
	}
	if err != nil || len(sales) != 2 || sales[0] != want[0] || sales[1] != want[1] {
		t.Errorf("SalesFor(from the second order) = %+v, %v; want %+v", sales, err, want)
	}
	if sales, err := s.SalesFor(ctx, storify.Period{Before: second.Placed}); err != nil || len(sales) != 1 || sales[0].Units != 1 {
		t.Errorf("SalesFor(before the second order) = %+v, %v; want the first order's mug", sales, err)
	}
	if sales, err := s.Sales(ctx); err != nil || len(sales) != 2 || sales[0].Units != 3 {
		t.Errorf("Sales = %+v, %v; want every order", sales, err)
	}
}
