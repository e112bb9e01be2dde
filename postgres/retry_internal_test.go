package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/storify/storify"
)

// A failure that may clear is tried maxAttempts times in all, then returned; each
// attempt after the first is reported as a retry.
func TestRetryIsBounded(t *testing.T) {
	errAgain := errors.New("again")
	n, retries := 0, 0
	err := retry(context.Background(), func() { retries++ }, func() (bool, error) {
		n++
		return true, errAgain
	})
	if !errors.Is(err, errAgain) || n != maxAttempts || retries != maxAttempts-1 {
		t.Errorf("retry of a failure that may clear: %v after %d attempts and %d retries reported, want %v after %d and %d",
			err, n, retries, errAgain, maxAttempts, maxAttempts-1)
	}

	n, retries = 0, 0
	err = retry(context.Background(), func() { retries++ }, func() (bool, error) {
		n++
		return false, errAgain
	})
	if !errors.Is(err, errAgain) || n != 1 || retries != 0 {
		t.Errorf("retry of a lasting failure: %v after %d attempts and %d retries reported, want %v after 1 and none", err, n, retries, errAgain)
	}
}

// A caller that gives up stops the retries at once.
func TestRetryStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := retry(ctx, nil, func() (bool, error) {
		n++
		cancel()
		return true, errors.New("again")
	})
	if err == nil || n != 1 {
		t.Errorf("retry after the context was cancelled: %v after %d attempts, want an error after 1", err, n)
	}
}

func TestIsTransient(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Code: codeSerializationFailure}, true},
		{&pgconn.PgError{Code: codeDeadlockDetected}, true},
		{&pgconn.PgError{Code: codeUniqueViolation}, false},
		{storify.Errorf(storify.ECONFLICT, "Blue Mug is sold out"), false},
		{errors.New("connection reset"), false},
	} {
		if got := isTransient(tt.err); got != tt.want {
			t.Errorf("isTransient(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestCanReconnect(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{errors.New("dial tcp 127.0.0.1:5432: connect: connection refused"), true},
		{&pgconn.PgError{Code: "57P03"}, true},  // cannot_connect_now: starting up
		{&pgconn.PgError{Code: "53300"}, true},  // too_many_connections
		{&pgconn.PgError{Code: "28P01"}, false}, // invalid_password
		{&pgconn.PgError{Code: "3D000"}, false}, // invalid_catalog_name: no such database
	} {
		if got := canReconnect(context.Background(), tt.err); got != tt.want {
			t.Errorf("canReconnect(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if canReconnect(ctx, errors.New("connection refused")) {
		t.Error("canReconnect with a cancelled context = true, want false")
	}
}

// Two transactions that lock two rows in opposite orders deadlock; PostgreSQL aborts
// one with deadlock_detected, write runs it again, and both succeed. The store's own
// transactions lock in one order and should never get here; this is the safety net.
// It takes about deadlock_timeout (1s by default).
func TestWriteRetriesDeadlock(t *testing.T) {
	dsn := os.Getenv("STORIFY_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("STORIFY_TEST_POSTGRES is not set; skipping the PostgreSQL tests")
	}
	ctx := context.Background()
	s := openInSchema(t, dsn)
	var ids [2]int64
	for i, name := range []string{"Blue Mug", "Red Plate"} {
		p, err := s.AddProduct(ctx, storify.NewProduct{Name: name, Price: 100, Stock: 1})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = p.ID
	}

	var attempts atomic.Int32
	var bothLocked sync.WaitGroup
	bothLocked.Add(2)
	lockBoth := func(first, second int64) func(tx pgx.Tx) error {
		tried := false
		return func(tx pgx.Tx) error {
			attempts.Add(1)
			if _, err := tx.Exec(ctx, `UPDATE products SET price = price WHERE id = $1`, first); err != nil {
				return err
			}
			if !tried { // only the first attempts wait for each other
				tried = true
				bothLocked.Done()
				bothLocked.Wait()
			}
			_, err := tx.Exec(ctx, `UPDATE products SET price = price WHERE id = $1`, second)
			return err
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Go(func() { errs[0] = s.write(ctx, lockBoth(ids[0], ids[1])) })
	wg.Go(func() { errs[1] = s.write(ctx, lockBoth(ids[1], ids[0])) })
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("transaction %d: %v, want success after a retry", i+1, err)
		}
	}
	// Three attempts: one transaction ran again after the deadlock. On a starved
	// machine the retry can meet the deadlock detector once more, so four is fine;
	// fewer than three means no retry happened.
	if n := attempts.Load(); n < 3 || n > 4 {
		t.Errorf("%d attempts, want 3 (or 4): one transaction run again after the deadlock", n)
	}
}

// openInSchema opens a store in a new schema of its own, dropped when the test ends.
// (The black-box tests have fuller helpers; these are what this file needs.)
func openInSchema(t *testing.T, dsn string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "storify_test_" + hex.EncodeToString(b[:])
	schema := pgx.Identifier{name}.Sanitize()
	exec := func(ctx context.Context, sql string) error {
		cfg, err := pgxpool.ParseConfig(dsn) // pool_* settings are not for the server
		if err != nil {
			return err
		}
		c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
		if err != nil {
			return err
		}
		defer c.Close(ctx)
		_, err = c.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})

	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		dsn = u.String()
	} else {
		dsn += " search_path=" + name
	}
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
