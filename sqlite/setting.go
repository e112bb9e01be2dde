package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/storify/storify"
)

// InitSetting keeps value under key unless it has one; see storify.Store. The
// insert and the read are one write transaction, so two processes opening the
// same file agree on the first value written.
func (s *Store) InitSetting(ctx context.Context, key string, value []byte) (_ []byte, err error) {
	if key == "" || len(value) == 0 {
		return nil, storify.Errorf(storify.EINVALID, "a setting needs a key and a value")
	}
	ctx, end := s.call(ctx, &err)
	defer end()
	var kept []byte
	err = s.write(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&kept)
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: setting %q: %w", key, err)
	}
	return kept, nil
}
