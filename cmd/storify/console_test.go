package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
)

// The console completes with the manager's completion, in readline's terms: what
// replaces how many runes before the cursor.
func TestConsoleCompletion(t *testing.T) {
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	for _, name := range []string{"Blue Mug", "Blue Pen", "Lamp"} {
		if _, err := store.AddProduct(context.Background(), storify.NewProduct{Name: name, Price: 100, Stock: 1}); err != nil {
			t.Fatal(err)
		}
	}
	c := &console{}
	c.mgr = shell.NewManager(store, nil, shell.NewLineTerm(strings.NewReader(""), &strings.Builder{}, 100), shell.ManagerConfig{StoreName: "Test"})
	for _, tc := range []struct {
		text string
		want []string
		n    int
	}{
		{"resto", []string{"ck "}, 0},
		{"RESTO", []string{"restock "}, 5},
		{"restock la", []string{"Lamp "}, 2},
		{"restock bl", []string{`"Blue Mug" `, `"Blue Pen" `}, 2},
		{`restock "Blue P`, []string{`en" `}, 0},
		{"frob x", nil, 0},
	} {
		got, n := completer{c}.Do([]rune(tc.text), len([]rune(tc.text)))
		var words []string
		for _, g := range got {
			words = append(words, string(g))
		}
		if strings.Join(words, "|") != strings.Join(tc.want, "|") || n != tc.n {
			t.Errorf("Do(%q) = %q, %d; want %q, %d", tc.text, words, n, tc.want, tc.n)
		}
	}
}
