package sqlite

import (
	"strings"
	"unicode"
)

// foldKey maps s to a key that two strings share exactly when strings.EqualFold says
// they are equal: each rune becomes the smallest rune of its Unicode simple-folding
// orbit. Names are unique and looked up by this key, and search is a substring test
// on it, because SQLite's own case folding covers ASCII only.
//
// The keys are stored, so changing this function needs a migration that recomputes them.
func foldKey(s string) string {
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
