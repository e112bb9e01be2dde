package telnet_test

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/storify/storify/telnet"
)

func TestReadLine(t *testing.T) {
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name    string
		input   string
		maxLine int // 0: default
		want    []string
		reply   string // exact bytes the Conn must write
	}{
		{name: "empty input", input: "", want: []string{EOF}},
		{name: "LF", input: "add item01 1\nlist\n", want: []string{"add item01 1", "list", EOF}},
		{name: "CR LF", input: "abc\r\ndef\r\n", want: []string{"abc", "def", EOF}},
		{name: "CR NUL", input: "abc\r\x00def\r\x00", want: []string{"abc", "def", EOF}},
		{name: "CR alone", input: "abc\rdef\r", want: []string{"abc", "def", EOF}},
		{name: "empty lines", input: "\r\n\r\x00\n\r", want: []string{"", "", "", "", EOF}},
		{name: "LF then CR", input: "a\n\rb\n", want: []string{"a", "", "b", EOF}},
		{name: "CR CR LF", input: "a\r\r\n", want: []string{"a", "", EOF}},
		{name: "NUL alone dropped", input: "a\x00b\n", want: []string{"ab", EOF}},
		{name: "partial line at EOF", input: "abc", want: []string{"abc", EOF}},
		{name: "spaces kept", input: "  add  \"red mug\"  \n", want: []string{"  add  \"red mug\"  ", EOF}},

		{name: "IAC IAC is a data byte, then dropped as invalid UTF-8", input: "a" + IAC + IAC + "b\n", want: []string{"ab", EOF}},
		{name: "IAC IAC does not start a command", input: "a" + IAC + IAC + WILL + ECHO + "b\n", want: []string{"ab", EOF}},
		{name: "IAC IAC inside a rune", input: "\xc3" + IAC + IAC + "\xa9x\n", want: []string{"x", EOF}},

		{name: "UTF-8", input: "café ✓ 😀 €12.50\n", want: []string{"café ✓ 😀 €12.50", EOF}},
		{name: "U+FFFD itself is valid", input: "\xef\xbf\xbd\n", want: []string{"\ufffd", EOF}},
		{name: "invalid UTF-8 dropped",
			input: "a\x80b\xc3(\xed\xa0\x80c\xc0\xafd\xf8e\xf4\x90\x80\x80f\xe2\x82\n",
			want:  []string{"ab(cdef", EOF}},
		{name: "C1 controls dropped", input: "a\xc2\x85b\xc2\x9bc\n", want: []string{"abc", EOF}},
		{name: "C0 controls dropped, TAB is a space", input: "a\x01b\x07c\x04d\te\x0cf\n", want: []string{"abcd ef", EOF}},

		{name: "arrow keys (CSI)", input: "ab\x1b[Ac\x1b[1;5Dd\x1b[3~e\n", want: []string{"abcde", EOF}},
		{name: "arrow keys (SS3)", input: "a\x1bOAb\x1bOBc\n", want: []string{"abc", EOF}},
		{name: "Alt+key", input: "a\x1bxb\n", want: []string{"ab", EOF}},
		{name: "ESC then Enter ends the line", input: "ab\x1b\r\ncd\x1b[\r\nef\x1bO\n", want: []string{"ab", "cd", "ef", EOF}},
		{name: "ESC ESC [ A", input: "a\x1b\x1b[Ab\n", want: []string{"ab", EOF}},
		{name: "IAC NOP inside CSI", input: "a\x1b[" + IAC + NOP + "Ab\n", want: []string{"ab", EOF}},

		{name: "BS and DEL", input: "abc\x08\x7fd\n", want: []string{"ad", EOF}},
		{name: "BS erases a whole rune", input: "a😀\x08é\x7f\n", want: []string{"a", EOF}},
		{name: "BS on empty line", input: "\x08\x7fa\n", want: []string{"a", EOF}},
		{name: "IAC EC", input: "abé" + IAC + EC + IAC + EC + "c\n", want: []string{"ac", EOF}},
		{name: "IAC EL", input: "abc" + IAC + EL + "de\n", want: []string{"de", EOF}},
		{name: "Ctrl-U", input: "abc\x15de\n", want: []string{"de", EOF}},

		{name: "IAC IP", input: "abc" + IAC + IP + "def\n", want: []string{INT, "def", EOF}},
		{name: "IAC AO", input: "abc" + IAC + AO + "def\n", want: []string{INT, "def", EOF}},
		{name: "raw Ctrl-C", input: "abc\x03def\n", want: []string{INT, "def", EOF}},
		{name: "Ctrl-C on empty line", input: "\x03", want: []string{INT, EOF}},
		{name: "two interrupts", input: IAC + IP + IAC + IP + "x\n", want: []string{INT, INT, "x", EOF}},
		{name: "line then interrupts", input: "a\n" + IAC + IP + IAC + AO + "\x03b\n", want: []string{"a", INT, INT, INT, "b", EOF}},
		{name: "IP with CR LF around", input: "a\r" + IAC + IP + "\nb\n", want: []string{"a", INT, "b", EOF}},
		{name: "telnet Ctrl-C: IP, DO TIMING-MARK, DM",
			input: "abc" + IAC + IP + IAC + DO + TM + IAC + DM + "def\r\n",
			want:  []string{INT, "def", EOF}, reply: IAC + WILL + TM},
		{name: "TIMING-MARK answered every time",
			input: IAC + DO + TM + "a\n" + IAC + DO + TM + IAC + DONT + TM,
			want:  []string{"a", EOF}, reply: IAC + WILL + TM + IAC + WILL + TM},

		{name: "NOP GA DM BRK and unknown commands ignored",
			input: "a" + IAC + NOP + "b" + IAC + GA + "c" + IAC + DM + "d" + IAC + BRK + "e" + IAC + "\xef" + "f" + IAC + "A" + "g" + IAC + SE + "h\n",
			want:  []string{"abcdefgh", EOF}},
		{name: "AYT", input: "ab" + IAC + AYT + "c\n", want: []string{"abc", EOF}, reply: "\r\n[yes]\r\n"},

		{name: "NAWS subnegotiation skipped", input: "a" + IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + "b\n", want: []string{"ab", EOF}},
		{name: "subnegotiation with IAC IAC and line ends",
			input: IAC + SB + TTYPE + "\x00x\r\n" + IAC + IAC + "term" + IAC + SE + "ok\n",
			want:  []string{"ok", EOF}},
		{name: "long subnegotiation", input: IAC + SB + TTYPE + long + IAC + SE + "ok\n", want: []string{"ok", EOF}},
		{name: "subnegotiation missing SE ends at the next command",
			input: IAC + SB + TTYPE + "xterm" + IAC + DO + ECHO + "ok\n",
			want:  []string{"ok", EOF}, reply: IAC + WONT + ECHO},
		{name: "subnegotiation cut by EOF", input: "a\n" + IAC + SB + TTYPE + "xt", want: []string{"a", EOF}},
		{name: "IAC cut by EOF", input: "ab" + IAC, want: []string{"ab", EOF}},

		{name: "line at the cap", maxLine: 8, input: "01234567\n", want: []string{"01234567", EOF}},
		{name: "line over the cap", maxLine: 8, input: "012345678\nok\n", want: []string{LONG, "ok", EOF}},
		{name: "rune crossing the cap", maxLine: 8, input: "0123456é\n0123456\n", want: []string{LONG, "0123456", EOF}},
		{name: "long line, default cap", input: long + "\r\nok\r\n", want: []string{LONG, "ok", EOF}},
		{name: "long line then CR NUL", maxLine: 4, input: "abcdef\r\x00ok\r\x00", want: []string{LONG, "ok", EOF}},
		{name: "long line erased", maxLine: 4, input: "abcdef" + IAC + EL + "ok\n", want: []string{"ok", EOF}},
		{name: "long line interrupted", maxLine: 4, input: "abcdef\x03ok\n", want: []string{INT, "ok", EOF}},
		{name: "BS does not revive a long line", maxLine: 4, input: "abcde\x08\x08\n", want: []string{LONG, EOF}},
		{name: "long line at EOF", maxLine: 4, input: "abcdef", want: []string{LONG, EOF}},
		{name: "BS keeps a line under the cap", maxLine: 4, input: "abcd\x08e\n", want: []string{"abce", EOF}},

		{name: "negotiation bytes never reach the line",
			input: "a" + IAC + WILL + TTYPE + "b" + IAC + DO + SGA + "c" + IAC + WONT + ECHO + "d" + IAC + DONT + ECHO + "e\n",
			want:  []string{"abcde", EOF}, reply: IAC + DONT + TTYPE + IAC + WILL + SGA},
	}
	for _, tt := range tests {
		for _, way := range decodeWays {
			t.Run(tt.name+"/"+way.name, func(t *testing.T) {
				got, reply, _ := decode(t, tt.input, tt.maxLine, way.wrap)
				if !slices.Equal(got, tt.want) {
					t.Errorf("lines\n got %q\nwant %q", got, tt.want)
				}
				if reply != tt.reply {
					t.Errorf("wrote %q, want %q", reply, tt.reply)
				}
			})
		}
	}
}

// Every command byte after IAC, with and without an option byte, must stay out of the
// line: nothing but the data around it may come back.
func TestNoCommandByteInLine(t *testing.T) {
	for cmd := range 256 {
		for opt := range 256 {
			if (cmd < 0xfb || cmd > 0xfe) && opt > 0 { // only WILL WONT DO DONT take an option byte
				continue
			}
			input := "a" + IAC + string([]byte{byte(cmd)})
			if cmd >= 0xfb && cmd <= 0xfe {
				input += string([]byte{byte(opt)})
			}
			if cmd == 0xfa {
				input += TTYPE + "\x00vt100" + IAC + SE
			}
			input += "b\n"
			got, _, _ := decode(t, input, 0, func(r io.Reader) io.Reader { return r })
			for _, line := range got {
				if line == EOF || line == INT {
					continue
				}
				if strings.Trim(line, "ab") != "" {
					t.Fatalf("input %q gave line %q", input, line)
				}
			}
		}
	}
}

// A CR that ends one read must not turn the LF or NUL starting the next into an extra
// empty line, and the line must be returned without waiting for that next read.
func TestCRSplitAcrossReads(t *testing.T) {
	p := &rwPipe{r: &script{steps: []step{
		{data: "abc\r"}, {data: "\ndef\r"}, {data: "\x00ghi\r"}, {data: "\r\n"},
	}}}
	c := telnet.NewConn(p, telnet.Options{})
	got := readAll(t, c)
	want := []string{"abc", "def", "ghi", "", EOF}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// A read error (a deadline) in the middle of a line or of an IAC sequence is returned
// unchanged, and the next ReadLine continues exactly where decoding stopped.
func TestReadErrorKeepsState(t *testing.T) {
	p := &rwPipe{r: &script{steps: []step{
		{data: "hel", err: os.ErrDeadlineExceeded},
		{data: "lo" + IAC, err: os.ErrDeadlineExceeded},
		{data: DO, err: os.ErrDeadlineExceeded},
		{data: SGA + "!\r", err: os.ErrDeadlineExceeded},
		{data: "\nnext\n"},
	}}}
	c := telnet.NewConn(p, telnet.Options{})
	var got []string
	deadlines := 0
	for {
		line, err := c.ReadLine()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			deadlines++
			continue
		}
		if err != nil {
			got = append(got, err.Error())
			break
		}
		got = append(got, line)
	}
	want := []string{"hello!", "next", io.EOF.Error()}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	// "!\r" completes a line in the same read as the fourth deadline, which waits
	// for the following call.
	if deadlines != 4 {
		t.Errorf("%d deadline errors, want 4", deadlines)
	}
	if p.out.String() != IAC+WILL+SGA {
		t.Errorf("wrote %q, want IAC WILL SGA", p.out.String())
	}
}

func TestEOFIsSticky(t *testing.T) {
	c := telnet.NewConn(&rwPipe{r: strings.NewReader("abc")}, telnet.Options{})
	if line, err := c.ReadLine(); line != "abc" || err != nil {
		t.Fatalf("ReadLine = %q, %v; want abc, nil", line, err)
	}
	for range 3 {
		if _, err := c.ReadLine(); err != io.EOF {
			t.Fatalf("ReadLine error = %v, want io.EOF", err)
		}
	}
}

type emptyReader struct{}

func (emptyReader) Read([]byte) (int, error) { return 0, nil }

func TestReaderWithoutProgress(t *testing.T) {
	c := telnet.NewConn(&rwPipe{r: emptyReader{}}, telnet.Options{})
	if _, err := c.ReadLine(); err != io.ErrNoProgress {
		t.Fatalf("ReadLine error = %v, want io.ErrNoProgress", err)
	}
}

// After Ctrl-C, telnet sends IAC IP IAC DO TIMING-MARK and hides our output until the
// answer arrives, so the answer must be sent before ReadLine returns, ahead of whatever
// the caller prints next. The same holds behind a complete line.
func TestTimingMarkAnsweredBeforeReturn(t *testing.T) {
	tests := []struct {
		input string
		want  string
	}{
		{"abc" + IAC + IP + IAC + DO + TM + IAC + DM, INT},
		{"abc\r\n" + IAC + DO + TM, "abc"},
		{"abc\r\x00" + IAC + DO + TM + "next\r\n", "abc"},
	}
	for _, tt := range tests {
		p := &rwPipe{r: strings.NewReader(tt.input)}
		c := telnet.NewConn(p, telnet.Options{})
		line, err := c.ReadLine()
		if errors.Is(err, telnet.ErrInterrupt) {
			line = INT
		} else if err != nil {
			t.Fatalf("%q: ReadLine error %v", tt.input, err)
		}
		if line != tt.want {
			t.Errorf("%q: ReadLine = %q, want %q", tt.input, line, tt.want)
		}
		if got := p.out.String(); got != IAC+WILL+TM {
			t.Errorf("%q: wrote %q before returning, want IAC WILL TIMING-MARK", tt.input, got)
		}
	}
}

// TestAlreadyRead: bytes the caller read before the Conn existed are decoded first,
// as part of the same stream, even a line or a command split across the two.
func TestAlreadyRead(t *testing.T) {
	for _, big := range []bool{false, true} {
		first := "li\xff\xfb"
		if big {
			first = strings.Repeat("x", 2000) + "\r\n" + first
		}
		p := &rwPipe{r: strings.NewReader("\x01st\r\nquit\r\n")}
		c := telnet.NewConn(p, telnet.Options{Read: []byte(first), MaxLine: 4096})
		if big {
			if line, err := c.ReadLine(); line != strings.Repeat("x", 2000) || err != nil {
				t.Fatalf("first line = %d bytes, %v", len(line), err)
			}
		}
		for _, want := range []string{"list", "quit"} {
			if line, err := c.ReadLine(); line != want || err != nil {
				t.Errorf("ReadLine() = %q, %v; want %q", line, err, want)
			}
		}
		c.Flush()
		if got := p.out.String(); got != "\xff\xfe\x01" {
			t.Errorf("reply to IAC WILL ECHO split across the two = %q, want IAC DONT ECHO", got)
		}
	}
}
