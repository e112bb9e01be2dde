package sqlite

import (
	"context"
	"fmt"
)

// Ping reports whether the database answers within the Store's budget: a read of
// the file on a reader connection, not of the in-memory catalog. It fails with
// storify.ErrUnavailable when the read does not finish in time.
func (s *Store) Ping(ctx context.Context) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	var n int
	if err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM products LIMIT 1)`).Scan(&n); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}
