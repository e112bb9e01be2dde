package shell

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify"
)

// Command is one row of a command table; its handlers run on a session of type T
// (*Customer, *Manager), given as their first argument, so that one table serves
// every session of its kind.
type Command[T any] struct {
	Name    string
	Aliases []string
	Args    []Arg
	Help    string // one line, shown by help
	// Check, if set, runs before any argument is asked for, so that a command that
	// cannot succeed says so at once (checkout with an empty cart).
	Check func(self T, ctx context.Context) error
	Run   func(self T, ctx context.Context, a Args) error
}

// Arg is one argument of a command.
type Arg struct {
	Name     string // shown in usage, e.g. PRODUCT
	Prompt   string // asked when the argument is missing, e.g. "Product: "
	Optional bool   // never asked; the handler has a default
	Rest     bool   // takes the rest of the line (last argument only)
	Greedy   bool   // a product name: takes all but the trailing numeric words (first argument only)
}

// Args are a command's argument values by name.
type Args map[string]string

// Get returns the value of argument name, "" if it was not given.
func (a Args) Get(name string) string { return a[name] }

// Usage returns the command's usage line, e.g. "add PRODUCT [QTY]".
func (c *Command[T]) Usage() string {
	var b strings.Builder
	b.WriteString(c.Name)
	for _, a := range c.Args {
		b.WriteByte(' ')
		if a.Optional {
			b.WriteString("[" + a.Name + "]")
		} else {
			b.WriteString(a.Name)
		}
	}
	return b.String()
}

// errQuit is returned by a handler to end the session.
var errQuit = errors.New("quit")

// Table is a command table with its index by name and alias. It is built once and
// shared by every session of its kind: a session's lookups touch the same few
// cache lines as everyone else's, and a session costs no table of its own.
type Table[T any] struct {
	commands []*Command[T]          // in help order; help itself last
	byName   map[string]*Command[T] // by name and alias
	names    []string               // the keys of byName, sorted
	help     *Command[T]
}

// NewTable returns a table of commands, with help added.
func NewTable[T any](commands []*Command[T]) *Table[T] {
	t := &Table[T]{help: &Command[T]{
		Name: "help", Aliases: []string{"?"},
		Args: []Arg{{Name: "COMMAND", Optional: true}},
		Help: "list the commands, or explain one",
	}}
	t.commands = append(slices.Clip(commands), t.help)
	t.byName = make(map[string]*Command[T], 2*len(t.commands))
	for _, c := range t.commands {
		t.byName[c.Name] = c
		for _, a := range c.Aliases {
			t.byName[a] = c
		}
	}
	for n := range t.byName {
		t.names = append(t.names, n)
	}
	sort.Strings(t.names)
	return t
}

// Shell runs one command table over one Term, for one session (self), until the
// user quits or input ends.
type Shell[T any] struct {
	self   T
	table  *Table[T]
	term   Term
	prompt string
	log    *slog.Logger
	logID  int64 // logged as "session" with errors, when not 0
	// warned is set once the session has logged that the database cannot be
	// reached, so that an outage costs the log one line per session, not one per
	// command; a command that succeeds clears it.
	warned bool
	// published, if set, runs after every command, to publish what others may
	// read of the session.
	published func()
	// failed is set when the last command Exec ran failed (SSH exec reports it
	// in its exit status).
	failed bool
}

// newShell returns a shell that runs table's commands on self.
func newShell[T any](self T, table *Table[T], term Term, prompt string, log *slog.Logger) *Shell[T] {
	sh := &Shell[T]{self: self, table: table, term: term, prompt: prompt, log: log}
	if sh.log == nil {
		sh.log = slog.New(slog.DiscardHandler)
	}
	return sh
}

// Run reads and runs commands until the user quits (nil), input ends (nil), or the
// Term fails (that error). ctx is passed to every command; when it is done, Run
// returns after the command in progress.
func (sh *Shell[T]) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		line, err := sh.term.ReadLine(sh.prompt)
		switch {
		case errors.Is(err, ErrInterrupt):
			sh.printf("\n")
			continue
		case errors.Is(err, ErrLineTooLong):
			sh.printf("That line is too long; nothing was done.\n")
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return err
		}
		if err := sh.Exec(ctx, line); errors.Is(err, errQuit) {
			return nil
		} else if err != nil {
			return err
		}
	}
	return nil
}

// Exec runs one command line and writes its reply. It returns errQuit when the
// command ends the session, a Term error when input failed, and nil otherwise:
// command errors are written to the Term as one line.
func (sh *Shell[T]) Exec(ctx context.Context, line string) error {
	sh.failed = false
	err := sh.exec(ctx, line)
	if sh.published != nil {
		sh.published()
	}
	return err
}

func (sh *Shell[T]) exec(ctx context.Context, line string) error {
	words, err := tokenize(line)
	if err != nil {
		sh.failed = true
		sh.printf("%s.\n", capitalize(strings.ToValidUTF8(err.Error(), "\uFFFD")))
		return nil
	}
	if len(words) == 0 {
		return nil
	}
	name := strings.ToLower(words[0])
	cmd, ok := sh.table.byName[name]
	if !ok {
		sh.unknown(words[0])
		return nil
	}
	args, err := bind(cmd, words[1:])
	if err != nil {
		sh.failed = true
		sh.printf("%s.\n", capitalize(strings.ToValidUTF8(err.Error(), "\uFFFD")))
		return nil
	}
	if cmd.Check != nil {
		if err := cmd.Check(sh.self, ctx); err != nil {
			sh.fail(err)
			return nil
		}
	}
	for _, a := range cmd.Args {
		if _, ok := args[a.Name]; ok || a.Optional {
			continue
		}
		v, err := sh.ask(a.Prompt)
		if err != nil || v == "" {
			sh.failed = true
		}
		if errors.Is(err, ErrInterrupt) || err == nil && v == "" {
			sh.printf("Cancelled.\n")
			return nil
		} else if errors.Is(err, ErrLineTooLong) {
			sh.printf("That line is too long; cancelled.\n")
			return nil
		} else if errors.Is(err, io.EOF) {
			return errQuit // input ended while asking: nothing was done
		} else if err != nil {
			return err
		}
		args[a.Name] = v
	}
	if cmd == sh.table.help {
		err = sh.help(args)
	} else {
		err = cmd.Run(sh.self, ctx, args)
	}
	if errors.Is(err, errQuit) || errors.Is(err, io.EOF) {
		return errQuit // input ended inside the command: nothing more to do
	} else if err != nil {
		sh.fail(err)
	} else {
		sh.warned = false
	}
	return nil
}

// ask prompts for one value; quotes around the whole answer are removed.
func (sh *Shell[T]) ask(prompt string) (string, error) {
	v, err := sh.term.ReadLine(prompt)
	if errors.Is(err, ErrInterrupt) {
		sh.printf("\n") // off the line where the terminal showed ^C
	}
	if err != nil {
		return "", err
	}
	v = strings.TrimSpace(v)
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	return v, nil
}

// fail writes a command's error as one line. Internal errors are logged, and the
// user sees a generic message. A store that cannot reach its database says so in its
// own words (storify.ErrUnavailable), logged once as a warning; a command cut short
// because the store is closing is neither an error nor logged.
func (sh *Shell[T]) fail(err error) {
	sh.failed = true
	switch code := storify.ErrorCode(err); {
	case errors.Is(err, context.Canceled) && code != storify.EUNAVAILABLE:
		sh.printf("The store is closing, so that was not done.\n")
		return
	case code == storify.EUNAVAILABLE && !sh.warned:
		sh.warned = true
		sh.logAt(slog.LevelWarn, "the database cannot be reached", err)
	case code == storify.EINTERNAL:
		sh.logAt(slog.LevelError, "command failed", err)
	}
	sh.printf("%s\n", sentence(storify.ErrorMessage(err)))
}

func (sh *Shell[T]) logAt(level slog.Level, msg string, err error) {
	if sh.logID != 0 {
		sh.log.Log(context.Background(), level, msg, "session", sh.logID, "err", err)
	} else {
		sh.log.Log(context.Background(), level, msg, "err", err)
	}
}

func (sh *Shell[T]) printf(format string, args ...any) { fmt.Fprintf(sh.term, format, args...) }

func (sh *Shell[T]) unknown(word string) {
	sh.failed = true
	word = safe(word, 30)
	if s := sh.suggest(strings.ToLower(word)); s != "" {
		sh.printf("Unknown command %q. Did you mean %s? Type help to list commands.\n", word, s)
		return
	}
	sh.printf("Unknown command %q. Type help to list commands.\n", word)
}

// suggest returns the command closest to word: one it is a prefix of, or one within
// two edits.
func (sh *Shell[T]) suggest(word string) string {
	best, bestD := "", 3
	for _, n := range sh.table.names {
		if len(word) >= 2 && strings.HasPrefix(n, word) {
			return sh.table.byName[n].Name
		}
		if d := editDistance(word, n); d < bestD {
			best, bestD = sh.table.byName[n].Name, d
		}
	}
	return best
}

func (sh *Shell[T]) help(a Args) error {
	if name := a.Get("COMMAND"); name != "" {
		cmd, ok := sh.table.byName[strings.ToLower(name)]
		if !ok {
			sh.unknown(name)
			return nil
		}
		sh.printf("%s\n  %s\n", cmd.Usage(), cmd.Help)
		if len(cmd.Aliases) > 0 {
			sh.printf("  also: %s\n", strings.Join(cmd.Aliases, ", "))
		}
		return nil
	}
	width := 0
	for _, c := range sh.table.commands {
		width = max(width, len(c.Usage()))
	}
	sh.printf("Commands:\n")
	for _, c := range sh.table.commands {
		sh.printf("  %-*s  %s\n", width, c.Usage(), c.Help)
	}
	sh.printf("Type help COMMAND for one command. Quote names with spaces: \"Blue Mug\".\n")
	return nil
}

// Failed reports whether the last command Exec ran failed: it wrote an error (an
// unknown command, a bad argument, a refusal) instead of its reply, or was
// cancelled.
func (sh *Shell[T]) Failed() bool { return sh.failed }

// Names returns the command names and aliases, sorted (for tab completion).
func (sh *Shell[T]) Names() []string { return slices.Clone(sh.table.names) }

// editDistance is the optimal string alignment distance: insertions, deletions,
// substitutions and transpositions of neighbours each count one.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // a transposition is one typo
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// capitalize upper-cases the first letter of s, whole: a letter of several bytes
// is never split.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 || r == utf8.RuneError {
		return s
	}
	if u := unicode.ToUpper(r); u != r {
		return string(u) + s[n:]
	}
	return s
}

// sentence makes a message a sentence: capitalized, ending in a full stop, and
// valid UTF-8 whatever it quotes.
func sentence(s string) string {
	s = capitalize(strings.ToValidUTF8(s, "\uFFFD"))
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// safe makes user text fit to echo back: no control characters, at most n bytes.
func safe(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		for n > 0 && s[n]&0xc0 == 0x80 {
			n--
		}
		s = s[:n] + "…"
	}
	return s
}
