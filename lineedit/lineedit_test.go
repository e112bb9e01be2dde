package lineedit_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify/lineedit"
)

// feed types keys into e and returns what the terminal was sent, the events
// other than None, and the last line entered.
func feed(e *lineedit.Editor, keys string) (out string, events []lineedit.Event) {
	for i := 0; i < len(keys); i++ {
		if ev := e.Feed(keys[i]); ev != lineedit.None {
			events = append(events, ev)
		}
	}
	return string(e.TakeOutput()), events
}

// newEditor returns an editor 20 columns wide with "> " shown.
func newEditor() *lineedit.Editor {
	e := lineedit.New(20)
	e.Shown("> ")
	return e
}

func TestKeysByteForByte(t *testing.T) {
	for _, c := range []struct {
		name, keys, out, line string
	}{
		{"typing echoes", "abc", "abc", ""},
		{"enter", "ab\r", "ab\r\n", "ab"},
		{"CR LF is one enter", "ab\r\ncd\r", "ab\r\ncd\r\n", "cd"},
		{"backspace", "abc\x7f", "abc\r\x1b[J> ab", ""},
		{"backspace at start does nothing", "\x7f", "", ""},
		{"left then insert", "ac\x1b[Db", "ac\r\x1b[3C\r\x1b[J> abc\r\x1b[4C", ""},
		{"home and end", "abc\x1b[H\x1b[F", "abc\r\x1b[2C\r\x1b[5C", ""},
		{"ctrl-a ctrl-e", "abc\x01\x05", "abc\r\x1b[2C\r\x1b[5C", ""},
		{"ctrl-u erases to the start", "abc\x1b[D\x15\r", "abc\r\x1b[4C\r\x1b[J> c\r\x1b[2C\r\x1b[3C\r\n", "c"},
		{"ctrl-k erases to the end", "abc\x1b[D\x1b[D\x0b\r", "abc\r\x1b[4C\r\x1b[3C\r\x1b[J> a\r\n", "a"},
		{"ctrl-w erases a word", "add mug\x17x\r", "add mug\r\x1b[J> add x\r\n", "add x"},
		{"delete key", "ab\x1b[D\x1b[3~\r", "ab\r\x1b[3C\r\x1b[J> a\r\n", "a"},
		{"unknown escapes and controls are dropped", "a\x1b[15~\x1bOP\x07\x1b]b", "ab", ""},
		{"wide characters", "日本\r", "日本\r\n", "日本"},
		{"combining marks stay on their letter", "e\u0301\x1b[Dx\r", "e\u0301\r\x1b[2C\r\x1b[J> xe\u0301\r\x1b[3C\r\x1b[4C\r\n", "xe\u0301"},
		{"backspace takes a letter with its mark", "ae\u0301\x7f\r", "ae\u0301\r\x1b[J> a\r\n", "a"},
		{"invalid UTF-8 dropped", "a\xff\xc3b\r", "ab\r\n", "ab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEditor()
			out, _ := feed(e, c.keys)
			if out != c.out {
				t.Errorf("output %q, want %q", out, c.out)
			}
			if e.Line() != c.line {
				t.Errorf("line %q, want %q", e.Line(), c.line)
			}
		})
	}
}

func TestCtrlCAndCtrlD(t *testing.T) {
	e := newEditor()
	out, evs := feed(e, "abc\x03")
	if out != "abc^C" || len(evs) != 1 || evs[0] != lineedit.Interrupt || e.Typed() != "" {
		t.Errorf("Ctrl-C: %q %v, typed %q", out, evs, e.Typed())
	}
	e.Shown("> ")
	if _, evs := feed(e, "x\x01\x04"); len(evs) != 0 || e.Typed() != "" {
		t.Errorf("Ctrl-D on a character deletes it: %v, typed %q", evs, e.Typed())
	}
	if _, evs := feed(e, "\x04"); len(evs) != 1 || evs[0] != lineedit.EOF {
		t.Errorf("Ctrl-D on an empty line: %v", evs)
	}
}

func TestHistory(t *testing.T) {
	e := newEditor()
	feed(e, "list\rshow 1\r")
	e.Shown("> ")
	out, _ := feed(e, "sh\x1b[A")
	if out != "sh\r\x1b[J> show 1" || e.Typed() != "show 1" {
		t.Errorf("Up: %q, typed %q", out, e.Typed())
	}
	out, _ = feed(e, "\x1b[A\x1b[A")
	if e.Typed() != "list" || out != "\r\x1b[J> list" {
		t.Errorf("Up twice more (stops at the oldest): %q, typed %q", out, e.Typed())
	}
	out, _ = feed(e, "\x1b[B\x1b[B")
	if e.Typed() != "sh" || out != "\r\x1b[J> show 1\r\x1b[J> sh" {
		t.Errorf("Down back to what was typed: %q, typed %q", out, e.Typed())
	}
	// A hidden line (a password) is not kept.
	e.SetHidden(true)
	feed(e, "\x15secret\r")
	e.SetHidden(false)
	e.Shown("> ")
	if feed(e, "\x1b[A"); e.Typed() != "show 1" {
		t.Errorf("Up after a password: %q", e.Typed())
	}
}

func TestPasswordNotEchoed(t *testing.T) {
	e := lineedit.New(20)
	e.SetHidden(true)
	e.Shown("Password: ")
	out, evs := feed(e, "s3cr\x7fet\x1b[D\r")
	if out != "\r\n" || len(evs) != 1 || e.Line() != "s3cet" {
		t.Errorf("password: %q %v line %q", out, evs, e.Line())
	}
}

func TestCompletion(t *testing.T) {
	e := newEditor()
	e.Complete = func(before string) []string {
		var out []string
		for _, c := range []string{"show ", "ship ", "list "} {
			if strings.HasPrefix(c, before) {
				out = append(out, c)
			}
		}
		return out
	}
	out, _ := feed(e, "l\t")
	if out != "l\r\x1b[J> list " || e.Typed() != "list " {
		t.Errorf("one candidate: %q, typed %q", out, e.Typed())
	}
	e = newEditor()
	e.Complete = func(string) []string { return []string{"show ", "ship "} }
	out, _ = feed(e, "s\t")
	if out != "s\r\x1b[J> sh" {
		t.Errorf("common prefix: %q", out)
	}
	out, _ = feed(e, "\t")
	if out != "\r\nshow  ship  \r\n\r\x1b[J> sh" {
		t.Errorf("listed: %q", out)
	}
}

func TestWrapping(t *testing.T) {
	e := lineedit.New(10)
	e.Shown("> ")
	out, _ := feed(e, "abcdefg")
	if out != "abcdefg" {
		t.Errorf("up to the last column: %q", out)
	}
	// The 8th character fills the row: the cursor is put on the next row.
	out, _ = feed(e, "h")
	if out != "\r\x1b[J> abcdefgh\r\n" {
		t.Errorf("filling the row: %q", out)
	}
	out, _ = feed(e, "\x01")
	if out != "\x1b[1A\r\x1b[2C" {
		t.Errorf("home from the second row: %q", out)
	}
	out, _ = feed(e, "\x05\r")
	if out != "\x1b[1B\r\r\n" || e.Line() != "abcdefgh" {
		t.Errorf("end and enter: %q, line %q", out, e.Line())
	}
	// A wide character that does not fit in the last column goes to the next row.
	e = lineedit.New(10)
	e.Shown("> ")
	feed(e, "abcdefg")
	out, _ = feed(e, "日")
	if out != "\r\x1b[J> abcdefg日" {
		t.Errorf("wide at the edge: %q", out)
	}
	out, _ = feed(e, "\x1b[D")
	if out != "\r" {
		t.Errorf("left onto the wrapped wide character: %q", out)
	}
}

func TestBreakAndShow(t *testing.T) {
	e := newEditor()
	feed(e, "hello")
	e.BreakLine()
	e.Show("> ")
	if out := string(e.TakeOutput()); out != "\r\n> hello" {
		t.Errorf("break and show: %q", out)
	}
	feed(e, "\x1b[D\x1b[D")
	e.BreakLine()
	e.Show("> ")
	if out := string(e.TakeOutput()); out != "\r\n> hello\r\x1b[5C" {
		t.Errorf("break and show, cursor inside: %q", out)
	}
	e.SetWidth(30) // a window-change: the next lines are laid out to it
	if e.Width() != 30 {
		t.Errorf("width %d", e.Width())
	}
}

func TestMaxLine(t *testing.T) {
	e := newEditor()
	e.MaxLine = 4
	out, evs := feed(e, "abcdef\r")
	if out != "abcd\r\n" || len(evs) != 1 || evs[0] != lineedit.Line || e.Line() != "abcd" {
		t.Errorf("over the cap: %q %v %q", out, evs, e.Line())
	}
	e.Shown("> ")
	if out, _ := feed(e, "日本\r"); out != "日\r\n" || e.Line() != "日" {
		t.Errorf("the cap counts bytes: %q %q", out, e.Line())
	}
}

func TestRuneWidth(t *testing.T) {
	for r, w := range map[rune]int{'a': 1, 'é': 1, '\u0301': 0, '日': 2, '한': 2, '😀': 2, '\u200d': 0, 'Ｆ': 2} {
		if got := lineedit.RuneWidth(r); got != w {
			t.Errorf("RuneWidth(%q) = %d, want %d", r, got, w)
		}
	}
	if w := lineedit.StringWidth("\x1b[1mOPEN\x1b[0m 日> "); w != 9 {
		t.Errorf("StringWidth = %d", w)
	}
}

// FuzzFeed: whatever is typed, the editor does not panic, and an entered line is
// valid UTF-8 with no control characters, within the cap.
func FuzzFeed(f *testing.F) {
	f.Add([]byte("add mug 2\r"))
	f.Add([]byte("\x1b[A\x1b[D日\u0301\x7f\x15x\x17\t\r"))
	f.Add([]byte("\x1b[200~paste\x1b[201~\r\x03\x04"))
	f.Fuzz(func(t *testing.T, keys []byte) {
		e := lineedit.New(7)
		e.MaxLine = 16
		e.Complete = func(before string) []string { return []string{before + "x ", before + "y "} }
		e.Shown("> ")
		for _, b := range keys {
			if e.Feed(b) == lineedit.Line {
				line := e.Line()
				if !utf8.ValidString(line) || len(line) > 16 || strings.IndexFunc(line, unicode.IsControl) >= 0 {
					t.Fatalf("line %q", line)
				}
				e.Shown("> ")
			}
		}
		e.TakeOutput()
	})
}
