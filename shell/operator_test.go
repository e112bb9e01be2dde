package shell_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/storify/storify"
)

// TestManagerShowAndAdjust: show gives every field of a product with its sales and
// write-offs; adjust writes units off and puts them back, with a reason, and the
// stock still adds up.
func TestManagerShowAndAdjust(t *testing.T) {
	store := mustOpenStore(t) // Blue Mug: 5 in stock
	ctx := context.Background()
	if _, err := store.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: 1, Qty: 2}}}); err != nil {
		t.Fatal(err)
	}
	out := manage(t, store, nil,
		"adjust blue mug -2 dropped a box",
		"adjust Blue Mug -2",
		"",
		"adjust 1 +5 found",
		"adjust 1 3 found",
		"adjust 1 -9 gone",
		"adjust 1 +1 found one after all",
		"show blue mug",
	)
	wantContains(t, out,
		"Test manager> #1 Blue Mug: 2 units written off; 1 in stock.\n",
		"Test manager> Reason: Cancelled.\n",
		"Test manager> 2 units of Blue Mug are written off, and no more can be put back; units received go through restock.\n",
		`Test manager> "3" is not an adjustment: type -N to write off N units, or +N to put back N written off.`+"\n",
		"Test manager> Blue Mug has 1 units on hand; no more can be written off.\n",
		"Test manager> #1 Blue Mug: 1 unit put back; 2 in stock.\n",
		"Test manager> #1 Blue Mug\n",
		"  Price:       12.50 (on sale)\n  On hand:     2\n  Received:    5\n  Sold:        2 (revenue 25.00; cancelled orders left out)\n  Written off: 1\n  Adjustments:\n",
	)
	if !regexp.MustCompile(`\n    \d{4}-\d\d-\d\d \d\d:\d\d      -2  dropped a box\n    \d{4}-\d\d-\d\d \d\d:\d\d      \+1  found one after all\n`).MatchString(out) {
		t.Errorf("show does not list the adjustments:\n%s", out)
	}
}

// TestManagerFreePrice: a price of 0.00 is asked about at a terminal, and needs
// --free in a script.
func TestManagerFreePrice(t *testing.T) {
	store := mustOpenStore(t)
	out := manage(t, store, nil, "price 1 0", "no", "price 1 0.00", "yes", "price 2 0 --free", "addproduct Sample 0 5", "n")
	wantContains(t, out,
		"Test manager> Give Blue Mug away, at a price of 0.00? (yes/no) Cancelled; nothing was changed.\n",
		"Test manager> Give Blue Mug away, at a price of 0.00? (yes/no) #1 Blue Mug: price 0.00 (was 12.50).\n",
		"Test manager> #2 Notebook: price 0.00 (was 6.90).\n",
		"Test manager> Give Sample away, at a price of 0.00? (yes/no) Cancelled; nothing was changed.\n",
	)
	stdout, errs, failed := script(t, mustOpenStore(t), false, "price 1 0", "addproduct Sample 0 5", "addproduct Sample 0 5 --free", "price Blue Mug 0 --free")
	wantErrs := "line 1: price 1 0: Give Blue Mug away, at a price of 0.00? Add --free to say yes in a script.\n" +
		"line 2: addproduct Sample 0 5: Give Sample away, at a price of 0.00? Add --free to say yes in a script.\n"
	if stdout != "Added #3 Sample at 0.00, 5 in stock.\n#1 Blue Mug: price 0.00 (was 12.50).\n" || errs != wantErrs || failed != 2 {
		t.Errorf("script: stdout %q\nerrors %q\nwant %q; failures %d", stdout, errs, wantErrs, failed)
	}
}

// TestManagerOrderWords: canceled is cancelled, a wrong status is quoted as typed,
// and order 0 is an order that does not exist, not a bad number.
func TestManagerOrderWords(t *testing.T) {
	store := mustOpenStore(t)
	ctx := context.Background()
	o, err := store.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: 1, Qty: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Cancel(ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	out := manage(t, store, nil, "orders canceled", "orders Shipt", "order 0", "ship #0", "restock 2 20000")
	wantContains(t, out,
		"Test manager>      Order  Customer          Status     Units       Total  Placed\n",
		"    #1  Ada               cancelled      1       12.50",
		`Test manager> "Shipt" is not a status or a filter: type placed, shipped, cancelled or all, account NAME, name NAME, from DATE or to DATE.`,
		"Test manager> There is no order #0: order numbers start at 1; type orders to list them.\n",
		"#2 Notebook: 20050 in stock.\n",
	)
	if strings.Count(out, "There is no order #0") != 2 {
		t.Errorf("ship #0 is not answered like order 0:\n%s", out)
	}
}
