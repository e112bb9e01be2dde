package main

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// openssh is the real OpenSSH client against a storify started with --ssh-listen.
type openssh struct {
	t     *testing.T
	dir   string
	port  string
	known string // known_hosts, filled on first connection
}

// needOpenSSH skips the test without ssh and ssh-keygen (CI installs them).
func needOpenSSH(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"ssh", "ssh-keygen"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install openssh-client)", tool)
		}
	}
}

// keygen makes an Ed25519 key pair in dir and returns the private key's path.
func keygen(t *testing.T, dir, name string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name+"@test", "-f", path).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v\n%s", err, out)
	}
	return path
}

func newOpenSSH(t *testing.T, addr net.Addr) *openssh {
	_, port, _ := net.SplitHostPort(addr.String())
	dir := t.TempDir()
	return &openssh{t: t, dir: dir, port: port, known: filepath.Join(dir, "known_hosts")}
}

// cmd is ssh with a clean configuration, the given key (none: keyboard-
// interactive only), and a bound on the whole run.
func (o *openssh) cmd(key, user string, args ...string) *exec.Cmd {
	base := []string{"-F", "/dev/null", "-p", o.port, "-l", user,
		"-o", "UserKnownHostsFile=" + o.known, "-o", "StrictHostKeyChecking=accept-new",
		"-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none"}
	if key == "" {
		base = append(base, "-o", "PubkeyAuthentication=no", "-o", "PasswordAuthentication=no")
	} else {
		base = append(base, "-i", key, "-o", "KbdInteractiveAuthentication=no", "-o", "PasswordAuthentication=no")
	}
	c := exec.Command("ssh", append(append(base, args[:len(args)-1]...), "127.0.0.1", args[len(args)-1])...)
	if args[len(args)-1] == "" { // no remote command: a shell
		c.Args = c.Args[:len(c.Args)-1]
	}
	return c
}

// run runs ssh and returns its stdout, stderr and exit status.
func (o *openssh) run(c *exec.Cmd, stdin string) (string, string, int) {
	o.t.Helper()
	var out, errb bytes.Buffer
	c.Stdin, c.Stdout, c.Stderr = strings.NewReader(stdin), &out, &errb
	done := make(chan error, 1)
	if err := c.Start(); err != nil {
		o.t.Fatal(err)
	}
	go func() { done <- c.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		c.Process.Kill()
		o.t.Fatalf("ssh %v hung; out %q err %q", c.Args, out.String(), errb.String())
	}
	return out.String(), errb.String(), c.ProcessState.ExitCode()
}

var hostKeyRe = regexp.MustCompile(`ssh_host_key=(SHA256:[A-Za-z0-9+/]+)`)

// hostKeyLogged waits for the "store open" line of a log (written asynchronously)
// and returns the host key fingerprint it names.
func hostKeyLogged(t *testing.T, log *syncBuffer) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := hostKeyRe.FindStringSubmatch(log.String()); m != nil {
			return m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ssh_host_key in the log:\n%s", log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestOpenSSH: exec exit statuses, a shop tour in line mode, the fingerprint
// OpenSSH records being the one logged and shown by hostkey, the manager over SSH
// shipping an order a telnet customer is told of, and refusals.
func TestOpenSSH(t *testing.T) {
	needOpenSSH(t)
	keys := t.TempDir()
	boss, ada := keygen(t, keys, "boss"), keygen(t, keys, "ada")
	admins := filepath.Join(keys, "admins")
	pub, err := os.ReadFile(boss + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(admins, append([]byte("# the managers\n"), pub...), 0o600)
	db := filepath.Join(t.TempDir(), "s.db")
	p := startProgram(t, db, "--ssh-listen", "127.0.0.1:0", "--admin-keys", admins)
	o := newOpenSSH(t, p.m.SSHAddr())

	out, errs, code := o.run(o.cmd(ada, "ada", "show 3"), "")
	if code != 0 || out != "#3 Fountain Pen\n  Steel nib, medium, takes standard cartridges.\n  Price: 34.00\n  In stock: 8\n" {
		t.Errorf("exec show 3: status %d, out %q, err %q", code, out, errs)
	}
	if out, errs, code = o.run(o.cmd(ada, "ada", "show 99"), ""); code != 1 || !strings.Contains(out, "There is no product #99") {
		t.Errorf("exec show 99: status %d, out %q, err %q", code, out, errs)
	}

	// The fingerprint: logged, shown by hostkey, and the one OpenSSH recorded.
	fp := hostKeyLogged(t, p.log)
	if got := p.manager("hostkey"); got != "SSH host key: "+fp+"\n" {
		t.Errorf("hostkey = %q, want %s", got, fp)
	}
	if lf, err := exec.Command("ssh-keygen", "-l", "-f", o.known).CombinedOutput(); err != nil || !strings.Contains(string(lf), fp) {
		t.Errorf("known_hosts has %q (%v), want %s", lf, err, fp)
	}

	// A tour without a terminal, as a script runs it, without a key.
	out, errs, code = o.run(o.cmd("", "ada", "-T", ""), "list\nadd fountain pen 2\ncart\ncheckout Ada\n")
	if code != 0 || !strings.HasPrefix(out, "Welcome to Test. Type help or ? to list commands.\nTest> #  Product") ||
		!strings.Contains(out, "Added 2 Fountain Pen to your cart") || !strings.Contains(out, "Thank you, Ada. Order #1 is placed: 2 units, total 68.00.\nTest> ") ||
		strings.Contains(out, "\r") {
		t.Errorf("tour: status %d, out %q, err %q", code, out, errs)
	}

	// The manager ships it while a telnet customer who placed order 2 is told.
	tel := dial(t, p.m.Addr())
	tel.do("add 1")
	if r := tel.do("checkout Tess"); !strings.Contains(r, "Order #2 is placed") {
		t.Fatalf("telnet checkout: %q", r)
	}
	if out, errs, code = o.run(o.cmd(boss, "manager", "ship 2"), ""); code != 0 || !strings.Contains(out, "shipped") {
		t.Errorf("manager ship 2: status %d, out %q, err %q", code, out, errs)
	}
	if r := tel.readReply(); !strings.Contains(r, "#2") || !strings.Contains(r, "shipped") {
		t.Errorf("the telnet customer was told %q", r)
	}
	logged := regexp.MustCompile(`msg="manager command" session=\d+ key=SHA256:\S+ comment=boss@test command="ship 2"`)
	for deadline := time.Now().Add(10 * time.Second); !logged.MatchString(p.log.String()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the manager's command is not logged with the key:\n%s", p.log)
		}
	}
	// A manager's shell without a terminal: the console's commands, line by line.
	out, _, code = o.run(o.cmd(boss, "manager", "-T", ""), "orders\n")
	if code != 0 || !strings.Contains(out, "Test manager> ") || !strings.Contains(out, "Tess") {
		t.Errorf("manager shell: status %d, out %q", code, out)
	}

	// Refusals: a customer's key as the manager, and no key at all.
	for _, key := range []string{ada, ""} {
		if out, errs, code = o.run(o.cmd(key, "manager", "orders"), ""); code != 255 || !strings.Contains(errs, "Permission denied") {
			t.Errorf("manager with key %q: status %d, out %q, err %q", key, code, out, errs)
		}
	}

	// The host key is kept in the store: a restart presents the same one.
	p.stop()
	q := startProgram(t, db, "--ssh-listen", "127.0.0.1:0")
	if fp2 := hostKeyLogged(t, q.log); fp2 != fp {
		t.Errorf("after a restart the host key is %s, want %s", fp2, fp)
	}
	o2 := newOpenSSH(t, q.m.SSHAddr())
	if out, _, code := o2.run(o2.cmd(boss, "manager", "orders"), ""); code != 255 {
		t.Errorf("without --admin-keys the manager got in: %d %q", code, out)
	}
}

// TestOpenSSHTerminal drives the line editor through ssh -tt: the exact bytes the
// terminal is sent for Tab completion, history and editing keys.
func TestOpenSSHTerminal(t *testing.T) {
	needOpenSSH(t)
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"), "--ssh-listen", "127.0.0.1:0")
	o := newOpenSSH(t, p.m.SSHAddr())
	adaKey := keygen(t, t.TempDir(), "ada")
	c := o.cmd(adaKey, "ada", "-tt", "")
	in, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outR, outW := io.Pipe()
	c.Stdout, c.Stderr = outW, os.Stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	screen := make(chan byte, 1<<16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := outR.Read(buf)
			for _, b := range buf[:n] {
				screen <- b
			}
			if err != nil {
				close(screen)
				return
			}
		}
	}()
	// expect reads exactly want.
	expect := func(what, want string) {
		t.Helper()
		var got []byte
		timeout := time.After(15 * time.Second)
		for len(got) < len(want) {
			select {
			case b, ok := <-screen:
				if !ok {
					t.Fatalf("%s: the session ended; got %q, want %q", what, got, want)
				}
				got = append(got, b)
			case <-timeout:
				t.Fatalf("%s: got %q, want %q", what, got, want)
			}
		}
		if string(got) != want {
			t.Fatalf("%s: got %q, want %q", what, got, want)
		}
	}
	key := func(s string) {
		t.Helper()
		if _, err := io.WriteString(in, s); err != nil {
			t.Fatal(err)
		}
	}
	expect("greeting", "Welcome to Test. Type help or ? to list commands.\r\nTest> ")
	key("sh")
	expect("echo", "sh")
	key("\t")
	expect("Tab completes the command", "\r\x1b[JTest> show ")
	key("fo\t")
	expect("Tab completes a product", "fo\r\x1b[JTest> show Fountain Pen ")
	key("\r")
	expect("the reply", "\r\n#3 Fountain Pen\r\n  Steel nib, medium, takes standard cartridges.\r\n  Price: 34.00\r\n  In stock: 8\r\nTest> ")
	key("\x1b[A")
	expect("Up brings the line back", "\r\x1b[JTest> show Fountain Pen ")
	key("\x17\x17")
	expect("Ctrl-W twice", "\r\x1b[JTest> show Fountain \r\x1b[JTest> show ")
	key("\x01")
	expect("Ctrl-A", "\r\x1b[6C")
	key("\x03")
	expect("Ctrl-C cancels", "^C\r\nTest> ")
	key("add 1\r")
	expect("add", "add 1\r\nAdded 1 Blue Mug to your cart (1 in cart, 12.50 each).\r\nTest> ")
	key("register\r")
	expect("register asks a name", "register\r\nChoose a name: ")
	key("Ada\r")
	expect("then a password", "Ada\r\nPassword: ")
	key("secret-pw\r")
	expect("not echoed", "\r\nPassword again: ")
	key("secret-pw\r")
	expect("registered", "\r\nWelcome, Ada: your account is open and you are logged in.\r\nYour SSH key ")
	expect("fingerprint", "SHA256:")
	for b := range screen { // the rest of the fingerprint, to the prompt
		if b == '>' {
			break
		}
	}
	expect("prompt", " ")
	key("\x04")
	expect("Ctrl-D on an empty line leaves", "")
	if err := c.Wait(); err != nil {
		t.Errorf("ssh -tt: %v", err)
	}
	// Registering bound the key: it logs Ada in from now on.
	if out, errs, code := o.run(o.cmd(adaKey, "anyone", "whoami"), ""); code != 0 || out != "You are logged in as Ada.\n" {
		t.Errorf("whoami with the registered key: status %d, out %q, err %q", code, out, errs)
	}
}

// TestSSHManagerSeesEvents: a manager over SSH is shown the events the console
// shows (a customer connecting), on a line of its own above the prompt, while a
// manager waits there.
func TestSSHManagerSeesEvents(t *testing.T) {
	signer, admins := adminKey(t)
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"), "--ssh-listen", "127.0.0.1:0", "--admin-keys", admins)
	client := dialManager(t, p.m.SSHAddr(), signer)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	in, _ := s.StdinPipe()
	out, _ := s.StdoutPipe()
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	readUntil := func(marker string) string {
		t.Helper()
		var b strings.Builder
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !strings.HasSuffix(b.String(), marker) {
				c, err := r.ReadByte()
				if err != nil {
					return
				}
				b.WriteByte(c)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			client.Close()
			<-done
		}
		if !strings.HasSuffix(b.String(), marker) {
			t.Fatalf("waiting for %q, got %q", marker, b.String())
		}
		return b.String()
	}
	readUntil("Test manager> ")
	dial(t, p.m.Addr()) // a telnet customer
	if got := readUntil("Test manager> "); !regexp.MustCompile(`^\n\*\*\* level=INFO msg="customer connected" session=\d+ addr=127\.0\.0\.1:\d+\nTest manager> $`).MatchString(got) {
		t.Errorf("the event shown to the SSH manager: %q", got)
	}
	io.WriteString(in, "say hello\n")
	if got := readUntil("Test manager> "); !strings.HasPrefix(got, "Sent to 1 customer") {
		t.Errorf("say: %q", got)
	}
}
