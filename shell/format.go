package shell

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify"
)

// findProduct resolves what a user typed to name a product: a catalog number
// ("3" or "#3") or a name, case-insensitively.
func findProduct(ctx context.Context, store storify.Store, s string) (storify.Product, error) {
	return findProductHint(ctx, store, s, "list")
}

// findProductHint is findProduct whose error names list, the command that shows
// the catalog to whoever typed s ("list" for customers, "products" for the manager).
func findProductHint(ctx context.Context, store storify.Store, s, list string) (storify.Product, error) {
	s = strings.TrimSpace(s)
	if id, err := storify.ParseID(s); err == nil {
		p, err := store.Product(ctx, id)
		if storify.ErrorCode(err) == storify.ENOTFOUND {
			return p, storify.Errorf(storify.ENOTFOUND, "there is no product #%d; type %s to see the catalog", id, list)
		}
		return p, err
	}
	p, err := store.ProductByName(ctx, s)
	if storify.ErrorCode(err) == storify.ENOTFOUND {
		return p, storify.Errorf(storify.ENOTFOUND, "there is no product %q; type %s to see the catalog", safe(s, 40), list)
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

// fewLeft is the stock at and below which a customer's catalog says how many units
// are left. Above it the row says nothing more: what a customer weighs is whether
// there are enough, as in any shop, and show N gives the exact count. The manager's
// catalog always shows it.
const fewLeft = 10

// appendStock appends p's entry in the manager's stock column.
func appendStock(b []byte, p storify.Product) []byte {
	if p.Stock == 0 {
		return append(b, "sold out"...)
	}
	return strconv.AppendInt(b, int64(p.Stock), 10)
}

// appendAvailability appends what a customer is told of p's stock: "sold out",
// "3 left", or nothing while there are plenty.
func appendAvailability(b []byte, p storify.Product) []byte {
	switch {
	case p.Stock == 0:
		return append(b, "sold out"...)
	case p.Stock <= fewLeft:
		return append(strconv.AppendInt(b, int64(p.Stock), 10), " left"...)
	}
	return b
}

// appendCatalog renders the catalog table, each column as wide as its widest
// entry. It is the hottest path in the store (list), so it appends to one buffer
// instead of going through fmt.
func appendCatalog(b []byte, ps []storify.Product, manager bool) []byte {
	idW, nameW, priceW, stockW := len("#"), len("Product"), len("Price"), len("Stock")
	var num [24]byte
	for _, p := range ps {
		idW = max(idW, len(strconv.AppendInt(num[:0], p.ID, 10)))
		nameW = max(nameW, utf8.RuneCountInString(p.Name))
		priceW = max(priceW, len(p.Price.Append(num[:0])))
		if manager {
			stockW = max(stockW, len(appendStock(num[:0], p)))
		}
	}
	b = appendRight(b, "#", idW)
	b = append(b, "  "...)
	b = appendPadded(b, "Product", nameW)
	b = append(b, "  "...)
	b = appendRight(b, "Price", priceW)
	if manager {
		b = append(b, "  "...)
		b = appendRight(b, "Stock", stockW)
	}
	b = append(b, '\n')
	for _, p := range ps {
		b = appendRight(b, strconv.AppendInt(num[:0], p.ID, 10), idW)
		b = append(b, "  "...)
		b = appendPadded(b, p.Name, nameW)
		b = append(b, "  "...)
		b = appendRight(b, p.Price.Append(num[:0]), priceW)
		if manager {
			b = append(b, "  "...)
			b = appendRight(b, appendStock(num[:0], p), stockW)
			if p.Discontinued {
				b = append(b, "  (discontinued)"...)
			}
		} else if note := appendAvailability(num[:0], p); len(note) > 0 {
			b = append(b, "  "...)
			b = append(b, note...)
		}
		b = append(b, '\n')
	}
	return b
}

// sameSlice reports whether a and b are the very same slice, as a store that
// shares its catalog returns it while nothing has changed.
func sameSlice(a, b []storify.Product) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for n := utf8.RuneCountInString(s); n < width; n++ {
		b = append(b, ' ')
	}
	return b
}

func appendRight[T string | []byte](b []byte, s T, width int) []byte {
	for n := len(s); n < width; n++ {
		b = append(b, ' ')
	}
	return append(b, s...)
}

// CatalogCache keeps the last rendered customer catalog, shared by every session
// of a server: while the catalog is unchanged, list costs a comparison instead of
// a rendering.
type CatalogCache struct {
	last atomic.Pointer[renderedCatalog]
}

type renderedCatalog struct {
	products []storify.Product
	text     []byte
}

// render returns the customer catalog table for ps, from the cache when ps is
// what was rendered last.
func (c *CatalogCache) render(ps []storify.Product) []byte {
	if c == nil {
		return appendCatalog(nil, ps, false)
	}
	if r := c.last.Load(); r != nil && (sameSlice(r.products, ps) || slices.Equal(r.products, ps)) {
		return r.text
	}
	r := &renderedCatalog{products: ps, text: appendCatalog(nil, ps, false)}
	c.last.Store(r)
	return r.text
}

func writeProduct(w io.Writer, p storify.Product) {
	fmt.Fprintf(w, "#%d %s\n", p.ID, p.Name)
	if p.Description != "" {
		fmt.Fprintf(w, "  %s\n", p.Description)
	}
	fmt.Fprintf(w, "  Price: %s\n", p.Price)
	if p.Category != "" {
		fmt.Fprintf(w, "  Category: %s\n", p.Category)
	}
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
	fmt.Fprintf(w, "Order #%d for %s, %s, %s\n", o.ID, shown(o.Customer), o.Status, o.Placed.Local().Format("2006-01-02 15:04"))
	writeLines(w, o.Lines, o.Total)
}

// count says "1 unit" or "3 units".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// invisible holds the default-ignorable code points that are not format (Cf)
// characters: letters and marks that show as nothing (U+3164, U+034F, variation
// selectors).
var invisible = &unicode.RangeTable{
	R16: []unicode.Range16{
		{Lo: 0x034f, Hi: 0x034f, Stride: 1},
		{Lo: 0x115f, Hi: 0x1160, Stride: 1},
		{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
		{Lo: 0x180b, Hi: 0x180f, Stride: 1},
		{Lo: 0x3164, Hi: 0x3164, Stride: 1},
		{Lo: 0xfe00, Hi: 0xfe0f, Stride: 1},
		{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
	},
	R32: []unicode.Range32{
		{Lo: 0xe0100, Hi: 0xe01ef, Stride: 1},
	},
}

// shown makes a customer's or account's name unambiguous for the manager: a
// character that shows as nothing (zero-width, bidi control, an invisible letter)
// is written as <U+200D>, so "alice" and "alice" with a zero-width joiner read
// differently. Names made under today's rules have none; older ones may.
func shown(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if !strings.ContainsFunc(s, isInvisible) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isInvisible(r) {
			fmt.Fprintf(&b, "<U+%04X>", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isInvisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(invisible, r) || unicode.IsControl(r)
}
