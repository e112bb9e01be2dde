package storetest

import (
	"context"
	"fmt"
	"strings"
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
			_, errs[i] = s.Checkout(context.Background(), storify.NewOrder{Customer: fmt.Sprintf("Buyer %d", i), Items: []storify.CartItem{item(mug, 1)}})
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
				o, err := s.Checkout(ctx, storify.NewOrder{Customer: fmt.Sprintf("Worker %d", w), Items: items})
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

// Many checkouts at once, some bound to succeed, some bound to fail and some racing
// for the last units, each get their own answer: a backend that commits concurrent
// checkouts together must not let one's failure undo another or leak into its reply.
func testConcurrentCheckoutOutcomes(t *testing.T, s storify.Store) {
	const buyers, plates = 90, 10
	ctx := context.Background()
	mug := addProduct(t, s, "Blue Mug", 1250, 1000)
	plate := addProduct(t, s, "Red Plate", 800, plates)
	cup := addProduct(t, s, "Old Cup", 300, 5)
	if _, err := s.Discontinue(ctx, cup.ID); err != nil {
		t.Fatalf("Discontinue: %v", err)
	}
	unknown := storify.CartItem{ProductID: cup.ID + 100, Qty: 1}

	// kind i%6 of buyer i: what they buy and what they must be told.
	const (
		sure         = iota // plenty of mugs: succeeds
		short               // more plates than were ever received: ECONFLICT
		discontinued        // a discontinued cup: ECONFLICT
		unknownLine         // a product that does not exist: ENOTFOUND (or ECONFLICT)
		racing              // one plate, while they last (two kinds of six)
	)
	cartOf := func(i int) []storify.CartItem {
		switch i % 6 {
		case sure:
			return []storify.CartItem{item(mug, 1+i%3)}
		case short:
			return []storify.CartItem{item(mug, 1), item(plate, plates+1)}
		case discontinued:
			return []storify.CartItem{item(cup, 1), item(mug, 2)}
		case unknownLine:
			return []storify.CartItem{item(mug, 1), unknown}
		}
		return []storify.CartItem{item(plate, 1)}
	}

	var wg sync.WaitGroup
	start := make(chan struct{})
	orders := make([]storify.Order, buyers)
	errs := make([]error, buyers)
	for i := range buyers {
		wg.Go(func() {
			<-start
			orders[i], errs[i] = s.Checkout(ctx, storify.NewOrder{Customer: fmt.Sprintf("Buyer %d", i), Items: cartOf(i)})
		})
	}
	close(start)
	wg.Wait()

	mugsSold, racersServed, placed := 0, 0, map[int64]int{}
	for i, err := range errs {
		code, msg := storify.ErrorCode(err), storify.ErrorMessage(err)
		kind := min(i%6, racing)
		switch {
		case kind == sure && err != nil:
			t.Errorf("buyer %d of plenty of mugs: %v, want an order", i, err)
		case kind == short && (code != storify.ECONFLICT || !strings.Contains(msg, "Red Plate")):
			t.Errorf("buyer %d of %d plates: %v (code %q), want ECONFLICT naming Red Plate", i, plates+1, err, code)
		case kind == discontinued && (code != storify.ECONFLICT || !strings.Contains(msg, "Old Cup")):
			t.Errorf("buyer %d of a discontinued cup: %v (code %q), want ECONFLICT naming Old Cup", i, err, code)
		case kind == unknownLine && code != storify.ENOTFOUND && code != storify.ECONFLICT:
			t.Errorf("buyer %d of an unknown product: %v (code %q), want ENOTFOUND or ECONFLICT", i, err, code)
		case kind == racing && code != "" && code != storify.ECONFLICT:
			t.Errorf("buyer %d of one plate: %v (code %q), want an order or ECONFLICT", i, err, code)
		}
		if err != nil {
			continue
		}
		o := orders[i]
		if other, ok := placed[o.ID]; ok {
			t.Errorf("buyers %d and %d both got order #%d", other, i, o.ID)
		}
		placed[o.ID] = i
		var want []storify.OrderLine
		for _, it := range cartOf(i) {
			p := mug
			if it.ProductID == plate.ID {
				p = plate
			}
			want = append(want, storify.OrderLine{ProductID: p.ID, Name: p.Name, Qty: it.Qty, UnitPrice: p.Price})
		}
		if o.Customer != fmt.Sprintf("Buyer %d", i) || !sameLines(o.Lines, want) {
			t.Errorf("buyer %d got order #%d for %q with lines %+v, want their own: %+v", i, o.ID, o.Customer, o.Lines, want)
		}
		if got, err := s.Order(ctx, o.ID); err != nil {
			t.Errorf("Order(%d) of buyer %d: %v", o.ID, i, err)
		} else {
			sameOrder(t, fmt.Sprintf("Order(%d) of buyer %d", o.ID, i), got, o)
		}
		if kind == racing {
			racersServed++
		} else {
			mugsSold += o.Units()
		}
	}
	if racersServed != plates {
		t.Errorf("%d buyers got one of the %d plates, want %d", racersServed, plates, plates)
	}
	wantStock(t, s, mug.ID, 1000-mugsSold, 1000)
	wantStock(t, s, plate.ID, 0, plates)
	wantStock(t, s, cup.ID, 5, 5)
	if os := listOrders(t, s, storify.OrderFilter{}); len(os) != len(placed) {
		t.Errorf("Orders: %d orders, want the %d that were acknowledged", len(os), len(placed))
	}
	checkInvariant(t, s)
}
