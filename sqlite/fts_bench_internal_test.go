package sqlite

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// BenchmarkSearchFTS5 measures what SQLite's full-text search (FTS5) would cost
// for the catalog's searches at 100,000 products, against the in-memory index
// both backends use (internal/catalog), on the same products: a word that finds
// one product with one that finds many ("bowl 000009"), a common word alone
// ("kettle", a twelfth of the catalog) and part of a word ("ettl"; FTS5 needs
// its trigram tokenizer for that). Each FTS5 query reads the matching rowids,
// ranked by bm25, as a search must before it can show a page.
func BenchmarkSearchFTS5(b *testing.B) {
	const n = 100_000
	adj := []string{"Blue", "Red", "Green", "Large", "Small", "Steel", "Oak", "Glass", "Linen", "Copper", "Matte", "Crème"}
	noun := []string{"Mug", "Plate", "Bowl", "Lamp", "Pen", "Notebook", "Chair", "Towel", "Kettle", "Vase", "Basket", "Clock"}
	ps := make([]storify.Product, n)
	for i := range ps {
		ps[i] = storify.Product{ID: int64(i + 1),
			Name:        fmt.Sprintf("%s %s %s %06d", adj[i%len(adj)], adj[(i/7)%len(adj)], noun[(i/3)%len(noun)], i+1),
			Description: fmt.Sprintf("A %s %s for every day.", adj[(i/11)%len(adj)], noun[(i/13)%len(noun)])}
	}
	db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "fts.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		`CREATE VIRTUAL TABLE words USING fts5(name, description, tokenize = 'unicode61 remove_diacritics 2')`,
		`CREATE VIRTUAL TABLE parts USING fts5(name, description, tokenize = 'trigram')`,
	} {
		if _, err := db.Exec(q); err != nil {
			b.Skipf("FTS5 not available: %v", err)
		}
	}
	tx, _ := db.Begin()
	for _, table := range []string{"words", "parts"} {
		st, err := tx.Prepare(`INSERT INTO ` + table + ` (rowid, name, description) VALUES (?, ?, ?)`)
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range ps {
			if _, err := st.Exec(p.ID, p.Name, p.Description); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	snap := catalog.New(ps)
	snap.Products(storify.ProductFilter{Search: "x"}) // build the index outside the timing

	for _, q := range []struct{ name, table, match, search string }{
		{"rare", "words", "bowl 000009", "bowl 000009"},
		{"common", "words", "kettle", "kettle"},
		{"part", "parts", "ettl", "ettl"},
	} {
		var want int
		b.Run("fts5/"+q.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.Query(`SELECT rowid FROM `+q.table+` WHERE `+q.table+` MATCH ? ORDER BY bm25(`+q.table+`, 10.0, 1.0)`, q.match)
				if err != nil {
					b.Fatal(err)
				}
				want = 0
				for rows.Next() {
					var id int64
					rows.Scan(&id)
					want++
				}
				rows.Close()
			}
			b.ReportMetric(float64(want), "found")
		})
		b.Run("memory/"+q.name, func(b *testing.B) {
			var got int
			for b.Loop() {
				got = len(snap.Products(storify.ProductFilter{Search: q.search}))
			}
			b.ReportMetric(float64(got), "found")
		})
	}
}
