package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// CreateAccount adds a customer account; see storify.Store. As with products, the
// name is looked up first so that a refused sign-up does not use up an account
// number; the unique constraint decides a race.
//
// The name is kept as username.Clean shows it, and its key decides uniqueness.
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
	taken := storify.Errorf(storify.ECONFLICT, "the name %q is taken", name)
	a := storify.Account{
		Name: name,
		// A copy, so that the caller reusing its buffer cannot change what we return.
		PasswordHash: append([]byte(nil), passwordHash...),
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM accounts WHERE name_key = $1)`, key).Scan(&exists); err != nil {
			return fmt.Errorf("postgres: create account %q: %w", name, err)
		} else if exists {
			return taken
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO accounts (name, name_key, password_hash) VALUES ($1, $2, $3)
			RETURNING id, created_at`,
			a.Name, key, a.PasswordHash).Scan(&a.ID, &a.Created)
		if isUniqueViolation(err, "accounts_name_key") {
			return taken
		} else if err != nil {
			return fmt.Errorf("postgres: create account %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return storify.Account{}, err
	}
	a.Created = utc(a.Created)
	return a, nil
}

// AccountByName returns the account of that name, compared by username.Key; see
// storify.Store. A name the rule refuses names no account.
func (s *Store) AccountByName(ctx context.Context, name string) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	name = strings.TrimSpace(name)
	notFound := storify.Errorf(storify.ENOTFOUND, "no account is named %q", name)
	key := username.Key(name)
	if key == "" {
		return storify.Account{}, notFound
	}
	var a storify.Account
	err = s.read(ctx, func(c querier) error {
		err := c.QueryRow(ctx, `SELECT id, name, password_hash, created_at FROM accounts WHERE name_key = $1`, key).
			Scan(&a.ID, &a.Name, &a.PasswordHash, &a.Created)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("postgres: account named %q: %w", name, err)
		}
		return nil
	})
	if err != nil {
		return storify.Account{}, err
	}
	a.Created = utc(a.Created)
	return a, nil
}

// Accounts lists every account with its number of orders, by name; see storify.Store.
// Names sort by their case-folded key in byte order (COLLATE "C"), as on SQLite,
// rather than by the database's collation, which varies from server to server.
func (s *Store) Accounts(ctx context.Context) (_ []storify.AccountSummary, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var as []storify.AccountSummary
	err = s.read(ctx, func(c querier) error {
		rows, _ := c.Query(ctx, `
			SELECT a.id, a.name, a.created_at,
				(SELECT count(*) FROM orders o WHERE o.account_id = a.id),
				substring(a.password_hash FROM 1 FOR 1) = $1::bytea
			FROM accounts a
			ORDER BY a.name_key COLLATE "C", a.id`, []byte(storify.LockedPrefix))
		var err error
		as, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.AccountSummary, error) {
			var a storify.AccountSummary
			err := row.Scan(&a.ID, &a.Name, &a.Created, &a.Orders, &a.Locked)
			a.Created = utc(a.Created)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("postgres: list accounts: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, nil
	}
	return as, nil
}

// SavedCart returns an account's saved cart in the order first added; see
// storify.Store. An unknown account has an empty cart, like a new one.
func (s *Store) SavedCart(ctx context.Context, accountID int64) (_ []storify.CartItem, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var items []storify.CartItem
	err = s.read(ctx, func(c querier) error {
		var err error
		items, err = savedCart(ctx, c, accountID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func savedCart(ctx context.Context, c querier, accountID int64) ([]storify.CartItem, error) {
	rows, _ := c.Query(ctx, `
		SELECT product_id, qty FROM saved_cart_items WHERE account_id = $1 ORDER BY position`, accountID)
	items, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (storify.CartItem, error) {
		var it storify.CartItem
		err := row.Scan(&it.ProductID, &it.Qty)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: saved cart of account %d: %w", accountID, err)
	}
	if len(items) == 0 {
		return nil, nil
	}
	return items, nil
}

// SaveCart replaces an account's saved cart; see storify.Store. A product listed
// twice is kept once with the quantities added, as Checkout would merge it. A
// discontinued product may be saved: the cart is the customer's, and checkout
// refuses it with a message that says why.
//
// The account's row is locked first, so that two saves of one cart (two sessions of
// one customer) take turns instead of both inserting the same rows, and a checkout
// of the account waits for the save or the save for the checkout.
func (s *Store) SaveCart(ctx context.Context, accountID int64, items []storify.CartItem) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	lines, err := storify.MergeItems(items, "a cart")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		return saveCartTx(ctx, tx, accountID, lines)
	})
}

// ChangeCart replaces an account's saved cart if it still holds from; see
// storify.Store. The account's row lock makes the comparison and the change one
// step, as it orders saves and checkouts of one account.
func (s *Store) ChangeCart(ctx context.Context, accountID int64, from, to []storify.CartItem) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	lines, err := storify.MergeItems(to, "a cart")
	if err != nil {
		return err
	}
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, accountID); err != nil {
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

// saveCartTx replaces the saved cart of an account the transaction has locked.
func saveCartTx(ctx context.Context, tx pgx.Tx, accountID int64, lines []storify.CartItem) error {
	ids, qtys := make([]int64, len(lines)), make([]int32, len(lines))
	for i, it := range lines {
		ids[i], qtys[i] = it.ProductID, int32(it.Qty)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM saved_cart_items WHERE account_id = $1`, accountID); err != nil {
		return fmt.Errorf("postgres: save cart of account %d: %w", accountID, err)
	}
	if len(lines) == 0 {
		return nil
	}
	// The join with products inserts nothing for an unknown product, which
	// tells it apart from a failure without parsing a foreign-key error.
	tag, err := tx.Exec(ctx, `
		INSERT INTO saved_cart_items (account_id, product_id, qty, position)
		SELECT $1, p.id, u.qty, u.position
		FROM unnest($2::bigint[], $3::integer[]) WITH ORDINALITY AS u (product_id, qty, position)
		JOIN products p ON p.id = u.product_id`,
		accountID, ids, qtys)
	if err != nil {
		return fmt.Errorf("postgres: save cart of account %d: %w", accountID, err)
	}
	if tag.RowsAffected() == int64(len(lines)) {
		return nil
	}
	return firstUnknownProduct(ctx, tx, ids)
}

// firstUnknownProduct returns ENOTFOUND for the first of ids, in their order, that
// names no product.
func firstUnknownProduct(ctx context.Context, tx pgx.Tx, ids []int64) error {
	rows, _ := tx.Query(ctx, `SELECT id FROM products WHERE id = ANY($1::bigint[])`, ids)
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: look up products: %w", err)
	}
	known := make(map[int64]bool, len(found))
	for _, id := range found {
		known[id] = true
	}
	for _, id := range ids {
		if !known[id] {
			return storify.ErrNoProduct(id)
		}
	}
	return errors.New("postgres: save cart: fewer lines saved than given, yet every product exists")
}

// lockAccount locks an account's row until the transaction ends, or returns
// ENOTFOUND if there is no such account. FOR NO KEY UPDATE makes checkouts and saves
// of one account take turns, yet does not block the foreign-key checks of orders
// being inserted for it.
func lockAccount(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return storify.Errorf(storify.ENOTFOUND, "no account #%d", id)
	} else if err != nil {
		return fmt.Errorf("postgres: account %d: %w", id, err)
	}
	return nil
}

// rekeyAccounts brings every account's key up to the name rule (username.Rekey)
// and returns the accounts that collide under it, to be reported. It holds the
// migration lock, so that instances starting together take turns.
func (s *Store) rekeyAccounts(ctx context.Context) ([]storify.NameConflict, error) {
	var conflicts []storify.NameConflict
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLockClass); err != nil {
			return fmt.Errorf("postgres: rekey accounts: lock: %w", err)
		}
		rows, _ := tx.Query(ctx, `SELECT id, name, name_key FROM accounts`)
		as, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (username.Account, error) {
			var a username.Account
			err := row.Scan(&a.ID, &a.Name, &a.Key)
			return a, err
		})
		if err != nil {
			return fmt.Errorf("postgres: rekey accounts: %w", err)
		}
		var changes []username.Change
		changes, conflicts = username.Rekey(as)
		if len(changes) == 0 {
			return nil
		}
		ids, keys := make([]int64, len(changes)), make([]string, len(changes))
		for i, c := range changes {
			ids[i], keys[i] = c.ID, c.Key
		}
		// Through a temporary key first, so that two accounts trading keys never
		// meet the unique constraint halfway.
		if _, err := tx.Exec(ctx, `UPDATE accounts SET name_key = ' rekey ' || id WHERE id = ANY($1::bigint[])`, ids); err != nil {
			return fmt.Errorf("postgres: rekey accounts: %w", err)
		}
		if _, err := tx.Exec(ctx, `
			UPDATE accounts a SET name_key = u.key
			FROM unnest($1::bigint[], $2::text[]) AS u (id, key) WHERE a.id = u.id`, ids, keys); err != nil {
			return fmt.Errorf("postgres: rekey accounts: %w", err)
		}
		return nil
	})
	return conflicts, err
}

// NameConflicts lists the accounts that cannot log in because of the account
// name rule, as found when the store was opened.
func (s *Store) NameConflicts() []storify.NameConflict { return s.conflicts }
