package shell

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/storify/storify"
)

// The manager's catalog editing commands (rename, describe, category, reinstate)
// and the customers' categories.

// noCategory is what the manager types to take a product out of its category.
const noCategory = "none"

func (m *Manager) rename(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, m.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	old := p.Name
	if p, err = m.store.Rename(ctx, p.ID, a.Get("NAME")); err != nil {
		return err
	}
	m.printf("#%d %s is now %s; placed orders keep the name they were placed with.\n", p.ID, old, p.Name)
	return nil
}

func (m *Manager) describe(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, m.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p, err = m.store.Describe(ctx, p.ID, a.Get("TEXT")); err != nil {
		return err
	}
	m.printf("#%d %s: description changed.\n", p.ID, p.Name)
	return nil
}

func (m *Manager) category(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, m.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	name := strings.TrimSpace(a.Get("NAME"))
	if strings.EqualFold(name, noCategory) {
		name = ""
	}
	if p, err = m.store.SetCategory(ctx, p.ID, name); err != nil {
		return err
	}
	if p.Category == "" {
		m.printf("#%d %s is in no category.\n", p.ID, p.Name)
	} else {
		m.printf("#%d %s is in %s.\n", p.ID, p.Name, p.Category)
	}
	return nil
}

func (m *Manager) reinstate(ctx context.Context, a Args) error {
	p, err := findProduct(ctx, m.store, a.Get("PRODUCT"))
	if err != nil {
		return err
	}
	if p, err = m.store.Reinstate(ctx, p.ID); err != nil {
		return err
	}
	m.printf("#%d %s is on sale again.\n", p.ID, p.Name)
	return nil
}

// categories lists the categories customers can browse.
func (c *Customer) categories(ctx context.Context, _ Args) error {
	var cs []storify.Category
	return c.showList(ctx, &listing{
		noun: "categories", empty: "The catalog has no categories; type list to see every product.", jump: "page N",
		load: func(ctx context.Context, _, _ int) (n int, err error) {
			cs, err = c.store.Categories(ctx)
			return len(cs), err
		},
		render: func(b []byte, from, to int) []byte {
			width := nameWidth(func(yield func(string) bool) {
				for _, cat := range cs[from:to] {
					if !yield(cat.Name) {
						return
					}
				}
			}, len("Category"))
			w := bytesWriter{&b}
			fmt.Fprintf(w, "%s  %8s\n", pad("Category", width), "Products")
			for _, cat := range cs[from:to] {
				fmt.Fprintf(w, "%s  %8d\n", pad(cat.Name, width), cat.Products)
			}
			return b
		},
		after: func() string { return "Type list CATEGORY to see one.\n" },
	}, 1)
}

// listCategory lists the products of one category.
func (c *Customer) listCategory(ctx context.Context, name string, page int) error {
	cs, err := c.store.Categories(ctx)
	if err != nil {
		return err
	}
	key := storify.FoldKey(name)
	for _, cat := range cs {
		if storify.FoldKey(cat.Name) != key {
			continue
		}
		var p productPage
		jump := "list " + cat.Name + " PAGE"
		if strings.ContainsAny(cat.Name, " \t") {
			jump = `list "` + cat.Name + `" PAGE`
		}
		return c.showList(ctx, &listing{
			noun: "products in " + cat.Name, empty: "Nothing in " + cat.Name + " is on sale just now.", jump: jump,
			load: func(ctx context.Context, from, to int) (int, error) {
				return p.load(ctx, c.store, storify.ProductFilter{Category: cat.Name}, from, to)
			},
			render: func(b []byte, from, to int) []byte { return appendCatalog(b, p.rows(from, to), false) },
		}, page)
	}
	if near := nearestCategory(cs, key); near != "" {
		return storify.Errorf(storify.ENOTFOUND, "there is no category %q; did you mean %s? Type categories to see them all", safe(name, 40), near)
	}
	return storify.Errorf(storify.ENOTFOUND, "there is no category %q; type categories to see them", safe(name, 40))
}

// nearestCategory is the category whose name is closest to key (folded), for "did
// you mean": within two typos, and fewer for short names, so that "Pens" is not
// offered for "Mugs"; "" if none is that close.
func nearestCategory(cs []storify.Category, key string) string {
	best, bestD := "", min(3, len([]rune(key))/3+1)
	for _, cat := range cs {
		if d := storify.EditDistance(key, storify.FoldKey(cat.Name)); d < bestD {
			best, bestD = cat.Name, d
		}
	}
	return best
}

// importFile checks a catalog file, says what importing it would change (or
// every bad row), and imports it, all rows or none, once the manager says yes.
func (m *Manager) importFile(ctx context.Context, a Args) error {
	path := strings.TrimSpace(a.Get("FILE"))
	read := func() (*os.File, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, storify.Errorf(storify.ENOTFOUND, "cannot read the file: %v", err)
		}
		return f, nil
	}
	f, err := read()
	if err != nil {
		return err
	}
	res, err := ImportCatalog(ctx, m.store, f, true, m.term)
	f.Close()
	if err != nil {
		return err
	}
	if res.Added+res.Updated == 0 {
		m.printf("Nothing to change.\n")
		return nil
	}
	v, err := m.ask("Import it? (yes/no): ")
	if err != nil {
		return errCancelled(err)
	}
	if !strings.EqualFold(v, "yes") && !strings.EqualFold(v, "y") {
		m.printf("Nothing was imported.\n")
		return nil
	}
	// Read again: the file is checked as it is now, and imported only if it
	// still passes.
	if f, err = read(); err != nil {
		return err
	}
	defer f.Close()
	_, err = ImportCatalog(ctx, m.store, f, false, m.term)
	return err
}

func (m *Manager) exportFile(ctx context.Context, a Args) error {
	what, path := a.Get("WHAT"), strings.TrimSpace(a.Get("FILE"))
	n, err := ExportCSV(ctx, m.store, what, path)
	if err != nil {
		return err
	}
	m.printf("Wrote %s to %s.\n", count(n, "row"), path)
	return nil
}
