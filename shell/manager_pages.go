package shell

import (
	"context"
	"fmt"
	"slices"

	"github.com/storify/storify"
)

// The manager's lists that can grow (products, orders, accounts) are paged on a
// terminal; next, prev and page N move through the last one.

func (m *Manager) nextPage(ctx context.Context, _ Args) error { return m.turnPage(ctx, true) }
func (m *Manager) prevPage(ctx context.Context, _ Args) error { return m.turnPage(ctx, false) }
func (m *Manager) page(ctx context.Context, a Args) error     { return m.gotoPage(ctx, a.Get("N")) }

// productsListing is the whole catalog, discontinued products too, with stock.
func (m *Manager) productsListing() *listing {
	var p productPage
	return &listing{
		noun: "products", empty: "No products yet. Type addproduct to add one.", jump: "products PAGE",
		load: func(ctx context.Context, from, to int) (int, error) {
			return p.load(ctx, m.store, storify.ProductFilter{All: true}, from, to)
		},
		render: func(b []byte, from, to int) []byte { return appendCatalog(b, p.rows(from, to), true) },
	}
}

// ordersListing is the orders f selects (and keep, if not nil, keeps), newest
// first, one line each.
func (m *Manager) ordersListing(f storify.OrderFilter, keep func(storify.Order) bool) *listing {
	var os []storify.Order
	return &listing{
		noun: "orders", empty: "No orders.", jump: "page N",
		load: func(ctx context.Context, _, _ int) (n int, err error) {
			os, err = m.store.Orders(ctx, f)
			if keep != nil {
				os = slices.DeleteFunc(os, func(o storify.Order) bool { return !keep(o) })
			}
			return len(os), err
		},
		render: func(b []byte, from, to int) []byte {
			w := bytesWriter{&b}
			fmt.Fprintf(w, "%6s  %-16s  %-9s  %5s  %10s  %s\n", "Order", "Customer", "Status", "Units", "Total", "Placed")
			for _, o := range os[from:to] {
				fmt.Fprintf(w, "%6s  %s  %-9s  %5d  %10s  %s\n", fmt.Sprint("#", o.ID), pad(shown(o.Customer), 16), o.Status,
					o.Units(), o.Total, o.Placed.Local().Format("2006-01-02 15:04"))
			}
			return b
		},
	}
}

// accountsListing is every account with its order count.
func (m *Manager) accountsListing() *listing {
	var as []storify.AccountSummary
	return &listing{
		noun: "accounts", empty: "No accounts yet.", jump: "page N",
		load: func(ctx context.Context, _, _ int) (n int, err error) {
			as, err = m.store.Accounts(ctx)
			return len(as), err
		},
		render: func(b []byte, from, to int) []byte {
			w := bytesWriter{&b}
			fmt.Fprintf(w, "%-20s  %-16s  %6s\n", "Account", "Opened", "Orders")
			for _, a := range as[from:to] {
				locked := ""
				if a.Locked {
					locked = "  locked"
				}
				fmt.Fprintf(w, "%s  %-16s  %6d%s\n", pad(shown(a.Name), 20), a.Created.Local().Format("2006-01-02 15:04"), a.Orders, locked)
			}
			if to == len(as) && from == 0 {
				fmt.Fprintf(w, "%s.\n", count(len(as), "account"))
			}
			return b
		},
	}
}
