package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
	"github.com/storify/storify/storetest"
)

// dsnEnv names the environment variable that holds the DSN of a database the tests
// may create and drop schemas in, e.g.
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const dsnEnv = "STORIFY_TEST_POSTGRES"

// testDSN returns the test database's DSN, or skips the test when there is none:
// the PostgreSQL tests need a server, which not every machine has.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(dsnEnv)
	if dsn == "" {
		tb.Skip(dsnEnv + " is not set; skipping the PostgreSQL tests")
	}
	return dsn
}

// testSchema is an empty schema of its own in the test database, so that every test
// gets a fresh, empty store without a database of its own.
type testSchema struct {
	name string // schema name, also the application_name of its connections
	dsn  string // the test DSN with search_path (and application_name) set to it
}

// newSchema creates a uniquely named schema and drops it, with everything in it,
// when the test ends. Its connections are tagged with the schema's name as their
// application_name, so that a test can find (and kill) exactly its own store's
// backends among those of other tests and users of the database.
func newSchema(tb testing.TB) testSchema {
	tb.Helper()
	base := testDSN(tb)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		tb.Fatal(err)
	}
	sc := testSchema{name: "storify_test_" + hex.EncodeToString(b[:])}
	sc.dsn = withParams(tb, base, map[string]string{"search_path": sc.name, "application_name": sc.name})

	admin := adminConn(tb)
	if _, err := admin.Exec(context.Background(), `CREATE SCHEMA `+sc.ident()); err != nil {
		tb.Fatalf("create schema %s: %v", sc.name, err)
	}
	// Registered before the store's cleanup, so it runs after the store is closed.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := connect(ctx, base)
		if err != nil {
			tb.Errorf("drop schema %s: %v", sc.name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, `DROP SCHEMA `+sc.ident()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", sc.name, err)
		}
	})
	return sc
}

// ident is the schema's name quoted for SQL.
func (sc testSchema) ident() string { return pgx.Identifier{sc.name}.Sanitize() }

// withParams returns dsn with the runtime parameters params added; pgx passes
// parameters it does not know itself to the server on connecting.
func withParams(tb testing.TB, dsn string, params map[string]string) string {
	tb.Helper()
	if strings.Contains(dsn, "://") {
		u, err := url.Parse(dsn)
		if err != nil {
			tb.Fatalf("%s: %v", dsnEnv, err)
		}
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	for k, v := range params { // keyword=value form
		dsn += fmt.Sprintf(" %s=%s", k, v)
	}
	return dsn
}

// adminConn is a connection to the test database outside any store, to look behind
// a store's back. It is closed when the test ends.
func adminConn(tb testing.TB) *pgx.Conn {
	tb.Helper()
	c, err := connect(context.Background(), testDSN(tb))
	if err != nil {
		tb.Fatalf("connect to %s: %v", dsnEnv, err)
	}
	tb.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// slowFlush returns dsn with every flush of the WAL that its sessions make lasting d
// longer (commit_delay, at most 100 ms), as on a slower disk, or skips tb if the test
// database's user may not set it (only a superuser may).
func slowFlush(tb testing.TB, dsn string, d time.Duration) string {
	tb.Helper()
	var super string
	if err := adminConn(tb).QueryRow(context.Background(), `SHOW is_superuser`).Scan(&super); err != nil {
		tb.Fatal(err)
	}
	if super != "on" {
		tb.Skipf("a slow flush (commit_delay) needs a superuser, and %s's user is not one", dsnEnv)
	}
	return withParams(tb, dsn, map[string]string{"commit_delay": strconv.FormatInt(d.Microseconds(), 10), "commit_siblings": "0"})
}

// connect opens one connection on dsn, which may hold pgxpool's settings
// (pool_max_conns…): pgx.Connect would send those to the server and be refused.
func connect(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgx.ConnectConfig(ctx, cfg.ConnConfig)
}

// mustOpen opens a store on dsn and closes it when the test ends.
func mustOpen(tb testing.TB, dsn string) *postgres.Store {
	tb.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	testDSN(t)
	storetest.Run(t, func(t *testing.T) storify.Store {
		return mustOpen(t, newSchema(t).dsn)
	})
}

// Instances starting together on a new schema migrate it once: each migration is
// recorded once, and no Open fails on tables another one created.
func TestMigrateOnceWhenOpensRace(t *testing.T) {
	sc := newSchema(t)
	const opens = 4
	stores := make([]*postgres.Store, opens)
	errs := make([]error, opens)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range opens {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(context.Background(), sc.dsn)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d of %d at once: %v", i+1, opens, err)
			continue
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	before := migrationRows(t, sc)
	if len(before) == 0 || before[0].version != 1 {
		t.Fatalf("schema_migrations = %+v, want version 1 first", before)
	}
	for _, m := range before {
		if m.count != 1 {
			t.Errorf("migration %d recorded %d times, want once", m.version, m.count)
		}
	}

	// Every store works on the one schema, and a later Open changes nothing.
	for i, s := range stores {
		if s == nil {
			continue
		}
		if _, err := s.AddProduct(context.Background(), storify.NewProduct{Name: fmt.Sprintf("Mug %c", 'A'+i), Price: 100, Stock: 1}); err != nil {
			t.Errorf("store %d: AddProduct: %v", i+1, err)
		}
	}
	mustOpen(t, sc.dsn)
	if after := migrationRows(t, sc); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("schema_migrations after another Open = %+v, want %+v", after, before)
	}
}

type migrationRow struct {
	version   int
	count     int
	appliedAt time.Time
}

// migrationRows reads a schema's schema_migrations, one row per version.
func migrationRows(t *testing.T, sc testSchema) []migrationRow {
	t.Helper()
	rows, _ := adminConn(t).Query(context.Background(),
		`SELECT version, count(*), min(applied_at) FROM `+sc.ident()+`.schema_migrations GROUP BY version ORDER BY version`)
	ms, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (migrationRow, error) {
		var m migrationRow
		err := row.Scan(&m.version, &m.count, &m.appliedAt)
		return m, err
	})
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return ms
}

// A schema migrated by a newer program is refused rather than used half understood.
func TestOpenRefusesNewerSchema(t *testing.T) {
	sc := newSchema(t)
	mustOpen(t, sc.dsn)
	if _, err := adminConn(t).Exec(context.Background(),
		`INSERT INTO `+sc.ident()+`.schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(context.Background(), sc.dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open of a schema at version 9999 succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "9999") {
		t.Errorf("Open of a schema at version 9999: %v, want an error naming the version", err)
	}
}

// A search_path that names no existing schema gets an error that says so, not a
// store whose every call fails.
func TestOpenWithoutSchema(t *testing.T) {
	dsn := withParams(t, testDSN(t), map[string]string{"search_path": "storify_test_no_such_schema"})
	s, err := postgres.Open(context.Background(), dsn)
	if err == nil {
		s.Close()
		t.Fatal("Open with a search_path of no schema succeeded, want an error")
	}
	if !strings.Contains(err.Error(), "search_path") {
		t.Errorf("Open with a search_path of no schema: %v, want an error naming search_path", err)
	}
}

// A server that cannot be reached gives Open an error soon, not a hang.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	// Port 1 on the loopback interface refuses at once on any ordinary machine.
	s, err := postgres.Open(ctx, "postgres://storify@127.0.0.1:1/storify?sslmode=disable&connect_timeout=5")
	if err == nil {
		s.Close()
		t.Fatal("Open of an unreachable server succeeded")
	}
	if ctx.Err() != nil {
		t.Errorf("Open of an unreachable server took until the test's deadline: %v", err)
	}
	t.Logf("Open of an unreachable server failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// An instance that starts while another migrates the schema waits for it, however
// much longer than one call's budget that takes, and then uses the schema; the
// database answering is still checked within the budget (TestOpenWhilePausedFailsWithinBudget).
func TestOpenWaitsForAnotherInstancesMigration(t *testing.T) {
	sc := newSchema(t)
	mustOpen(t, sc.dsn) // the tables exist: the other instance's migration is what holds them up
	admin := adminConn(t)
	tx, err := admin.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The migration's lock, held as a migrating instance holds it.
	if _, err := tx.Exec(context.Background(), `SELECT pg_advisory_xact_lock($1, hashtext($2))`, int32(0x53544f52), sc.name); err != nil {
		t.Fatal(err)
	}
	const budget = 200 * time.Millisecond
	held := 4 * budget
	released := make(chan struct{})
	time.AfterFunc(held, func() {
		tx.Rollback(context.Background())
		close(released)
	})
	defer func() { <-released }() // admin is closed when the test ends
	start := time.Now()
	s, err := postgres.Open(context.Background(), sc.dsn, postgres.Options{Timeout: budget})
	if err != nil {
		t.Fatalf("Open with a %v budget while another instance migrates for %v: %v", budget, held, err)
	}
	defer s.Close()
	if took := time.Since(start); took < held {
		t.Errorf("Open returned after %v, before the other instance's migration ended (%v)", took, held)
	}
	if _, err := s.AddProduct(context.Background(), storify.NewProduct{Name: "Mug", Price: 100, Stock: 1}); err != nil {
		t.Errorf("AddProduct after waiting: %v", err)
	}
}

// An import of a large file is one transaction that may take far longer than the
// budget of one call: it gets storify.ImportBudget, and its statements do too.
func TestImportOutlastsTheCallBudget(t *testing.T) {
	sc := newSchema(t)
	s, err := postgres.Open(context.Background(), sc.dsn, postgres.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows := make([]storify.ProductRow, 50_000)
	for i := range rows {
		rows[i] = storify.ProductRow{Line: i + 2, Name: fmt.Sprintf("Product %06d", i+1), Price: 100, Stock: 5}
	}
	start := time.Now()
	res, err := s.ImportProducts(context.Background(), rows, false)
	if err != nil {
		t.Fatalf("import of %d rows with a 200 ms call budget, after %v: %v", len(rows), time.Since(start), err)
	}
	t.Logf("imported %+v in %v", res, time.Since(start))
	for i := range rows {
		rows[i].Stock = 7 // the second import updates every row, one batch of UPDATEs
	}
	if res, err = s.ImportProducts(context.Background(), rows, false); err != nil || res.Updated != len(rows) {
		t.Fatalf("second import: %+v, %v", res, err)
	}
}

// Checkouts right after a large import, on the connections that placed checkouts
// before it, do not read the whole catalog. PostgreSQL keeps a plan for each of a
// connection's prepared statements, made for the tables as they were: with 20
// products, a scan of the table is the cheapest way to find one, and it stayed the
// plan after an import of 100,000 (a full scan in each of the 50 checkouts below,
// before the import analyzed the table) until autovacuum got to it.
func TestCheckoutsAfterALargeImportDoNotScanTheCatalog(t *testing.T) {
	ctx := context.Background()
	sc := newSchema(t)
	s, err := postgres.Open(ctx, sc.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mug, err := s.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 100, Stock: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 19 {
		if _, err := s.AddProduct(ctx, storify.NewProduct{Name: fmt.Sprintf("Mug %d", i), Price: 100, Stock: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	buy := func() {
		t.Helper()
		if _, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 20 { // past the first few runs, after which a prepared statement may keep one plan
		buy()
	}
	const n = 100_000
	rows := make([]storify.ProductRow, n)
	for i := range rows {
		rows[i] = storify.ProductRow{Line: i + 2, Name: fmt.Sprintf("Item %06d", i), Price: 100, Stock: 10}
	}
	if _, err := s.ImportProducts(ctx, rows, false); err != nil {
		t.Fatal(err)
	}
	admin := adminConn(t)
	read := func() (tuples int64) {
		t.Helper()
		if _, err := admin.Exec(ctx, `SELECT pg_stat_clear_snapshot()`); err != nil {
			t.Fatal(err)
		}
		if err := admin.QueryRow(ctx, `SELECT coalesce(seq_tup_read, 0) FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'products'`,
			sc.name).Scan(&tuples); err != nil {
			t.Fatal(err)
		}
		return tuples
	}
	before := read()
	for range 50 {
		buy()
	}
	if err := s.Close(); err != nil { // its connections end, and report what they read
		t.Fatal(err)
	}
	if got := read() - before; got >= 2*n {
		t.Errorf("50 checkouts after importing %d products read %d rows of the catalog by scanning it (%.1f scans)", n, got, float64(got)/n)
	}
}
