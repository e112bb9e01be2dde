package postgres

import (
	"context"
	"fmt"
)

// Ping reports whether the database answers within the Store's budget: one round
// trip on a pooled connection (connecting first if the pool has none), retried as
// every read is. It fails with storify.ErrUnavailable when the database does not
// answer in time.
func (s *Store) Ping(ctx context.Context) (err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	return s.read(ctx, func(q querier) error {
		if _, err := q.Exec(ctx, `SELECT 1`); err != nil {
			return fmt.Errorf("postgres: ping: %w", err)
		}
		return nil
	})
}
