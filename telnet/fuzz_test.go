package telnet_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify/telnet"
)

// fuzzMaxLine is small so that the line cap is hit often.
const fuzzMaxLine = 16

// fuzzDecode decodes input and returns the results and the bytes written.
func fuzzDecode(t *testing.T, input []byte, oneByte bool) ([]string, string) {
	var r io.Reader = strings.NewReader(string(input))
	if oneByte {
		r = iotest.OneByteReader(r)
	}
	p := &rwPipe{r: r}
	c := telnet.NewConn(p, telnet.Options{MaxLine: fuzzMaxLine})
	var got []string
	for range len(input) + 2 { // each call consumes at least one byte or ends
		line, err := c.ReadLine()
		switch {
		case err == nil:
			if !utf8.ValidString(line) {
				t.Fatalf("line %q is not valid UTF-8", line)
			}
			if strings.ContainsFunc(line, unicode.IsControl) {
				t.Fatalf("line %q holds a control character", line)
			}
			if len(line) > fuzzMaxLine {
				t.Fatalf("line of %d bytes exceeds MaxLine %d", len(line), fuzzMaxLine)
			}
			got = append(got, line)
		case errors.Is(err, telnet.ErrInterrupt):
			got = append(got, INT)
		case errors.Is(err, telnet.ErrLineTooLong):
			got = append(got, LONG)
		case err == io.EOF:
			if c.Buffered() != 0 {
				t.Fatalf("%d bytes left unflushed", c.Buffered())
			}
			return append(got, EOF), p.out.String()
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	t.Fatalf("no io.EOF after %d calls", len(input)+2)
	return nil, ""
}

func FuzzReadLine(f *testing.F) {
	seeds := []string{
		"add item01 1\r\n",
		"list\nbuy\rcart\r\x00\r\n",
		"a" + IAC + IAC + "b\n",
		IAC + WILL + NAWS + IAC + WILL + TTYPE + IAC + DO + ECHO + IAC + DO + SGA + IAC + WILL + LINEMODE + "hi\r\n",
		IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + "x\n",
		IAC + WILL + NAWS + IAC + SB + NAWS + "\x00" + IAC + IAC + "\x00\x18" + IAC + SE + IAC + WONT + NAWS + "x\n",
		IAC + SB + TTYPE + "xterm" + IAC + DO + ECHO + "ok\n",
		"abc" + IAC + IP + IAC + DO + TM + IAC + DM + "def\r\n",
		"ab" + IAC + AYT + "c" + IAC + EC + IAC + EL + "d\x08\x7f\x15\n",
		"\x1b[A\x1b[1;5D\x1bOA\x1bx\x1b\r\n",
		"café 😀 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \xc2\x85\t\n",
		strings.Repeat("0123456789", 5) + "\nok\n",
		"0123456789abcdé\n",
		"\x03partial",
		"\r",
		IAC,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		whole, wroteWhole := fuzzDecode(t, input, false)
		bytewise, wroteBytewise := fuzzDecode(t, input, true)
		if !slices.Equal(whole, bytewise) {
			t.Fatalf("lines differ\n whole    %q\n bytewise %q", whole, bytewise)
		}
		if wroteWhole != wroteBytewise {
			t.Fatalf("replies differ\n whole    %q\n bytewise %q", wroteWhole, wroteBytewise)
		}
	})
}
