package shell

import (
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary command lines through the tokenizer and argument binding
// of every customer and manager command: no panic, no argument the command lacks, and
// a word never holds the whitespace that separated it from the next.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"list", `add "Blue Mug" 2`, "add blue mug 2", `add 'x`, "restock 3 10", `say "hi" there`,
		"addproduct \"Red Pen\" 1.50 10 Writes red.", "checkout Ada Lovelace", "\x1b[31mred", "add \xff\xfe 1",
		"remove 1 -5", `""`, "  \t ", strings.Repeat("a ", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words, err := tokenize(line)
		if err != nil {
			return
		}
		for _, cmd := range customerCommands.commands {
			checkBind(t, cmd, words, line)
		}
		for _, cmd := range managerCommands.commands {
			checkBind(t, cmd, words, line)
		}
		for _, w := range words {
			if strings.ContainsAny(w.text, " \t") && !strings.ContainsAny(line, `"'`) {
				t.Fatalf("word %q holds a separator (line %q)", w.text, line)
			}
		}
	})
}

// checkBind binds words to cmd's arguments and fails on a value for an argument
// the command does not have.
func checkBind[T any](t *testing.T, cmd *Command[T], words []word, line string) {
	t.Helper()
	vals, err := bind(cmd, words)
	if err != nil {
		return
	}
	for name := range vals {
		if !slices.ContainsFunc(cmd.Args, func(a Arg) bool { return a.Name == name }) {
			t.Fatalf("%s: bound unknown argument %s from %q", cmd.Name, name, line)
		}
	}
}
