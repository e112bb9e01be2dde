package server_test

import (
	"io"
	"strings"
	"testing"

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
