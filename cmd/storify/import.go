package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/storify/storify/shell"
)

const importUsage = `storify import adds or updates products from a CSV file: a header row naming
the columns name, price, stock and optionally description and category (in any
order), then one product a row; prices like 12.50. A product whose name is in the
store already (in any case) gets the row's price, stock, description and category.
Every row is checked first: a file with a bad row imports nothing and every bad row
is listed with its line number. All rows or none.

Usage:
  storify import [flags] FILE.csv

Flags:
`

// runImport is the import subcommand.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storify import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", env("STORIFY_DB", "storify.db"), "the store: a SQLite file or a postgres:// URL (env STORIFY_DB)")
	dryRun := fs.Bool("dry-run", false, "check the file and say what would change; change nothing")
	timeout := fs.Duration("db-timeout", time.Minute, "longest the import may take in the database")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() != 1 {
		fmt.Fprintf(stderr, "storify import: name one CSV file\n")
		return errUsage
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	store, err := openStore(ctx, *db, *timeout, nil, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	// The store has been opened now: one made by import starts with what was
	// imported, never with the sample catalog added on its next start.
	if _, err := store.Initialize(ctx, nil); err != nil {
		return fmt.Errorf("initializing the store: %w", err)
	}
	_, err = shell.ImportCatalog(ctx, store, f, *dryRun, stdout)
	return err
}
