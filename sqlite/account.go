package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// CreateAccount adds a customer account; see storify.Store. The name is kept as
// username.Clean shows it, and its key decides uniqueness.
func (s *Store) CreateAccount(ctx context.Context, name string, passwordHash []byte) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	name, key, err := username.Clean(name)
	if err != nil {
		return storify.Account{}, err
	}
	if len(passwordHash) == 0 {
		return storify.Account{}, storify.Errorf(storify.EINVALID, "the password hash is empty")
	}
	a := storify.Account{
		Name: name,
		// A copy, so that the caller reusing its buffer cannot change what we return.
		PasswordHash: append([]byte(nil), passwordHash...),
		Created:      fromUnixNano(unixNano(time.Now())),
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO accounts (name, name_key, password_hash, created_at) VALUES (?, ?, ?, ?)
			RETURNING id`,
			a.Name, key, a.PasswordHash, unixNano(a.Created)).Scan(&a.ID)
		if isUniqueViolation(err) {
			return storify.Errorf(storify.ECONFLICT, "the name %q is taken", name)
		} else if err != nil {
			return fmt.Errorf("sqlite: create account %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return storify.Account{}, err
	}
	return a, nil
}

// AccountByName returns the account of that name, compared by username.Key; see
// storify.Store. A name the rule refuses names no account.
func (s *Store) AccountByName(ctx context.Context, name string) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	name = strings.TrimSpace(name)
	key := username.Key(name)
	if key == "" {
		return storify.Account{}, storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	}
	var a storify.Account
	var created int64
	err = s.reader.QueryRowContext(ctx, `
		SELECT id, name, password_hash, created_at FROM accounts WHERE name_key = ?`,
		key).Scan(&a.ID, &a.Name, &a.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return storify.Account{}, storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	} else if err != nil {
		return storify.Account{}, fmt.Errorf("sqlite: account named %q: %w", name, err)
	}
	a.Created = fromUnixNano(created)
	return a, nil
}

// Accounts lists every account with its number of orders, by name; see storify.Store.
// Names sort by their case-folded key, so that "ada" and "Bob" sort as a reader expects.
func (s *Store) Accounts(ctx context.Context) (_ []storify.AccountSummary, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	rows, err := s.reader.QueryContext(ctx, `
		SELECT a.id, a.name, a.created_at,
			(SELECT count(*) FROM orders o WHERE o.account_id = a.id),
			substr(a.password_hash, 1, 1) = CAST(? AS BLOB)
		FROM accounts a
		ORDER BY a.name_key, a.id`, storify.LockedPrefix)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	defer rows.Close()
	var as []storify.AccountSummary
	for rows.Next() {
		var a storify.AccountSummary
		var created int64
		if err := rows.Scan(&a.ID, &a.Name, &created, &a.Orders, &a.Locked); err != nil {
			return nil, fmt.Errorf("sqlite: list accounts: %w", err)
		}
		a.Created = fromUnixNano(created)
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list accounts: %w", err)
	}
	return as, nil
}

// SavedCart returns an account's saved cart in the order first added; see
// storify.Store. An unknown account has an empty cart, like a new one.
func (s *Store) SavedCart(ctx context.Context, accountID int64) (_ []storify.CartItem, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	return savedCart(ctx, s.reader, accountID)
}

func savedCart(ctx context.Context, q queryer, accountID int64) ([]storify.CartItem, error) {
	rows, err := q.QueryContext(ctx, `
		SELECT product_id, qty FROM saved_cart_items WHERE account_id = ? ORDER BY position`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: saved cart of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var items []storify.CartItem
	for rows.Next() {
		var it storify.CartItem
		if err := rows.Scan(&it.ProductID, &it.Qty); err != nil {
			return nil, fmt.Errorf("sqlite: saved cart of account %d: %w", accountID, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: saved cart of account %d: %w", accountID, err)
	}
	return items, nil
}

// SaveCart replaces an account's saved cart; see storify.Store. A product listed
// twice is kept once with the quantities added, as Checkout would merge it. A
// discontinued product may be saved: the cart is the customer's, and checkout
// refuses it with a message that says why.
func (s *Store) SaveCart(ctx context.Context, accountID int64, items []storify.CartItem) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	lines, err := storify.MergeItems(items, "a cart")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		return saveCartTx(ctx, tx, accountID, lines)
	})
}

// ChangeCart replaces an account's saved cart if it still holds from; see
// storify.Store. The write lock makes the comparison and the change one step.
func (s *Store) ChangeCart(ctx context.Context, accountID int64, from, to []storify.CartItem) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	lines, err := storify.MergeItems(to, "a cart")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		saved, err := savedCart(ctx, tx, accountID)
		if err != nil {
			return err
		}
		if !slices.Equal(saved, from) {
			return storify.ErrCartChanged
		}
		return saveCartTx(ctx, tx, accountID, lines)
	})
}

// checkSavedCart returns ErrCartChanged unless the account's saved cart holds
// exactly lines (merged), for an account's checkout.
func checkSavedCart(ctx context.Context, tx *sql.Tx, accountID int64, lines []storify.CartItem) error {
	saved, err := savedCart(ctx, tx, accountID)
	if err != nil {
		return err
	}
	if !storify.SameContents(saved, lines) {
		return storify.ErrCartChanged
	}
	return nil
}

// saveCartTx replaces the saved cart within a write.
func saveCartTx(ctx context.Context, tx *sql.Tx, accountID int64, lines []storify.CartItem) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM saved_cart_items WHERE account_id = ?`, accountID); err != nil {
		return fmt.Errorf("sqlite: save cart of account %d: %w", accountID, err)
	}
	for i, it := range lines {
		// INSERT … SELECT inserts nothing for an unknown product, which tells it
		// apart from a failure without parsing a foreign-key error.
		res, err := tx.ExecContext(ctx, `
			INSERT INTO saved_cart_items (account_id, product_id, qty, position)
			SELECT ?, id, ?, ? FROM products WHERE id = ?`,
			accountID, it.Qty, i+1, it.ProductID)
		if err != nil {
			return fmt.Errorf("sqlite: save cart of account %d: %w", accountID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: save cart of account %d: %w", accountID, err)
		} else if n == 0 {
			return storify.ErrNoProduct(it.ProductID)
		}
	}
	return nil
}

// accountExists returns ENOTFOUND unless the account exists.
func accountExists(ctx context.Context, q queryer, id int64) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return noAccount(id)
	} else if err != nil {
		return fmt.Errorf("sqlite: account %d: %w", id, err)
	}
	return nil
}

func noAccount(id int64) error {
	return storify.Errorf(storify.ENOTFOUND, "no account #%d", id)
}

// rekeyAccounts brings every account's key up to the name rule (username.Rekey)
// and returns the accounts that collide under it, to be reported.
func (s *Store) rekeyAccounts(ctx context.Context) ([]storify.NameConflict, error) {
	var conflicts []storify.NameConflict
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name, name_key FROM accounts`)
		if err != nil {
			return fmt.Errorf("sqlite: rekey accounts: %w", err)
		}
		var as []username.Account
		for rows.Next() {
			var a username.Account
			if err := rows.Scan(&a.ID, &a.Name, &a.Key); err != nil {
				rows.Close()
				return fmt.Errorf("sqlite: rekey accounts: %w", err)
			}
			as = append(as, a)
		}
		if err := rows.Close(); err != nil {
			return fmt.Errorf("sqlite: rekey accounts: %w", err)
		}
		var changes []username.Change
		changes, conflicts = username.Rekey(as)
		// Through a temporary key first, so that two accounts trading keys never
		// meet the unique index halfway.
		for _, pass := range []func(c username.Change) string{
			func(c username.Change) string { return fmt.Sprintf(" rekey %d", c.ID) },
			func(c username.Change) string { return c.Key },
		} {
			for _, c := range changes {
				if _, err := tx.ExecContext(ctx, `UPDATE accounts SET name_key = ? WHERE id = ?`, pass(c), c.ID); err != nil {
					return fmt.Errorf("sqlite: rekey account %d: %w", c.ID, err)
				}
			}
		}
		return nil
	})
	return conflicts, err
}

// NameConflicts lists the accounts that cannot log in because of the account
// name rule, as found when the store was opened.
func (s *Store) NameConflicts() []storify.NameConflict { return s.conflicts }
