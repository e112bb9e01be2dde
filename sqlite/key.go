package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
)

// AddAccountKey binds an SSH key to an account; see storify.Store.
func (s *Store) AddAccountKey(ctx context.Context, accountID int64, key storify.AccountKey) (_ storify.AccountKey, err error) {
	if key.Fingerprint == "" || key.PublicKey == "" {
		return storify.AccountKey{}, storify.Errorf(storify.EINVALID, "a key needs its fingerprint and public key")
	}
	ctx, end := s.call(ctx, &err)
	defer end()
	key.Added = fromUnixNano(unixNano(time.Now()))
	err = s.write(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM account_keys WHERE account_id = ?`, accountID).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: keys of account %d: %w", accountID, err)
		}
		if n >= storify.MaxAccountKeys {
			return storify.Errorf(storify.ECONFLICT, "an account holds at most %d keys; remove one first", storify.MaxAccountKeys)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO account_keys (fingerprint, account_id, public_key, added_at) VALUES (?, ?, ?, ?)`,
			key.Fingerprint, accountID, key.PublicKey, unixNano(key.Added))
		if isConstraintPrimaryKey(err) {
			return storify.Errorf(storify.ECONFLICT, "this key is bound to an account already")
		} else if err != nil {
			return fmt.Errorf("sqlite: add a key to account %d: %w", accountID, err)
		}
		return nil
	})
	if err != nil {
		return storify.AccountKey{}, err
	}
	return key, nil
}

// AccountByKey returns the account a key is bound to; see storify.Store.
func (s *Store) AccountByKey(ctx context.Context, fingerprint string) (_ storify.Account, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var a storify.Account
	var created int64
	err = s.reader.QueryRowContext(ctx, `
		SELECT a.id, a.name, a.password_hash, a.created_at
		FROM account_keys k JOIN accounts a ON a.id = k.account_id
		WHERE k.fingerprint = ?`, fingerprint).Scan(&a.ID, &a.Name, &a.PasswordHash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return storify.Account{}, storify.Errorf(storify.ENOTFOUND, "no account holds this key")
	} else if err != nil {
		return storify.Account{}, fmt.Errorf("sqlite: account by key: %w", err)
	}
	a.Created = fromUnixNano(created)
	return a, nil
}

// AccountKeys lists an account's keys, oldest first; see storify.Store.
func (s *Store) AccountKeys(ctx context.Context, accountID int64) (_ []storify.AccountKey, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	rows, err := s.reader.QueryContext(ctx, `
		SELECT fingerprint, public_key, added_at FROM account_keys WHERE account_id = ?
		ORDER BY added_at, fingerprint`, accountID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys of account %d: %w", accountID, err)
	}
	defer rows.Close()
	var keys []storify.AccountKey
	for rows.Next() {
		var k storify.AccountKey
		var added int64
		if err := rows.Scan(&k.Fingerprint, &k.PublicKey, &added); err != nil {
			return nil, fmt.Errorf("sqlite: keys of account %d: %w", accountID, err)
		}
		k.Added = fromUnixNano(added)
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys of account %d: %w", accountID, err)
	}
	return keys, nil
}

// RemoveAccountKey unbinds a key from an account; see storify.Store.
func (s *Store) RemoveAccountKey(ctx context.Context, accountID int64, fingerprint string) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM account_keys WHERE account_id = ? AND fingerprint = ?`, accountID, fingerprint)
		if err != nil {
			return fmt.Errorf("sqlite: remove a key of account %d: %w", accountID, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: remove a key of account %d: %w", accountID, err)
		} else if n == 0 {
			return storify.Errorf(storify.ENOTFOUND, "the account holds no such key")
		}
		return nil
	})
}
