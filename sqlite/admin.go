package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// Initialize records the store's first opening and adds catalog then; see
// storify.Admin.
func (s *Store) Initialize(ctx context.Context, catalog []storify.NewProduct) (_ bool, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	clean, err := cleanCatalog(catalog)
	if err != nil {
		return false, err
	}
	first := false
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		now := time.Now()
		res, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('initialized', ?) ON CONFLICT (key) DO NOTHING`,
			[]byte(now.UTC().Format(time.RFC3339Nano)))
		if err != nil {
			return fmt.Errorf("sqlite: initialize: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		first = true
		for _, p := range clean {
			_, err := tx.ExecContext(ctx, `
				INSERT INTO products (name, name_key, description, description_key, price, stock, received, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				p.Name, storify.FoldKey(p.Name), p.Description, storify.FoldKey(p.Description), p.Price, p.Stock, p.Stock, unixNano(now))
			if isUniqueViolation(err) {
				return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", p.Name)
			} else if err != nil {
				return fmt.Errorf("sqlite: initialize: add product %q: %w", p.Name, err)
			}
		}
		return nil
	})
	return first && err == nil, err
}

// cleanCatalog checks every product of catalog as AddProduct would.
func cleanCatalog(catalog []storify.NewProduct) ([]storify.NewProduct, error) {
	clean := make([]storify.NewProduct, len(catalog))
	for i, p := range catalog {
		var err error
		if clean[i], err = p.Clean(); err != nil {
			return nil, err
		}
	}
	return clean, nil
}

// AdjustStock corrects a product's stock and records why; see storify.Admin. The
// one writer connection serializes it with checkouts and other adjustments.
func (s *Store) AdjustStock(ctx context.Context, id int64, delta int, reason string) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	reason, err = storify.CheckAdjustment(delta, reason)
	if err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err = s.writeCatalog(ctx, func(tx *sql.Tx) error {
		cur, err := product(ctx, tx, id)
		if err != nil {
			return err
		}
		if delta > 0 {
			var written int
			if err := tx.QueryRowContext(ctx, `SELECT -coalesce(sum(delta), 0) FROM stock_adjustments WHERE product_id = ?`, id).Scan(&written); err != nil {
				return fmt.Errorf("sqlite: adjust product %d: %w", id, err)
			}
			if delta > written {
				return storify.ErrPutBack(cur.Name, written)
			}
		}
		p, err = scanProduct(tx.QueryRowContext(ctx, `
			UPDATE products SET stock = stock + ? WHERE id = ? AND stock + ? BETWEEN 0 AND ?
			RETURNING `+productColumns, delta, id, delta, storify.MaxStock))
		if errors.Is(err, sql.ErrNoRows) {
			return storify.ErrWriteOff(cur.Name, cur.Stock)
		} else if err != nil {
			return fmt.Errorf("sqlite: adjust product %d: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO stock_adjustments (product_id, delta, reason, made_at) VALUES (?, ?, ?, ?)`,
			id, delta, reason, unixNano(time.Now())); err != nil {
			return fmt.Errorf("sqlite: adjust product %d: record it: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Adjustments lists stock adjustments, oldest first; see storify.Admin.
func (s *Store) Adjustments(ctx context.Context, productID int64) (_ []storify.Adjustment, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	rows, err := s.reader.QueryContext(ctx, `
		SELECT id, product_id, delta, reason, made_at FROM stock_adjustments
		WHERE ? = 0 OR product_id = ? ORDER BY id`, productID, productID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
	}
	defer rows.Close()
	var adjs []storify.Adjustment
	for rows.Next() {
		var a storify.Adjustment
		var made int64
		if err := rows.Scan(&a.ID, &a.ProductID, &a.Delta, &a.Reason, &made); err != nil {
			return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
		}
		a.Made = fromUnixNano(made)
		adjs = append(adjs, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list adjustments: %w", err)
	}
	return adjs, nil
}

// accountByKey reads an account in tx, hash included; ENOTFOUND if there is none.
func accountByKey(ctx context.Context, tx *sql.Tx, name string) (storify.Account, error) {
	name = strings.TrimSpace(name)
	var a storify.Account
	key := username.Key(name)
	if key == "" {
		return a, storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	}
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT id, name, password_hash, created_at FROM accounts WHERE name_key = ?`,
		key).Scan(&a.ID, &a.Name, &a.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return a, storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	} else if err != nil {
		return a, fmt.Errorf("sqlite: account named %q: %w", name, err)
	}
	a.Created = fromUnixNano(created)
	return a, nil
}

// SetPasswordHash replaces an account's password hash; see storify.Admin.
func (s *Store) SetPasswordHash(ctx context.Context, name string, hash []byte) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	if len(hash) == 0 {
		return storify.Account{}, storify.Errorf(storify.EINVALID, "the password hash is empty")
	}
	var a storify.Account
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = accountByKey(ctx, tx, name); err != nil {
			return err
		}
		if storify.Locked(a.PasswordHash) {
			hash = append([]byte(storify.LockedPrefix), hash...)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, a.ID); err != nil {
			return fmt.Errorf("sqlite: set the password of account %d: %w", a.ID, err)
		}
		return nil
	})
	a.PasswordHash = nil
	return a, err
}

// LockAccount locks or unlocks an account; see storify.Admin.
func (s *Store) LockAccount(ctx context.Context, name string, lock bool) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var a storify.Account
	err = s.write(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = accountByKey(ctx, tx, name); err != nil {
			return err
		}
		hash, err := storify.LockHash(a, lock)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE id = ?`, hash, a.ID); err != nil {
			return fmt.Errorf("sqlite: lock account %d: %w", a.ID, err)
		}
		return nil
	})
	a.PasswordHash = nil
	return a, err
}

// DeleteAccount deletes an account, keeping its orders anonymised; see storify.Admin.
func (s *Store) DeleteAccount(ctx context.Context, name string) (_ int, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	orders := 0
	err = s.write(ctx, func(tx *sql.Tx) error {
		a, err := accountByKey(ctx, tx, name)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE orders SET customer = ?, account_id = NULL WHERE account_id = ?`, storify.DeletedCustomer, a.ID)
		if err != nil {
			return fmt.Errorf("sqlite: delete account %d: its orders: %w", a.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("sqlite: delete account %d: %w", a.ID, err)
		}
		orders = int(n)
		if _, err := tx.ExecContext(ctx, `DELETE FROM saved_cart_items WHERE account_id = ?`, a.ID); err != nil {
			return fmt.Errorf("sqlite: delete account %d: its cart: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM account_keys WHERE account_id = ?`, a.ID); err != nil {
			return fmt.Errorf("sqlite: delete account %d: its SSH keys: %w", a.ID, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, a.ID); err != nil {
			return fmt.Errorf("sqlite: delete account %d: %w", a.ID, err)
		}
		return nil
	})
	return orders, err
}
