package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/storify/storify"
)

// ChangeCart changes the saved cart only if it still holds what the caller read.
func testChangeCart(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	ada := createAccount(t, s, "Ada")
	if err := s.ChangeCart(ctx, ada.ID, nil, []storify.CartItem{item(mug, 1)}); err != nil {
		t.Fatalf("ChangeCart from empty: %v", err)
	}
	wantCart(t, s, "after a change from empty", ada.ID, item(mug, 1))
	// A connection that read the empty cart is stale now.
	err := s.ChangeCart(ctx, ada.ID, nil, []storify.CartItem{item(plate, 1)})
	if err != storify.ErrCartChanged && storify.ErrorCode(err) != storify.ECONFLICT {
		t.Errorf("ChangeCart from a stale cart: %v, want ErrCartChanged", err)
	}
	wantCart(t, s, "after a stale change", ada.ID, item(mug, 1))
	if err := s.ChangeCart(ctx, ada.ID, []storify.CartItem{item(mug, 1)}, []storify.CartItem{item(mug, 1), item(plate, 2)}); err != nil {
		t.Fatalf("ChangeCart: %v", err)
	}
	wantCart(t, s, "after a change", ada.ID, item(mug, 1), item(plate, 2))
	// Order matters: the caller read the cart in the order SavedCart gives.
	err = s.ChangeCart(ctx, ada.ID, []storify.CartItem{item(plate, 2), item(mug, 1)}, nil)
	wantCode(t, "ChangeCart from the lines in another order", err, storify.ECONFLICT)
	if err := s.ChangeCart(ctx, ada.ID, []storify.CartItem{item(mug, 1), item(plate, 2)}, nil); err != nil {
		t.Fatalf("ChangeCart to empty: %v", err)
	}
	wantCart(t, s, "after emptying", ada.ID)
	err = s.ChangeCart(ctx, ada.ID+100, nil, []storify.CartItem{item(mug, 1)})
	wantCode(t, "ChangeCart of an unknown account", err, storify.ENOTFOUND)
	err = s.ChangeCart(ctx, ada.ID, nil, []storify.CartItem{{ProductID: plate.ID + 100, Qty: 1}})
	wantCode(t, "ChangeCart to an unknown product", err, storify.ENOTFOUND)
	err = s.ChangeCart(ctx, ada.ID, nil, []storify.CartItem{{ProductID: mug.ID, Qty: 0}})
	wantCode(t, "ChangeCart to a bad quantity", err, storify.EINVALID)
	wantCart(t, s, "after refused changes", ada.ID)
}

// An account's checkout buys its saved cart as it is: a stale copy of the cart
// (another connection changed it, or bought it) places nothing.
func testCheckoutBuysTheSavedCart(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 10)
	plate := addProduct(t, s, "Red Plate", 800, 10)
	ada := createAccount(t, s, "Ada")
	saveCart(t, s, ada.ID, item(mug, 1), item(plate, 1))
	for _, stale := range [][]storify.CartItem{
		{item(mug, 1)},
		{item(mug, 2), item(plate, 1)},
		{item(mug, 1), item(plate, 1), {ProductID: plate.ID, Qty: 1}}, // merges to plate 2
	} {
		_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", AccountID: ada.ID, Items: stale})
		if storify.ErrorCode(err) != storify.ECONFLICT || storify.ErrorMessage(err) != storify.ErrorMessage(storify.ErrCartChanged) {
			t.Errorf("Checkout of %v with %v saved: %v, want ErrCartChanged", stale, []storify.CartItem{item(mug, 1), item(plate, 1)}, err)
		}
	}
	wantStock(t, s, mug.ID, 10, 10)
	wantNoOrders(t, s)
	// In another order than it was added, it is the same cart.
	checkoutAs(t, s, ada, item(plate, 1), item(mug, 1))
	wantCart(t, s, "after the checkout", ada.ID)
	// The cart is bought: the same lines again (a second connection's stale copy)
	// place nothing.
	_, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", AccountID: ada.ID, Items: []storify.CartItem{item(mug, 1), item(plate, 1)}})
	wantCode(t, "Checkout of a cart bought already", err, storify.ECONFLICT)
	wantStock(t, s, mug.ID, 9, 10)
	if got := listOrders(t, s, storify.OrderFilter{AccountID: ada.ID}); len(got) != 1 {
		t.Errorf("%d orders, want 1", len(got))
	}
}

// Many connections of one account, each adding to the cart it read and checking
// out at once: no change is lost, and the cart is bought at most once.
func testConcurrentCartChanges(t *testing.T, s storify.Store) {
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 1000)
	ada := createAccount(t, s, "Ada")
	const n = 8
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				from, err := s.SavedCart(ctx, ada.ID)
				if err != nil {
					t.Errorf("SavedCart: %v", err)
					return
				}
				to := storify.NewCart(from)
				to.Add(mug.ID, 1)
				err = s.ChangeCart(ctx, ada.ID, from, to.Items())
				if err == nil {
					return
				}
				if storify.ErrorCode(err) != storify.ECONFLICT {
					t.Errorf("ChangeCart: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantCart(t, s, "after concurrent adds", ada.ID, item(mug, n))
	placed := make(chan storify.Order, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", AccountID: ada.ID, Items: []storify.CartItem{item(mug, n)}})
			if err == nil {
				placed <- o
			} else if storify.ErrorCode(err) != storify.ECONFLICT {
				t.Errorf("Checkout: %v", err)
			}
		}()
	}
	wg.Wait()
	close(placed)
	if len(placed) != 1 {
		t.Errorf("the cart was bought %d times, want once", len(placed))
	}
	wantStock(t, s, mug.ID, 1000-n, 1000)
}
