package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's and the console's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// program is storify running in-process with its console on a pipe.
type program struct {
	t       *testing.T
	m       *Main
	console io.WriteCloser
	out     *syncBuffer // the console's stdout
	log     *syncBuffer // stderr: events and errors
	errc    chan error
}

// startProgram runs storify with args (plus --listen 127.0.0.1:0 and --name Test)
// on the database file db, and waits until customers can connect.
func startProgram(t *testing.T, db string, args ...string) *program {
	t.Helper()
	return startProgramLogging(t, nil, db, args...)
}

// startProgramLogging is startProgram with stderr, where the log goes, on w; p.log
// then stays empty. A nil w means p.log.
func startProgramLogging(t *testing.T, w io.Writer, db string, args ...string) *program {
	t.Helper()
	pr, pw := io.Pipe()
	out, log := &syncBuffer{}, &syncBuffer{}
	notTTY := false
	m := NewMain()
	m.Stdin, m.Stdout, m.Stderr, m.Interactive = pr, out, log, &notTTY
	m.ScriptPrompt = "Test manager> "
	if w != nil {
		m.Stderr = w
	}
	m.Ready = make(chan struct{})
	p := &program{t: t, m: m, console: pw, out: out, log: log, errc: make(chan error, 1)}
	args = append([]string{"--db", db, "--listen", "127.0.0.1:0", "--name", "Test"}, args...)
	go func() { p.errc <- m.Run(context.Background(), args, true) }()
	select {
	case <-m.Ready:
	case err := <-p.errc:
		t.Fatalf("storify exited: %v\n%s", err, log)
	case <-time.After(10 * time.Second):
		t.Fatalf("storify did not open\n%s", log)
	}
	t.Cleanup(func() { p.stop() })
	p.waitPrompts(1)
	return p
}

// waitPrompts waits until the console has shown n prompts.
func (p *program) waitPrompts(n int) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(p.out.String(), "Test manager> ") < n {
		if time.Now().After(deadline) {
			p.t.Fatalf("the console did not show prompt %d; output:\n%s\nlog:\n%s", n, p.out, p.log)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitLog waits until the log shows s: log lines are written asynchronously.
func (p *program) waitLog(s string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.log.String(), s) {
		if time.Now().After(deadline) {
			p.t.Errorf("the log does not show %s:\n%s", s, p.log)
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// manager sends one console line and waits for the prompt that ends its reply,
// returning the reply.
func (p *program) manager(line string) string {
	p.t.Helper()
	before := strings.Count(p.out.String(), "Test manager> ")
	if _, err := io.WriteString(p.console, line+"\n"); err != nil {
		p.t.Fatalf("console: %v", err)
	}
	p.waitPrompts(before + 1)
	s := p.out.String()
	i := strings.LastIndex(s[:len(s)-len("Test manager> ")], "Test manager> ")
	return s[i+len("Test manager> ") : len(s)-len("Test manager> ")]
}

// stop closes the console's input (end of input closes the store) and waits.
func (p *program) stop() {
	if p.console == nil {
		return
	}
	p.console.Close()
	p.console = nil
	select {
	case err := <-p.errc:
		if err != nil {
			p.t.Errorf("storify: %v", err)
		}
	case <-time.After(15 * time.Second):
		p.t.Errorf("storify did not close at end of input")
	}
}

// customer is one telnet-less TCP client.
type customer struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dial(t *testing.T, addr net.Addr) *customer {
	t.Helper()
	return dialAddr(t, addr.String())
}

func dialAddr(t *testing.T, addr string) *customer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &customer{t: t, conn: conn, r: bufio.NewReader(conn)}
	if greeting := c.readReply(); !strings.Contains(greeting, "Welcome to Test. Type help or ? to list commands.") {
		t.Errorf("greeting = %q", greeting)
	}
	return c
}

// readReply reads up to and including the prompt.
func (c *customer) readReply() string { return c.readUntil("Test> ") }

func (c *customer) readUntil(marker string) string {
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	for !strings.HasSuffix(b.String(), marker) {
		ch, err := c.r.ReadByte()
		if err != nil {
			c.t.Errorf("reading reply: %v; got %q", err, b.String())
			return b.String()
		}
		b.WriteByte(ch)
	}
	return b.String()
}

func (c *customer) do(line string) string { return c.doUntil(line, "Test> ") }

// doUntil sends line and reads the reply up to marker.
func (c *customer) doUntil(line, marker string) string {
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		c.t.Errorf("sending %q: %v", line, err)
		return ""
	}
	return c.readUntil(marker)
}

var orderRe = regexp.MustCompile(`Order #(\d+) is placed`)

// TestLastTenUnits: 50 customers race for the last 10 units while the manager
// restocks another product. Exactly 10 orders, no overselling, all listed.
func TestLastTenUnits(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "race.db"), "--no-sample")
	p.manager(`addproduct "Last Ten" 9.99 10`)
	p.manager(`addproduct Plenty 1 5`)
	addr := p.m.Addr()

	customers := make([]*customer, 50)
	for i := range customers {
		customers[i] = dial(t, addr)
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		placed []string
		short  int
	)
	start := make(chan struct{})
	for i, c := range customers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if r := c.do(`add "Last Ten"`); !strings.Contains(r, "Added 1 Last Ten") && !strings.Contains(r, "sold out") {
				t.Errorf("add: %q", r)
			}
			r := c.do(fmt.Sprintf("checkout buyer%d", i))
			mu.Lock()
			defer mu.Unlock()
			if m := orderRe.FindStringSubmatch(r); m != nil {
				placed = append(placed, m[1])
			} else if strings.Contains(r, "sold out") || strings.Contains(r, "only") || strings.Contains(r, "cart is empty") {
				short++
			} else {
				t.Errorf("checkout: %q", r)
			}
		}()
	}
	close(start)
	for i := 0; i < 5; i++ {
		if r := p.manager("restock Plenty 10"); !strings.Contains(r, "Plenty:") {
			t.Errorf("restock: %q", r)
		}
	}
	wg.Wait()
	if len(placed) != 10 || short != 40 {
		t.Fatalf("%d orders placed, %d refused; want 10 and 40", len(placed), short)
	}
	products := p.manager("products")
	if !regexp.MustCompile(`1  Last Ten\s+9\.99\s+sold out`).MatchString(products) ||
		!regexp.MustCompile(`2  Plenty\s+1\.00\s+55`).MatchString(products) {
		t.Errorf("products after the race:\n%s", products)
	}
	orders := p.manager("orders")
	for _, id := range placed {
		if !strings.Contains(orders, "#"+id+" ") {
			t.Errorf("order #%s is not listed:\n%s", id, orders)
		}
	}
	if n := strings.Count(orders, " placed "); n != 10 {
		t.Errorf("orders lists %d placed orders, want 10:\n%s", n, orders)
	}
	if sales := p.manager("sales"); !regexp.MustCompile(`Last Ten\s+10\s+99\.90`).MatchString(sales) {
		t.Errorf("sales:\n%s", sales)
	}
}

// TestRestartKeepsOrdersAndStock closes the store and opens it again.
func TestRestartKeepsOrdersAndStock(t *testing.T) {
	db := filepath.Join(t.TempDir(), "restart.db")
	p := startProgram(t, db)
	c := dial(t, p.m.Addr())
	c.do("add 1 3")
	if r := c.do("checkout Ada"); !strings.Contains(r, "Order #1 is placed: 3 units, total 37.50.") {
		t.Fatalf("checkout: %q", r)
	}
	p.manager("ship 1")
	p.stop()

	p = startProgram(t, db)
	if r := p.manager("order 1"); !strings.Contains(r, "Order #1 for Ada, shipped") || !strings.Contains(r, "3 x Blue Mug") {
		t.Errorf("order after restart:\n%s", r)
	}
	if r := p.manager("products"); !regexp.MustCompile(`1  Blue Mug\s+12\.50\s+21\n`).MatchString(r) {
		t.Errorf("products after restart (want 21 Blue Mugs, and the sample added once):\n%s", r)
	}
	if r := p.log.String(); strings.Count(r, "added the sample catalog") != 0 {
		t.Errorf("sample catalog was added again on restart:\n%s", r)
	}
}

// TestConsoleEvents: the console shows customers coming and going, lists them, and
// the manager's messages reach them.
func TestConsoleSeesCustomers(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "c.db"))
	c := dial(t, p.m.Addr())
	c.do("add 2 2")
	if r := p.manager("customers"); !regexp.MustCompile(`\s+1  127\.0\.0\.1:\d+\s+\(guest\)\s+\S+\s+\S+\s+2\n1 connected\.`).MatchString(r) {
		t.Errorf("customers:\n%s", r)
	}
	if r := c.do("checkout Bea"); !strings.Contains(r, "Order #1 is placed") {
		t.Fatalf("checkout: %q", r)
	}
	if r := p.manager("ship 1"); !strings.Contains(r, "Order #1 for Bea is shipped. The customer is told.") {
		t.Errorf("ship: %q", r)
	}
	if got := c.readReply(); !strings.Contains(got, "*** Your order #1 has shipped.") {
		t.Errorf("customer got %q after ship", got)
	}
	p.manager("say Back in five minutes")
	c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := c.r.ReadString('\n') // the blank line before the notice
	line2, _ := c.r.ReadString('\n')
	if !strings.Contains(line+line2, "*** Message from the store: Back in five minutes") {
		t.Errorf("customer got %q %q", line, line2)
	}
	if r := p.manager("kick 1"); !strings.Contains(r, "Customer 1 is disconnected.") {
		t.Errorf("kick: %q", r)
	}
	rest, _ := io.ReadAll(c.r)
	if !strings.Contains(string(rest), "The manager has closed your session. Goodbye.") {
		t.Errorf("kicked customer got %q", rest)
	}
	p.waitLog(`msg="customer connected" session=1`)
}

// TestShutdownSaysGoodbye: end of console input closes the store and tells customers.
func TestShutdownSaysGoodbye(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"))
	c := dial(t, p.m.Addr())
	io.WriteString(p.console, "exit\n")
	rest, _ := io.ReadAll(c.r)
	if !strings.Contains(string(rest), "The store is closing now. Thank you for shopping, goodbye.") {
		t.Errorf("customer got %q at shutdown", rest)
	}
	p.stop()
}

// TestNoEscapeReachesTheManager: whatever a customer types, no terminal escape
// sequence reaches the manager's console or log.
func TestNoEscapeReachesTheManager(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "esc.db"))
	c := dial(t, p.m.Addr())
	c.do("add 1")
	for _, name := range []string{"\x1b]0;pwned\x07Eve", "Mallory\x1b[2J\x1b[H", "\x9b31mZed", "\u202eevil"} {
		c.do("checkout " + name)
	}
	c.do("search \x1b[31mmug")
	p.manager("orders")
	p.manager("customers")
	for what, s := range map[string]string{"console": p.out.String(), "log": p.log.String()} {
		if i := strings.IndexAny(s, "\x1b\x07\u009b\u202e"); i >= 0 {
			t.Errorf("%s holds a control character at %d: %q", what, i, s[max(0, i-40):min(len(s), i+40)])
		}
	}
}

// TestPasswordOverTelnet: over a real TCP connection the password prompt is wrapped
// in IAC WILL ECHO / IAC WONT ECHO, the password never comes back, and the database
// file does not hold it.
func TestPasswordOverTelnet(t *testing.T) {
	db := filepath.Join(t.TempDir(), "pw.db")
	p := startProgram(t, db)
	conn, err := net.Dial("tcp", p.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var seen bytes.Buffer
	r := bufio.NewReader(conn)
	until := func(marker string) string {
		t.Helper()
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		start := seen.Len()
		for seen.Len() == start || !bytes.HasSuffix(seen.Bytes(), []byte(marker)) {
			b, err := r.ReadByte()
			if err != nil {
				t.Fatalf("waiting for %q: %v; got %q", marker, err, seen.Bytes()[start:])
			}
			seen.WriteByte(b)
		}
		return string(seen.Bytes()[start:])
	}
	send := func(s string) { io.WriteString(conn, s) }
	const willEcho, doEcho, wontEcho, dontEcho = "\xff\xfb\x01", "\xff\xfd\x01", "\xff\xfc\x01", "\xff\xfe\x01"
	const secret = "s3cret-Passw0rd"

	until("Test> ")
	send("register Ada\r\n")
	if got := until("Password: "); !strings.HasSuffix(got, willEcho+"Password: ") {
		t.Errorf("before the password prompt: %q, want IAC WILL ECHO right before it", got)
	}
	send(doEcho + secret + "\r\n") // a telnet client agrees, stops echoing, sends the password
	if got := until("Password again: "); strings.Contains(got, wontEcho) {
		t.Errorf("echo came back between the two password prompts: %q", got)
	}
	send(secret + "\r\n")
	got := until("Test> ")
	if !strings.Contains(got, wontEcho) || !strings.Contains(got, "Welcome, Ada") {
		t.Errorf("after the password: %q, want IAC WONT ECHO and the welcome", got)
	}
	send(dontEcho + "logout\r\nlogin Ada\r\n")
	until("Password: ")
	send(doEcho + secret + "\r\n")
	if got := until("Test> "); !strings.Contains(got, "Welcome back, Ada.") {
		t.Errorf("login: %q", got)
	}
	send("add 2 2\r\nadd 1\r\ncheckout\r\nadd 4\r\n")
	until("Test> ")
	until("Test> ")
	if got := until("Test> "); !strings.Contains(got, "Thank you, Ada. Order #1 is placed") {
		t.Errorf("checkout: %q", got)
	}
	until("Test> ")

	// A second connection, logged in to the same account, has the same cart and orders;
	// the first one's session goes on.
	other := dial(t, p.m.Addr())
	other.doUntil("login Ada", "Password: ")
	if got := other.do(secret); !strings.Contains(got, "Welcome back, Ada.") || !strings.Contains(got, "Your cart holds 1 unit;") {
		t.Errorf("second connection login: %q", got)
	}
	if got := other.do("cart"); !strings.Contains(got, "1 x Tea Sampler") {
		t.Errorf("second connection cart: %q", got)
	}
	if got := other.do("orders"); !strings.Contains(got, "Order #1 for Ada, placed") || !strings.Contains(got, "2 x Notebook") {
		t.Errorf("second connection orders: %q", got)
	}
	if got := p.manager("customers"); strings.Count(got, "Ada (account)") != 2 {
		t.Errorf("customers does not show both logged-in sessions:\n%s", got)
	}
	if got := p.manager("accounts"); !regexp.MustCompile(`Ada\s+\S+ \S+\s+1\n1 accounts?\.`).MatchString(got) {
		t.Errorf("accounts:\n%s", got)
	}
	if bytes.Contains(seen.Bytes(), []byte(secret)) {
		t.Errorf("the password came back in the server's output")
	}
	p.stop()
	for _, name := range []string{db, db + "-wal"} {
		b, err := os.ReadFile(name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			t.Errorf("%s holds the password in clear", name)
		}
	}
}
