package shell

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
)

// The manager's reports: orders narrowed by status, account or customer name and
// dates; sales for a period and by category; products low in stock.

// reportFilter is what the words after orders or sales narrow them to:
//
//	[STATUS] [account NAME] [name NAME] [from DATE] [to DATE] [by category]
//
// DATE is 2026-12-01 (local time); to is inclusive, to the end of that day.
type reportFilter struct {
	orders     storify.OrderFilter
	account    string // the account's name, as typed
	name       string // a customer name, as typed: orders whose customer is it
	byCategory bool
}

// reportKeywords end a name in a report filter.
var reportKeywords = map[string]bool{"placed": true, "shipped": true, "cancelled": true, "all": true,
	"account": true, "name": true, "from": true, "to": true}

func parseReportFilter(ws []word, sales bool) (reportFilter, error) {
	words := make([]string, len(ws))
	for i, w := range ws {
		words[i] = w.text
	}
	var f reportFilter
	value := func(i int, what string) (string, error) {
		if i+1 >= len(words) {
			return "", storify.Errorf(storify.EINVALID, "%s needs a value after it", what)
		}
		return words[i+1], nil
	}
	for i := 0; i < len(words); i++ {
		w := strings.ToLower(words[i])
		if w == "canceled" {
			w = "cancelled" // the American spelling
		}
		switch {
		case !sales && (w == "placed" || w == "shipped" || w == "cancelled"):
			f.orders.Status = storify.OrderStatus(w)
		case !sales && w == "all":
		case !sales && (w == "account" || w == "name"):
			// A name runs to the next keyword, so that it needs no quotes.
			j := i + 1
			for j < len(words) && !reportKeywords[strings.ToLower(words[j])] {
				j++
			}
			if j == i+1 {
				return f, storify.Errorf(storify.EINVALID, "%s needs a name after it", w)
			}
			v := strings.Join(words[i+1:j], " ")
			if w == "account" {
				f.account = v
			} else {
				f.name = v
			}
			i = j - 1
		case w == "from" || w == "to":
			v, err := value(i, w)
			if err != nil {
				return f, err
			}
			day, err := time.ParseInLocation("2006-01-02", v, time.Local)
			if err != nil {
				return f, storify.Errorf(storify.EINVALID, "%q is not a date: type it like 2026-12-01", safe(v, 20))
			}
			if w == "from" {
				f.orders.Placed.Since = day
			} else {
				f.orders.Placed.Before = day.AddDate(0, 0, 1)
			}
			i++
		case sales && w == "by" && i+1 < len(words) && strings.EqualFold(words[i+1], "category"):
			f.byCategory = true
			i++
		default:
			if sales {
				return f, storify.Errorf(storify.EINVALID, "%q is not understood here; type sales [from DATE] [to DATE] [by category]", safe(words[i], 20))
			}
			return f, storify.Errorf(storify.EINVALID, "%q is not a status or a filter: type placed, shipped, cancelled or all, account NAME, name NAME, from DATE or to DATE", safe(words[i], 20))
		}
	}
	return f, nil
}

func (m *Manager) reportOrders(ctx context.Context, a Args) error {
	words, err := tokenize(a.Get("FILTER"))
	if err != nil {
		return err
	}
	f, err := parseReportFilter(words, false)
	if err != nil {
		return err
	}
	if f.account != "" {
		acct, err := m.store.AccountByName(ctx, f.account)
		if err != nil {
			return err
		}
		f.orders.AccountID = acct.ID
	}
	var keep func(storify.Order) bool
	if f.name != "" {
		// Customer names are what people typed at checkout: matched as names are
		// (case folded), the whole name.
		key := storify.FoldKey(strings.TrimSpace(f.name))
		keep = func(o storify.Order) bool { return storify.FoldKey(o.Customer) == key }
	}
	return m.showList(ctx, m.ordersListing(f.orders, keep), 1)
}

func (m *Manager) reportSales(ctx context.Context, a Args) error {
	words, err := tokenize(a.Get("FILTER"))
	if err != nil {
		return err
	}
	f, err := parseReportFilter(words, true)
	if err != nil {
		return err
	}
	ss, err := m.store.SalesFor(ctx, f.orders.Placed)
	if err != nil {
		return err
	}
	if len(ss) == 0 {
		m.printf("Nothing sold in that time.\n")
		return nil
	}
	if f.byCategory {
		byCat := map[string]*storify.Sale{}
		var cats []*storify.Sale
		for _, s := range ss {
			key := storify.FoldKey(s.Category)
			c, ok := byCat[key]
			if !ok {
				name := s.Category
				if name == "" {
					name = "(no category)"
				}
				c = &storify.Sale{Name: name}
				byCat[key] = c
				cats = append(cats, c)
			}
			c.Units += s.Units
			c.Revenue += s.Revenue
		}
		slices.SortFunc(cats, func(a, b *storify.Sale) int { return cmp.Compare(b.Revenue, a.Revenue) })
		width := nameWidth(func(yield func(string) bool) {
			for _, c := range cats {
				if !yield(c.Name) {
					return
				}
			}
		}, len("Category"))
		var units int
		var revenue storify.Cents
		m.printf("%s  %7s  %12s\n", pad("Category", width), "Units", "Revenue")
		for _, c := range cats {
			m.printf("%s  %7d  %12s\n", pad(c.Name, width), c.Units, c.Revenue)
			units += c.Units
			revenue += c.Revenue
		}
		m.printf("%s  %7d  %12s\n", pad("Total", width), units, revenue)
		return nil
	}
	m.writeSales(ss)
	return nil
}

// lowStock lists the products on sale with N or fewer units left, fewest first.
func (m *Manager) lowStock(ctx context.Context, a Args) error {
	n := fewLeft
	if v := a.Get("N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 0 {
			return storify.Errorf(storify.EINVALID, "%q is not a number of units: type a whole number from 0", safe(v, 20))
		}
	}
	var low []storify.Product
	return m.showList(ctx, &listing{
		noun: "products low in stock", empty: fmt.Sprintf("No product on sale has %d or fewer left.", n), jump: "page N",
		load: func(ctx context.Context, _, _ int) (int, error) {
			ps, err := m.store.Products(ctx, storify.ProductFilter{})
			if err != nil {
				return 0, err
			}
			low = low[:0]
			for _, p := range ps {
				if p.Stock <= n {
					low = append(low, p)
				}
			}
			slices.SortStableFunc(low, func(a, b storify.Product) int { return cmp.Compare(a.Stock, b.Stock) })
			return len(low), nil
		},
		render: func(b []byte, from, to int) []byte { return appendCatalog(b, low[from:to], true) },
	}, 1)
}
