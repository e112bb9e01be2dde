package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func openWriter(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "s.db")+"?"+writerParams(DefaultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

func versions(t *testing.T, db *sql.DB) string {
	t.Helper()
	var v string
	if err := db.QueryRow(`SELECT coalesce(group_concat(version, ','), '') FROM (SELECT version FROM schema_migrations ORDER BY version)`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// A migration that fails leaves nothing of itself behind, and the ones before it stay
// applied; fixing it and migrating again applies only what is missing.
func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openWriter(t)
	fsys := fstest.MapFS{
		"0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)},
		"0002_b.sql": {Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO nosuchtable VALUES (1);`)},
	}
	err := migrate(ctx, db, fsys)
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate with a bad migration: %v, want an error naming 0002_b.sql", err)
	}
	if !tableExists(t, db, "a") || tableExists(t, db, "b") {
		t.Errorf("after a failed 0002: table a exists %v, b exists %v; want a only", tableExists(t, db, "a"), tableExists(t, db, "b"))
	}
	if v := versions(t, db); v != "1" {
		t.Errorf("versions after a failed 0002 = %q, want %q", v, "1")
	}

	fsys["0002_b.sql"] = &fstest.MapFile{Data: []byte(`CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (1);`)}
	fsys["0003_c.sql"] = &fstest.MapFile{Data: []byte(`INSERT INTO a VALUES (3);`)}
	if err := migrate(ctx, db, fsys); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if err := migrate(ctx, db, fsys); err != nil {
		t.Fatalf("migrate again: %v", err)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM a`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("table a has %d rows, want 2: each migration runs once", n)
	}
	if v := versions(t, db); v != "1,2,3" {
		t.Errorf("versions = %q, want %q", v, "1,2,3")
	}
}

func TestLoadMigrationsRejectsBadNames(t *testing.T) {
	for _, fsys := range []fstest.MapFS{
		{"init.sql": {Data: []byte(`SELECT 1;`)}},
		{"0000_zero.sql": {Data: []byte(`SELECT 1;`)}},
		{"0001_a.sql": {Data: []byte(`SELECT 1;`)}, "1_b.sql": {Data: []byte(`SELECT 1;`)}},
	} {
		if _, err := loadMigrations(fsys); err == nil {
			t.Errorf("loadMigrations(%v) succeeded, want an error", fsys)
		}
	}
	ms, err := loadMigrations(migrations)
	if err != nil || len(ms) == 0 || ms[0].version != 1 {
		t.Errorf("the embedded migrations: %v, %v", ms, err)
	}
}

// Every connection of each pool gets its pragmas, which is why they are in the DSN.
func TestPragmas(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(ctx, `PRAGMA `+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	for _, tt := range []struct {
		pool       string
		db         *sql.DB
		name, want string
	}{
		{"writer", s.writer, "journal_mode", "wal"},
		{"writer", s.writer, "synchronous", "2"}, // FULL
		{"writer", s.writer, "foreign_keys", "1"},
		{"writer", s.writer, "busy_timeout", "5000"},
		{"writer", s.writer, "query_only", "0"},
		{"reader", s.reader, "journal_mode", "wal"},
		{"reader", s.reader, "foreign_keys", "1"},
		{"reader", s.reader, "busy_timeout", "5000"},
		{"reader", s.reader, "query_only", "1"},
	} {
		if got := pragma(tt.db, tt.name); got != tt.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tt.pool, tt.name, got, tt.want)
		}
	}
	if _, err := s.reader.ExecContext(ctx, `UPDATE products SET stock = 0`); err == nil {
		t.Error("the reader pool accepted a write")
	}
}

// A store that held anything before migration 0020 counts as initialised, so it
// never gets the sample catalog; one that held nothing does not.
func TestMigrationMarksOldStoresInitialized(t *testing.T) {
	ctx := context.Background()
	schema, err := fs.ReadFile(migrations, "0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fill string
		want int
	}{
		{`INSERT INTO products (name, name_key, price, stock, received, created_at) VALUES ('Mug', 'mug', 100, 0, 0, 0)`, 1},
		{`INSERT INTO accounts (name, name_key, password_hash, created_at) VALUES ('Ada', 'ada', x'01', 0)`, 1},
		{``, 0},
	} {
		db := openWriter(t)
		if err := migrate(ctx, db, fstest.MapFS{"0001_init.sql": {Data: schema}}); err != nil {
			t.Fatal(err)
		}
		if tc.fill != "" {
			if _, err := db.Exec(tc.fill); err != nil {
				t.Fatal(err)
			}
		}
		if err := migrate(ctx, db, migrations); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM settings WHERE key = 'initialized'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != tc.want {
			t.Errorf("after %q and migration 0020: %d 'initialized' rows, want %d", tc.fill, n, tc.want)
		}
	}
}
