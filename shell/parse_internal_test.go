package shell

import (
	"reflect"
	"testing"
)

func TestTokenize(t *testing.T) {
	tests := []struct {
		line string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"  list  ", []string{"list"}, false},
		{`add "Blue Mug" 2`, []string{"add", "Blue Mug", "2"}, false},
		{`add 'Blue Mug'`, []string{"add", "Blue Mug"}, false},
		{`show Bob's Mug`, []string{"show", "Bob's", "Mug"}, false},
		{"add\tmug\t3", []string{"add", "mug", "3"}, false},
		{`add "Blue Mug`, nil, true},
		{`say ""`, []string{"say", ""}, false},
	}
	for _, tt := range tests {
		got, err := tokenize(tt.line)
		if (err != nil) != tt.err || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("tokenize(%q) = %q, %v; want %q, error %v", tt.line, got, err, tt.want, tt.err)
		}
	}
}

func TestBind(t *testing.T) {
	product := Arg{Name: "PRODUCT", Greedy: true}
	add := &Command[any]{Name: "add", Args: []Arg{product, {Name: "QTY", Optional: true}}}
	restock := &Command[any]{Name: "restock", Args: []Arg{product, {Name: "QTY"}}}
	say := &Command[any]{Name: "say", Args: []Arg{{Name: "MESSAGE", Rest: true}}}
	ship := &Command[any]{Name: "ship", Args: []Arg{{Name: "N"}}}
	tests := []struct {
		cmd   *Command[any]
		words []string
		want  map[string]string
		err   bool
	}{
		{add, []string{"Blue", "Mug", "2"}, map[string]string{"PRODUCT": "Blue Mug", "QTY": "2"}, false},
		{add, []string{"Blue", "Mug"}, map[string]string{"PRODUCT": "Blue Mug"}, false},
		{add, []string{"Blue Mug"}, map[string]string{"PRODUCT": "Blue Mug"}, false},
		{add, []string{"3"}, map[string]string{"PRODUCT": "3"}, false},
		{add, []string{"3", "-2"}, map[string]string{"PRODUCT": "3", "QTY": "-2"}, false},
		{restock, []string{"3", "10"}, map[string]string{"PRODUCT": "3", "QTY": "10"}, false},
		{restock, []string{"Blue", "Mug"}, map[string]string{"PRODUCT": "Blue Mug"}, false},
		{add, nil, map[string]string{}, false},
		{say, []string{"back", "in", "5"}, map[string]string{"MESSAGE": "back in 5"}, false},
		{ship, []string{"1", "2"}, nil, true},
	}
	for _, tt := range tests {
		got, err := bind(tt.cmd, tt.words)
		if (err != nil) != tt.err || !tt.err && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("bind(%s, %q) = %v, %v; want %v, error %v", tt.cmd.Name, tt.words, got, err, tt.want, tt.err)
		}
	}
}

func TestSuggest(t *testing.T) {
	sh := newShell[any](nil, NewTable([]*Command[any]{{Name: "list"}, {Name: "checkout"}, {Name: "cart"}}), nil, "> ", nil)
	for word, want := range map[string]string{"lsit": "list", "chekout": "checkout", "che": "checkout", "xyzzy": "", "crat": "cart"} {
		if got := sh.suggest(word); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}
