// Package sqlite implements storify.Store on an SQLite file through the pure-Go driver
// modernc.org/sqlite.
//
// The file is in WAL mode so that readers never wait for the writer. All writes go
// through one connection whose transactions begin with BEGIN IMMEDIATE: SQLite allows
// one writer at a time anyway, and taking the write lock up front means a transaction
// never fails halfway with SQLITE_BUSY when it upgrades from reading to writing.
// Reads use a separate pool of read-only connections. Commits are synced to disk
// (synchronous=FULL), so an order is durable when Checkout returns.
//
// Checkouts are group-committed: concurrent ones share one transaction and one sync
// to disk, each in a savepoint of its own (see commit.go). The catalog is kept in
// memory and read again after each write that changes products (see catalog.go).
//
// One database file is served by one Store, in one process. Another process may
// write the same file safely (storify exec beside a running store), since SQLite's
// locks serialize the writers, and this Store's copy of the catalog notices that
// process's commits within externalCheckEvery (see external.go).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
	"github.com/storify/storify/internal/groupcommit"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"
)

// DefaultTimeout is the budget of one Store call when Options.Timeout is not set.
const DefaultTimeout = 5 * time.Second

// Options tune a Store.
type Options struct {
	// Timeout is the budget of one Store call: the wait for the writer connection
	// or a reader, for a group commit, for the catalog's reload and for another
	// process's lock (busy_timeout) all come out of it. When it runs out the call
	// fails with storify.ErrUnavailable. 0 means DefaultTimeout.
	Timeout time.Duration
	// Metrics is told of group commits, retries and database errors; nil reports
	// nothing.
	Metrics storify.StoreMetrics
}

// Store is a storify.Store on an SQLite file. It is safe for concurrent use.
type Store struct {
	timeout time.Duration                                // the budget of one call (Options.Timeout)
	metrics storify.StoreMetrics                         // told of each group commit
	writer  *sql.DB                                      // one connection: every write transaction
	reader  *sql.DB                                      // read-only connections for queries outside a write
	commit  *groupcommit.Queue[*checkout, storify.Order] // checkouts waiting to be committed together
	stmts   *checkoutStmts                               // prepared on the writer
	catalog catalog.Cache                                // the products, as last read
	others  *externalWrites                              // notices other processes' commits
	// conflicts are the accounts the name rule locks out, found at Open.
	conflicts []storify.NameConflict
}

var _ storify.Store = (*Store)(nil)

// Open opens the SQLite database at path, creating the file if needed, and brings its
// schema up to date. path must name a file: ":memory:" would give every pooled
// connection a database of its own.
func Open(path string, opts ...Options) (*Store, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: need the path of a database file", path)
	}
	// The driver splits the DSN at the first "?", so such a path cannot be passed.
	if strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: open %q: the path must not contain '?'", path)
	}

	writer, err := sql.Open("sqlite", path+"?"+writerParams(o.Timeout))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	// Keep the writer connection for good: reopening it would redo the pragmas.
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)

	// Migrate before opening readers: the writer's connection switches the file to
	// WAL, which is persistent, and readers then find the tables they query.
	if err := migrate(context.Background(), writer, migrations); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	reader, err := sql.Open("sqlite", path+"?"+readerParams(o.Timeout))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU())
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)
	if err := reader.Ping(); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	stmts, err := prepareCheckout(context.Background(), writer)
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if o.Metrics == nil {
		o.Metrics = storify.NoMetrics{}
	}
	s := &Store{timeout: o.Timeout, metrics: o.Metrics, writer: writer, reader: reader, stmts: stmts}
	if s.conflicts, err = s.rekeyAccounts(context.Background()); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if s.others, err = s.watchExternal(); err != nil {
		stmts.close()
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	s.commit = groupcommit.StartObserved(maxBatch, s.placeAll, s.metrics.CommitBatch)
	return s, nil
}

// writerParams are the DSN parameters of the writer connection. Pragmas go in the DSN
// so that the driver runs them on every connection it opens, not only the first.
// busy_timeout, the wait for another process's lock, is the call's budget: only
// another process writing the same file makes us wait; within one Store the single
// writer connection serializes writes.
func writerParams(busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL syncs the WAL on every commit: NORMAL could lose the last orders on a
	// power cut, and a customer told "order placed" must find the order afterwards.
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return q.Encode()
}

// readerParams are the DSN parameters of the reader pool. query_only makes a write
// sent to the wrong pool fail loudly instead of racing the writer for the lock.
func readerParams(busy time.Duration) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "query_only(1)")
	return q.Encode()
}

// Close stops taking checkouts, waits until those already queued are committed and
// answered, then closes both pools. database/sql waits for the queries and
// transactions that have started, so other writes in flight finish first too.
// Checkout after Close returns an error.
func (s *Store) Close() error {
	s.commit.Close()
	others := s.others.close() // before the writer it asks
	return errors.Join(others, s.stmts.close(), s.writer.Close(), s.reader.Close())
}

// call bounds one Store call by the Store's budget: it returns ctx with that deadline,
// and a func to defer that releases it and turns *err into what the caller gets (see
// unreachable).
func (s *Store) call(ctx context.Context, err *error) (context.Context, func()) {
	return s.callFor(ctx, err, s.timeout)
}

// callFor is call with a budget of d.
func (s *Store) callFor(ctx context.Context, err *error, d time.Duration) (context.Context, func()) {
	bounded, cancel := context.WithTimeout(ctx, d)
	return bounded, func() {
		*err = unreachable(ctx, bounded, *err)
		cancel()
	}
}

// unreachable turns err, from a call whose caller's context is parent and whose
// budget was bounded, into what the caller gets: a call that ran out of its budget,
// or waited past busy_timeout for another process's lock, gets storify.ErrUnavailable
// wrapped with its cause; one its caller cancelled (the store is shutting down) gets
// the caller's context error with the cause; everything else as it is.
func unreachable(parent, bounded context.Context, err error) error {
	var appErr *storify.Error
	var sqlErr *sqlite3.Error
	switch {
	case err == nil || errors.As(err, &appErr):
		return err
	case errors.Is(parent.Err(), context.Canceled):
		return fmt.Errorf("%w: %w", parent.Err(), err)
	case bounded.Err() != nil || errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &sqlErr) && (sqlErr.Code()&0xff == sqlite3lib.SQLITE_BUSY || sqlErr.Code()&0xff == sqlite3lib.SQLITE_LOCKED):
		return storify.Unavailable(err)
	}
	return err
}

// write runs fn in one write transaction on the writer connection and commits it
// unless fn fails. The pool's single connection makes concurrent calls take turns;
// BEGIN IMMEDIATE (from the DSN) makes another process's writer wait for us, or us
// for it, under busy_timeout.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// writeCatalog is write for a transaction that may change products: the next read
// of the catalog looks at the database again. The copy is invalidated after the
// commit, even a failed one, and before the caller is answered, so that whoever
// hears of the write reads what it wrote.
func (s *Store) writeCatalog(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer s.catalog.Invalidate()
	return s.write(ctx, fn)
}

// writeStock is writeCatalog for a transaction that changes only the stock (and
// units received) of the products ids: the next read reads just their rows again.
func (s *Store) writeStock(ctx context.Context, ids []int64, fn func(tx *sql.Tx) error) error {
	defer s.catalog.Touched(ids...)
	return s.write(ctx, fn)
}

// queryer is what reads need: a pool or a transaction, so that a write can return
// what it wrote as seen inside its own transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// isUniqueViolation reports whether err is SQLite refusing a duplicate in a UNIQUE
// column, which the store turns into an ECONFLICT the user can act on.
func isUniqueViolation(err error) bool {
	var e *sqlite3.Error
	return errors.As(err, &e) && e.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE
}

// isConstraintPrimaryKey reports whether err is SQLite refusing a duplicate primary
// key (a WITHOUT ROWID table's key).
func isConstraintPrimaryKey(err error) bool {
	var e *sqlite3.Error
	return errors.As(err, &e) && (e.Code() == sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3lib.SQLITE_CONSTRAINT_UNIQUE)
}

// unixNano stores t as UTC nanoseconds since the epoch, an INTEGER that sorts and
// compares in SQL and loses nothing.
func unixNano(t time.Time) int64 { return t.UTC().UnixNano() }

// fromUnixNano is the inverse of unixNano.
func fromUnixNano(n int64) time.Time { return time.Unix(0, n).UTC() }
