package telnet_test

import (
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/storify/storify/telnet"
)

// Over a real net.Conn: a deadline that passes in the middle of an IAC sequence is
// reported as os.ErrDeadlineExceeded, and after extending it the session goes on.
func TestNetConnDeadline(t *testing.T) {
	server, client := net.Pipe()
	defer server.Close()
	defer client.Close()
	c := telnet.NewConn(server, telnet.Options{})

	received := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(client)
		received <- b
	}()
	write := func(s string) {
		t.Helper()
		// net.Pipe is synchronous: the write returns once ReadLine has taken the bytes.
		errc := make(chan error, 1)
		go func() {
			_, err := client.Write([]byte(s))
			errc <- err
		}()
		t.Cleanup(func() { <-errc })
	}

	write("pass" + IAC)
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, err := c.ReadLine(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadLine error = %v, want os.ErrDeadlineExceeded", err)
	}
	server.SetReadDeadline(time.Time{})
	write(DO + SGA + "word\r\n")
	line, err := c.ReadLine()
	if line != "password" || err != nil {
		t.Fatalf("ReadLine = %q, %v; want password, nil", line, err)
	}
	c.WriteString("ok\n")
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	server.Close()
	if got, want := string(<-received), IAC+WILL+SGA+"ok\r\n"; got != want {
		t.Fatalf("client received %q, want %q", got, want)
	}
}
