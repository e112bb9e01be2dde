package shell

import "strings"

// markdownTable renders a command table as the README shows it: each command's
// usage and aliases, and its one-line help, the very text the help command shows.
func markdownTable[T any](t *Table[T]) string {
	var b strings.Builder
	b.WriteString("| command | what it does |\n|---|---|\n")
	for _, c := range t.commands {
		b.WriteString("| `" + c.Usage() + "`")
		if len(c.Aliases) > 0 {
			b.WriteString(" (`" + strings.Join(c.Aliases, "`, `") + "`)")
		}
		b.WriteString(" | " + strings.ReplaceAll(c.Help, "|", `\|`) + " |\n")
	}
	return b.String()
}
