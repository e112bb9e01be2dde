package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"

	"github.com/ergochat/readline"
	"github.com/storify/storify/shell"
)

// console is the manager's console: a line editor with history and completion on a
// terminal, plain line reading when stdin is a pipe or a file.
type console struct {
	m    *Main
	rl   *readline.Instance // nil when not interactive
	term shell.Term
	mgr  *shell.Manager
}

func newConsole(m *Main) *console {
	c := &console{m: m}
	interactive := isTerminal(m.Stdin)
	if m.Interactive != nil {
		interactive = *m.Interactive
	}
	if interactive {
		rl, err := readline.NewFromConfig(&readline.Config{
			Stdout:            m.Stdout,
			Stderr:            m.Stderr,
			AutoComplete:      completer{c},
			HistoryFile:       historyFile(),
			HistorySearchFold: true,
			InterruptPrompt:   "^C",
		})
		if err == nil {
			c.rl = rl
			c.term = &readlineTerm{rl: rl}
			return c
		}
	}
	c.term = shell.NewLineTerm(m.Stdin, m.Stdout, 64<<10)
	return c
}

// logOutput is where events (a customer connecting) are shown: above the line being
// typed on a terminal, on stderr otherwise.
func (c *console) logOutput() io.Writer {
	if c.rl != nil {
		return c.rl.Stdout()
	}
	return c.m.Stderr
}

// run runs manager commands until exit, end of input, or ctx's end.
func (c *console) run(ctx context.Context) error {
	cfg := shell.ManagerConfig{StoreName: c.m.Config.Name, Log: c.m.Log, Bans: c.m.bans, HostKey: c.m.hostKey}
	if c.rl == nil {
		// Nobody types at a pipe or a file: a question would take the next
		// command as its answer, and prompts would mix with the replies.
		cfg.Script, cfg.Errors, cfg.FailFast, cfg.ScriptPrompt = true, c.m.Stderr, c.m.Config.FailFast, c.m.ScriptPrompt
	}
	cfg.Metrics = c.m.commandMetrics()
	c.mgr = shell.NewManager(c.m.shopStore, c.m.Hub, c.term, cfg)
	done := make(chan error, 1)
	go func() { done <- c.mgr.Run(ctx) }()
	select {
	case err := <-done:
		switch t := c.term.(type) {
		case *shell.LineTerm:
			t.Flush()
		case *readlineTerm:
			t.flush() // the last reply (exit's goodbye) has no prompt after it
		}
		if err == nil && cfg.Script {
			err = scriptResult(c.mgr, cfg.FailFast)
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

func (c *console) close() {
	if c.rl != nil {
		c.rl.Close()
	}
}

// readlineTerm is a shell.Term on ergochat/readline.
type readlineTerm struct {
	rl  *readline.Instance
	buf bytes.Buffer
}

func (t *readlineTerm) Write(p []byte) (int, error) { return t.buf.Write(p) }

// flush shows what has been written since the last line was read.
func (t *readlineTerm) flush() {
	if t.buf.Len() > 0 {
		t.rl.Write(t.buf.Bytes())
		t.buf.Reset()
	}
}

func (t *readlineTerm) ReadLine(prompt string) (string, error) {
	t.flush()
	t.rl.SetPrompt(prompt)
	line, err := t.rl.ReadLine()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", shell.ErrInterrupt
	}
	return line, err
}

// completer completes what the manager's command table says goes where: command
// names, statuses, product names (shell.Manager.Complete).
type completer struct{ c *console }

func (cp completer) Do(line []rune, pos int) ([][]rune, int) {
	if cp.c.mgr == nil {
		return nil, 0
	}
	text, candidates := cp.c.mgr.Complete(context.Background(), string(line[:pos]))
	var out [][]rune
	for _, c := range candidates {
		out = append(out, []rune(c[len(text):]))
	}
	return out, len([]rune(text))
}

// historyFile is where the console keeps the commands typed, across restarts:
// $STORIFY_HISTORY, else ~/.storify_history; "" (no file) if STORIFY_HISTORY is
// "off" or there is no home directory. The file is made readable by its owner only,
// before the line editor opens it.
func historyFile() string {
	path := os.Getenv("STORIFY_HISTORY")
	switch path {
	case "off":
		return ""
	case "":
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		path = filepath.Join(home, ".storify_history")
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600); err == nil {
		f.Close()
	}
	return path
}
