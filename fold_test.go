package storify_test

import (
	"strings"
	"testing"

	"github.com/storify/storify"
)

func TestFoldKey(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"Blue Mug", "blue mug", true},
		{"Crème Brûlée", "CRÈME BRÛLÉE", true},
		{"straße", "STRASSE", false}, // simple folding does not expand ß, as EqualFold
		{"ſ", "S", true},             // long s folds to s, as EqualFold
		{"Blue Mug", "Blue Mugs", false},
	} {
		if got := storify.FoldKey(tt.a) == storify.FoldKey(tt.b); got != tt.same || got != strings.EqualFold(tt.a, tt.b) {
			t.Errorf("storify.FoldKey(%q) == storify.FoldKey(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"mug", "mug", 0}, {"mgu", "mug", 1}, {"lmap", "lamp", 1}, {"chekout", "checkout", 1},
		{"", "abc", 3}, {"crème", "creme", 1}, {"kettle", "ketle", 1}, {"abc", "cab", 2},
	} {
		if got := storify.EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
