package telnet

import (
	"io"
	"strings"
	"testing"
)

type discard struct{ io.Reader }

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// After a reply is sent the session holds no output buffer (an idle customer costs
// none), and a reply far larger than usual does not go back to the pool, where it
// would pin its memory.
func TestFlushReleasesBuffer(t *testing.T) {
	c := NewConn(discard{strings.NewReader("")}, Options{})
	for _, size := range []int{2048, 1 << 20} {
		c.WriteString(strings.Repeat("x", size))
		if err := c.Flush(); err != nil {
			t.Fatal(err)
		}
		if c.out != nil || c.outP != nil {
			t.Errorf("after a %d-byte reply the Conn still holds a %d-byte buffer", size, cap(c.out))
		}
	}
	for range 4 {
		if b := outPool.Get().(*[]byte); cap(*b) > maxKeptOutput {
			t.Errorf("the pool holds a %d-byte buffer", cap(*b))
		}
	}
}
