package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// migrations holds the schema changes, one file each, named NNNN_what.sql. A file,
// once released, is never edited: databases in the field have applied it already.
//
//go:embed migrations/*.sql
var embedded embed.FS

// migrations is the migrations directory itself, so that names are "0001_init.sql".
var migrations = mustSub(embedded, "migrations")

func mustSub(fsys fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(fsys, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// migrationLockClass is the first key of the advisory lock taken while migrating
// ("STOR"); the second is a hash of the schema, so that stores in different schemas
// of one database do not wait for each other.
const migrationLockClass int32 = 0x53544f52

// migration is one schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the *.sql files of fsys in version order. Two files with the
// same version are an error: which one ran would depend on the file name.
func loadMigrations(fsys fs.FS) ([]migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	seen := map[int]string{}
	for _, name := range names {
		prefix, _, _ := strings.Cut(path.Base(name), "_")
		v, err := strconv.Atoi(prefix)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: the name must start with a positive version number", name)
		}
		if other, ok := seen[v]; ok {
			return nil, fmt.Errorf("migrations %s and %s have the same version %d", other, name, v)
		}
		seen[v] = name
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	return ms, nil
}

// migrate applies the migrations of fsys that the schema has not applied yet, all in
// one transaction: PostgreSQL's DDL is transactional, so a failed migration leaves
// the schema exactly as it was. The transaction first takes an advisory lock that
// it holds until it ends, so that of several instances starting at once one
// migrates and the others, once it commits, find nothing left to do. It refuses a
// schema that a newer program has migrated further than it knows.
func migrate(ctx context.Context, s *Store, fsys fs.FS) error {
	ms, err := loadMigrations(fsys)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	ctx = withBudget(ctx, migrateBudget)
	return s.write(ctx, func(tx pgx.Tx) error {
		if err := setLocalTimeouts(ctx, tx, max(s.timeout, migrateBudget)); err != nil {
			return fmt.Errorf("postgres: migrate: %w", err)
		}
		return migrateTx(ctx, tx, ms)
	})
}

// migrateBudget bounds migrating, waiting for another instance's migration
// included, when it is longer than the Store's budget.
const migrateBudget = 2 * time.Minute

func migrateTx(ctx context.Context, tx pgx.Tx, ms []migration) error {
	var schema *string
	if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if schema == nil {
		return errors.New("postgres: migrate: no schema to create the tables in: search_path names no schema that exists")
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, migrationLockClass, *schema); err != nil {
		return fmt.Errorf("postgres: migrate: lock schema %s: %w", *schema, err)
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer     PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
	)`); err != nil {
		return fmt.Errorf("postgres: migrate: create schema_migrations in schema %s: %w", *schema, err)
	}

	rows, _ := tx.Query(ctx, `SELECT version FROM schema_migrations`)
	applied, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		return fmt.Errorf("postgres: migrate: read the schema version: %w", err)
	}
	done := map[int]bool{}
	newest := 0
	for _, v := range applied {
		done[v] = true
		newest = max(newest, v)
	}
	if len(ms) > 0 && newest > ms[len(ms)-1].version {
		return fmt.Errorf("postgres: migrate: schema %s has version %d, newer than this program's %d", *schema, newest, ms[len(ms)-1].version)
	}

	for _, m := range ms {
		if done[m.version] {
			continue
		}
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("postgres: migration %s: %w", m.name, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
			return fmt.Errorf("postgres: migration %s: record it: %w", m.name, err)
		}
	}
	return nil
}
