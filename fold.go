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

// EditDistance is the optimal string alignment distance between a and b in runes:
// insertions, deletions, substitutions and transpositions of neighbours each count
// one ("mgu" is one typo from "mug"). It is how far a typed word is from a command
// or from a word of the catalog, for "did you mean".
func EditDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // a transposition is one typo
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
