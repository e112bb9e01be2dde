package ssh_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// benchShell is one customer's shell session without a PTY, read line by line.
type benchShell struct {
	in  io.Writer
	out *bufio.Reader
}

func openBenchShell(b *testing.B, addr string, hostKey gossh.PublicKey, until []byte) *benchShell {
	c, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: "bench", Auth: []gossh.AuthMethod{guest}, HostKeyCallback: gossh.FixedHostKey(hostKey),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	s, err := c.NewSession()
	if err != nil {
		b.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		b.Fatal(err)
	}
	sh := &benchShell{in: in, out: bufio.NewReader(out)}
	sh.readUntil(b, until)
	return sh
}

// readUntil reads until the reply ends with until.
func (sh *benchShell) readUntil(b *testing.B, until []byte) {
	var got []byte
	for !bytes.HasSuffix(got, until) {
		c, err := sh.out.ReadByte()
		if err != nil {
			b.Fatalf("reading the reply: %v after %q", err, got)
		}
		got = append(got, c)
	}
}

// roundTrips sends list from parallelism customers at once and waits for each
// reply's end, until b.N replies.
func roundTrips(b *testing.B, parallelism int, addr string, hostKey gossh.PublicKey, until []byte) {
	shells := make(chan *benchShell, parallelism)
	for range parallelism {
		shells <- openBenchShell(b, addr, hostKey, until)
	}
	b.SetParallelism((parallelism + 1) / 2)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		sh := <-shells
		for pb.Next() {
			io.WriteString(sh.in, "list\n")
			sh.readUntil(b, until)
		}
		shells <- sh
	})
}

// BenchmarkSSHListRoundTrip: one customer's list over SSH without a PTY, as
// ../shared/bench/compare's ssh step sends it.
func BenchmarkSSHListRoundTrip(b *testing.B) {
	sh := benchShop(b)
	roundTrips(b, 1, sh.ssh.String(), sh.hostKey, []byte("Test> "))
}

// BenchmarkSSHListRoundTrip100: a hundred customers at once.
func BenchmarkSSHListRoundTrip100(b *testing.B) {
	sh := benchShop(b)
	roundTrips(b, 100, sh.ssh.String(), sh.hostKey, []byte("Test> "))
}

// BenchmarkBareSSHRoundTrip and BenchmarkBareSSHRoundTrip100 are the floor the
// two above are measured against: x/crypto/ssh with a shell that answers every
// line with a fixed 20-line reply and does nothing else, like the compare
// script's sshfloor.
func BenchmarkBareSSHRoundTrip(b *testing.B) {
	addr, key := bareSSH(b)
	roundTrips(b, 1, addr, key, []byte("END\n"))
}

func BenchmarkBareSSHRoundTrip100(b *testing.B) {
	addr, key := bareSSH(b)
	roundTrips(b, 100, addr, key, []byte("END\n"))
}

func benchShop(b *testing.B) *shop {
	sh := startShop(b, &server.Server{}, &ssh.Transport{}, false)
	for i := range 18 { // 20 products, as the compare script has
		p := storify.NewProduct{Name: fmt.Sprintf("item%02d", i), Price: storify.Cents(100 + i), Stock: 1_000_000}
		if _, err := sh.store.AddProduct(b.Context(), p); err != nil {
			b.Fatal(err)
		}
	}
	return sh
}

// bareSSH serves the bare floor on a loopback port until the benchmark ends.
func bareSSH(b *testing.B) (string, gossh.PublicKey) {
	var reply bytes.Buffer
	for i := range 20 {
		fmt.Fprintf(&reply, "item%02d 1.%02d 1000\n", i, i)
	}
	reply.WriteString("END\n")
	host := newKey(b)
	cfg := &gossh.ServerConfig{KeyboardInteractiveCallback: func(gossh.ConnMetadata, gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
		return nil, nil
	}}
	cfg.AddHostKey(host)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var wg sync.WaitGroup
	b.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { serveBare(c, cfg, reply.Bytes()) })
		}
	})
	return l.Addr().String(), host.PublicKey()
}

func serveBare(c net.Conn, cfg *gossh.ServerConfig, reply []byte) {
	defer c.Close()
	_, chans, reqs, err := gossh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go gossh.DiscardRequests(reqs)
	for nc := range chans {
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		go func() {
			for req := range creqs {
				req.Reply(req.Type == "shell", nil)
			}
		}()
		go func() {
			defer ch.Close()
			ch.Write([]byte("END\n"))
			r := bufio.NewReader(ch)
			for {
				if _, err := r.ReadSlice('\n'); err != nil {
					return
				}
				if _, err := ch.Write(reply); err != nil {
					return
				}
			}
		}()
	}
}
