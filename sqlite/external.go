package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// externalCheckEvery is how often, at most, the Store asks SQLite whether another
// connection (another process: storify exec, a second console) has committed to the
// file. It bounds how long the copy of the catalog can miss such a change.
const externalCheckEvery = 100 * time.Millisecond

// externalWrites notices commits to the database file made through other
// connections, so that the copy of the catalog does not outlive them. SQLite's
// PRAGMA data_version changes, on one connection, whenever another connection has
// committed; this Store's own writer counts as another, so its writes are noticed
// too, which costs at most one more load of the catalog per check.
type externalWrites struct {
	db      *sql.DB      // one connection of its own: data_version is per connection
	due     atomic.Int64 // unix nanoseconds of the next check
	mu      sync.Mutex   // held by the one reader that checks
	version int64
}

func openExternalWrites(path string, busy time.Duration) (*externalWrites, error) {
	db, err := sql.Open("sqlite", path+"?"+readerParams(busy))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	w := &externalWrites{db: db}
	if err := db.QueryRow(`PRAGMA data_version`).Scan(&w.version); err != nil {
		db.Close()
		return nil, fmt.Errorf("read data_version: %w", err)
	}
	return w, nil
}

// changed reports whether another connection has committed since the last check.
// It asks SQLite at most once per externalCheckEvery, and never makes a reader wait
// for another reader's check: meanwhile the answer is no.
func (w *externalWrites) changed(ctx context.Context) bool {
	now := time.Now().UnixNano()
	if now < w.due.Load() || !w.mu.TryLock() {
		return false
	}
	defer w.mu.Unlock()
	w.due.Store(now + int64(externalCheckEvery))
	var v int64
	if err := w.db.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return true // unsure: reading the catalog again is always safe
	}
	if v == w.version {
		return false
	}
	w.version = v
	return true
}

func (w *externalWrites) close() error { return w.db.Close() }
