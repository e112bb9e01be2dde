package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/storify/storify/simulate"
	"golang.org/x/term"
)

const simulateUsage = `storify simulate runs scripted customers against a running store, over TCP as
telnet customers would, and prints what they saw: commands and checkouts per second,
and each command's latency and errors. With --db it then checks the orders and the
stock in the store.

Usage:
  storify simulate [flags]

Flags:
`

// runSimulate is the simulate subcommand. It returns an error if any command failed
// or the verification did.
func runSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("storify simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", env("STORIFY_LISTEN", "127.0.0.1:65432"), "the store's customer address (env STORIFY_LISTEN)")
	customers := fs.Int("customers", 50, "customers shopping at once")
	duration := fs.Duration("duration", 10*time.Second, "how long they shop")
	seed := fs.Int64("seed", 0, "seed of the customers' choices (default: from the clock; the report shows it)")
	think := fs.Duration("think", 0, "mean pause between one customer's commands; 0 for none (a load test)")
	db := fs.String("db", "", "after the run, open this store and verify its orders and stock")
	allowRemote := fs.Bool("allow-remote", false, "allow an address that is not loopback")
	if err := parseFlags(fs, simulateUsage, args, stdout, false); err != nil {
		return err
	}
	seeded := false
	fs.Visit(func(f *flag.Flag) { seeded = seeded || f.Name == "seed" })
	if !seeded {
		*seed = time.Now().UnixNano()
	}
	target, err := simulationTarget(ctx, *addr, *allowRemote)
	if err != nil {
		return err
	}
	if *db != "" && !strings.Contains(*db, "://") {
		// Opening a file that is not there would create an empty store.
		if _, err := os.Stat(*db); err != nil {
			return fmt.Errorf("--db: %w", err)
		}
	}

	cfg := simulate.Config{Addr: target, Customers: *customers, Duration: *duration, Seed: *seed, Think: *think}
	if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		cfg.Progress = stdout // a live line, rewritten in place: for a person watching
	}
	r, err := simulate.Run(ctx, cfg)
	if r != nil {
		r.WriteTable(stdout)
	}
	if r != nil && r.Interrupted {
		return fmt.Errorf("simulate: interrupted (%w); nothing verified", err)
	} else if err != nil {
		return err
	}
	if *db != "" {
		if err := verifyStore(ctx, *db, r, stdout); err != nil {
			return err
		}
	}
	if n := r.Errors(); n > 0 {
		return fmt.Errorf("simulate: %d errors", n)
	}
	return nil
}

// verifyStore opens the store the simulation ran against and checks it.
func verifyStore(ctx context.Context, db string, r *simulate.Report, stdout io.Writer) error {
	store, err := openStore(ctx, db, defaultDBTimeout, nil, nil)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := simulate.Verify(ctx, store, r); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nVerified %s: %d orders as confirmed, stock adds up for every product.\n", db, len(r.Orders))
	return nil
}

// simulationTarget checks the address to load: loopback only, unless allowRemote.
// An address without a host, or with an unspecified one (":65432", "0.0.0.0:65432",
// as --listen takes them), means this machine's loopback.
func simulationTarget(ctx context.Context, addr string, allowRemote bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		loopback := "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			loopback = "::1"
		}
		return net.JoinHostPort(loopback, port), nil
	}
	if allowRemote {
		return addr, nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return "", fmt.Errorf("--addr %q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return "", fmt.Errorf("--addr %q is not a loopback address; simulate loads only this machine unless --allow-remote is given", addr)
		}
	}
	return addr, nil
}
