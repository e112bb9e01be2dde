package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/storify/storify"
)

// updateProduct runs one UPDATE ... RETURNING of a product in a catalog write and
// returns the product as it left it; ENOTFOUND when there is no such product, and
// what refused(cur) says when the product exists but the UPDATE's condition kept it.
func (s *Store) updateProduct(ctx context.Context, id int64, what string, refused func(cur storify.Product) error,
	query string, args ...any) (p storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, query+` RETURNING `+productColumns, args...))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cur, err := product(ctx, tx, id)
			if err != nil {
				return err
			}
			return refused(cur)
		case isUniqueViolation(err):
			return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", args[0])
		case err != nil:
			return fmt.Errorf("sqlite: %s product %d: %w", what, id, err)
		}
		return nil
	})
	return p, err
}

func notFound(cur storify.Product) error { return storify.ErrNoProduct(cur.ID) }

// Reinstate puts a discontinued product back on sale; see storify.Store.
func (s *Store) Reinstate(ctx context.Context, id int64) (storify.Product, error) {
	return s.updateProduct(ctx, id, "reinstate", func(cur storify.Product) error {
		return storify.Errorf(storify.ECONFLICT, "%s is on sale already", cur.Name)
	}, `UPDATE products SET discontinued = 0 WHERE id = ? AND discontinued = 1`, id)
}

// Rename renames a product; see storify.Store. Order lines keep their own copy of
// the name, so placed orders are unchanged.
func (s *Store) Rename(ctx context.Context, id int64, name string) (storify.Product, error) {
	name, err := storify.CleanName(name, "product name")
	if err != nil {
		return storify.Product{}, err
	}
	return s.updateProduct(ctx, id, "rename", notFound,
		`UPDATE products SET name = ?, name_key = ? WHERE id = ?`, name, storify.FoldKey(name), id)
}

// Describe replaces a product's description; see storify.Store.
func (s *Store) Describe(ctx context.Context, id int64, description string) (storify.Product, error) {
	desc, err := storify.CleanDescription(description)
	if err != nil {
		return storify.Product{}, err
	}
	return s.updateProduct(ctx, id, "describe", notFound,
		`UPDATE products SET description = ?, description_key = ? WHERE id = ?`, desc, storify.FoldKey(desc), id)
}

// SetCategory puts a product in a category; see storify.Store. A category already
// in use under another spelling keeps its first one: the subquery takes it.
func (s *Store) SetCategory(ctx context.Context, id int64, category string) (storify.Product, error) {
	name, err := storify.CleanCategory(category)
	if err != nil {
		return storify.Product{}, err
	}
	key := storify.FoldKey(name)
	return s.updateProduct(ctx, id, "set the category of", notFound, `
		UPDATE products SET category_key = ?1,
			category = coalesce((SELECT category FROM products WHERE category_key = ?1 AND ?1 != '' AND id != ?3 ORDER BY id LIMIT 1), ?2)
		WHERE id = ?3`, key, name, id)
}

// Categories lists the categories of the products on sale; see storify.Store. It
// is served from the in-memory copy of the catalog.
func (s *Store) Categories(ctx context.Context) ([]storify.Category, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Categories(), nil
}

// SuggestSearch corrects the words of a search that find nothing; see
// storify.Store. It is served from the in-memory copy of the catalog.
func (s *Store) SuggestSearch(ctx context.Context, text string) (string, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return "", err
	}
	return snap.Suggest(text), nil
}
