package shell

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's command tables from the command tables")

// TestREADMECommandTables: the README's tables of customer and manager commands
// are the command tables as help shows them, so they cannot drift apart. Run
// go test ./shell -run TestREADMECommandTables -update to rewrite them.
func TestREADMECommandTables(t *testing.T) {
	const path = "../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, sec := range []struct{ heading, table string }{
		{"## Customer commands\n", markdownTable(customerCommands)},
		{"## Manager commands\n", markdownTable(managerCommands)},
	} {
		start := strings.Index(readme, sec.heading)
		if start < 0 {
			t.Fatalf("README has no %q", sec.heading)
		}
		i := strings.Index(readme[start:], "| command | what it does |\n")
		if i < 0 {
			t.Fatalf("README: no command table under %q", sec.heading)
		}
		i += start
		j := i + strings.Index(readme[i:], "\n\n") + 1
		if got := readme[i:j]; got != sec.table {
			if *update {
				readme = readme[:i] + sec.table + readme[j:]
				continue
			}
			t.Errorf("README's table under %q differs from the in-app help; run go test ./shell -run TestREADMECommandTables -update\nREADME:\n%s\nhelp:\n%s",
				strings.TrimSpace(sec.heading), got, sec.table)
		}
	}
	if *update {
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
