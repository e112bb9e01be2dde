package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"unicode/utf8"

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
	c.mgr = shell.NewManager(c.m.Store, c.m.Server, c.term, shell.ManagerConfig{StoreName: c.m.Config.Name, Log: c.m.Log, HostKey: c.m.hostKey})
	done := make(chan error, 1)
	go func() { done <- c.mgr.Run(ctx) }()
	select {
	case err := <-done:
		if lt, ok := c.term.(*shell.LineTerm); ok {
			lt.Flush()
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

func (t *readlineTerm) ReadLine(prompt string) (string, error) {
	if t.buf.Len() > 0 {
		t.rl.Write(t.buf.Bytes())
		t.buf.Reset()
	}
	t.rl.SetPrompt(prompt)
	line, err := t.rl.ReadLine()
	if errors.Is(err, readline.ErrInterrupt) {
		return "", shell.ErrInterrupt
	}
	return line, err
}

// completer completes command names in the first word and product names after
// it, with the manager's own completion (shell.Manager.Complete), the one an SSH
// manager's line editor uses too.
type completer struct{ c *console }

func (cp completer) Do(line []rune, pos int) ([][]rune, int) {
	if cp.c.mgr == nil {
		return nil, 0
	}
	text := string(line[:pos])
	cands := cp.c.mgr.Complete(text)
	if len(cands) == 0 {
		return nil, 0
	}
	// Each candidate is the whole text completed; readline wants what replaces
	// the end of the text that differs from it (the word, perhaps with a quote
	// put in front of it).
	keep := len(text)
	for _, c := range cands {
		keep = min(keep, sharedPrefix(text, c))
	}
	out := make([][]rune, len(cands))
	for i, c := range cands {
		out[i] = []rune(c[keep:])
	}
	return out, len([]rune(text[keep:]))
}

// sharedPrefix is the length in bytes of the longest common prefix of a and b
// that ends on a rune boundary.
func sharedPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	for n > 0 && n < len(a) && !utf8.RuneStart(a[n]) {
		n--
	}
	return n
}
