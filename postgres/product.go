package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// productColumns are the columns scanProduct reads, in its order.
const productColumns = `id, name, description, price, stock, received, discontinued`

func scanProduct(row pgx.Row) (storify.Product, error) {
	var p storify.Product
	err := row.Scan(&p.ID, &p.Name, &p.Description, &p.Price, &p.Stock, &p.Received, &p.Discontinued)
	return p, err
}

// Products lists the catalog in catalog-number order; see storify.Store. Search is a
// substring test on the case-folded keys (strpos, not LIKE, so that % and _ match
// only themselves).
func (s *Store) Products(ctx context.Context, filter storify.ProductFilter) ([]storify.Product, error) {
	var where []string
	var args []any
	if !filter.All {
		where = append(where, `NOT discontinued`)
	}
	if filter.Search != "" {
		key := storify.FoldKey(filter.Search)
		if strings.ContainsRune(key, 0) {
			// PostgreSQL text cannot hold NUL, and no name or description does.
			return nil, nil
		}
		args = append(args, key)
		where = append(where, `(strpos(name_key, $1) > 0 OR strpos(description_key, $1) > 0)`)
	}
	q := `SELECT ` + productColumns + ` FROM products`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY id`

	var ps []storify.Product
	err := s.read(ctx, func(c querier) error {
		rows, _ := c.Query(ctx, q, args...)
		var err error
		ps, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.Product, error) { return scanProduct(row) })
		if err != nil {
			return fmt.Errorf("postgres: list products: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, nil // as the SQLite backend: no products is a nil slice
	}
	return ps, nil
}

// Product returns one product by catalog number; see storify.Store.
func (s *Store) Product(ctx context.Context, id int64) (storify.Product, error) {
	var p storify.Product
	err := s.read(ctx, func(c querier) error {
		var err error
		p, err = product(ctx, c, id)
		return err
	})
	return p, err
}

func product(ctx context.Context, q querier, id int64) (storify.Product, error) {
	p, err := scanProduct(q.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return storify.Product{}, noProduct(id)
	} else if err != nil {
		return storify.Product{}, fmt.Errorf("postgres: product %d: %w", id, err)
	}
	return p, nil
}

// ProductByName returns the product of that name, compared case-insensitively; see
// storify.Store. Surrounding spaces are ignored, as they are when a product is named.
func (s *Store) ProductByName(ctx context.Context, name string) (storify.Product, error) {
	name = strings.TrimSpace(name)
	notFound := storify.Errorf(storify.ENOTFOUND, "no product is named %q", name)
	key := storify.FoldKey(name)
	if strings.ContainsRune(key, 0) {
		return storify.Product{}, notFound // no name holds NUL, which text cannot store
	}
	var p storify.Product
	err := s.read(ctx, func(c querier) error {
		var err error
		p, err = scanProduct(c.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE name_key = $1`, key))
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("postgres: product named %q: %w", name, err)
		}
		return nil
	})
	return p, err
}

// AddProduct adds a product to the catalog; see storify.Store. The name is looked up
// before the INSERT because a refused INSERT still uses up an identity value, and a
// duplicate name would leave a gap in the catalog numbers; the unique constraint
// still decides when two managers add the same name at once.
func (s *Store) AddProduct(ctx context.Context, np storify.NewProduct) (storify.Product, error) {
	name, err := storify.CleanName(np.Name, "product name")
	if err != nil {
		return storify.Product{}, err
	}
	desc, err := storify.CleanDescription(np.Description)
	if err != nil {
		return storify.Product{}, err
	}
	if err := checkPrice(np.Price); err != nil {
		return storify.Product{}, err
	}
	if np.Stock < 0 || np.Stock > storify.MaxStock {
		return storify.Product{}, storify.Errorf(storify.EINVALID, "the stock must be a whole number from 0 to %d", storify.MaxStock)
	}

	taken := storify.Errorf(storify.ECONFLICT, "there is already a product named %q", name)
	var p storify.Product
	err = s.write(ctx, func(tx pgx.Tx) error {
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
func (s *Store) Restock(ctx context.Context, id int64, qty int) (storify.Product, error) {
	if qty <= 0 || qty > storify.MaxQty {
		return storify.Product{}, storify.Errorf(storify.EINVALID, "the quantity must be a whole number from 1 to %d", storify.MaxQty)
	}
	var p storify.Product
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx, `
			UPDATE products SET stock = stock + $1, received = received + $1
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
func (s *Store) SetPrice(ctx context.Context, id int64, price storify.Cents) (storify.Product, error) {
	if err := checkPrice(price); err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err := s.write(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanProduct(tx.QueryRow(ctx,
			`UPDATE products SET price = $1 WHERE id = $2 RETURNING `+productColumns, price, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return noProduct(id)
		} else if err != nil {
			return fmt.Errorf("postgres: set price of product %d: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Discontinue takes a product out of the catalog; see storify.Store. ENOTFOUND if
// there is no such product.
func (s *Store) Discontinue(ctx context.Context, id int64) (storify.Product, error) {
	var p storify.Product
	err := s.write(ctx, func(tx pgx.Tx) error {
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

func checkPrice(price storify.Cents) error {
	if price < 0 || price > storify.MaxPrice {
		return storify.Errorf(storify.EINVALID, "the price must be from 0.00 to %s", storify.MaxPrice)
	}
	return nil
}

func noProduct(id int64) error {
	return storify.Errorf(storify.ENOTFOUND, "no product #%d", id)
}
