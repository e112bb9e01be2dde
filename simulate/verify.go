package simulate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/storify/storify"
)

// StoreReader is the part of a storify.Store that Verify reads; it writes nothing.
type StoreReader interface {
	Products(ctx context.Context, filter storify.ProductFilter) ([]storify.Product, error)
	Orders(ctx context.Context, filter storify.OrderFilter) ([]storify.Order, error)
	Adjustments(ctx context.Context, productID int64) ([]storify.Adjustment, error)
}

// maxProblems bounds the problems a verification error lists.
const maxProblems = 20

// Verify checks the store after a run: no product has negative stock; for every
// product, the units on hand plus the units in orders not cancelled are the units
// ever received less those written off (storify.Admin.AdjustStock); and every order the store confirmed to a simulated customer exists
// with that customer's name, the confirmed units and total, and the lines of the
// cart the customer had built. Run it when the store is quiet: the products and the
// orders are read one after the other.
func Verify(ctx context.Context, store StoreReader, r *Report) error {
	ps, orders, err := readStore(ctx, store)
	if err != nil {
		return err
	}
	var problems []string
	problem := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	inOrders := map[int64]int{} // units in orders not cancelled, by product
	byID := make(map[int64]storify.Order, len(orders))
	for _, o := range orders {
		byID[o.ID] = o
		var sum storify.Cents
		for _, l := range o.Lines {
			sum += l.Subtotal()
			if o.Status != storify.StatusCancelled {
				inOrders[l.ProductID] += l.Qty
			}
		}
		if sum != o.Total {
			problem("order #%d: total %s, but its lines add up to %s", o.ID, o.Total, sum)
		}
	}
	adjs, err := store.Adjustments(ctx, 0)
	if err != nil {
		return fmt.Errorf("reading the stock adjustments: %w", err)
	}
	for _, p := range ps {
		if p.Stock < 0 {
			problem("product #%d %s: negative stock %d", p.ID, p.Name, p.Stock)
		}
		if n, off := inOrders[p.ID], storify.WrittenOff(adjs, p.ID); p.Stock+n != p.Received-off {
			problem("product #%d %s: %d in stock + %d in orders = %d, but %d were received and %d written off",
				p.ID, p.Name, p.Stock, n, p.Stock+n, p.Received, off)
		}
		delete(inOrders, p.ID)
	}
	for _, id := range slices.Sorted(maps.Keys(inOrders)) {
		problem("orders hold %d units of product #%d, which is not in the catalog", inOrders[id], id)
	}

	seen := map[int64]bool{}
	for _, want := range r.Orders {
		if seen[want.ID] {
			problem("order #%d was confirmed twice", want.ID)
			continue
		}
		seen[want.ID] = true
		got, ok := byID[want.ID]
		if !ok {
			problem("order #%d, confirmed to %s, is not in the store", want.ID, want.Customer)
			continue
		}
		if got.Customer != want.Customer {
			problem("order #%d: placed for %q, confirmed to %q", want.ID, got.Customer, want.Customer)
		}
		if got.Units() != want.Units || got.Total != want.Total {
			problem("order #%d: %d units, total %s in the store; confirmed as %d units, total %s",
				want.ID, got.Units(), got.Total, want.Units, want.Total)
		}
		if g, w := lineQtys(got.Lines), cartQtys(want.Lines); !maps.Equal(g, w) {
			problem("order #%d: lines %s in the store; the customer's cart held %s", want.ID, formatQtys(g), formatQtys(w))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	more := ""
	if len(problems) > maxProblems {
		more = fmt.Sprintf("\n  … and %d more", len(problems)-maxProblems)
		problems = problems[:maxProblems]
	}
	return fmt.Errorf("verification failed:\n  %s%s", strings.Join(problems, "\n  "), more)
}

// readStore reads the catalog between two reads of the orders, and retries while
// the orders change meanwhile, so that stock and orders are seen at one moment.
func readStore(ctx context.Context, store StoreReader) ([]storify.Product, []storify.Order, error) {
	for range 3 {
		before, err := store.Orders(ctx, storify.OrderFilter{})
		if err != nil {
			return nil, nil, fmt.Errorf("reading the orders: %w", err)
		}
		ps, err := store.Products(ctx, storify.ProductFilter{All: true})
		if err != nil {
			return nil, nil, fmt.Errorf("reading the products: %w", err)
		}
		after, err := store.Orders(ctx, storify.OrderFilter{})
		if err != nil {
			return nil, nil, fmt.Errorf("reading the orders: %w", err)
		}
		if sameOrders(before, after) {
			return ps, after, nil
		}
	}
	return nil, nil, errors.New("the orders kept changing while they were read; verify when the store is quiet")
}

func sameOrders(a, b []storify.Order) bool {
	return slices.EqualFunc(a, b, func(x, y storify.Order) bool { return x.ID == y.ID && x.Status == y.Status })
}

func lineQtys(ls []storify.OrderLine) map[int64]int {
	m := map[int64]int{}
	for _, l := range ls {
		m[l.ProductID] += l.Qty
	}
	return m
}

func cartQtys(items []storify.CartItem) map[int64]int {
	m := map[int64]int{}
	for _, it := range items {
		m[it.ProductID] += it.Qty
	}
	return m
}

func formatQtys(m map[int64]int) string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d×#%d", m[id], id))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
