package shell_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
)

func TestManagerReports(t *testing.T) {
	store := mustOpenStore(t) // #1 Blue Mug 12.50 x5, #2 Notebook 6.90 x50
	ctx := context.Background()
	acct, err := store.CreateAccount(ctx, "ada", []byte("hash"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.SetCategory(ctx, 1, "Kitchen"); err != nil {
		t.Fatal(err)
	}
	for _, o := range []storify.NewOrder{
		{Customer: "ada", AccountID: acct.ID, Items: []storify.CartItem{{ProductID: 1, Qty: 2}}},
		{Customer: "Bob Smith", Items: []storify.CartItem{{ProductID: 2, Qty: 3}}},
		{Customer: "bob smith", Items: []storify.CartItem{{ProductID: 1, Qty: 1}}},
	} {
		if o.AccountID != 0 {
			if err := store.SaveCart(ctx, o.AccountID, o.Items); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := store.Checkout(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	today := time.Now().Format("2006-01-02")
	tomorrow := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	r := run(t, store, true, -1,
		"orders account ADA",
		"orders name Bob Smith placed",
		"orders from "+tomorrow,
		"orders from "+today+" to "+today,
		"orders to yesterday",
		"sales by category",
		"sales from "+tomorrow,
		"lowstock",
		"lowstock 2",
	)
	orderRows := func(reply string) int { return strings.Count(reply, "placed ") }
	if n := orderRows(r[0]); n != 1 || !strings.Contains(r[0], "#1 ") {
		t.Errorf("orders account ADA: %d orders:\n%s", n, r[0])
	}
	if n := orderRows(r[1]); n != 2 || strings.Contains(r[1], "#1 ") {
		t.Errorf("orders name Bob Smith: %d orders, want #2 and #3:\n%s", n, r[1])
	}
	if !strings.Contains(r[2], "No orders.") {
		t.Errorf("orders from tomorrow:\n%s", r[2])
	}
	if n := orderRows(r[3]); n != 3 {
		t.Errorf("orders today: %d orders:\n%s", n, r[3])
	}
	wantContains(t, r[4], `"yesterday" is not a date: type it like 2026-12-01.`)
	wantContains(t, r[5], "Kitchen 3 37.50", "(no category) 3 20.70", "Total 6 58.20")
	if strings.Index(r[5], "Kitchen") > strings.Index(r[5], "(no category)") {
		t.Errorf("sales by category: the most revenue first:\n%s", r[5])
	}
	wantContains(t, r[6], "Nothing sold in that time.")
	// Blue Mug has 2 left, Notebook 47: lowstock is 10 or fewer by default.
	if !strings.Contains(r[7], "Blue Mug") || strings.Contains(r[7], "Notebook") {
		t.Errorf("lowstock:\n%s", r[7])
	}
	if !strings.Contains(r[8], "Blue Mug") {
		t.Errorf("lowstock 2:\n%s", r[8])
	}
}
