package ssh_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/stalltest"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
	"github.com/storify/storify/ssh"
	gossh "golang.org/x/crypto/ssh"
)

// shop is a store with one product served over telnet and SSH by one server.
type shop struct {
	srv     *server.Server
	tr      *ssh.Transport
	store   storify.Store
	telnet  net.Addr
	ssh     net.Addr
	admin   gossh.Signer // the key in AdminKeys, if any
	hostKey gossh.PublicKey
}

// newKey makes an Ed25519 key for a client.
func newKey(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startShop starts srv (its Handler set to the shop) on telnet and tr on SSH,
// with an admin key when admin is set; both stop when the test ends.
func startShop(t testing.TB, srv *server.Server, tr *ssh.Transport, admin bool, wrap ...func(server.Handler) server.Handler) *shop {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	if _, err := store.AddProduct(ctx, storify.NewProduct{Name: "Mug", Price: 450, Stock: 1000, Description: "A sturdy mug."}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.AddProduct(ctx, storify.NewProduct{Name: "Blue Pen", Price: 150, Stock: 10}); err != nil {
		t.Fatal(err)
	}
	srv.Name = "Test"
	// One throttle and one hashing budget, shared with telnet's login command.
	tr.Throttle = shell.NewLoginThrottle()
	tr.Passwords = shell.NewPasswords(shell.PasswordBudget{})
	srv.Handler = server.Shop(store, "Test", slog.New(slog.DiscardHandler), server.ShopOptions{Throttle: tr.Throttle, Passwords: tr.Passwords})
	for _, w := range wrap {
		srv.Handler = w(srv.Handler)
	}
	key, err := ssh.StoreHostKey(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	tr.Server, tr.Store, tr.HostKey = srv, store, key
	sh := &shop{srv: srv, tr: tr, store: store, hostKey: key.PublicKey()}
	if admin {
		sh.admin = newKey(t)
		tr.AdminKeys = []ssh.AdminKey{{Key: sh.admin.PublicKey(), Comment: "boss@laptop"}}
	}
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sh.telnet, sh.ssh = tl.Addr(), sl.Addr()
	done := make(chan error, 2)
	go func() { done <- srv.Serve(tl) }()
	go func() { done <- tr.Serve(sl) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		for range 2 {
			if err := <-done; !errors.Is(err, server.ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		}
	})
	return sh
}

// guest is keyboard-interactive authentication that answers no questions.
var guest = gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) { return nil, nil })

func (sh *shop) dial(user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", sh.ssh.String(), &gossh.ClientConfig{
		User: user, Auth: auth,
		HostKeyCallback: gossh.FixedHostKey(sh.hostKey),
		Timeout:         10 * time.Second,
	})
}

func (sh *shop) mustDial(t *testing.T, user string, auth ...gossh.AuthMethod) *gossh.Client {
	t.Helper()
	c, err := sh.dial(user, auth...)
	if err != nil {
		t.Fatalf("ssh %s: %v", user, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// term is a shell session on an SSH connection, read by a goroutine.
type term struct {
	t   *testing.T
	s   *gossh.Session
	in  io.WriteCloser
	out chan byte
}

func openTerm(t *testing.T, c *gossh.Client, pty bool) *term {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if pty {
		if err := s.RequestPty("xterm", 24, 40, gossh.TerminalModes{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, s: s, in: in, out: make(chan byte, 1<<16)}
	go func() {
		r := bufio.NewReader(out)
		for {
			b, err := r.ReadByte()
			if err != nil {
				close(tm.out)
				return
			}
			tm.out <- b
		}
	}()
	return tm
}

// until reads until marker and returns what was read.
func (tm *term) until(marker string) string {
	tm.t.Helper()
	var b strings.Builder
	timeout := time.After(10 * time.Second)
	for !strings.HasSuffix(b.String(), marker) {
		select {
		case c, ok := <-tm.out:
			if !ok {
				tm.t.Fatalf("waiting for %q: the session ended; got %q", marker, b.String())
			}
			b.WriteByte(c)
		case <-timeout:
			tm.t.Fatalf("waiting for %q: timed out; got %q", marker, b.String())
		}
	}
	return b.String()
}

// rest reads to the end of the session.
func (tm *term) rest() string {
	tm.t.Helper()
	var b strings.Builder
	timeout := time.After(10 * time.Second)
	for {
		select {
		case c, ok := <-tm.out:
			if !ok {
				return b.String()
			}
			b.WriteByte(c)
		case <-timeout:
			tm.t.Fatalf("waiting for the end: timed out; got %q", b.String())
		}
	}
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.in, s); err != nil {
		tm.t.Fatal(err)
	}
}

// exec runs one command and returns its output and exit status.
func exec(t *testing.T, c *gossh.Client, cmd string) (string, int) {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Output(cmd)
	var ee *gossh.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitStatus()
	}
	t.Fatalf("exec %q: %v", cmd, err)
	return "", -1
}

// The auth matrix: customers get in with any key or none, as any user but
// manager; manager needs one of the admin keys, and is refused alike otherwise.
func TestAuthentication(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, true)
	someKey := gossh.PublicKeys(newKey(t))

	for _, c := range []struct {
		name string
		user string
		auth []gossh.AuthMethod
	}{
		{"no key", "alice", []gossh.AuthMethod{guest}},
		{"any key", "bob", []gossh.AuthMethod{someKey}},
		{"the admin key as a customer", "carol", []gossh.AuthMethod{gossh.PublicKeys(sh.admin)}},
	} {
		out, code := exec(t, sh.mustDial(t, c.user, c.auth...), "whoami")
		if code != 0 || !strings.Contains(out, "You are shopping as a guest") {
			t.Errorf("%s: whoami = %q, status %d", c.name, out, code)
		}
	}

	out, code := exec(t, sh.mustDial(t, ssh.ManagerUser, gossh.PublicKeys(sh.admin)), "hostkey")
	if want := ssh.Fingerprint(sh.hostKey); code != 0 || !strings.Contains(out, want) {
		t.Errorf("manager's hostkey = %q, status %d; want %s", out, code, want)
	}

	var refusals []string
	for _, auth := range [][]gossh.AuthMethod{{someKey}, {guest}, {someKey, guest}, {gossh.Password("secret")}} {
		_, err := sh.dial(ssh.ManagerUser, auth...)
		if err == nil {
			t.Fatalf("manager with %v got in", auth)
		}
		refusals = append(refusals, strings.Split(err.Error(), "attempted methods")[0])
	}
	// Without admin keys, the manager's own key is refused as any other is.
	noAdmins := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	noAdmins.admin = sh.admin
	if _, err := noAdmins.dial(ssh.ManagerUser, gossh.PublicKeys(sh.admin)); err == nil {
		t.Fatal("manager got in with no --admin-keys")
	} else {
		refusals = append(refusals, strings.Split(err.Error(), "attempted methods")[0])
	}
	for _, r := range refusals[1:] {
		if r != refusals[0] {
			t.Errorf("refusals differ: %q and %q", refusals[0], r)
		}
	}
	t.Logf("refusal: %s", refusals[0])
}

// An exec request runs one command: status 0, or 1 when the command failed.
func TestExecExitStatus(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	for _, tc := range []struct {
		cmd  string
		code int
		want string
	}{
		{"show 1", 0, "#1 Mug\n  A sturdy mug.\n  Price: 4.50\n  In stock: 1000\n"},
		{"show mug", 0, "#1 Mug"},
		{"show 99", 1, "There is no product #99"},
		{"frobnicate", 1, "Unknown command"},
		{"add", 1, "Product (number or name): "},
		{"list", 0, "Blue Pen"},
		{"", 0, ""},
	} {
		out, code := exec(t, sh.mustDial(t, "ada", guest), tc.cmd) // one session per connection
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("exec %q = %q, status %d; want %q, status %d", tc.cmd, out, code, tc.want, tc.code)
		}
		if strings.Contains(out, "\r") || strings.Contains(out, "Welcome") {
			t.Errorf("exec %q = %q: no greeting and no CR wanted", tc.cmd, out)
		}
	}
	// The manager's commands too.
	mgr := startShop(t, &server.Server{}, &ssh.Transport{}, true)
	m := func() *gossh.Client { return mgr.mustDial(t, ssh.ManagerUser, gossh.PublicKeys(mgr.admin)) }
	if out, code := exec(t, m(), "restock Mug 5"); code != 0 || !strings.Contains(out, "1005 in stock") {
		t.Errorf("manager exec restock = %q, %d", out, code)
	}
	if out, code := exec(t, m(), "ship 42"); code != 1 || !strings.Contains(out, "42") {
		t.Errorf("manager exec ship 42 = %q, %d", out, code)
	}
}

// A shop tour without a terminal: lines in, lines out with LF, a prompt after
// every reply, and the session ends at the end of input with status 0.
func TestLineModeTour(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	tm := openTerm(t, sh.mustDial(t, "ada", guest), false)
	if got := tm.until("Test> "); got != "Welcome to Test. Type help or ? to list commands.\nTest> " {
		t.Errorf("greeting = %q", got)
	}
	tm.send("add mug 2\n")
	if got := tm.until("Test> "); got != "Added 2 Mug to your cart (2 in cart, 4.50 each).\nTest> " {
		t.Errorf("add = %q", got)
	}
	tm.send("checkout\r\n") // CR LF is one line end
	if got := tm.until("Your name: "); got != "Your name: " {
		t.Errorf("checkout asks %q", got)
	}
	tm.send("Ada \x1b[31mLovelace\x1b[0m\x07\n") // escapes and controls never reach a line
	if got := tm.until("Test> "); !strings.Contains(got, "Thank you, Ada Lovelace. Order #1 is placed: 2 units, total 9.00.\n") {
		t.Errorf("checkout = %q", got)
	}
	tm.send("hel\x03") // Ctrl-C cancels the line
	if got := tm.until("Test> "); got != "\nTest> " {
		t.Errorf("after Ctrl-C: %q", got)
	}
	tm.send("orders\n")
	if got := tm.until("Test> "); !strings.Contains(got, "Ada Lovelace") {
		t.Errorf("orders = %q", got)
	}
	tm.in.Close()
	tm.rest()
	if err := tm.s.Wait(); err != nil {
		t.Errorf("the session ended with %v, want status 0", err)
	}
	if orders, _ := sh.store.Orders(context.Background(), storify.OrderFilter{}); len(orders) != 1 || orders[0].Customer != "Ada Lovelace" {
		t.Errorf("orders in the store: %+v", orders)
	}
}

// MaxCustomers counts telnet and SSH customers together; an SSH customer over
// the limit is told why in the banner.
func TestLimitsCountBothTransports(t *testing.T) {
	sh := startShop(t, &server.Server{MaxCustomers: 2}, &ssh.Transport{}, false)
	tel, err := net.Dial("tcp", sh.telnet.String())
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Close()
	openTerm(t, sh.mustDial(t, "ada", guest), false).until("Test> ")
	waitFor(t, func() bool { return sh.srv.Len() == 2 })

	var banner string
	_, err = gossh.Dial("tcp", sh.ssh.String(), &gossh.ClientConfig{
		User: "bob", Auth: []gossh.AuthMethod{guest}, HostKeyCallback: gossh.FixedHostKey(sh.hostKey),
		BannerCallback: func(msg string) error { banner = msg; return nil }, Timeout: 10 * time.Second,
	})
	if err == nil || !strings.Contains(banner, "The store is full right now") {
		t.Errorf("a third customer over SSH: err %v, banner %q", err, banner)
	}
	third, err := net.Dial("tcp", sh.telnet.String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, _ := io.ReadAll(third); !strings.Contains(string(b), "The store is full right now") {
		t.Errorf("a third customer over telnet got %q", b)
	}
}

// A client that connects and says nothing is dropped after HandshakeTimeout; one
// that keeps failing authentication after MaxAuthTries.
func TestHandshakeTimeoutAndAuthTries(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{HandshakeTimeout: 300 * time.Millisecond, MaxAuthTries: 3}, true)
	conn, err := net.Dial("tcp", sh.ssh.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	stalltest.Timed(t, "silent client dropped", 5*time.Second, func() {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		io.Copy(io.Discard, conn) // the server's version line, then the close
	})
	waitFor(t, func() bool { return sh.srv.Len() == 0 })

	var keys []gossh.Signer
	for range 10 {
		keys = append(keys, newKey(t))
	}
	tried := 0
	counting := gossh.PublicKeysCallback(func() ([]gossh.Signer, error) { tried = len(keys); return keys, nil })
	_, err = sh.dial(ssh.ManagerUser, counting)
	if err == nil {
		t.Fatal("ten wrong keys got in")
	}
	if !strings.Contains(err.Error(), "disconnect") && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("after too many tries: %v, want the server to disconnect", err)
	}
	t.Logf("after %d keys offered: %v", tried, err)
}

// A notice reaches an SSH customer waiting at the prompt at once, a kick ends
// the session, and an idle one is warned and then dropped.
func TestNoticesKickAndIdle(t *testing.T) {
	sh := startShop(t, &server.Server{IdleTimeout: 1500 * time.Millisecond, IdleWarning: 1200 * time.Millisecond}, &ssh.Transport{}, false)
	a := openTerm(t, sh.mustDial(t, "ada", guest), false)
	a.until("Test> ")
	b := openTerm(t, sh.mustDial(t, "bob", guest), true)
	b.until("Test> ")
	waitFor(t, func() bool { return len(sh.srv.Customers()) == 2 })
	sh.srv.Broadcast("hello all")
	if got := a.until("Test> "); got != "\n*** Message from the store: hello all\nTest> " {
		t.Errorf("notice without a terminal: %q", got)
	}
	if got := b.until("Test> "); got != "\r\n*** Message from the store: hello all\r\nTest> " {
		t.Errorf("notice on a terminal: %q", got)
	}
	sh.srv.Kick(sh.srv.Customers()[1].ID)
	// (wrapped at the terminal's 40 columns)
	if got := b.rest(); got != "\r\nThe manager has closed your session.\r\nGoodbye.\r\n" {
		t.Errorf("kicked: %q", got)
	}
	if got := a.until("Test> "); !strings.Contains(got, "You have been idle a while") {
		t.Errorf("idle warning: %q", got)
	}
	if got := a.rest(); !strings.Contains(got, "You have been idle too long. Goodbye.") {
		t.Errorf("idle end: %q", got)
	}
}

// panicky panics on "panic" and serves the shop otherwise.
type panicky struct{ server.Handler }

func (p panicky) Prompt() string { return p.Handler.(server.Prompter).Prompt() }

func (p panicky) ServeSession(ctx context.Context, s *server.Session) {
	if s.Command() == "panic" {
		panic("boom")
	}
	p.Handler.ServeSession(ctx, s)
}

// A panic in one SSH session ends only that one.
func TestPanicEndsOnlyThatSession(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false, func(h server.Handler) server.Handler { return panicky{h} })
	a := openTerm(t, sh.mustDial(t, "ada", guest), false)
	a.until("Test> ")
	out, code := exec(t, sh.mustDial(t, "bob", guest), "panic")
	if code == 0 || !strings.Contains(out, "Sorry, something went wrong on our side. Goodbye.") {
		t.Errorf("the panicking session: %q, status %d", out, code)
	}
	a.send("show 1\n")
	if got := a.until("Test> "); !strings.Contains(got, "#1 Mug") {
		t.Errorf("the other session: %q", got)
	}
}

// The host key kept in the store is the same at every start.
func TestStoreHostKeyIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	var fps []string
	for range 2 {
		store, err := sqlite.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		key, err := ssh.StoreHostKey(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		if key.PublicKey().Type() != gossh.KeyAlgoED25519 {
			t.Errorf("host key type %s", key.PublicKey().Type())
		}
		fps = append(fps, ssh.Fingerprint(key.PublicKey()))
		store.Close()
	}
	if fps[0] != fps[1] || !strings.HasPrefix(fps[0], "SHA256:") {
		t.Errorf("fingerprints %v, want one SHA256 fingerprint twice", fps)
	}
}

func TestReadAdminKeys(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	path := filepath.Join(t.TempDir(), "keys")
	text := "# managers\n\n" + strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k1.PublicKey()))) + " boss@laptop\n" +
		string(gossh.MarshalAuthorizedKey(k2.PublicKey()))
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ssh.ReadAdminKeys(path)
	if err != nil || len(keys) != 2 || keys[0].Comment != "boss@laptop" || ssh.Fingerprint(keys[1].Key) != ssh.Fingerprint(k2.PublicKey()) {
		t.Errorf("ReadAdminKeys = %+v, %v", keys, err)
	}
	for _, bad := range []string{"", "# nothing\n", "not a key\n", `command="x" ` + string(gossh.MarshalAuthorizedKey(k1.PublicKey()))} {
		os.WriteFile(path, []byte(bad), 0o600)
		if _, err := ssh.ReadAdminKeys(path); err == nil {
			t.Errorf("ReadAdminKeys(%q) succeeded", bad)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A terminal's size is honoured: the editor wraps at the width the client gave
// with pty-req, and at the new one after window-change.
func TestWindowSize(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	tm := openTerm(t, sh.mustDial(t, "ada", guest), true) // 40 columns
	tm.until("Test> ")
	tm.send("abcdefghijklmnopqrstuvwxyz0123456789")
	// Prompt and text fill the 40 columns exactly at the 34th character: from
	// there the line is drawn again with the cursor on the next row.
	if got := tm.until("\r\x1b[JTest> abcdefghijklmnopqrstuvwxyz01234567\r\n"); !strings.HasPrefix(got, "abcdefghijklmnopqrstuvwxyz0123456") {
		t.Errorf("wrapping at 40 columns: %q", got)
	}
	tm.until("89") // typed on the second row
	tm.send("\x15")
	tm.until("\x1b[1A\r\x1b[JTest> ") // up to the prompt's row, cleared
	if err := tm.s.WindowChange(24, 12); err != nil {
		t.Fatal(err)
	}
	// The resize reaches the session's goroutine through the connection's
	// control goroutine; give it a moment before typing.
	time.Sleep(200 * time.Millisecond)
	tm.send("abcdef")
	if got := tm.until("\r\x1b[JTest> abcdef\r\n"); got != "abcde\r\x1b[JTest> abcdef\r\n" {
		t.Errorf("wrapping at 12 columns after window-change: %q", got)
	}
}

// An exec command is cleaned as a typed line is: control characters and escape
// sequences never reach the shell, nor the error line echoing it.
func TestExecCommandIsCleaned(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	out, code := exec(t, sh.mustDial(t, "ada", guest), "show \x1b[2J\x07M\x1b[31mug\r\n")
	if code != 0 || !strings.HasPrefix(out, "#1 Mug\n") {
		t.Errorf("exec with escapes: %q, status %d", out, code)
	}
}

// A command run with a terminal (ssh -t HOST list) gets CR LF line ends, as the
// client's raw terminal needs.
func TestExecWithTerminal(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	s, err := sh.mustDial(t, "ada", guest).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RequestPty("xterm", 24, 80, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("show 1")
	if err != nil || string(out) != "#1 Mug\r\n  A sturdy mug.\r\n  Price: 4.50\r\n  In stock: 1000\r\n" {
		t.Errorf("exec with a PTY: %q, %v", out, err)
	}
}

// TestListsPagedToTheTerminal: over SSH with a terminal, long lists come a page
// at a time to fit its height (and follow window-change); without a terminal (a
// script), they come whole.
func TestListsPagedToTheTerminal(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	for i := range 30 {
		if _, err := sh.store.AddProduct(context.Background(), storify.NewProduct{Name: fmt.Sprintf("Item %02d", i), Price: 100, Stock: 50}); err != nil {
			t.Fatal(err)
		}
	}
	out, status := exec(t, sh.mustDial(t, "ada", guest), "list")
	if status != 0 || !strings.Contains(out, "Item 29") || strings.Contains(out, "products 1–") {
		t.Errorf("list without a terminal (status %d) is not the whole catalog:\n%s", status, out)
	}
	tm := openTerm(t, sh.mustDial(t, "bea", guest), true) // 24 rows
	tm.until("Test> ")
	tm.send("list\r")
	if got := tm.until("Test> "); !strings.Contains(got, "products 1–20 of 32.") {
		t.Errorf("list on a 24-row terminal:\n%s", got)
	}
	if err := tm.s.WindowChange(12, 80); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the resize reaches the session at its next read
	tm.send("list\r")
	if got := tm.until("Test> "); !strings.Contains(got, "products 1–8 of 32.") {
		t.Errorf("list after a resize to 12 rows:\n%s", got)
	}
}
