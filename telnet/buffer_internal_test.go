package telnet

import (
	"io"
	"strings"
	"testing"
)

type discard struct{ io.Reader }

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// A reply far larger than usual must not pin its buffer for the rest of the session,
// while an ordinary one keeps its buffer for reuse.
func TestFlushReleasesLargeBuffer(t *testing.T) {
	c := NewConn(discard{strings.NewReader("")}, Options{})
	c.WriteString(strings.Repeat("x", 2048))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if cap(c.out) == 0 {
		t.Error("a 2 KiB buffer was released; it should be reused")
	}
	c.WriteString(strings.Repeat("x", 1<<20))
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if cap(c.out) != 0 {
		t.Errorf("a %d-byte buffer was kept after Flush", cap(c.out))
	}
}
