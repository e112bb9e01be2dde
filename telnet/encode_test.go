package telnet_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/storify/storify/telnet"
)

func TestWrite(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{name: "LF becomes CR LF", writes: []string{"a\nb\n"}, want: "a\r\nb\r\n"},
		{name: "CR LF kept", writes: []string{"a\r\nb\r\n"}, want: "a\r\nb\r\n"},
		{name: "bare CR kept", writes: []string{"a\rb"}, want: "a\rb"},
		{name: "LF first", writes: []string{"\n\nx"}, want: "\r\n\r\nx"},
		{name: "CR LF split across writes", writes: []string{"a\r", "\nb"}, want: "a\r\nb"},
		{name: "LF after a write ending in text", writes: []string{"a", "\n"}, want: "a\r\n"},
		{name: "CR then CR LF", writes: []string{"a\r", "\r\n"}, want: "a\r\r\n"},
		{name: "IAC doubled", writes: []string{"a\xffb\xff\xff"}, want: "a\xff\xffb\xff\xff\xff\xff"},
		{name: "IAC before LF", writes: []string{"\xff\n"}, want: "\xff\xff\r\n"},
		{name: "UTF-8 untouched", writes: []string{"café 😀\n"}, want: "café 😀\r\n"},
		{name: "empty writes", writes: []string{"", "a", "", "\n"}, want: "a\r\n"},
		{name: "CR LF then LF", writes: []string{"a\r\n\nb\n"}, want: "a\r\n\r\nb\r\n"},
		{name: "LF after a write ending in CR LF", writes: []string{"a\r\n", "\n"}, want: "a\r\n\r\n"},
		{name: "IAC in a later line", writes: []string{"a\nb\xff\nc\n"}, want: "a\r\nb\xff\xff\r\nc\r\n"},
	}
	for _, tt := range tests {
		for _, asBytes := range []bool{false, true} {
			name := tt.name + "/string"
			if asBytes {
				name = tt.name + "/bytes"
			}
			t.Run(name, func(t *testing.T) {
				p := &rwPipe{r: strings.NewReader("")}
				c := telnet.NewConn(p, telnet.Options{})
				for _, w := range tt.writes {
					var n int
					var err error
					if asBytes {
						n, err = c.Write([]byte(w))
					} else {
						n, err = c.WriteString(w)
					}
					if n != len(w) || err != nil {
						t.Fatalf("Write(%q) = %d, %v; want %d, nil", w, n, err, len(w))
					}
				}
				if p.out.Len() != 0 {
					t.Fatal("Write sent bytes before Flush")
				}
				if c.Buffered() != len(tt.want) {
					t.Errorf("Buffered() = %d, want %d", c.Buffered(), len(tt.want))
				}
				if err := c.Flush(); err != nil {
					t.Fatal(err)
				}
				if got := p.out.String(); got != tt.want {
					t.Errorf("sent %q, want %q", got, tt.want)
				}
				if c.Buffered() != 0 {
					t.Errorf("Buffered() = %d after Flush", c.Buffered())
				}
			})
		}
	}
}

// failingWriter accepts up to room bytes, then fails until room is raised.
type failingWriter struct {
	room int
	out  bytes.Buffer
}

var errBroken = errors.New("broken pipe")

func (w *failingWriter) Read([]byte) (int, error) { return 0, io.EOF }

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.room {
		w.room -= len(p)
		return w.out.Write(p)
	}
	n, _ := w.out.Write(p[:w.room])
	w.room = 0
	return n, errBroken
}

// A failed write is final: what was queued is freed, later output is discarded,
// and ReadLine reports the same *WriteError, so a client that stops reading cannot
// make the server hold its replies.
func TestFlushErrorIsFinal(t *testing.T) {
	w := &failingWriter{room: 3}
	p := struct {
		io.Reader
		io.Writer
	}{strings.NewReader("next\n"), w}
	c := telnet.NewConn(p, telnet.Options{})
	c.WriteString("hello\n")
	err := c.Flush()
	var we *telnet.WriteError
	if !errors.As(err, &we) || !errors.Is(err, errBroken) {
		t.Fatalf("Flush error = %v, want a *telnet.WriteError wrapping %v", err, errBroken)
	}
	if c.Buffered() != 0 {
		t.Fatalf("Buffered() = %d after a failed write, want 0", c.Buffered())
	}
	w.room = 100
	if n, err := c.WriteString("more\n"); n != 0 || !errors.As(err, &we) {
		t.Errorf("WriteString after the failure = %d, %v; want 0 and the write error", n, err)
	}
	if err := c.Flush(); !errors.As(err, &we) {
		t.Errorf("second Flush = %v, want the write error again", err)
	}
	if line, err := c.ReadLine(); line != "" || !errors.As(err, &we) {
		t.Errorf("ReadLine = %q, %v; want the write error", line, err)
	}
	if got := w.out.String(); got != "hel" {
		t.Errorf("sent %q, want only the first 3 bytes", got)
	}
}

type shortWriter struct{}

func (shortWriter) Read([]byte) (int, error)    { return 0, io.EOF }
func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestFlushShortWrite(t *testing.T) {
	c := telnet.NewConn(shortWriter{}, telnet.Options{})
	c.WriteString("abcd")
	if err := c.Flush(); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf("Flush error = %v, want io.ErrShortWrite", err)
	}
	if c.Buffered() != 0 {
		t.Fatalf("Buffered() = %d, want 0", c.Buffered())
	}
}

// A line decoded together with a negotiation request is returned even when the
// reply cannot be sent; the failure comes with the caller's next Flush.
func TestReplyWriteErrorReportedByFlush(t *testing.T) {
	w := &failingWriter{}
	p := struct {
		io.Reader
		io.Writer
	}{strings.NewReader(IAC + DO + SGA + "hi\n"), w}
	c := telnet.NewConn(p, telnet.Options{})
	line, err := c.ReadLine()
	if line != "hi" || err != nil {
		t.Fatalf("ReadLine = %q, %v; want hi, nil (reply and line in one read)", line, err)
	}
	if err := c.Flush(); !errors.Is(err, errBroken) {
		t.Fatalf("Flush error = %v, want %v", err, errBroken)
	}
}

// Output never waits in memory past MaxOutput: a Write that takes the queue past
// it sends the queue.
func TestMaxOutputSendsEarly(t *testing.T) {
	p := &rwPipe{r: strings.NewReader("")}
	c := telnet.NewConn(p, telnet.Options{MaxOutput: 100})
	for i := 0; i < 30; i++ {
		c.WriteString("0123456789")
		if c.Buffered() >= 100 {
			t.Fatalf("after %d writes %d bytes are queued, over the cap of 100", i+1, c.Buffered())
		}
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := p.out.String(); got != strings.Repeat("0123456789", 30) {
		t.Errorf("sent %q", got)
	}
}

// FuzzWrite checks the encoder against a byte-at-a-time model of the rules.
func FuzzWrite(f *testing.F) {
	f.Add("a\nb\r\nc", "\n\xff\r")
	f.Add("\r", "\n")
	f.Fuzz(func(t *testing.T, w1, w2 string) {
		p := &rwPipe{r: strings.NewReader("")}
		c := telnet.NewConn(p, telnet.Options{})
		c.WriteString(w1)
		c.Write([]byte(w2))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		var want []byte
		prev := byte(0)
		for _, b := range []byte(w1 + w2) {
			switch {
			case b == '\n' && prev != '\r':
				want = append(want, '\r', '\n')
			case b == 0xff:
				want = append(want, 0xff, 0xff)
			default:
				want = append(want, b)
			}
			prev = b
		}
		if got := p.out.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("Write(%q) then Write(%q) sent %q, want %q", w1, w2, got, want)
		}
	})
}
