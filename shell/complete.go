package shell

import (
	"context"
	"strings"

	"github.com/storify/storify"
)

// complete returns the candidates for before, the text left of the cursor: in the
// first word, the command names and aliases of the table; after it, the names of
// the products (discontinued ones too if all is set), quoted when they hold a
// space or the word was begun with a quote. Each candidate is the whole text with
// its last word completed, so a line editor can put it in place as it is.
func complete[T any](ctx context.Context, table *Table[T], store storify.Store, all bool, before string) []string {
	trimmed := strings.TrimLeft(before, " ")
	lead := before[:len(before)-len(trimmed)]
	cmd, arg, found := strings.Cut(trimmed, " ")
	if !found {
		var out []string
		for _, n := range table.names {
			if hasPrefixFold(n, cmd) {
				out = append(out, lead+n+" ")
			}
		}
		return out
	}
	if _, ok := table.byName[strings.ToLower(cmd)]; !ok || store == nil {
		return nil
	}
	head := before[:len(before)-len(strings.TrimLeft(arg, " "))]
	arg = strings.TrimLeft(arg, " ")
	quoted := strings.HasPrefix(arg, "\"")
	word := strings.TrimPrefix(arg, "\"")
	ps, err := store.Products(ctx, storify.ProductFilter{All: all})
	if err != nil {
		return nil
	}
	var out []string
	for _, p := range ps {
		if !hasPrefixFold(p.Name, word) {
			continue
		}
		if quoted || strings.Contains(p.Name, " ") {
			out = append(out, head+"\""+p.Name+"\" ")
		} else {
			out = append(out, head+p.Name+" ")
		}
	}
	return out
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// Complete returns the completions of before, the text left of a customer's
// cursor: command names, then product names in the catalog.
func (c *Customer) Complete(before string) []string {
	return complete(context.Background(), customerCommands, c.store, false, before)
}

// Complete returns the completions of before, the text left of the manager's
// cursor: command names, then product names, discontinued ones too.
func (m *Manager) Complete(before string) []string {
	return complete(context.Background(), managerCommands, m.store, true, before)
}
