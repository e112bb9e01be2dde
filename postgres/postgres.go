// Package postgres implements storify.Store on PostgreSQL through jackc/pgx v5 and its
// connection pool, so that several storify processes can share one store.
//
// Shared truth: the database is the store. The one thing a Store keeps in memory is a
// copy of the catalog, because customers list it far more often than anything changes
// it, and a few dozen products cost less to hand out from memory than to query. The
// copy is kept true across instances with LISTEN/NOTIFY (listen.go, catalog.go):
//
//   - Every transaction that changes products (AddProduct, Restock, SetPrice,
//     Discontinue, Checkout, Cancel) sends a NOTIFY on the store's channel (one per
//     schema) inside the transaction, so that it is delivered if and only if the
//     transaction commits. Its payload names the Store that sent it, and, for a
//     change of some products' stock only (Checkout, Restock, AdjustStock), those
//     products, with the stock a checkout left and its stock_version.
//   - Each Store keeps one connection of its own LISTENing on that channel, in a
//     goroutine (its application_name is the pool's followed by " listener"). A
//     notification from another Store invalidates the copy; the next read loads it
//     again, in one query, shared by the reads that wait for it. After a change of
//     stock only, the next read patches a copy of the copy: with the stock told,
//     after a checkout (catalog.Cache.Stocked), and else with those products' rows,
//     read again (catalog.Cache.Touched). Every statement that changes stock adds
//     one to the product's stock_version, and a stock told is taken only if its
//     version is later than the copy's, so a notice that arrives after a later
//     one, or after the instance's own later checkout, undoes nothing.
//   - A write through this Store invalidates the copy itself (or marks its
//     products, or tells their stock) once it has committed, before it returns, so
//     an instance reads its own writes without waiting for its notification (which
//     its listener then skips).
//   - While the listener is not connected (at start, after losing its connection,
//     while it reconnects with backoff) the copy is not used: every read goes to the
//     database. On connecting it LISTENs first, then invalidates, and only then lets
//     reads use the copy again, so no change is missed in between.
//   - A load reads the catalog's version before it queries, and its copy is used only
//     while the version is unchanged, so no copy is used after an invalidation that
//     raced with its load.
//
// How stale can the copy be? By at most readWindow (500 µs): a read that begins at T
// sees every change committed on any instance before T − readWindow. Before a read is
// served from the copy, it needs a round trip (a ping) on the listener's connection
// that began at most readWindow before the read did; one that began within the window
// and was answered serves every read that comes, and reads that find none wait
// together for the next. A read that finds the last round older than half the window
// asks for the next one without waiting for it, so that a stream of reads rarely
// waits at all (barrier.go). A committing backend signals the listening backends
// before it answers its client, and a backend sends the notifications it was signalled
// for before it answers its next command, so a ping's answer follows the notification
// of every change committed before the ping began, and the copy has been invalidated
// for each. A change committed within the window is seen if its notification has been
// read already, and may not be: a customer on another instance may be shown the old
// stock for that long after the manager has seen the restock done. So a read costs a
// round trip only now and then, not a query of the catalog. If the listener's
// connection dies, the ping fails and the reads waiting for it go to the database,
// after pingTimeout at worst.
//
// An instance that is the only one of its store needs no rounds at all: the others'
// changes are what they are for. Each instance's listener holds an advisory lock
// shared, and one that finds it can take it exclusive too is alone, until another
// comes and says so (alone.go). A lone instance's reads wait for nothing, and its
// listener makes a round only every aloneLease/2 while reads come.
//
// Sales never depend on the copy: checkouts lock and check the products' rows in the
// database (see below).
//
// Writes run in READ COMMITTED transactions. That is enough because a checkout first
// locks the products' rows (SELECT … FOR NO KEY UPDATE, which under READ COMMITTED
// waits for a concurrent writer and then locks the newest row version), and then, in
// a statement that therefore sees the rows as they are, checks and takes the stock;
// and because rows are locked in one fixed order (accounts, then products, each by
// ascending id) so that transactions do not deadlock. Concurrent checkouts are placed
// together, in one transaction with one commit (see commit.go). Every write
// transaction is still retried a few times, with jittered backoff, on
// serialization_failure and deadlock_detected, and when its connection was lost
// before COMMIT was sent: the server rolls such a transaction back, so running it
// again cannot apply it twice. A connection lost during COMMIT leaves the outcome
// unknown. For a checkout batch that is no longer a problem: every checkout carries a
// token stored with its order, so the batch is run again, waits for the first
// attempt's transaction to end (the token's advisory lock) and finds the orders it
// placed (see commit.go). Any other write so cut off is reported, not retried.
//
// Every call runs within the Store's budget (Options.Timeout, storify's
// --db-timeout): acquiring and connecting, the statements, every retry, the wait for
// the listener and for a group commit. The sessions' statement_timeout, lock_timeout
// and idle_in_transaction_session_timeout are the budget too, so that the server also
// gives up on a client that went away. A call that runs out, or cannot connect, gets
// storify.ErrUnavailable.
//
// The tables live in the first schema of the connection's search_path (public by
// default; set search_path in the DSN to use another), and Open migrates that schema
// under a transaction-scoped advisory lock, so that instances starting together
// migrate it exactly once.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
	"github.com/storify/storify/internal/groupcommit"
)

// maxAttempts bounds how often one call runs its transaction: enough to ride out a
// deadlock or a dropped connection, few enough that a database that is down gives the
// caller an error within a second or so.
const maxAttempts = 5

// Backoff between attempts: the n-th wait is drawn from [d/2, d) with d = backoffBase·2ⁿ⁻¹,
// capped at backoffMax, so that transactions that collided do not collide again in step.
const (
	backoffBase = 5 * time.Millisecond
	backoffMax  = 250 * time.Millisecond
)

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
	codeLockNotAvailable     = "55P03"
	codeQueryCanceled        = "57014"
)

// DefaultTimeout is the budget of one Store call when Options.Timeout is not set.
const DefaultTimeout = 5 * time.Second

// Options tune a Store.
type Options struct {
	// Timeout is the budget of one Store call: pool acquisition, connecting, every
	// retry, the wait for a group commit and the catalog's reload all come out of
	// it. When it runs out the call fails with storify.ErrUnavailable (or, for a
	// checkout whose commit could not be confirmed, storify.ErrUnconfirmed). It also
	// sets the sessions' connect_timeout, statement_timeout, lock_timeout and
	// idle_in_transaction_session_timeout, and the pool's health-check ping
	// timeout, unless the DSN sets them. 0 means DefaultTimeout.
	Timeout time.Duration
	// Metrics is told of group commits, retries and database errors; nil reports
	// nothing.
	Metrics storify.StoreMetrics
	// Log is told when the listener (the connection other instances' changes are
	// heard on) is lost and when it is back; nil logs nothing.
	Log *slog.Logger
}

// Store is a storify.Store on a PostgreSQL database. It is safe for concurrent use,
// and any number of Stores, in one process or many, may share one database.
type Store struct {
	pool      *pgxpool.Pool
	timeout   time.Duration        // the budget of one call (Options.Timeout)
	fullLoads atomic.Int64         // reads of the whole catalog, for the tests of patching
	rowLoads  atomic.Int64         // reads of some products' rows, for the same
	metrics   storify.StoreMetrics // told of each group commit and retry

	commit  *groupcommit.Queue[*checkout, storify.Order] // checkouts waiting to be placed together
	catalog catalogCopy
	channel string // the store's notification channel, named after its schema
	// ordersChannel announces orders shipped and cancelled; orderWatch is told of
	// other instances' (WatchOrders).
	ordersChannel string
	orderWatch    atomic.Pointer[func(storify.OrderEvent)]
	events        eventLog // the listener's: events told, when it last heard
	listenerLost  bool     // the listener lost its connection and is not back; the listener's own
	log           *slog.Logger
	instance      string // this Store's name in the payload of its notifications

	// bansChannel announces changes of the bans; banWatch is told (WatchBans).
	bansChannel string
	banWatch    atomic.Pointer[func()]

	// liveChannel carries the live instances' requests and replies; live is this
	// Store among them, once it has joined (live.go).
	liveChannel string
	live        liveState

	lone lone // this Store's part in the presence lock (alone.go)

	stopListening context.CancelFunc
	listenDone    chan struct{} // closed when the listener has stopped

	unknownCommits atomic.Int64 // COMMITs whose outcome was unknown, for the tests
	// conflicts are the accounts the name rule locks out, found at Open.
	conflicts []storify.NameConflict
}

var _ storify.Store = (*Store)(nil)

// Open connects to the PostgreSQL database that dsn names (a postgres:// URL or
// keyword=value pairs, as pgx takes them; pool_max_conns and the other pgxpool
// settings may be given in it) and brings its schema up to date. The tables go in
// the first schema of search_path, which may be set in the DSN. At most one Options
// is used. If the database cannot be reached, the error wraps storify.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts ...Options) (*Store, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx leaves the password out of its parse errors.
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	bound(cfg, o.Timeout)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if o.Metrics == nil {
		o.Metrics = storify.NoMetrics{}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Store{pool: pool, timeout: o.Timeout, metrics: o.Metrics, log: o.Log, listenDone: make(chan struct{})}
	// Each step gets the budget, as a call does: their statements use ctx. The
	// database must answer within one call's budget; migrating may take longer (a
	// large table, or another instance migrating first).
	pctx, cancel := s.budget(ctx)
	err = pool.Ping(pctx)
	cancel()
	if err == nil {
		err = migrate(ctx, s, migrations)
	}
	if err != nil {
		pool.Close()
		return nil, unreachable(ctx, err)
	}
	sctx, cancel := s.budget(ctx)
	err = s.read(sctx, func(q querier) error {
		return q.QueryRow(sctx, `SELECT current_schema()`).Scan(&s.channel)
	})
	cancel()
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s.bansChannel = bansChannelName(s.channel)
	s.liveChannel = liveChannelName(s.channel)
	s.channel, s.ordersChannel, s.instance = channelName(s.channel), ordersChannelName(s.channel), newInstanceID()
	s.catalog.barrier.kick = make(chan struct{}, 1)
	s.lone.settled = make(chan struct{})
	if s.conflicts, err = s.rekeyAccounts(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	var lctx context.Context
	lctx, s.stopListening = context.WithCancel(context.Background())
	go s.listen(lctx, s.listenerConfig(cfg.ConnConfig))
	s.commit = groupcommit.StartObserved(maxBatch, s.placeAll, s.metrics.CommitBatch)
	return s, nil
}

// bound gives every connection of cfg the time budget d, where the DSN did not set
// one: connecting, the pool's health-check ping, and on the server each statement,
// each lock wait, and the time a transaction may sit idle. The last lets the server
// end a transaction whose client vanished mid-way (a network partition), so that its
// locks, and the question whether it committed, are settled soon after.
func bound(cfg *pgxpool.Config, d time.Duration) {
	if cfg.ConnConfig.ConnectTimeout <= 0 {
		cfg.ConnConfig.ConnectTimeout = d
	}
	if cfg.PingTimeout <= 0 {
		cfg.PingTimeout = d
	}
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	ms := strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	for _, p := range []string{"statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"} {
		if _, ok := cfg.ConnConfig.RuntimeParams[p]; !ok {
			cfg.ConnConfig.RuntimeParams[p] = ms
		}
	}
}

// Close answers the checkouts queued, stops the listener, ends the instance's lease
// (Join) and closes the pool. It waits until every connection in use has been
// returned, so calls in flight finish first (each within its budget); a Checkout
// after Close returns an error. Closing the pool's connections is bounded by the
// budget too: a connection to a host that no longer answers is abandoned, not waited
// for, and Close says so.
func (s *Store) Close() error {
	s.commit.Close()
	s.stopListening()
	<-s.listenDone
	s.leave()
	closed := make(chan struct{})
	go func() {
		s.pool.Close()
		close(closed)
	}()
	t := time.NewTimer(s.timeout)
	defer t.Stop()
	select {
	case <-closed:
		return nil
	case <-t.C:
		return storify.Unavailable(fmt.Errorf("postgres: close: connections still busy after %v were abandoned", s.timeout))
	}
}

// call bounds one Store call by the Store's budget: it returns ctx with that
// deadline, which every statement of the call must use, and a func to defer that
// releases it and turns *err into what the caller gets (see unreachable).
func (s *Store) call(ctx context.Context, err *error) (context.Context, func()) {
	return s.callFor(ctx, err, s.timeout)
}

// callFor is call with a budget of d.
func (s *Store) callFor(ctx context.Context, err *error, d time.Duration) (context.Context, func()) {
	bounded, cancel := context.WithTimeout(ctx, d)
	return bounded, func() {
		*err = unreachable(ctx, *err)
		cancel()
	}
}

// budget is ctx bounded by the budget for one call: the Store's, or the longer one
// that ctx was given by withBudget.
func (s *Store) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	d := s.timeout
	if long, ok := ctx.Value(budgetKey{}).(time.Duration); ok && long > d {
		d = long
	}
	return context.WithTimeout(ctx, d)
}

// budgetKey is the key of a longer budget than the Store's in a context.
type budgetKey struct{}

// withBudget gives the calls made with ctx a budget of d, if longer than the
// Store's: for the few steps that may rightly take long (an import of a large file, a
// migration, or waiting for another instance's), which the budget of one customer's
// call would cut off.
func withBudget(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, budgetKey{}, d)
}

// setLocalTimeouts sets the transaction's statement, lock and idle timeouts to d,
// for a transaction run withBudget: the session's own are the Store's budget.
func setLocalTimeouts(ctx context.Context, tx pgx.Tx, d time.Duration) error {
	ms := d.Milliseconds()
	_, err := tx.Exec(ctx, fmt.Sprintf(`SET LOCAL statement_timeout = %d; SET LOCAL lock_timeout = %d;
		SET LOCAL idle_in_transaction_session_timeout = %d`, ms, ms, ms))
	return err
}

// querier is what statements run on: a pooled connection or a transaction, so that a
// write can read what it wrote inside its own transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// read runs fn on a pooled connection, within the call's budget. fn must only read,
// so running it again after its connection was lost is harmless; that is what lets a
// call right after the database dropped our connections still succeed.
func (s *Store) read(ctx context.Context, fn func(q querier) error) error {
	parent := ctx
	ctx, cancel := s.budget(ctx)
	defer cancel()
	return unreachable(parent, retry(ctx, s.metrics.DatabaseRetry, func() (bool, error) {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return canReconnect(ctx, err), &lostError{fmt.Errorf("postgres: connect: %w", err)}
		}
		defer c.Release()
		if err := fn(c); err != nil {
			if lost(ctx, c, err) {
				return true, &lostError{err}
			}
			return false, err
		}
		return false, nil
	}))
}

// write runs fn in one READ COMMITTED transaction and commits it unless fn fails.
// The isolation level is set explicitly so that a server whose default is stricter
// behaves as this package was written for. fn may run more than once (see the package
// comment), so it must not keep state from a failed run.
func (s *Store) write(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return s.transact(ctx, nil, closeThen(fn))
}

// writeCatalog is write for a transaction that may change products: the NOTIFY that
// tells the other instances goes to the server with BEGIN, in one round trip (it is
// delivered only if the transaction commits), and this Store's copy of the catalog is
// invalidated before writeCatalog returns, whatever the outcome.
func (s *Store) writeCatalog(ctx context.Context, fn func(tx pgx.Tx) error) error {
	defer s.catalog.invalidate()
	return s.transactCatalog(ctx, func(b *pgx.Batch) { b.Queue(notifySQL, s.channel, s.instance) }, closeThen(fn))
}

// writeStock is writeCatalog for a transaction that changes only the stock (and
// units received) of the products ids: every instance reads just their rows again.
func (s *Store) writeStock(ctx context.Context, ids []int64, fn func(tx pgx.Tx) error) error {
	defer s.catalog.cache.Touched(ids...)
	stocks := make([]catalog.Stock, len(ids))
	for i, id := range ids {
		stocks[i].ID = id
	}
	return s.transactCatalog(ctx, func(b *pgx.Batch) { b.Queue(notifySQL, s.channel, s.stockPayload(stocks)) }, closeThen(fn))
}

// transactCatalog is transact for a transaction that changes products: it begins
// once this instance may write the catalog, and takes its share of the presence
// lock with BEGIN (alone.go).
func (s *Store) transactCatalog(ctx context.Context, queue func(b *pgx.Batch), fn func(tx pgx.Tx, br pgx.BatchResults) error) error {
	parent := ctx
	ctx, cancel := s.budget(ctx)
	defer cancel()
	if err := s.joinedForWrites(ctx); err != nil {
		return unreachable(parent, err)
	}
	return s.transact(ctx, func(b *pgx.Batch) {
		s.presence(b)
		queue(b)
	}, fn)
}

// closeThen is a transact fn for fn, which needs nothing from the batch.
func closeThen(fn func(tx pgx.Tx) error) func(tx pgx.Tx, br pgx.BatchResults) error {
	return func(tx pgx.Tx, br pgx.BatchResults) error {
		if err := br.Close(); err != nil {
			return fmt.Errorf("postgres: begin: %w", err)
		}
		return fn(tx)
	}
}

// transact runs one READ COMMITTED transaction, retried as the package comment says,
// within the call's budget. queue, if not nil, adds statements to the batch that
// begins the transaction, so that they reach the server with BEGIN in one round trip;
// fn then reads their results from br, in order, and must Close br before it runs
// anything else in tx. The transaction is committed unless fn (or closing br) fails.
// A COMMIT whose outcome is unknown (the connection was lost while it was sent or
// answered) is not retried: its error is an *unknownCommitError.
func (s *Store) transact(ctx context.Context, queue func(b *pgx.Batch), fn func(tx pgx.Tx, br pgx.BatchResults) error) error {
	return s.transactAs(ctx, flushedCommit, queue, fn)
}

// commitMode is how transactAs commits.
type commitMode int

const (
	// flushedCommit: COMMIT is answered once the commit is flushed to disk, and
	// the transaction holds its locks until then.
	flushedCommit commitMode = iota
	// unlockBeforeFlush: the transaction lets go of its locks at COMMIT, before
	// the commit is flushed, and transactAs returns once it is (see
	// commitThenFlushSQL).
	unlockBeforeFlush
)

// asyncCommitSQL, sent with BEGIN, lets the transaction's COMMIT end it, locks and
// all, before the commit is flushed (synchronous_commit off for this transaction
// only).
const asyncCommitSQL = `SET LOCAL synchronous_commit TO off`

// commitThenFlushSQL commits a transaction begun with asyncCommitSQL and, in the
// same round trip, runs a transaction of its own that writes one WAL record (a
// logical decoding message, which nothing decodes unless asked) under the session's
// synchronous_commit. Its commit is answered once the WAL is flushed (or replicated,
// as the server is configured) up to its own record, which is past the first
// transaction's commit: so when the answer comes, the first transaction is as
// durable as if its own COMMIT had waited, but it held its locks only until its
// commit was written, not until it was flushed.
const commitThenFlushSQL = `COMMIT; SELECT pg_logical_emit_message(true, 'storify', 'flush')`

// transactAs is transact, committing as mode says.
func (s *Store) transactAs(ctx context.Context, mode commitMode, queue func(b *pgx.Batch), fn func(tx pgx.Tx, br pgx.BatchResults) error) error {
	parent := ctx
	ctx, cancel := s.budget(ctx)
	defer cancel()
	return unreachable(parent, retry(ctx, s.metrics.DatabaseRetry, func() (bool, error) {
		c, err := s.pool.Acquire(ctx)
		if err != nil {
			return canReconnect(ctx, err), &lostError{fmt.Errorf("postgres: connect: %w", err)}
		}
		defer c.Release()
		b := &pgx.Batch{}
		b.BeginTx(pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
		if mode == unlockBeforeFlush {
			b.Queue(asyncCommitSQL)
		}
		if queue != nil {
			queue(b)
		}
		br := c.SendBatch(ctx, b)
		tx := br.Tx()
		_, err = br.Exec()
		if err == nil && mode == unlockBeforeFlush {
			_, err = br.Exec()
		}
		if err != nil {
			br.Close()
			rollback(ctx, tx)
			if lost(ctx, c, err) {
				return true, &lostError{fmt.Errorf("postgres: begin: %w", err)}
			}
			return false, fmt.Errorf("postgres: begin: %w", err)
		}
		err = fn(tx, br)
		if cerr := br.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("postgres: %w", cerr)
		}
		if err != nil {
			rollback(ctx, tx)
			if lost(ctx, c, err) {
				return true, &lostError{err}
			}
			return isTransient(err), err
		}
		if mode == unlockBeforeFlush {
			return s.commitThenFlush(ctx, c)
		}
		if err := tx.Commit(ctx); err != nil {
			// Only the server saying it refused the commit proves that nothing
			// was committed; a connection lost here leaves it unknown.
			if pgCode(err) != "" && !c.Conn().IsClosed() {
				return isTransient(err), fmt.Errorf("postgres: commit: %w", err)
			}
			s.unknownCommits.Add(1)
			return false, &unknownCommitError{fmt.Errorf("postgres: commit: %w", err)}
		}
		return false, nil
	}))
}

// commitThenFlush commits the transaction open on c with commitThenFlushSQL and
// returns as transactAs's attempt does: nothing committed if the server refused the
// COMMIT, an *unknownCommitError if the connection was lost before it was answered
// or if the commit may not be flushed (the flush's transaction failed after it).
func (s *Store) commitThenFlush(ctx context.Context, c *pgxpool.Conn) (bool, error) {
	results, err := c.Conn().PgConn().Exec(ctx, commitThenFlushSQL).ReadAll()
	// A COMMIT the server refused has no result: its error ends the query.
	committed := len(results) > 0 && results[0].Err == nil && results[0].CommandTag.String() == "COMMIT"
	switch {
	case committed && err == nil:
		return false, nil
	case !committed && pgCode(err) != "" && !c.Conn().IsClosed():
		return isTransient(err), fmt.Errorf("postgres: commit: %w", err)
	case !committed && err == nil:
		// COMMIT answered ROLLBACK: the transaction had failed, unseen.
		return false, errors.New("postgres: commit: the transaction was rolled back")
	case committed:
		err = fmt.Errorf("flush: %w", err)
	}
	s.unknownCommits.Add(1)
	return false, &unknownCommitError{fmt.Errorf("postgres: commit: %w", err)}
}

// lostError is a failure to reach the database: connecting failed, or the
// connection was lost before COMMIT was sent, so nothing was committed.
type lostError struct{ err error }

func (e *lostError) Error() string { return e.err.Error() }
func (e *lostError) Unwrap() error { return e.err }

// unknownCommitError is a COMMIT whose outcome is unknown: the connection was lost
// after it was sent, and the transaction may or may not have committed.
type unknownCommitError struct{ err error }

func (e *unknownCommitError) Error() string { return e.err.Error() + " (outcome unknown)" }
func (e *unknownCommitError) Unwrap() error { return e.err }

// unreachable turns err, from a call whose caller's context is parent, into what the
// caller gets: a failure to reach the database in time becomes
// storify.ErrUnavailable, wrapped with its cause; a call whose caller cancelled it
// (the store is shutting down) gets the caller's context error, wrapped with the
// cause; everything else (application errors, bugs) is returned as it is.
func unreachable(parent context.Context, err error) error {
	var appErr *storify.Error
	switch {
	case err == nil || errors.As(err, &appErr):
		return err
	case errors.Is(parent.Err(), context.Canceled):
		return fmt.Errorf("%w: %w", parent.Err(), err)
	case isUnreachable(err):
		return storify.Unavailable(err)
	}
	return err
}

// isUnreachable reports whether err is the database not answering in time or the
// connection to it failing, rather than the database refusing a statement.
func isUnreachable(err error) bool {
	var lostErr *lostError
	var unknown *unknownCommitError
	var connErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &lostErr), errors.As(err, &unknown), errors.As(err, &connErr), errors.As(err, &netErr),
		errors.Is(err, context.DeadlineExceeded), pgconn.Timeout(err),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	}
	code := pgCode(err)
	switch {
	case code == codeLockNotAvailable, code == codeQueryCanceled:
		return true // lock_timeout, statement_timeout
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "57"):
		return true // connection exception, insufficient resources, operator intervention
	}
	return false
}

// retry calls attempt until it succeeds, fails for good, or maxAttempts is reached,
// and returns its last error. retried, if not nil, is called before each attempt
// after the first.
func retry(ctx context.Context, retried func(), attempt func() (again bool, err error)) error {
	for n := 1; ; n++ {
		again, err := attempt()
		if err == nil || !again || n == maxAttempts {
			return err
		}
		if ctx.Err() != nil {
			return err
		}
		d := min(backoffBase<<(n-1), backoffMax)
		t := time.NewTimer(d/2 + rand.N(d/2))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		if retried != nil {
			retried()
		}
	}
}

// rollback ends a failed transaction. It gets its own short deadline: the caller's
// context may be the reason fn failed, and an unfinished rollback would leave the
// connection in a transaction (pgx then closes it rather than pool it).
func rollback(ctx context.Context, tx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = tx.Rollback(ctx) // a failed rollback closes the connection, which rolls back too
}

// isTransient reports whether the server aborted the transaction for a reason that
// running it again may clear.
func isTransient(err error) bool {
	code := pgCode(err)
	return code == codeSerializationFailure || code == codeDeadlockDetected
}

// lost reports whether err came from losing the connection (the server shut it down,
// the network broke) rather than from the caller giving up or from the statement.
// pgx closes a connection on any such failure, so its state tells.
func lost(ctx context.Context, c *pgxpool.Conn, err error) bool {
	var appErr *storify.Error
	return ctx.Err() == nil && !errors.As(err, &appErr) && c.Conn().IsClosed()
}

// canReconnect reports whether connecting may succeed if tried again soon: the
// network failed, or the server is starting, shutting down or out of connections.
// A server that refused us (bad password, no such database) will refuse again.
func canReconnect(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	code := pgCode(err)
	return code == "" || strings.HasPrefix(code, "57") || strings.HasPrefix(code, "53")
}

// pgCode returns the SQLSTATE of a server error, "" for any other error.
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isUniqueViolation reports whether err is the server refusing a duplicate in the
// unique constraint named constraint, which the store turns into an ECONFLICT.
func isUniqueViolation(err error, constraint string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == codeUniqueViolation && e.ConstraintName == constraint
}

// utc returns t in UTC: pgx reads timestamptz in the local zone, and the store's
// times are UTC whatever machine reads them, as the SQLite backend's are.
func utc(t time.Time) time.Time { return t.UTC() }
