package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/storify/storify"
)

// Fifty customers press checkout at once for the last ten mugs: ten get one, forty
// are told it is sold out, and no mug is sold twice.
func testConcurrentCheckoutLastUnits(t *testing.T, s storify.Store) {
	const buyers, units = 50, 10
	mug := addProduct(t, s, "Blue Mug", 1250, units)

	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, buyers)
	for i := range buyers {
		wg.Go(func() {
			<-start
			_, errs[i] = s.Checkout(context.Background(), fmt.Sprintf("Buyer %d", i), []storify.CartItem{item(mug, 1)})
		})
	}
	close(start)
	wg.Wait()

	var ok, conflict int
	for i, err := range errs {
		switch storify.ErrorCode(err) {
		case "":
			ok++
		case storify.ECONFLICT:
			conflict++
		default:
			t.Errorf("buyer %d: %v, want success or ECONFLICT", i, err)
		}
	}
	if ok != units || conflict != buyers-units {
		t.Errorf("%d checkouts succeeded and %d were refused, want %d and %d", ok, conflict, units, buyers-units)
	}
	wantStock(t, s, mug.ID, 0, units)
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != units {
		t.Errorf("Orders: %d orders, want %d", len(os), units)
	}
	checkInvariant(t, s)
}

// Customers buying two products in either order, and a manager cancelling and
// restocking, all at once, leave every unit accounted for and no error but refusals.
func testConcurrentMixed(t *testing.T, s storify.Store) {
	const workers, rounds = 6, 15
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 20)
	plate := addProduct(t, s, "Red Plate", 800, 20)

	var wg sync.WaitGroup
	var mu sync.Mutex
	var unexpected []error
	report := func(err error) {
		mu.Lock()
		unexpected = append(unexpected, err)
		mu.Unlock()
	}
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				// Opposite line orders on alternate workers: a backend that locked
				// rows in cart order could deadlock here.
				items := []storify.CartItem{item(mug, 1+r%3), item(plate, 1+w%2)}
				if w%2 == 1 {
					items[0], items[1] = items[1], items[0]
				}
				o, err := s.Checkout(ctx, fmt.Sprintf("Worker %d", w), items)
				if code := storify.ErrorCode(err); code != "" && code != storify.ECONFLICT {
					report(fmt.Errorf("worker %d Checkout: %w", w, err))
					continue
				}
				if err == nil && r%4 == 0 {
					if _, err := s.Cancel(ctx, o.ID); err != nil {
						report(fmt.Errorf("worker %d Cancel: %w", w, err))
					}
				}
				if r%5 == 0 {
					if _, err := s.Restock(ctx, plate.ID, 2); err != nil {
						report(fmt.Errorf("worker %d Restock: %w", w, err))
					}
				}
				if _, err := s.Products(ctx, storify.ProductFilter{}); err != nil {
					report(fmt.Errorf("worker %d Products: %w", w, err))
				}
			}
		})
	}
	wg.Wait()
	for _, err := range unexpected {
		t.Error(err)
	}
	checkInvariant(t, s)
}
