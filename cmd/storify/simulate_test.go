package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSimulate runs the simulate subcommand against storify in-process, and has it
// verify the store afterwards. Meanwhile the manager talks to the customers and ships
// their orders: the notices that come with the replies are no errors.
func TestSimulate(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sim.db")
	p := startProgram(t, db)
	p.manager("addproduct Pencil 0.80 1000")
	var stdout, stderr bytes.Buffer
	done := make(chan error, 1)
	go func() {
		done <- runSimulate(context.Background(), []string{
			"--addr", p.m.Addr().String(), "--customers", "5", "--duration", "1500ms", "--seed", "7", "--db", db,
		}, &stdout, &stderr)
	}()
	for i := 1; i <= 3; i++ {
		time.Sleep(300 * time.Millisecond)
		if reply := p.manager("say Pencils are on sale"); !strings.Contains(reply, "Sent to 5 customers") {
			t.Errorf("say: %q", reply)
		}
		p.manager(fmt.Sprintf("ship %d", i))
	}
	if err := <-done; err != nil {
		t.Fatalf("simulate: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"Simulated 5 customers on " + p.m.Addr().String(), "seed 7.", "checkouts", "p50", "checkout ", "Verified " + db} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in the output:\n%s", want, out)
		}
	}
	if stderr.Len() > 0 {
		t.Errorf("stderr: %s", stderr.String())
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "commands/s ") {
		t.Errorf("a progress line on stdout that is not a terminal:\n%q", out)
	}
}

func TestSimulateFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // in the error or on stderr
	}{
		{[]string{"--addr", "192.0.2.1:65432"}, "not a loopback address"},
		{[]string{"--addr", "nonsense"}, "missing port"},
		{[]string{"--customers"}, "flag needs an argument"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--addr", "127.0.0.1:1", "--db", filepath.Join(t.TempDir(), "none.db")}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		err := runSimulate(context.Background(), c.args, &stdout, &stderr)
		if err == nil {
			t.Errorf("%q: no error", c.args)
			continue
		}
		if !strings.Contains(err.Error()+stderr.String(), c.want) {
			t.Errorf("%q: %v\n%s, want %q", c.args, err, stderr.String(), c.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("%q: printed %q", c.args, stdout.String())
		}
	}
	if got, err := simulationTarget(context.Background(), ":65432", false); err != nil || got != "127.0.0.1:65432" {
		t.Errorf(":65432 → %q, %v", got, err)
	}
	if got, err := simulationTarget(context.Background(), "[::]:65432", false); err != nil || got != "[::1]:65432" {
		t.Errorf("[::]:65432 → %q, %v", got, err)
	}
	if got, err := simulationTarget(context.Background(), "192.0.2.1:65432", true); err != nil || got != "192.0.2.1:65432" {
		t.Errorf("--allow-remote: %q, %v", got, err)
	}
	if err := runSimulate(context.Background(), []string{"-h"}, &bytes.Buffer{}, &bytes.Buffer{}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestSimulateRefusesToStart: simulate says at once that nothing listens, or that
// the store has nothing to sell, and prints no table.
func TestSimulateRefusesToStart(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "empty.db"), "--no-sample")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	nothing := l.Addr().String()
	l.Close()
	for addr, want := range map[string]string{
		nothing:             "simulate: no store answers at " + nothing,
		p.m.Addr().String(): "simulate: the store has nothing for sale at " + p.m.Addr().String() + ": add products first",
	} {
		var stdout, stderr bytes.Buffer
		err := runSimulate(context.Background(), []string{"--addr", addr, "--duration", "1h"}, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error(), want) || stdout.Len() > 0 {
			t.Errorf("simulate --addr %s: %v, stdout %q; want %q and no table", addr, err, stdout.String(), want)
		}
	}
}
