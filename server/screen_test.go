package server_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify/server"
)

// TestNoticeKeepsWhatWasTyped: a client that sends characters as they are typed
// (telnet in character mode, socat raw) sees its half-typed line again after a
// notice, and the line it finishes is the whole line.
func TestNoticeKeepsWhatWasTyped(t *testing.T) {
	srv := &server.Server{}
	addr := startServer(t, srv)
	c := connect(t, addr)
	c.until("echo> ")
	io.WriteString(c.conn, "hel\xff\xf6") // IAC AYT: its answer shows that "hel" was read
	c.until("[yes]\r\n")
	srv.Broadcast("hello all")
	if got := c.until("echo> hel"); got != "\r\n*** Message from the store: hello all\r\necho> hel" {
		t.Errorf("after the notice: %q", got)
	}
	c.send("lo")
	if got := c.until("echo> "); got != "you said: hello\r\necho> " {
		t.Errorf("reply = %q", got)
	}
}

// TestInterruptAtAQuestion: Ctrl-C (IAC IP) at a question cancels it on a line of
// its own, not after the ^C the client showed.
func TestInterruptAtAQuestion(t *testing.T) {
	_, addr, _ := shopServer(t, &server.Server{})
	c := connect(t, addr)
	c.until("Test> ")
	c.send("add")
	c.until("Product (number or name): ")
	io.WriteString(c.conn, "Blu\xff\xf4")
	if got := c.until("Test> "); got != "\r\nCancelled.\r\nTest> " {
		t.Errorf("after Ctrl-C: %q", got)
	}
	c.send("cart")
	if got := c.until("Test> "); !strings.Contains(got, "Your cart is empty") {
		t.Errorf("cart: %q", got)
	}
}

// TestQuitEndsWithoutReset: input that follows quit (a line typed ahead, telnet
// answers in flight) does not turn the end of the session into a connection
// reset: the client reads the goodbye and then a clean end of stream.
func TestQuitEndsWithoutReset(t *testing.T) {
	addr := startServer(t, &server.Server{})
	for i := range 5 {
		c := connect(t, addr)
		c.until("echo> ")
		io.WriteString(c.conn, "slow\r\nquit\r\n")
		time.Sleep(50 * time.Millisecond) // while the server works on slow
		io.WriteString(c.conn, "typed ahead\r\n\xff\xfb\x1f")
		c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c.r)
		if err != nil || string(b) != "you said: slow\r\necho> bye\r\n" {
			t.Fatalf("connection %d: read %q, %v; want the goodbye and a clean end", i, b, err)
		}
	}
}
