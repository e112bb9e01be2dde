package shell

import (
	"fmt"
	"slices"
	"strings"
)

// tokenize splits a command line into words. A word that starts with a double or
// single quote runs to the matching quote, so names with spaces can be typed
// ("Blue Mug"); a quote inside a word is an ordinary character (Bob's).
func tokenize(line string) ([]string, error) {
	var words []string
	i := 0
	for {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			return words, nil
		}
		if q := line[i]; q == '"' || q == '\'' {
			end := strings.IndexByte(line[i+1:], q)
			if end < 0 {
				return nil, fmt.Errorf("missing closing %c quote", q)
			}
			words = append(words, line[i+1:i+1+end])
			i += end + 2
			continue
		}
		start := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		words = append(words, line[start:i])
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' }

// looksNumeric reports whether a word is meant as a number (a quantity, price or
// id), right or wrong: "2", "-5", "12.50", "$3", "#7", "1e3". Such trailing words are
// not taken as part of a product name, so a bad number gets a clear error.
func looksNumeric(w string) bool {
	w = strings.TrimLeft(w, "+-$#")
	return w != "" && (w[0] >= '0' && w[0] <= '9' || w[0] == '.')
}

// bind assigns words to a command's arguments. A Rest argument takes the remaining
// words; a Greedy first argument (a product name) takes every word except the
// trailing numeric ones that fill the arguments after it, so `add Blue Mug 2` works
// without quotes. Missing arguments are left out of the map.
func bind[T any](cmd *Command[T], words []string) (map[string]string, error) {
	args := cmd.Args
	if len(words) == 0 && !slices.ContainsFunc(args, func(a Arg) bool { return !a.Optional }) {
		return nil, nil // the common case (list, cart): no map to make
	}
	vals := make(map[string]string, len(args))
	if len(args) > 0 && args[0].Greedy && len(words) > 0 {
		after := args[1:]
		k := 0
		for k < len(after) && k < len(words)-1 && looksNumeric(words[len(words)-1-k]) {
			k++
		}
		vals[args[0].Name] = strings.Join(words[:len(words)-k], " ")
		for i, w := range words[len(words)-k:] {
			vals[after[i].Name] = w
		}
		return vals, nil
	}
	for i, a := range args {
		if i >= len(words) {
			break
		}
		if a.Rest {
			vals[a.Name] = strings.Join(words[i:], " ")
			return vals, nil
		}
		vals[a.Name] = words[i]
	}
	if len(words) > len(args) {
		return nil, fmt.Errorf("too many words; usage: %s (quote names with spaces)", cmd.Usage())
	}
	return vals, nil
}
