package ssh

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// script is a reader that returns its reads one by one, then an error.
type script struct {
	reads []string
	err   error
	out   strings.Builder
}

func (s *script) Read(p []byte) (int, error) {
	if len(s.reads) == 0 {
		return 0, s.err
	}
	n := copy(p, s.reads[0])
	s.reads = s.reads[1:]
	return n, nil
}

func (s *script) Write(p []byte) (int, error) { return s.out.Write(p) }

func TestLineCodec(t *testing.T) {
	rw := &script{reads: []string{"li", "st\r", "\nshow \x1b[1", "~1\x7f2\n", "a\x15b\tc\n", "x\x03", "0123456789\n", "tail"}, err: io.EOF}
	c := newLineCodec(rw, []byte("he"), 8)
	want := []struct {
		line string
		err  error
	}{
		{"helist", nil}, {"show 2", nil}, {"b c", nil}, {"", shell.ErrInterrupt}, {"", shell.ErrLineTooLong}, {"tail", nil}, {"", io.EOF},
	}
	for i, w := range want {
		line, err := c.ReadLine()
		if line != w.line || !errors.Is(err, w.err) && err != w.err {
			t.Errorf("line %d: %q, %v; want %q, %v", i, line, err, w.line, w.err)
		}
	}
}

// A read deadline interrupts ReadLine, and the next one goes on with the line.
func TestLineCodecKeepsLineAcrossDeadline(t *testing.T) {
	rw := &script{reads: []string{"sho"}, err: os.ErrDeadlineExceeded}
	c := newLineCodec(rw, nil, 100)
	if _, err := c.ReadLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("first ReadLine: %v", err)
	}
	c.ShowPrompt("> ")
	c.Flush()
	if rw.out.String() != "> sho" {
		t.Errorf("prompt shown again with the partial line: %q", rw.out.String())
	}
	rw.reads, rw.err = []string{"w 1\n"}, io.EOF
	if line, err := c.ReadLine(); line != "show 1" || err != nil {
		t.Errorf("second ReadLine: %q, %v", line, err)
	}
}

// A failed write is final, and reported by ReadLine too.
func TestLineCodecWriteError(t *testing.T) {
	c := newLineCodec(failWriter{}, nil, 100)
	c.WriteString("reply\n")
	var we *server.WriteError
	if err := c.Flush(); !errors.As(err, &we) {
		t.Fatalf("Flush: %v", err)
	}
	if _, err := c.ReadLine(); !errors.As(err, &we) {
		t.Errorf("ReadLine after a failed write: %v", err)
	}
}

type failWriter struct{}

func (failWriter) Read([]byte) (int, error)  { return 0, io.EOF }
func (failWriter) Write([]byte) (int, error) { return 0, os.ErrDeadlineExceeded }

// Reply text on a terminal wraps at the window's width, at a space, indented as
// its line is.
func TestEditorWrapsReplies(t *testing.T) {
	rw := &script{err: io.EOF}
	e := newEditor(20, 24)
	c := e.codec(rw, nil, 100)
	c.WriteString("#3 Fountain Pen\n  Steel nib, medium, takes standard cartridges.\n  Price: 34.00\n")
	c.WriteString("Averyveryverylongwordwithoutspaces\n")
	c.Flush()
	want := "#3 Fountain Pen\r\n" +
		"  Steel nib,\r\n  medium, takes\r\n  standard\r\n  cartridges.\r\n" +
		"  Price: 34.00\r\n" +
		"Averyveryverylongwor\r\ndwithoutspaces\r\n"
	if got := rw.out.String(); got != want {
		t.Errorf("wrapped at 20:\n%q\nwant\n%q", got, want)
	}
	rw.out.Reset()
	e.resize(40, 24) // window-change: the next reply is laid out to it
	c.WriteString("  Steel nib, medium, takes standard cartridges.\n")
	c.Flush()
	if got := rw.out.String(); got != "  Steel nib, medium, takes standard\r\n  cartridges.\r\n" {
		t.Errorf("wrapped at 40: %q", got)
	}
}
