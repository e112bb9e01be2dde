package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// Initialize records the store's first opening and adds catalog then; see
// storify.Admin. Instances starting together on one database race for the one
// row: the unique key lets exactly one of them insert it.
func (s *Store) Initialize(ctx context.Context, catalog []storify.NewProduct) (_ bool, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	clean := make([]storify.NewProduct, len(catalog))
	for i, p := range catalog {
		var err error
		if clean[i], err = p.Clean(); err != nil {
			return false, err
		}
	}
	first := false
	err = s.writeCatalog(ctx, func(tx pgx.Tx) error {
		first = false // the transaction may run again
		tag, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ('initialized', $1) ON CONFLICT (key) DO NOTHING`,
			[]byte(time.Now().UTC().Format(time.RFC3339Nano)))
		if err != nil {
			return fmt.Errorf("postgres: initialize: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		first = true
		for _, p := range clean {
			_, err := tx.Exec(ctx, `
				INSERT INTO products (name, name_key, description, description_key, price, stock, received)
				VALUES ($1, $2, $3, $4, $5, $6, $6)`,
				p.Name, storify.FoldKey(p.Name), p.Description, storify.FoldKey(p.Description), p.Price, p.Stock)
			if isUniqueViolation(err, "products_name_key") {
				return storify.Errorf(storify.ECONFLICT, "there is already a product named %q", p.Name)
			} else if err != nil {
				return fmt.Errorf("postgres: initialize: add product %q: %w", p.Name, err)
			}
		}
		return nil
	})
	return first && err == nil, err
}

// AdjustStock corrects a product's stock and records why; see storify.Admin. The
// product's row is locked first, so that concurrent adjustments of one product
// check the units written off one after another.
func (s *Store) AdjustStock(ctx context.Context, id int64, delta int, reason string) (_ storify.Product, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	reason, err = storify.CheckAdjustment(delta, reason)
	if err != nil {
		return storify.Product{}, err
	}
	var p storify.Product
	err = s.writeStock(ctx, []int64{id}, func(tx pgx.Tx) error {
		cur, err := scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1 FOR NO KEY UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.ErrNoProduct(id)
		} else if err != nil {
			return fmt.Errorf("postgres: adjust product %d: %w", id, err)
		}
		if delta > 0 {
			var written int
			if err := tx.QueryRow(ctx, `SELECT -coalesce(sum(delta), 0) FROM stock_adjustments WHERE product_id = $1`, id).Scan(&written); err != nil {
				return fmt.Errorf("postgres: adjust product %d: %w", id, err)
			}
			if delta > written {
				return storify.ErrPutBack(cur.Name, written)
			}
		}
		p, err = scanProduct(tx.QueryRow(ctx, `
			UPDATE products SET stock = stock + $1, stock_version = stock_version + 1 WHERE id = $2 AND stock + $1 BETWEEN 0 AND $3
			RETURNING `+productColumns, delta, id, storify.MaxStock))
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.ErrWriteOff(cur.Name, cur.Stock)
		} else if err != nil {
			return fmt.Errorf("postgres: adjust product %d: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO stock_adjustments (product_id, delta, reason) VALUES ($1, $2, $3)`, id, delta, reason); err != nil {
			return fmt.Errorf("postgres: adjust product %d: record it: %w", id, err)
		}
		return nil
	})
	return p, err
}

// Adjustments lists stock adjustments, oldest first; see storify.Admin.
func (s *Store) Adjustments(ctx context.Context, productID int64) (_ []storify.Adjustment, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var adjs []storify.Adjustment
	err = s.read(ctx, func(q querier) error {
		rows, _ := q.Query(ctx, `
			SELECT id, product_id, delta, reason, made_at FROM stock_adjustments
			WHERE $1 = 0 OR product_id = $1 ORDER BY id`, productID)
		var err error
		adjs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.Adjustment, error) {
			var a storify.Adjustment
			err := row.Scan(&a.ID, &a.ProductID, &a.Delta, &a.Reason, &a.Made)
			a.Made = utc(a.Made)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("postgres: list adjustments: %w", err)
		}
		return nil
	})
	return adjs, err
}

// accountForUpdate reads and locks an account in tx, hash included; ENOTFOUND if
// there is none.
func accountForUpdate(ctx context.Context, tx pgx.Tx, name string) (storify.Account, error) {
	name = strings.TrimSpace(name)
	notFound := storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	key := username.Key(name)
	if key == "" {
		return storify.Account{}, notFound
	}
	var a storify.Account
	err := tx.QueryRow(ctx, `SELECT id, name, password_hash, created_at FROM accounts WHERE name_key = $1 FOR UPDATE`, key).
		Scan(&a.ID, &a.Name, &a.PasswordHash, &a.Created)
	if errors.Is(err, pgx.ErrNoRows) {
		return a, notFound
	} else if err != nil {
		return a, fmt.Errorf("postgres: account named %q: %w", name, err)
	}
	a.Created = utc(a.Created)
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
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = accountForUpdate(ctx, tx, name); err != nil {
			return err
		}
		h := hash
		if storify.Locked(a.PasswordHash) {
			h = append([]byte(storify.LockedPrefix), hash...)
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, h, a.ID); err != nil {
			return fmt.Errorf("postgres: set the password of account %d: %w", a.ID, err)
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
	err = s.write(ctx, func(tx pgx.Tx) error {
		var err error
		if a, err = accountForUpdate(ctx, tx, name); err != nil {
			return err
		}
		hash, err := storify.LockHash(a, lock)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE id = $2`, hash, a.ID); err != nil {
			return fmt.Errorf("postgres: lock account %d: %w", a.ID, err)
		}
		return nil
	})
	a.PasswordHash = nil
	return a, err
}

// DeleteAccount deletes an account, keeping its orders anonymised; see
// storify.Admin. The account's row is locked first, as a checkout by the account
// locks it, so that no order of it is placed while it goes.
func (s *Store) DeleteAccount(ctx context.Context, name string) (_ int, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	orders := 0
	err = s.write(ctx, func(tx pgx.Tx) error {
		a, err := accountForUpdate(ctx, tx, name)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE orders SET customer = $1, account_id = NULL WHERE account_id = $2`, storify.DeletedCustomer, a.ID)
		if err != nil {
			return fmt.Errorf("postgres: delete account %d: its orders: %w", a.ID, err)
		}
		orders = int(tag.RowsAffected())
		if _, err := tx.Exec(ctx, `DELETE FROM saved_cart_items WHERE account_id = $1`, a.ID); err != nil {
			return fmt.Errorf("postgres: delete account %d: its cart: %w", a.ID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM account_keys WHERE account_id = $1`, a.ID); err != nil {
			return fmt.Errorf("postgres: delete account %d: its SSH keys: %w", a.ID, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, a.ID); err != nil {
			return fmt.Errorf("postgres: delete account %d: %w", a.ID, err)
		}
		return nil
	})
	return orders, err
}
