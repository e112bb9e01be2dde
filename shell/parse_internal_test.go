package shell

import (
	"reflect"
	"strings"
	"testing"
)

// texts is the text of each word.
func texts(ws []word) []string {
	var s []string
	for _, w := range ws {
		s = append(s, w.text)
	}
	return s
}

// unquoted makes words of s as if typed without quotes; a word starting with "
// is taken as quoted.
func unquoted(s ...string) []word {
	var ws []word
	for _, t := range s {
		if strings.HasPrefix(t, `"`) {
			ws = append(ws, word{strings.Trim(t, `"`), true})
		} else {
			ws = append(ws, word{text: t})
		}
	}
	return ws
}

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
		if (err != nil) != tt.err || !reflect.DeepEqual(texts(got), tt.want) {
			t.Errorf("tokenize(%q) = %q, %v; want %q, error %v", tt.line, texts(got), err, tt.want, tt.err)
		}
	}
	if ws, _ := tokenize(`add "Blue Mug" 2`); !ws[1].quoted || ws[0].quoted || ws[2].quoted {
		t.Errorf("tokenize: quoted = %v, want only the name", ws)
	}
}

func TestBind(t *testing.T) {
	product := Arg{Name: "PRODUCT", Greedy: true}
	add := &Command[any]{Name: "add", Args: []Arg{product, {Name: "QTY", Optional: true}}}
	restock := &Command[any]{Name: "restock", Args: []Arg{product, {Name: "QTY"}}}
	say := &Command[any]{Name: "say", Args: []Arg{{Name: "MESSAGE", Rest: true}}}
	ship := &Command[any]{Name: "ship", Args: []Arg{{Name: "N"}}}
	addproduct := &Command[any]{Name: "addproduct", Args: []Arg{{Name: "NAME", Greedy: true}, {Name: "PRICE"}, {Name: "STOCK"},
		{Name: "DESCRIPTION", Optional: true, Rest: true}}}
	tests := []struct {
		cmd   *Command[any]
		words []word
		want  map[string]string
		err   string
	}{
		{add, unquoted("Blue", "Mug", "2"), map[string]string{"PRODUCT": "Blue Mug", "QTY": "2"}, ""},
		{add, unquoted("Blue", "Mug"), map[string]string{"PRODUCT": "Blue Mug"}, ""},
		{add, unquoted(`"Blue Mug"`), map[string]string{"PRODUCT": "Blue Mug"}, ""},
		{add, unquoted("3"), map[string]string{"PRODUCT": "3"}, ""},
		{add, unquoted("3", "-2"), map[string]string{"PRODUCT": "3", "QTY": "-2"}, ""},
		{restock, unquoted("3", "10"), map[string]string{"PRODUCT": "3", "QTY": "10"}, ""},
		{restock, unquoted("Blue", "Mug"), map[string]string{"PRODUCT": "Blue Mug"}, ""},
		// A quoted name is the whole name: what follows fills the next arguments.
		{restock, unquoted(`"Blue Mug"`, "five"), map[string]string{"PRODUCT": "Blue Mug", "QTY": "five"}, ""},
		{restock, unquoted(`"Model 3"`, "10", "5"), nil, "too many words"},
		{add, nil, map[string]string{}, ""},
		{say, unquoted("back", "in", "5"), map[string]string{"MESSAGE": "back in 5"}, ""},
		{ship, unquoted("1", "2"), nil, "too many words"},
		{addproduct, unquoted("Lamp", "20", "5"), map[string]string{"NAME": "Lamp", "PRICE": "20", "STOCK": "5"}, ""},
		{addproduct, unquoted("Blue", "Mug", "12.50", "24", "Sturdy.", "Red."),
			map[string]string{"NAME": "Blue Mug", "PRICE": "12.50", "STOCK": "24", "DESCRIPTION": "Sturdy. Red."}, ""},
		{addproduct, unquoted("Blue", "Mug"), map[string]string{"NAME": "Blue Mug"}, ""},
		{addproduct, unquoted("Blue", "Mug", "12.50"), map[string]string{"NAME": "Blue Mug", "PRICE": "12.50"}, ""},
		{addproduct, unquoted(`"Model 3"`, "10", "5"), map[string]string{"NAME": "Model 3", "PRICE": "10", "STOCK": "5"}, ""},
		{addproduct, unquoted("Model", "3", "10", "5"), nil,
			`is the name "Model" or "Model 3"? Quote it to say which: addproduct "Model" 3 10 5, or addproduct "Model 3" 10 5`},
		{addproduct, unquoted("Lamp", "20", "5", "3", "bulbs"), nil, `is the name "Lamp" or "Lamp 20"?`},
		{addproduct, unquoted("Lamp", "20", "5", `"3 bulbs"`), map[string]string{"NAME": "Lamp", "PRICE": "20", "STOCK": "5", "DESCRIPTION": "3 bulbs"}, ""},
	}
	for _, tt := range tests {
		got, err := bind(tt.cmd, tt.words)
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) ||
			tt.err == "" && (err != nil || !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("bind(%s, %q) = %v, %v; want %v, error %q", tt.cmd.Name, texts(tt.words), got, err, tt.want, tt.err)
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
