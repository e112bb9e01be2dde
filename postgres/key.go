package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// AddAccountKey binds an SSH key to an account; see storify.Store. The account's
// row is locked first, so that two sessions adding keys at once cannot both pass
// the count; a key bound already is told apart by the insert doing nothing.
func (s *Store) AddAccountKey(ctx context.Context, accountID int64, key storify.AccountKey) (storify.AccountKey, error) {
	if key.Fingerprint == "" || key.PublicKey == "" || strings.ContainsRune(key.Fingerprint+key.PublicKey, 0) {
		return storify.AccountKey{}, storify.Errorf(storify.EINVALID, "a key needs its fingerprint and public key")
	}
	err := s.write(ctx, func(tx pgx.Tx) error {
		if err := lockAccount(ctx, tx, accountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM account_keys WHERE account_id = $1`, accountID).Scan(&n); err != nil {
			return fmt.Errorf("postgres: keys of account %d: %w", accountID, err)
		}
		if n >= storify.MaxAccountKeys {
			return storify.Errorf(storify.ECONFLICT, "an account holds at most %d keys; remove one first", storify.MaxAccountKeys)
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO account_keys (fingerprint, account_id, public_key) VALUES ($1, $2, $3)
			ON CONFLICT (fingerprint) DO NOTHING
			RETURNING added_at`, key.Fingerprint, accountID, key.PublicKey).Scan(&key.Added)
		if errors.Is(err, pgx.ErrNoRows) {
			return storify.Errorf(storify.ECONFLICT, "this key is bound to an account already")
		} else if err != nil {
			return fmt.Errorf("postgres: add a key to account %d: %w", accountID, err)
		}
		return nil
	})
	if err != nil {
		return storify.AccountKey{}, err
	}
	key.Added = utc(key.Added)
	return key, nil
}

// AccountByKey returns the account a key is bound to; see storify.Store.
func (s *Store) AccountByKey(ctx context.Context, fingerprint string) (storify.Account, error) {
	notFound := storify.Errorf(storify.ENOTFOUND, "no account holds this key")
	if strings.ContainsRune(fingerprint, 0) {
		return storify.Account{}, notFound
	}
	var a storify.Account
	err := s.read(ctx, func(c querier) error {
		err := c.QueryRow(ctx, `
			SELECT a.id, a.name, a.password_hash, a.created_at
			FROM account_keys k JOIN accounts a ON a.id = k.account_id
			WHERE k.fingerprint = $1`, fingerprint).Scan(&a.ID, &a.Name, &a.PasswordHash, &a.Created)
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound
		} else if err != nil {
			return fmt.Errorf("postgres: account by key: %w", err)
		}
		return nil
	})
	if err != nil {
		return storify.Account{}, err
	}
	a.Created = utc(a.Created)
	return a, nil
}

// AccountKeys lists an account's keys, oldest first; see storify.Store.
func (s *Store) AccountKeys(ctx context.Context, accountID int64) ([]storify.AccountKey, error) {
	var keys []storify.AccountKey
	err := s.read(ctx, func(c querier) error {
		rows, _ := c.Query(ctx, `
			SELECT fingerprint, public_key, added_at FROM account_keys WHERE account_id = $1
			ORDER BY added_at, fingerprint`, accountID)
		var err error
		keys, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (storify.AccountKey, error) {
			var k storify.AccountKey
			err := r.Scan(&k.Fingerprint, &k.PublicKey, &k.Added)
			k.Added = utc(k.Added)
			return k, err
		})
		if err != nil {
			return fmt.Errorf("postgres: keys of account %d: %w", accountID, err)
		}
		return nil
	})
	return keys, err
}

// RemoveAccountKey unbinds a key from an account; see storify.Store.
func (s *Store) RemoveAccountKey(ctx context.Context, accountID int64, fingerprint string) error {
	return s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM account_keys WHERE account_id = $1 AND fingerprint = $2`, accountID, strings.ReplaceAll(fingerprint, "\x00", ""))
		if err != nil {
			return fmt.Errorf("postgres: remove a key of account %d: %w", accountID, err)
		}
		if tag.RowsAffected() == 0 {
			return storify.Errorf(storify.ENOTFOUND, "the account holds no such key")
		}
		return nil
	})
}
