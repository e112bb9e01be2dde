package shell

import (
	"fmt"
	"slices"
	"strings"
)

// word is one word of a command line, and whether it was quoted: a quoted word is
// taken as it is, never split or joined with its neighbours.
type word struct {
	text   string
	quoted bool
}

// tokenize splits a command line into words. A word that starts with a double or
// single quote runs to the matching quote, so names with spaces can be typed
// ("Blue Mug"); a quote inside a word is an ordinary character (Bob's).
func tokenize(line string) ([]word, error) {
	var words []word
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
			words = append(words, word{line[i+1 : i+1+end], true})
			i += end + 2
			continue
		}
		start := i
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		words = append(words, word{text: line[start:i]})
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

// numeric reports whether every word of ws is unquoted and looks numeric.
func numeric(ws []word) bool {
	for _, w := range ws {
		if w.quoted || !looksNumeric(w.text) {
			return false
		}
	}
	return true
}

func join(ws []word) string {
	s := make([]string, len(ws))
	for i, w := range ws {
		s[i] = w.text
	}
	return strings.Join(s, " ")
}

// bind assigns words to a command's arguments. A Rest argument takes the remaining
// words. A Greedy first argument (a name) may take several unquoted words, so that
// `add Blue Mug 2` works without quotes: it takes every word except the trailing
// numeric ones that fill the arguments after it, or, when a Rest argument follows
// (addproduct NAME PRICE STOCK DESCRIPTION), the words before the one place where
// numbers fill the arguments in between (or, failing that, before the first
// number). When the words can be read in more than
// one way, bind refuses them and says how to quote the name. Missing arguments are
// left out of the map.
func bind[T any](cmd *Command[T], words []word) (map[string]string, error) {
	args := cmd.Args
	if len(words) == 0 && !slices.ContainsFunc(args, func(a Arg) bool { return !a.Optional }) {
		return nil, nil // the common case (list, cart): no map to make
	}
	vals := make(map[string]string, len(args))
	if len(args) > 0 && args[0].Greedy && len(words) > 0 && !words[0].quoted {
		k, err := greedyWords(cmd, words)
		if err != nil {
			return nil, err
		}
		vals[args[0].Name] = join(words[:k])
		args, words = args[1:], words[k:]
	}
	for i, a := range args {
		if i >= len(words) {
			break
		}
		if a.Rest {
			vals[a.Name] = join(words[i:])
			return vals, nil
		}
		vals[a.Name] = words[i].text
	}
	if len(words) > len(args) {
		return nil, fmt.Errorf("too many words; usage: %s (quote names with spaces)", cmd.Usage())
	}
	return vals, nil
}

// greedyWords returns how many of words the Greedy first argument of cmd takes.
func greedyWords[T any](cmd *Command[T], words []word) (int, error) {
	after := cmd.Args[1:]
	fixed := len(after)
	if fixed > 0 && after[fixed-1].Rest {
		fixed--
	}
	if fixed < len(after) && fixed > 0 {
		// Numbers, then free text: the name ends where the numbers begin.
		var splits []int
		for k := 1; k+fixed <= len(words); k++ {
			if numeric(words[k : k+fixed]) {
				splits = append(splits, k)
			}
		}
		switch len(splits) {
		case 1:
			return splits[0], nil
		case 0:
			// Not all numbers: the name ends at the first, and the argument
			// that does not fit says why (addproduct Lamp 1 ten).
			for k := 1; k < len(words); k++ {
				if numeric(words[k : k+1]) {
					return k, nil
				}
			}
			return len(words), nil
		default:
			return 0, ambiguous(cmd, words, splits)
		}
	}
	k := 0
	for k < fixed && k < len(words)-1 && numeric(words[len(words)-1-k:len(words)-k]) {
		k++
	}
	return len(words) - k, nil
}

// ambiguous is the error for words that fill cmd's arguments in more than one
// way: the name could end at each of splits.
func ambiguous[T any](cmd *Command[T], words []word, splits []int) error {
	var readings []string
	for _, k := range splits[:2] {
		readings = append(readings, fmt.Sprintf("%s %q %s", cmd.Name, join(words[:k]), join(words[k:])))
	}
	return fmt.Errorf("is the name %q or %q? Quote it to say which: %s, or %s",
		join(words[:splits[0]]), join(words[:splits[1]]), readings[0], readings[1])
}
