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
	"time"
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
	// Flags are the options the command takes, such as "--free", typed anywhere
	// after its name (not quoted); a flag given is an argument with value "yes".
	Flags []string
	index int // in its table's commands, for its metrics
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
	Greedy   bool   // a name: may take several unquoted words (first argument only; see bind)
	Kind     ArgKind
	// Valid, if set, checks the form of a value (a quantity, a price) before the
	// command asks for what is missing or runs, so that a mistake is caught first.
	Valid func(string) error
}

// ArgKind says what an argument names, for completion and for checking it early.
type ArgKind int

// The kinds of argument.
const (
	KindText    ArgKind = iota // free text, or a value the handler parses
	KindProduct                // an existing product, by number or name
	KindCommand                // a command of the same table
	KindStatus                 // an order status
	KindAccount                // a customer account's name
)

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
	for _, f := range c.Flags {
		b.WriteString(" [" + f + "]")
	}
	return b.String()
}

// errQuit is returned by a handler to end the session.
var errQuit = errors.New("quit")

// errNotDone is returned by a handler when the user answered no to its question:
// nothing was done, and nothing failed.
var errNotDone = errors.New("not done")

// Table is a command table with its index by name and alias. It is built once and
// shared by every session of its kind: a session's lookups touch the same few
// cache lines as everyone else's, and a session costs no table of its own.
type Table[T any] struct {
	commands []*Command[T]          // in help order; help itself last
	byName   map[string]*Command[T] // by name and alias
	names    []string               // the keys of byName, sorted
	help     *Command[T]
	recs     atomicRecorders // the commands' recorders for the metrics last used
}

// NewTable returns a table of commands, with help added.
func NewTable[T any](commands []*Command[T]) *Table[T] {
	t := &Table[T]{help: &Command[T]{
		Name: "help", Aliases: []string{"?"},
		Args: []Arg{{Name: "COMMAND", Optional: true, Kind: KindCommand}},
		Help: "list the commands, or explain one",
	}}
	t.commands = append(slices.Clip(commands), t.help)
	t.byName = make(map[string]*Command[T], 2*len(t.commands))
	for i, c := range t.commands {
		c.index = i
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

	// recs, if set, record each command by its index in table (setMetrics), and
	// run notes the command being run for them.
	recs    []storify.CommandRecorder
	metrics storify.CommandMetrics // nil when nothing is reported
	run     commandRun

	// lookup, if set, finds the product a KindProduct argument names, so that a
	// command naming none fails before it asks for anything more.
	lookup func(ctx context.Context, name string) error
	// names, if set, lists the products or accounts there are, for completion.
	names func(ctx context.Context, kind ArgKind) []string

	// A script is input nobody types at: a missing argument is an error, not a
	// question (the next line would be taken as its answer), and errors go to
	// errw with the line they came from.
	scripted bool
	errw     io.Writer
	failFast bool   // stop at the first failed command
	lineNo   int    // lines read so far
	line     string // the command line being run, for error messages
	failures int    // commands that failed
	// pages is the last list shown, for next, prev and page N.
	pages pager
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
	for ctx.Err() == nil && !(sh.failFast && sh.failures > 0) {
		line, err := sh.term.ReadLine(sh.prompt)
		sh.lineNo++
		switch {
		case errors.Is(err, ErrInterrupt):
			sh.printf("\n")
			continue
		case errors.Is(err, ErrLineTooLong):
			sh.line = ""
			sh.failf("That line is too long; nothing was done.")
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
	if sh.recs != nil {
		sh.run = commandRun{rec: sh.recs[len(sh.recs)-1], began: time.Now()}
	}
	err := sh.exec(ctx, line)
	sh.record()
	if sh.published != nil {
		sh.published()
	}
	return err
}

func (sh *Shell[T]) exec(ctx context.Context, line string) error {
	sh.line = line
	words, err := tokenize(line)
	if err != nil {
		sh.failf("%s.", capitalize(strings.ToValidUTF8(err.Error(), "\uFFFD")))
		return nil
	}
	more := sh.pages.more
	sh.pages.more = false // Enter shows the next page only right after a page
	if len(words) == 0 {
		sh.run.rec = nil // an empty line (or a page turned) is no command to report
		if more {
			if err := sh.turnPage(ctx, true); err != nil {
				sh.fail(err)
			}
		}
		return nil
	}
	name := strings.ToLower(words[0].text)
	cmd, ok := sh.table.byName[name]
	if !ok {
		sh.unknown(words[0].text)
		return nil
	}
	if sh.recs != nil {
		sh.run.rec = sh.recs[cmd.index]
	}
	words, flags := takeFlags(cmd, words[1:])
	args, err := bind(cmd, words)
	if args == nil && len(flags) > 0 {
		args = Args{}
	}
	for _, f := range flags {
		args[f] = "yes"
	}
	if err != nil {
		sh.failf("%s.", capitalize(strings.ToValidUTF8(err.Error(), "\uFFFD")))
		return nil
	}
	if cmd.Check != nil {
		if err := cmd.Check(sh.self, ctx); err != nil {
			sh.fail(err)
			return nil
		}
	}
	if err := sh.checkArgs(ctx, cmd, args, words); err != nil {
		sh.fail(err)
		return nil
	}
	for _, a := range cmd.Args {
		if _, ok := args[a.Name]; ok || a.Optional {
			continue
		}
		if sh.scripted {
			sh.failf("%s is missing; usage: %s", a.Name, cmd.Usage())
			return nil
		}
		v, err := sh.ask(a.Prompt)
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
	} else if errors.Is(err, errNotDone) {
		sh.printf("Cancelled; nothing was changed.\n")
	} else if err != nil {
		sh.fail(err)
	} else {
		sh.warned = false
	}
	return nil
}

// checkArgs checks the arguments given before anything is asked: the form of each
// value, and that a product exists. A name of several unquoted words that names no
// product, while the command still lacks an argument, is most likely a name
// followed by a mistyped value (restock Lamp five): that value's own error is
// given, with a hint to quote names with spaces.
func (sh *Shell[T]) checkArgs(ctx context.Context, cmd *Command[T], args Args, words []word) error {
	for i, a := range cmd.Args {
		v, ok := args[a.Name]
		if !ok {
			continue
		}
		if a.Valid != nil {
			if err := a.Valid(v); err != nil {
				return err
			}
		}
		if a.Kind != KindProduct || sh.lookup == nil {
			continue
		}
		err := sh.lookup(ctx, v)
		if err == nil || storify.ErrorCode(err) != storify.ENOTFOUND || !a.Greedy || i != 0 || len(words) < 2 || words[0].quoted {
			if err != nil {
				return err
			}
			continue
		}
		var next *Arg
		for j := range cmd.Args[1:] {
			if b := &cmd.Args[1+j]; !b.Optional {
				if _, given := args[b.Name]; !given {
					next = b
				}
				break
			}
		}
		last := words[len(words)-1].text
		shorter := strings.TrimSpace(strings.TrimSuffix(v, last))
		if next == nil || next.Valid == nil || sh.lookup(ctx, shorter) != nil {
			return err
		}
		if verr := next.Valid(last); verr != nil {
			return storify.Errorf(storify.EINVALID, "%s; quote product names with spaces: %s \"Blue Mug\" %s",
				strings.TrimSuffix(storify.ErrorMessage(verr), "."), cmd.Name, next.Name)
		}
		return err
	}
	return nil
}

// takeFlags takes the flags cmd declares out of words, and returns the other words
// and the flags given.
func takeFlags[T any](cmd *Command[T], words []word) ([]word, []string) {
	if len(cmd.Flags) == 0 {
		return words, nil
	}
	var rest []word
	var flags []string
	for _, w := range words {
		if !w.quoted && slices.Contains(cmd.Flags, w.text) {
			flags = append(flags, w.text)
		} else {
			rest = append(rest, w)
		}
	}
	return rest, flags
}

// confirm asks a yes-or-no question and reports whether the answer was yes. A
// script is never asked: unless the command was given flag, which says yes, it
// fails with an error naming the flag.
func (sh *Shell[T]) confirm(question, flag string, a Args) (bool, error) {
	if a.Get(flag) != "" {
		return true, nil
	}
	if sh.scripted {
		return false, storify.Errorf(storify.EINVALID, "%s Add %s to say yes in a script", strings.TrimSuffix(question, "?")+"?", flag)
	}
	v, err := sh.ask(question + " (yes/no) ")
	if errors.Is(err, ErrInterrupt) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	switch strings.ToLower(v) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// ask prompts for one value; quotes around the whole answer are removed.
func (sh *Shell[T]) ask(prompt string) (string, error) {
	v, err := sh.term.ReadLine(prompt)
	sh.answered()
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
	switch code := storify.ErrorCode(err); {
	case errors.Is(err, context.Canceled) && code != storify.EUNAVAILABLE:
		sh.run.outcome = storify.OutcomeFailed
		sh.printf("The store is closing, so that was not done.\n")
		return
	case code == storify.EUNAVAILABLE:
		sh.run.outcome = storify.OutcomeFailed
		if !sh.warned {
			sh.warned = true
			sh.logAt(slog.LevelWarn, "the database cannot be reached", err)
		}
	case code == storify.EINTERNAL:
		sh.run.outcome = storify.OutcomeFailed
		sh.logAt(slog.LevelError, "command failed", err)
	}
	sh.failf("%s", sentence(storify.ErrorMessage(err)))
}

func (sh *Shell[T]) logAt(level slog.Level, msg string, err error) {
	if sh.logID != 0 {
		sh.log.Log(context.Background(), level, msg, "session", sh.logID, "err", err)
	} else {
		sh.log.Log(context.Background(), level, msg, "err", err)
	}
}

// failf writes one line saying why a command failed, and counts the failure. In a
// script the line goes to the error output, with where it came from.
func (sh *Shell[T]) failf(format string, args ...any) {
	sh.failures++
	sh.refused()
	msg := fmt.Sprintf(format, args...)
	if sh.scripted {
		fmt.Fprintf(sh.errw, "line %d: %s: %s\n", sh.lineNo, safe(strings.TrimSpace(sh.line), 60), msg)
		return
	}
	sh.printf("%s\n", msg)
}

// Failures is the number of commands that have failed so far.
func (sh *Shell[T]) Failures() int { return sh.failures }

func (sh *Shell[T]) printf(format string, args ...any) { fmt.Fprintf(sh.term, format, args...) }

func (sh *Shell[T]) unknown(word string) {
	word = safe(word, 30)
	if s := sh.suggest(strings.ToLower(word)); s != "" {
		sh.failf("Unknown command %q. Did you mean %s? Type help to list commands.", word, s)
		return
	}
	sh.failf("Unknown command %q. Type help to list commands.", word)
}

// suggest returns the command closest to word: one it is a prefix of, or one within
// two edits.
func (sh *Shell[T]) suggest(word string) string {
	if looksNumeric(word) {
		return "" // a number is an argument typed alone, not a misspelt command
	}
	best, bestD := "", 3
	for _, n := range sh.table.names {
		if len(word) >= 2 && strings.HasPrefix(n, word) {
			return sh.table.byName[n].Name
		}
		if d := storify.EditDistance(word, n); d < bestD {
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

// Names returns the command names and aliases, sorted (for tab completion).
func (sh *Shell[T]) Names() []string { return slices.Clone(sh.table.names) }

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
