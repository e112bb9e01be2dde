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
	case "exec":
		err = m.Exec(ctx, rest)
	case "simulate":
		err = runSimulate(ctx, rest, os.Stdout, os.Stderr)
	case "import":
		err = runImport(ctx, rest, os.Stdout, os.Stderr)
	case "help":
		// storify help [SUBCOMMAND] is SUBCOMMAND --help: the same text on stdout.
		switch sub := append(rest, "")[0]; sub {
		case "":
			err = m.ParseFlags("storify", []string{"--help"})
		case "serve", "exec":
			err = m.ParseFlags("storify "+sub, []string{"--help"})
		case "simulate":
			err = runSimulate(ctx, []string{"--help"}, os.Stdout, os.Stderr)
		default:
			fmt.Fprintf(os.Stderr, "storify help: no subcommand %q; run storify help for the list\n", sub)
			return 2
		}
	default:
		fmt.Fprintf(os.Stderr, "storify: unknown command %q; run storify help for usage\n", cmd)
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
