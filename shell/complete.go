package shell

import (
	"context"
	"strings"
)

// statusWords are what orders STATUS takes, for completion.
var statusWords = []string{"all", "cancelled", "placed", "shipped"}

// Complete returns what Tab may complete at the end of line: the text being
// completed (the part of the line it replaces) and the candidates for it, each in
// full. What is offered depends on the argument the text falls in: command names
// first and after help, statuses after orders, product names where a product goes
// (a name with spaces as typed, or in an open quote that the candidate closes).
func (sh *Shell[T]) Complete(ctx context.Context, line string) (string, []string) {
	trimmed := strings.TrimLeft(line, " \t")
	name, rest, more := strings.Cut(trimmed, " ")
	if !more {
		return name, matching(sh.table.names, name, "")
	}
	cmd, ok := sh.table.byName[strings.ToLower(name)]
	if !ok || len(cmd.Args) == 0 {
		return "", nil
	}
	rest = strings.TrimLeft(rest, " \t")
	if first := cmd.Args[0]; first.Greedy || first.Rest {
		// A name of several words: the whole rest of the line is the text, unless it
		// runs past the end of every candidate (restock Blue Mug 3).
		text, quote := rest, ""
		if strings.HasPrefix(text, `"`) {
			text, quote = text[1:], `"`
		}
		if !strings.Contains(text, `"`) {
			if c := matching(sh.candidates(ctx, first.Kind), text, quote); len(c) > 0 || !strings.ContainsAny(text, " \t") {
				return text, c
			}
		}
	}
	words := strings.Fields(rest)
	text := ""
	if !strings.HasSuffix(rest, " ") && !strings.HasSuffix(rest, "\t") && len(words) > 0 {
		text, words = words[len(words)-1], words[:len(words)-1]
	}
	if len(words) >= len(cmd.Args) {
		return "", nil
	}
	return text, matching(sh.candidates(ctx, cmd.Args[len(words)].Kind), text, "")
}

// candidates are the values an argument of kind may take, as far as they are known.
func (sh *Shell[T]) candidates(ctx context.Context, kind ArgKind) []string {
	switch kind {
	case KindCommand:
		return sh.table.names
	case KindStatus:
		return statusWords
	case KindProduct, KindAccount:
		if sh.names != nil {
			return sh.names(ctx, kind)
		}
	}
	return nil
}

// matching returns the candidates that start with prefix, compared
// case-insensitively, each followed by suffix.
func matching(candidates []string, prefix, suffix string) []string {
	var out []string
	lp := strings.ToLower(prefix)
	for _, c := range candidates {
		if len(c) >= len(prefix) && strings.ToLower(c[:len(prefix)]) == lp {
			out = append(out, c+suffix)
		}
	}
	return out
}
