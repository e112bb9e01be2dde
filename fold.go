package storify

import (
	"strings"
	"unicode"
)

// FoldKey maps s to a key that two strings share exactly when strings.EqualFold says
// they are equal: each rune becomes the smallest rune of its Unicode simple-folding
// orbit. Every backend keys unique names and search on it, so that they agree on
// which names clash and what a search finds ("Crème" as much as "Mug"), whatever the
// database's own collation does.
//
// Backends store these keys, so changing this function needs a migration in each
// that recomputes them.
func FoldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}
