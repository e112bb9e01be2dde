package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// productColumns are the columns scanProduct reads, in its order.
const productColumns = `id, name, description, price, stock, received, discontinued, category`

func scanProduct(row pgx.Row) (storify.Product, error) {
	var p storify.Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued, &p.Category)
	return p, err
}

// Products lists the catalog in catalog-number order; see storify.Store. It is
// served from the in-memory copy of the catalog (internal/catalog), whose slices are
// shared, not copied.
func (s *Store) Products(ctx context.Context, filter storify.ProductFilter) ([]storify.Product, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return snap.Products(filter), nil
}

// ProductsPage returns a page of Products; see storify.Store.
func (s *Store) ProductsPage(ctx context.Context, filter storify.ProductFilter, from, to int) ([]storify.Product, int, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return nil, 0, err
	}
	page, total := snap.Page(filter, from, to)
	return page, total, nil
}

// Product returns one product by catalog number; see storify.Store.
func (s *Store) Product(ctx context.Context, id int64) (storify.Product, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return storify.Product{}, err
	}
	return snap.Product(id)
}

// product reads one product inside a transaction, where the copy of the catalog does
// not show what the transaction wrote.
func product(ctx context.Context, q querier, id int64) (storify.Product, error) {
	p, err := scanProduct(q.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return storify.Product{}, storify.ErrNoProduct(id)
	} else if err != nil {
		return storify.Product{}, fmt.Errorf("postgres: product %d: %w", id, err)
	}
	return p, nil
}

// ProductByName returns the product of that name, compared case-insensitively; see
// storify.Store.
func (s *Store) ProductByName(ctx context.Context, name string) (storify.Product, error) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		return storify.Product{}, err
	}
	return snap.ProductByName(name)
}

// AddProduct adds a product to the catalog; see storify.Store. The name is looked up
// before the INSERT because a refused INSERT still uses up an identity value, and a
// duplicate name would leave a gap in the catalog numbers; the unique constraint
// still decides when two managers add the same name at once.
func (s *Store) AddProduct(ctx context.Context, np storify.NewProduct) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	name, err := storify.CleanName(np.Name, "product name")
	if err != nil {
		return storify.Product{}, err
	}
	desc, err := storify.CleanDescription(np.Description)
	if err != nil {
		return storify.Product{}, err
	}
	if err := storify.CheckPrice(np.Price); err != nil {
		return storify.Product{}, err
	}
	if np.Stock < 0 || np.Stock > storify.MaxStock {
		return storify.Product{}, storify.Errorf(storify.EINVALID, "the stock must be a whole number from 0 to %d", storify.MaxStock)
	}

	taken := storify.Errorf(storify.ECONFLICT, "there is already a product named %q", name)
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM products WHERE name_key = $1)`, storify.FoldKey(name)).Scan(&exists); err != nil {
			return fmt.Errorf("postgres: add product %q: %w", name, err)
		} else if exists {
			return taken
		}
		var err error
		p, err = scanProduct(tx.QueryRow(ctx, `
			INSERT INTO products (name, name_key, description, description_key, price, stock, received)
			VALUES ($1, $2, $3, $4, $5, $6, $6)
			RETURNING `+productColumns,
			name, storify.FoldKey(name), desc, storify.FoldKey(desc), np.Price, np.Stock))
		if isUniqueViolation(err, "products_name_key") {
			return taken
		} else if err != nil {
			return fmt.Errorf("postgres: add product %q: %w", name, err)
		}
		return nil
	})
	return p, err
}

// Restock adds received units to a product; see storify.Store. It also refuses to
// put more than storify.MaxStock units on hand.
func (s *Store) Restock(ctx context.Context, id int64, qty int) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	if qty <= 0 || qty > storify.MaxStock {
		return storify.Product{}, storify.Errorf(storify.EINVALID, "the quantity must be a whole number from 1 to %d", storify.MaxStock)
	}
	var p storify.Product
	err = s.writeStock(ctx, []int64{id}, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx, `
			UPDATE products SET stock = stock + $1, received = received + $1, stock_version = stock_version + 1
			WHERE id = $2 AND stock + $1 <= $3
			RETURNING `+productColumns,
			qty, id, storify.MaxStock))
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := product(ctx, tx, id)
			if err != nil {
				return err
			}
			return storify.Errorf(storify.EINVALID, "%s has %d units on hand; at most %d are allowed", cur.Name, cur.Stock, storify.MaxStock)
		} else if err != nil {
			return fmt.Errorf("postgres: restock product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}

// SetPrice changes a product's price; see storify.Store. Order lines carry their own
// unit price, so placed orders keep theirs. EINVALID for a bad price, ENOTFOUND if
// there is no such product.
func (s *Store) SetPrice(ctx context.Context, id int64, price storify.Cents) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	if err := storify.CheckPrice(price); err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx,
			`UPDATE products SET price = $1 WHERE id = $2 RETURNING `+productColumns, price, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.ErrNoProduct(id)
		} else if err != nil {
			return fmt.Errorf("postgres: set price of product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Discontinue takes a product out of the catalog; see storify.Store. ENOTFOUND if
// there is no such product.
func (s *Store) Discontinue(ctx context.Context, id int64) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx,
			`UPDATE products SET discontinued = true WHERE id = $1 AND NOT discontinued RETURNING `+productColumns, id))
		if errors.Is(err, pgx.ErrNoRows) {
			cur, err := product(ctx, tx, id)
			if err != nil {
				return err
			}
			return storify.Errorf(storify.ECONFLICT, "%s is discontinued already", cur.Name)
		} else if err != nil {
			return fmt.Errorf("postgres: discontinue product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}
