// Command storify runs a text-terminal store: the manager's console on the terminal
// and customers over telnet. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/storify/storify"
)

// exitUnavailable is the exit status when the database could not be reached in
// time, so that a service manager can tell it from a wrong configuration (1) or
// wrong flags (2).
const exitUnavailable = 3

func main() {
	os.Exit(run(os.Args[1:]))
}

// run chooses the subcommand and returns the exit status.
func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := "", args
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, rest = args[0], args[1:]
	}
	m := NewMain()
	var err error
	switch cmd {
	case "":
		err = m.Run(ctx, rest, true)
	case "serve":
		err = m.Run(ctx, rest, false)
	case "simulate":
		err = runSimulate(ctx, rest, os.Stdout, os.Stderr)
	case "help":
		fmt.Fprint(os.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "storify: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.Is(err, storify.ErrUnavailable):
		sayBounded(os.Stderr, fmt.Sprintf("storify: %v\n", err))
		return exitUnavailable
	case err != nil:
		sayBounded(os.Stderr, fmt.Sprintf("storify: %v\n", err))
		return 1
	}
	return 0
}

// sayBounded writes s to w, waiting at most a second: a stderr that nobody reads
// must not keep the program from exiting. Only for the last words before exit, as
// the write may go on in the background.
func sayBounded(w io.Writer, s string) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.WriteString(w, s)
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
}

const usage = `storify runs a store: the manager's console here, customers over telnet (and SSH).

Usage:
  storify [flags]         open the store with the manager console on this terminal
                          (commands are read line by line when stdin is not a terminal;
                          the store closes at the end of input)
  storify serve [flags]   open the store without a console; SIGINT or SIGTERM closes it
  storify simulate [flags]
                          run scripted customers against a running store: a load test
  storify help            show this help

Customers connect with: telnet 127.0.0.1 65432
With --ssh-listen 127.0.0.1:2222 also: ssh -p 2222 127.0.0.1 (managers: manager@, see --admin-keys)

Flags:
`
