package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
)

// productColumns are the columns scanProduct reads, in its order.
const productColumns = `id, name, description, price, stock, received, discontinued, category`

type scanner interface{ Scan(dest ...any) error }

func scanProduct(row scanner) (storify.Product, error) {
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

// product reads one product inside a transaction, where the catalog copy may not yet
// show what the transaction wrote.
func product(ctx context.Context, q queryer, id int64) (storify.Product, error) {
	p, err := scanProduct(q.QueryRowContext(ctx, `SELECT `+productColumns+` FROM products WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return storify.Product{}, storify.ErrNoProduct(id)
	} else if err != nil {
		return storify.Product{}, fmt.Errorf("sqlite: product %d: %w", id, err)
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

// AddProduct adds a product to the catalog; see storify.Store.
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

	var p storify.Product
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, `
			INSERT INTO products (name, name_key, description, description_key, price, stock, received, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			RETURNING `+productColumns,
			name, storify.FoldKey(name), desc, storify.FoldKey(desc), np.Price, np.Stock, np.Stock, unixNano(time.Now())))
		if isUniqueViolation(err) {
			return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", name)
		} else if err != nil {
			return fmt.Errorf("sqlite: add product %q: %w", name, err)
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
	err = s.writeStock(ctx, []int64{id}, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx, `
			UPDATE products SET stock = stock + ?, received = received + ?
			WHERE id = ? AND stock + ? <= ?
			RETURNING `+productColumns,
			qty, qty, id, qty, storify.MaxStock))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err := product(ctx, tx, id)
			if err != nil {
				return err
			}
			return storify.Errorf(storify.EINVALID, "%s has %d units on hand; at most %d are allowed", cur.Name, cur.Stock, storify.MaxStock)
		} else if err != nil {
			return fmt.Errorf("sqlite: restock product %d: %w", id, err)
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
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx,
			`UPDATE products SET price = ? WHERE id = ? RETURNING `+productColumns, price, id))
		if errors.Is(err, sql.ErrNoRows) {
			return storify.ErrNoProduct(id)
		} else if err != nil {
			return fmt.Errorf("sqlite: set price of product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Discontinue takes a product out of the catalog; see storify.Store.
func (s *Store) Discontinue(ctx context.Context, id int64) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRowContext(ctx,
			`UPDATE products SET discontinued = 1 WHERE id = ? AND discontinued = 0 RETURNING `+productColumns, id))
		if errors.Is(err, sql.ErrNoRows) {
			cur, err := product(ctx, tx, id)
			if err != nil {
				return err
			}
			return storify.Errorf(storify.ECONFLICT, "%s is discontinued already", cur.Name)
		} else if err != nil {
			return fmt.Errorf("sqlite: discontinue product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}
