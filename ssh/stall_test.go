package ssh_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify/internal/stalltest"
	"github.com/storify/storify/server"
	"github.com/storify/storify/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// stallSSH opens a shell session on c and sends line over and over without ever
// reading the replies, until the server stops taking input (no progress for half
// a second): its session is then blocked writing to a full channel window. It
// gives up after 64 MiB.
func stallSSH(t *testing.T, c *gossh.Client, line string) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	if _, err := s.StdoutPipe(); err != nil { // never read
		t.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	msg := []byte(strings.Repeat(line+"\n", 64<<10/(len(line)+1)))
	var sent atomic.Int64
	go func() {
		for sent.Load() < 64<<20 {
			if _, err := in.Write(msg); err != nil {
				return
			}
			sent.Add(int64(len(msg)))
		}
	}()
	last := int64(-1)
	for {
		time.Sleep(500 * time.Millisecond)
		n := sent.Load()
		if n == last {
			t.Logf("stalled after %d KiB of commands", n>>10)
			return
		}
		if n >= 64<<20 {
			t.Fatal("the server kept reading commands whose replies were never read")
		}
		last = n
	}
}

// TestNeverReadingSSHClientStallsNoOne: with an SSH customer whose channel window
// stays full, and a write timeout of a minute, the console's customers, say,
// ship and kick each answer at once, an SSH manager's console too, and the
// other customers (telnet and SSH) are served and told; the kicked one is gone
// within the goodbye's second.
func TestNeverReadingSSHClientStallsNoOne(t *testing.T) {
	sh := startShop(t, &server.Server{WriteTimeout: time.Minute}, &ssh.Transport{}, true)
	alice := openTerm(t, sh.mustDial(t, "alice", guest), false)
	alice.until("Test> ")
	alice.send("add Mug\ncheckout Alice\n")
	if got := alice.until("Order #1 is placed: 1 unit, total 4.50.\nTest> "); !strings.Contains(got, "Added 1 Mug") {
		t.Fatalf("alice: %q", got)
	}
	tel := dialTelnet(t, sh)
	tel.until("Test> ")
	boss := openTerm(t, sh.mustDial(t, ssh.ManagerUser, gossh.PublicKeys(sh.admin)), true)
	boss.until("Test manager> ")

	stallSSH(t, sh.mustDial(t, "sink", guest), "help")
	waitFor(t, func() bool { return len(sh.srv.Customers()) == 3 })

	const limit = 2 * time.Second // a bound to catch a stall, not a speed measure
	var reply string
	stalltest.Timed(t, "customers", limit, func() { reply = stalltest.ManagerExec(sh.store, sh.srv, "customers") })
	if !strings.Contains(reply, "Alice") || strings.Count(reply, "127.0.0.1") != 3 {
		t.Errorf("customers = %q", reply)
	}
	stalltest.Timed(t, "say", limit, func() { reply = stalltest.ManagerExec(sh.store, sh.srv, "say Closing at six") })
	if got := alice.until("Test> "); !strings.Contains(got, "Closing at six") {
		t.Errorf("alice got %q after say", got)
	}
	if got := tel.until("Test> "); !strings.Contains(got, "Closing at six") {
		t.Errorf("the telnet customer got %q after say", got)
	}
	stalltest.Timed(t, "ship from the SSH manager", limit, func() {
		boss.send("ship 1\r")
		reply = boss.until("Test manager> ")
	})
	if !strings.Contains(reply, "shipped") {
		t.Errorf("the SSH manager's ship: %q", reply)
	}
	if got := alice.until("Test> "); !strings.Contains(got, "#1") || !strings.Contains(got, "shipped") {
		t.Errorf("alice got %q after ship", got)
	}
	var sinkID int64 // the newest customer
	for _, c := range sh.srv.Customers() {
		sinkID = max(sinkID, c.ID)
	}
	stalltest.Timed(t, "kick", limit, func() { reply = stalltest.ManagerExec(sh.store, sh.srv, fmt.Sprintf("kick %d", sinkID)) })
	stalltest.Timed(t, "kicked customer gone", 5*time.Second, func() {
		for len(sh.srv.Customers()) != 2 {
			time.Sleep(5 * time.Millisecond)
		}
	})
	alice.send("cart\n")
	if got := alice.until("Test> "); !strings.Contains(got, "Your cart is empty") {
		t.Errorf("alice's cart: %q", got)
	}
}

// TestWriteTimeoutDropsSSHClient: a client whose window stays full is dropped
// after WriteTimeout on its own.
func TestWriteTimeoutDropsSSHClient(t *testing.T) {
	sh := startShop(t, &server.Server{WriteTimeout: time.Second}, &ssh.Transport{}, false)
	stallSSH(t, sh.mustDial(t, "sink", guest), "help")
	stalltest.Timed(t, "dropped", 10*time.Second, func() {
		for sh.srv.Len() != 0 {
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// TestShutdownWithNeverReadingSSHClients: shutdown is bounded whatever the write
// timeout, and a reading SSH customer is told goodbye.
func TestShutdownWithNeverReadingSSHClients(t *testing.T) {
	sh := startShop(t, &server.Server{WriteTimeout: time.Minute}, &ssh.Transport{}, false)
	for range 3 {
		stallSSH(t, sh.mustDial(t, "sink", guest), "help")
	}
	other := openTerm(t, sh.mustDial(t, "ada", guest), false)
	other.until("Test> ")
	// A connection still in its handshake is closed too.
	half, err := net.Dial("tcp", sh.ssh.String())
	if err != nil {
		t.Fatal(err)
	}
	defer half.Close()
	waitFor(t, func() bool { return sh.srv.Len() == 5 })
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	stalltest.Timed(t, "Shutdown", 6*time.Second, func() { err = sh.srv.Shutdown(ctx) })
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if got := other.rest(); !strings.Contains(got, "The store is closing now.") {
		t.Errorf("the reading customer got %q", got)
	}
	half.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, half); err != nil {
		t.Errorf("the connection in its handshake: %v, want it closed", err)
	}
}

// telnetClient is a plain TCP customer.
type telnetClient struct{ *term }

func dialTelnet(t *testing.T, sh *shop) *telnetClient {
	t.Helper()
	conn, err := net.Dial("tcp", sh.telnet.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	tm := &term{t: t, in: conn, out: make(chan byte, 1<<16)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			for _, b := range buf[:n] {
				tm.out <- b
			}
			if err != nil {
				close(tm.out)
				return
			}
		}
	}()
	return &telnetClient{tm}
}
