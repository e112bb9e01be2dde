package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// InitSetting keeps value under key unless it has one; see storify.Store. Of two
// instances inserting at once, the second's INSERT waits for the first's commit
// and then does nothing, so both read the first's value.
func (s *Store) InitSetting(ctx context.Context, key string, value []byte) ([]byte, error) {
	if key == "" || len(value) == 0 {
		return nil, storify.Errorf(storify.EINVALID, "a setting needs a key and a value")
	}
	var kept []byte
	err := s.write(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&kept)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: setting %q: %w", key, err)
	}
	return kept, nil
}
