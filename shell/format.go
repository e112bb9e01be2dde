package shell

import (
	"context"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/storify/storify"
)

// findProduct resolves what a user typed to name a product: a catalog number
// ("3" or "#3") or a name, case-insensitively.
func findProduct(ctx context.Context, store storify.Store, s string) (storify.Product, error) {
	s = strings.TrimSpace(s)
	if id, err := storify.ParseID(s); err == nil {
		p, err := store.Product(ctx, id)
		if storify.ErrorCode(err) == storify.ENOTFOUND {
			return p, storify.Errorf(storify.ENOTFOUND, "there is no product #%d; type list to see the catalog", id)
		}
		return p, err
	}
	p, err := store.ProductByName(ctx, s)
	if storify.ErrorCode(err) == storify.ENOTFOUND {
		return p, storify.Errorf(storify.ENOTFOUND, "there is no product %q; type list to see the catalog", safe(s, 40))
	}
	return p, err
}

// pad left-aligns s in width columns, counting runes rather than bytes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}

func nameWidth(names func(yield func(string) bool), min int) int {
	w := min
	for n := range names {
		w = max(w, utf8.RuneCountInString(n))
	}
	return w
}

// writeCatalog writes products as a table: number, name, price, stock.
func writeCatalog(w io.Writer, ps []storify.Product, manager bool) {
	width := nameWidth(func(yield func(string) bool) {
		for _, p := range ps {
			if !yield(p.Name) {
				return
			}
		}
	}, 7)
	var b strings.Builder
	fmt.Fprintf(&b, "%4s  %s  %10s  %7s\n", "#", pad("Product", width), "Price", "Stock")
	for _, p := range ps {
		stock := fmt.Sprint(p.Stock)
		if p.Stock == 0 {
			stock = "sold out"
		}
		fmt.Fprintf(&b, "%4d  %s  %10s  %7s", p.ID, pad(p.Name, width), p.Price, stock)
		if manager && p.Discontinued {
			b.WriteString("  (discontinued)")
		}
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}

func writeProduct(w io.Writer, p storify.Product) {
	fmt.Fprintf(w, "#%d %s\n", p.ID, p.Name)
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}
	fmt.Fprintf(w, "  Price: %s\n", p.Price)
	switch {
	case p.Discontinued:
		fmt.Fprintf(w, "  No longer sold.\n")
	case p.Stock == 0:
		fmt.Fprintf(w, "  Sold out.\n")
	default:
		fmt.Fprintf(w, "  In stock: %d\n", p.Stock)
	}
}

// writeLines writes order or cart lines with their subtotals and the total.
func writeLines(w io.Writer, lines []storify.OrderLine, total storify.Cents) {
	width := nameWidth(func(yield func(string) bool) {
		for _, l := range lines {
			if !yield(l.Name) {
				return
			}
		}
	}, 7)
	for _, l := range lines {
		fmt.Fprintf(w, "  %5d x %s  %10s  %10s\n", l.Qty, pad(l.Name, width), l.UnitPrice, l.Subtotal())
	}
	fmt.Fprintf(w, "  %s  %10s  %10s\n", pad("", width+8), "Total", total)
}

func writeOrder(w io.Writer, o storify.Order) {
	fmt.Fprintf(w, "Order #%d for %s, %s, %s\n", o.ID, o.Customer, o.Status, o.Placed.Local().Format("2006-01-02 15:04"))
	writeLines(w, o.Lines, o.Total)
}
