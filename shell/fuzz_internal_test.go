package shell

import (
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
	var commands []*Command
	commands = append(commands, (&Customer{}).commands()...)
	commands = append(commands, (&Manager{}).commands()...)
	f.Fuzz(func(t *testing.T, line string) {
		words, err := tokenize(line)
		if err != nil {
			return
		}
		for _, cmd := range commands {
			vals, err := bind(cmd, words)
			if err != nil {
				continue
			}
			for name := range vals {
				found := false
				for _, a := range cmd.Args {
					found = found || a.Name == name
				}
				if !found {
					t.Fatalf("%s: bound unknown argument %s from %q", cmd.Name, name, line)
				}
			}
			if cmd.Args == nil && len(vals) > 0 {
				t.Fatalf("%s takes no arguments but bound %v", cmd.Name, vals)
			}
		}
		for _, w := range words {
			if strings.ContainsAny(w, " \t") && !strings.ContainsAny(line, `"'`) {
				t.Fatalf("word %q holds a separator (line %q)", w, line)
			}
		}
	})
}
