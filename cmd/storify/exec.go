package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/logging"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// errScript is the error of a script in which commands failed; each failure has
// been reported on stderr already.
type errScript struct {
	failed  int
	stopped bool // --fail-fast stopped the script
}

func (e *errScript) Error() string {
	if e.stopped {
		return "stopped at the first failed command (--fail-fast)"
	}
	if e.failed == 1 {
		return "1 command failed"
	}
	return fmt.Sprintf("%d commands failed", e.failed)
}

// parseScriptFlags adds the flags of a scripted console to fs (--fail-fast; -c for
// the console) and parses args. storify exec takes the words of its command after
// the flags; the other subcommands take no arguments.
func (m *Main) parseScriptFlags(fs *flag.FlagSet, name string, args []string) error {
	c := &m.Config
	if name != "storify serve" {
		fs.BoolVar(&c.FailFast, "fail-fast", false, "in a script (stdin not a terminal, -c, exec): stop at the first failed command")
	}
	if name == "storify" {
		fs.StringVar(&c.Commands, "c", "", "run these manager commands, one a line, against the store and exit, as exec does")
	}
	if err := parseFlags(fs, usageFor(name), args, m.Stdout, name == "storify exec"); err != nil {
		return err
	}
	if name == "storify exec" && fs.NArg() == 0 {
		fmt.Fprintf(fs.Output(), "storify exec: which command? For example: storify exec products\nRun storify exec --help for usage.\n")
		return errUsage
	}
	c.Command = fs.Args()
	return nil
}

// Exec is storify exec: it runs one manager command against the store and exits,
// without serving customers.
func (m *Main) Exec(ctx context.Context, args []string) error {
	if err := m.ParseFlags("storify exec", args); err != nil {
		return err
	}
	line := joinCommand(m.Config.Command)
	if cmd := strings.ToLower(m.Config.Command[0]); cmd == "help" || cmd == "?" {
		// The manager's help needs no store: opening one would create it.
		term := shell.NewLineTerm(strings.NewReader(line+"\n"), m.Stdout, 64<<10)
		mgr := shell.NewManager(nil, nil, term, shell.ManagerConfig{StoreName: m.Config.Name, Script: true, Errors: m.Stderr})
		err := mgr.Run(ctx)
		if ferr := term.Flush(); err == nil {
			err = ferr
		}
		if err == nil {
			err = scriptResult(mgr, false)
		}
		return err
	}
	return m.runScript(ctx, strings.NewReader(line+"\n"))
}

// joinCommand makes one command line of words the shell has split: a word with a
// space (a name the user quoted) is quoted again.
func joinCommand(words []string) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case w == "" || strings.ContainsAny(w, " \t") && !strings.Contains(w, `"`):
			b.WriteString(`"` + w + `"`)
		case strings.ContainsAny(w, " \t"):
			b.WriteString(`'` + w + `'`)
		default:
			b.WriteString(w)
		}
	}
	return b.String()
}

// runScript opens the store, runs the manager commands that r holds, one a line,
// and closes the store. No customer server runs here: on a store that several
// instances share (PostgreSQL), customers, kick and say reach the customers of
// every live instance, as a script that serves no one; on a store of one process
// (SQLite) they have no one to reach. It fails if any command failed.
func (m *Main) runScript(ctx context.Context, r io.Reader) error {
	if m.Log == nil {
		m.logs = logging.New(m.Stderr, logging.Config{Level: m.Config.LogLevel, JSON: m.Config.LogJSON, NoTime: true})
		m.Log = m.logs.Logger
	}
	defer m.closeLog()
	if err := m.openStore(ctx); err != nil {
		return err
	}
	var hub shell.Hub
	if instances, ok := m.Store.(storify.Instances); ok {
		hub = &server.Cluster{Instances: instances, Name: storify.ScriptInstance, Timeout: m.Config.DBTimeout, Log: m.Log}
	}
	term := shell.NewLineTerm(r, m.Stdout, 64<<10)
	mgr := shell.NewManager(m.Store, hub, term, shell.ManagerConfig{
		StoreName: m.Config.Name, Log: m.Log, Script: true, Errors: m.Stderr, FailFast: m.Config.FailFast,
	})
	err := mgr.Run(ctx)
	if ferr := term.Flush(); err == nil {
		err = ferr
	}
	if cerr := m.Store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("closing the store: %w", cerr)
	}
	m.Store = nil
	if err == nil {
		err = scriptResult(mgr, m.Config.FailFast)
	}
	return err
}

// scriptResult is the error of a script that mgr has run: nil if every command
// succeeded.
func scriptResult(mgr *shell.Manager, failFast bool) error {
	if n := mgr.Failures(); n > 0 {
		return &errScript{failed: n, stopped: failFast}
	}
	return nil
}
