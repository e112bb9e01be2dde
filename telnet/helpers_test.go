package telnet_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify/telnet"
)

// Telnet bytes, spelled out here because the tests are black-box.
const (
	IAC  = "\xff"
	DONT = "\xfe"
	DO   = "\xfd"
	WONT = "\xfc"
	WILL = "\xfb"
	SB   = "\xfa"
	GA   = "\xf9"
	EL   = "\xf8"
	EC   = "\xf7"
	AYT  = "\xf6"
	AO   = "\xf5"
	IP   = "\xf4"
	BRK  = "\xf3"
	DM   = "\xf2"
	NOP  = "\xf1"
	SE   = "\xf0"

	ECHO     = "\x01"
	SGA      = "\x03"
	STATUS   = "\x05"
	TM       = "\x06"
	TTYPE    = "\x18"
	NAWS     = "\x1f"
	TSPEED   = "\x20"
	LFLOW    = "\x21"
	LINEMODE = "\x22"
	XDISPLOC = "\x23"
	ENVIRON  = "\x27"
)

// Results of ReadLine other than a line; a line never holds a NUL, so these cannot clash.
const (
	INT  = "\x00interrupt"
	LONG = "\x00too long"
	EOF  = "\x00EOF"
)

// rwPipe is an in-memory ReadWriter: reads come from r, writes are recorded.
type rwPipe struct {
	r      io.Reader
	out    bytes.Buffer
	writes int
}

func (p *rwPipe) Read(b []byte) (int, error) { return p.r.Read(b) }

func (p *rwPipe) Write(b []byte) (int, error) {
	p.writes++
	return p.out.Write(b)
}

// readAll calls ReadLine until io.EOF and returns every result, EOF included.
func readAll(tb testing.TB, c *telnet.Conn) []string {
	tb.Helper()
	var got []string
	for i := 0; ; i++ {
		if i > 10000 {
			tb.Fatal("ReadLine never returned io.EOF")
		}
		line, err := c.ReadLine()
		switch {
		case err == nil:
			checkLine(tb, line)
			got = append(got, line)
		case errors.Is(err, telnet.ErrInterrupt):
			got = append(got, INT)
		case errors.Is(err, telnet.ErrLineTooLong):
			got = append(got, LONG)
		case err == io.EOF:
			return append(got, EOF)
		default:
			tb.Fatalf("ReadLine: unexpected error %v", err)
		}
	}
}

// checkLine asserts what every line must be: valid UTF-8 without control characters.
func checkLine(tb testing.TB, line string) {
	tb.Helper()
	if !utf8.ValidString(line) {
		tb.Fatalf("line %q is not valid UTF-8", line)
	}
	if i := strings.IndexFunc(line, unicode.IsControl); i >= 0 {
		tb.Fatalf("line %q holds a control character at %d", line, i)
	}
}

// decodeWays are the ways input reaches the decoder: all at once, and one byte per Read,
// as when every byte arrives in its own TCP segment.
var decodeWays = []struct {
	name string
	wrap func(io.Reader) io.Reader
}{
	{"whole", func(r io.Reader) io.Reader { return r }},
	{"bytewise", iotest.OneByteReader},
	{"data+EOF", iotest.DataErrReader},
}

// decode runs input through a Conn and returns its results and everything it wrote.
func decode(tb testing.TB, input string, maxLine int, wrap func(io.Reader) io.Reader) ([]string, string, *rwPipe) {
	tb.Helper()
	p := &rwPipe{r: wrap(strings.NewReader(input))}
	c := telnet.NewConn(p, telnet.Options{MaxLine: maxLine})
	got := readAll(tb, c)
	if n := c.Buffered(); n != 0 {
		tb.Fatalf("%d bytes left unflushed", n)
	}
	return got, p.out.String(), p
}

// step is one Read result of a scripted reader.
type step struct {
	data string
	err  error
}

// script is a reader that returns its steps in order, then io.EOF.
type script struct{ steps []step }

func (s *script) Read(b []byte) (int, error) {
	if len(s.steps) == 0 {
		return 0, io.EOF
	}
	st := &s.steps[0]
	n := copy(b, st.data)
	st.data = st.data[n:]
	if st.data != "" {
		return n, nil
	}
	err := st.err
	s.steps = s.steps[1:]
	return n, err
}

// queue is a reader for conversations: it returns what the test pushed so far and
// os.ErrDeadlineExceeded when empty, as a connection with a passed deadline would.
type queue struct{ buf bytes.Buffer }

func (q *queue) Read(b []byte) (int, error) {
	if q.buf.Len() == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	return q.buf.Read(b)
}
