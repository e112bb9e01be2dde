package lineinput_test

import (
	"strings"
	"testing"

	"github.com/storify/storify/internal/lineinput"
)

// decode feeds in to a decoder of lines of at most max bytes and returns what a
// reader is told: each line, "^C" for an interrupt, "TOO LONG" for a dropped line.
func decode(in string, max int) []string {
	d := lineinput.New(max)
	var got []string
	tell := func(ev lineinput.Event) {
		switch ev {
		case lineinput.Line:
			got = append(got, d.Take())
		case lineinput.Interrupt:
			got = append(got, "^C")
		case lineinput.TooLong:
			got = append(got, "TOO LONG")
		}
	}
	for i := 0; i < len(in); i++ {
		tell(d.Byte(in[i]))
	}
	tell(d.EndOfInput())
	return got
}

// TestLines: what every client sends for a line, and the keys it may press, become
// the lines a command sees, never bytes that could disturb a terminal.
func TestLines(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"every line end", "a\r\nb\r\x00c\nd\re", []string{"a", "b", "c", "d", "e"}},
		{"empty lines", "\r\n\n", []string{"", ""}},
		{"backspace and delete erase a rune", "ab\bc\x7fé\x7fd\n", []string{"ad"}},
		{"Ctrl-U erases the line", "abc\x15d\n", []string{"d"}},
		{"Ctrl-C interrupts", "abc\x03d\n", []string{"^C", "d"}},
		{"tab is a space", "a\tb\n", []string{"a b"}},
		{"arrow keys and function keys are dropped", "a\x1b[A\x1bOPb\x1b[15~c\n", []string{"abc"}},
		{"ESC then Enter still ends the line", "a\x1b\rb", []string{"a", "b"}},
		{"Alt+key is dropped", "a\x1bxb\n", []string{"ab"}},
		{"other controls are dropped", "a\x00\x07\x04b\n", []string{"ab"}},
		{"invalid UTF-8 and C1 are dropped", "a\xff\xc0\xaf\xc2\x85\xed\xa0\x80b\n", []string{"ab"}},
		{"a rune cut short by ASCII is dropped", "a\xe2\x82b\n", []string{"ab"}},
		{"valid UTF-8 is kept", "Käse 😀\n", []string{"Käse 😀"}},
		{"over the cap: dropped whole, next line fine", "abcdefghijk\nok\n", []string{"TOO LONG", "ok"}},
		{"a rune never splits at the cap", "abcdefgh€\n", []string{"TOO LONG"}},
		{"Ctrl-U forgives an overlong line", "abcdefghijk\x15ok\n", []string{"ok"}},
		{"a partial line at the end is a line", "tail", []string{"tail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decode(tc.in, 10)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestPartial: what has been typed so far, to show again after a notice; nothing
// of a line already over the cap.
func TestPartial(t *testing.T) {
	d := lineinput.New(4)
	for _, b := range []byte("ab\x1b[") {
		d.Byte(b)
	}
	if p := d.Partial(); p != "ab" {
		t.Errorf("Partial = %q, want ab", p)
	}
	for _, b := range []byte("cdef") {
		d.Byte(b)
	}
	if p := d.Partial(); p != "" {
		t.Errorf("Partial over the cap = %q, want nothing", p)
	}
}
