package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"

	"github.com/ergochat/readline"
	"github.com/storify/storify"
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

// completer completes command names in the first word and product names after it.
type completer struct{ c *console }

func (cp completer) Do(line []rune, pos int) ([][]rune, int) {
	text := string(line[:pos])
	if !strings.ContainsAny(text, " \t") {
		if cp.c.mgr == nil {
			return nil, 0
		}
		return suffixes(cp.c.mgr.Names(), text), len([]rune(text))
	}
	_, arg, _ := strings.Cut(strings.TrimLeft(text, " \t"), " ")
	arg = strings.TrimLeft(arg, " \t")
	quote := ""
	if strings.HasPrefix(arg, "\"") {
		quote, arg = "\"", arg[1:]
	}
	if cp.c.m.Store == nil {
		return nil, 0
	}
	ps, err := cp.c.m.Store.Products(context.Background(), storify.ProductFilter{All: true})
	if err != nil {
		return nil, 0
	}
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		names = append(names, p.Name+quote)
	}
	return suffixes(names, arg), len([]rune(arg))
}

// suffixes returns, for each candidate that starts with prefix (case-insensitively),
// what completes it.
func suffixes(candidates []string, prefix string) [][]rune {
	var out [][]rune
	lp := strings.ToLower(prefix)
	for _, c := range candidates {
		if len(c) >= len(prefix) && strings.ToLower(c[:len(prefix)]) == lp {
			out = append(out, []rune(c[len(prefix):]))
		}
	}
	return out
}
