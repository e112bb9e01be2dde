package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storify/storify"
	gossh "golang.org/x/crypto/ssh"
)

// TestLiveStateAcrossInstances: three storify instances share one PostgreSQL store:
// a, in this process with its console, and b and c, processes of their own. a's
// console lists the customers of all three, each as N@INSTANCE; kick takes that
// form and closes the customer on c; say reaches the customers of all three and
// counts them. With c stopped (SIGSTOP), customers answers within --db-timeout
// with the others' customers and names c; once c is killed, its lease lapses and
// c is named no more. Meanwhile a fourth instance started under b's name is
// refused at start, with a clear error.
func TestLiveStateAcrossInstances(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dsn := postgresDSN(t)
	const dbTimeout = 2 * time.Second
	manager, admins := adminKey(t)
	a := startProgram(t, dsn, "--no-sample", "--instance", "a", "--db-timeout", dbTimeout.String(),
		"--ssh-listen", "127.0.0.1:0", "--admin-keys", admins)
	b := startChild(t, dsn, "--no-sample", "--instance", "b")
	c := startChild(t, dsn, "--no-sample", "--instance", "c")
	// A fourth instance starts under b's name: it waits for b's lease to lapse,
	// in case b is its own from before a crash, which takes a while.
	impostor := exec.Command(os.Args[0], "serve", "--db", dsn, "--listen", "127.0.0.1:0", "--name", "Test", "--no-sample", "--instance", "b")
	impostor.Env = append(os.Environ(), "STORIFY_TEST_CHILD=1")
	var impostorErr bytes.Buffer
	impostor.Stderr = &impostorErr
	if err := impostor.Start(); err != nil {
		t.Fatal(err)
	}
	impostorDone := make(chan error, 1)
	go func() { impostorDone <- impostor.Wait() }()
	t.Cleanup(func() { impostor.Process.Kill() })

	a.manager(`addproduct Mug 5 10`)
	onA, onB, onC := dial(t, a.m.Addr()), dialAddr(t, b.addr), dialAddr(t, c.addr)
	onB.do("add Mug 1")
	if r := onB.do("checkout Bea"); !orderRe.MatchString(r) {
		t.Fatalf("checkout on b: %q", r)
	}
	onC.do("add Mug 2")

	r := a.manager("customers")
	for _, want := range []string{
		`(?m)^1@a +127\.0\.0\.1:\d+ +\(guest\) .* 0$`,
		`(?m)^1@b +127\.0\.0\.1:\d+ +Bea .* 0$`,
		`(?m)^1@c +127\.0\.0\.1:\d+ +\(guest\) .* 2$`,
		`(?m)^3 connected\.$`,
	} {
		if !regexp.MustCompile(want).MatchString(r) {
			t.Errorf("customers on a lacks %s:\n%s", want, r)
		}
	}

	// A manager over SSH sees the same, and is no customer.
	if r2 := sshExec(t, a.m.SSHAddr(), manager, "customers"); !strings.Contains(r2, "1@b ") || !strings.Contains(r2, "1@c ") ||
		!strings.Contains(r2, "3 connected.") {
		t.Errorf("customers over SSH on a:\n%s", r2)
	}

	if r := a.manager("say Closing at six"); r != "Sent to 3 customers.\n" {
		t.Errorf("say on a: %q", r)
	}
	for name, cust := range map[string]*customer{"a": onA, "b": onB, "c": onC} {
		if got := cust.readUntil("Test> "); !strings.Contains(got, "*** Message from the store: Closing at six") {
			t.Errorf("the customer on %s got %q", name, got)
		}
	}

	if r := a.manager("kick 1@c"); r != "Customer 1@c is disconnected.\n" {
		t.Errorf("kick 1@c on a: %q", r)
	}
	onC.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, _ := io.ReadAll(onC.r); !strings.Contains(string(rest), "The manager has closed your session. Goodbye.") {
		t.Errorf("the customer kicked on c got %q", rest)
	}

	// c stops answering, while its lease holds.
	dialAddr(t, c.addr)
	if err := c.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitStopped(t, c.cmd.Process.Pid)
	start := time.Now()
	r = a.manager("customers")
	took := time.Since(start)
	if !strings.Contains(r, "1@a ") || !strings.Contains(r, "1@b ") || strings.Contains(r, "@c ") ||
		!strings.HasSuffix(r, "2 connected.\nInstance c did not answer; its customers are not listed.\n") {
		t.Errorf("customers on a with c stopped:\n%s", r)
	}
	// The promise is an answer within --db-timeout; a second more is room for a
	// busy machine. c's lease lapses later: waiting for it would take longer.
	if took > dbTimeout+time.Second {
		t.Errorf("customers on a took %v with c stopped; want at most --db-timeout (%v)", took, dbTimeout)
	}

	// c is killed: once its lease lapses, nobody waits for it.
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(250 * time.Millisecond) {
		r = a.manager("customers")
		if !strings.Contains(r, "@c") && !strings.Contains(r, "Instance c") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a still names c 20 s after it was killed:\n%s", r)
		}
	}
	if !strings.Contains(r, "1@a ") || !strings.Contains(r, "1@b ") || !strings.HasSuffix(r, "2 connected.\n") {
		t.Errorf("customers on a after c's lease lapsed:\n%s", r)
	}

	select {
	case err := <-impostorDone:
		if code := impostor.ProcessState.ExitCode(); err == nil || code == 0 ||
			!strings.Contains(impostorErr.String(), "another instance of this store is running under the name b") {
			t.Errorf("a second instance named b: exit status %d, stderr:\n%s", code, impostorErr.String())
		}
	case <-time.After(20 * time.Second):
		t.Errorf("a second instance named b still runs after 20 s; stderr:\n%s", impostorErr.String())
	}
	if r := a.manager("customers"); strings.Count(r, "@b ") != 1 {
		t.Errorf("customers on a after the impostor: \n%s", r)
	}
}

// waitStopped waits until every thread of process pid is stopped: kill returns
// once the signal is sent, and on a loaded machine a thread may run a little longer.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
		stopped := len(tasks) > 0
		for _, task := range tasks {
			b, err := os.ReadFile(task)
			// The state follows the command's name, which is in parentheses.
			if i := bytes.LastIndexByte(b, ')'); err != nil || i < 0 || i+2 >= len(b) || b[i+2] != 'T' && b[i+2] != 't' {
				stopped = false
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d is not stopped 5 s after SIGSTOP", pid)
		}
	}
}

// TestExecReachesEveryInstance: storify exec on a shared store is a manager's
// script, and its customers, say and kick reach the customers of the live
// instances, which are other processes: the script's own process serves no one.
func TestExecReachesEveryInstance(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	dsn := postgresDSN(t)
	script := func(args ...string) (string, string, int) {
		return runChild(t, "", append([]string{"exec", "--db", dsn, "--no-sample", "--log-level", "warn"}, args...)...)
	}
	if out, stderr, status := script("customers"); status != 0 || out != "No customers connected.\n" {
		t.Errorf("exec customers, no instance running: status %d, %q, %q", status, out, stderr)
	}
	a := startChild(t, dsn, "--no-sample", "--instance", "a")
	b := startChild(t, dsn, "--no-sample", "--instance", "b")
	onA, onB := dialAddr(t, a.addr), dialAddr(t, b.addr)
	onB.do("add Mug 1") // no such product: b's customer is connected all the same

	out, stderr, status := script("customers")
	for _, want := range []string{`(?m)^1@a +127\.0\.0\.1:\d+ +\(guest\)`, `(?m)^1@b +127\.0\.0\.1:\d+ +\(guest\)`, `(?m)^2 connected\.$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("exec customers lacks %s: status %d\n%s%s", want, status, out, stderr)
		}
	}
	if out, stderr, status := script("say", "Closing at six"); status != 0 || out != "Sent to 2 customers.\n" {
		t.Errorf("exec say: status %d, %q, %q", status, out, stderr)
	}
	for name, cust := range map[string]*customer{"a": onA, "b": onB} {
		if got := cust.readUntil("Test> "); !strings.Contains(got, "*** Message from the store: Closing at six") {
			t.Errorf("the customer on %s got %q", name, got)
		}
	}
	if _, stderr, status := script("kick", "1"); status == 0 || !strings.Contains(stderr, "everal instances are running: name the session") {
		t.Errorf("exec kick 1 with two instances: status %d, %q", status, stderr)
	}
	if out, stderr, status := script("kick", "1@b"); status != 0 || out != "Customer 1@b is disconnected.\n" {
		t.Errorf("exec kick 1@b: status %d, %q, %q", status, out, stderr)
	}
	onB.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, _ := io.ReadAll(onB.r); !strings.Contains(string(rest), "The manager has closed your session. Goodbye.") {
		t.Errorf("the customer kicked on b got %q", rest)
	}
	if !strings.Contains(b.log.String(), "customer disconnected by the manager of another instance") || !strings.Contains(b.log.String(), "by=exec") {
		t.Errorf("b's log does not say who kicked its customer:\n%s", b.log.String())
	}
}

// TestInstanceFlag: --instance and STORIFY_INSTANCE name the instance; a name kick
// could not take is a usage error that says what a name may hold; the default is the
// host name and the customers' port.
func TestInstanceFlag(t *testing.T) {
	parse := func(args ...string) (*Main, string, error) {
		var stderr syncBuffer
		m := NewMain()
		m.Stderr = &stderr
		err := m.ParseFlags("storify", args)
		return m, stderr.String(), err
	}
	if m, _, err := parse("--instance", "shop1:65432"); err != nil || m.Config.Instance != "shop1:65432" {
		t.Errorf("--instance shop1:65432: %q, %v", m.Config.Instance, err)
	}
	t.Setenv("STORIFY_INSTANCE", "shop-2")
	if m, _, err := parse(); err != nil || m.Config.Instance != "shop-2" {
		t.Errorf("STORIFY_INSTANCE=shop-2: %q, %v", m.Config.Instance, err)
	}
	for _, bad := range []string{"shop 1", "a@b", strings.Repeat("x", 65), "caf\u00e9", "exec", "EXEC"} {
		if _, stderr, err := parse("--instance", bad); !errors.Is(err, errUsage) || !strings.Contains(stderr, "--instance (or STORIFY_INSTANCE): the instance name") {
			t.Errorf("--instance %q: %v, %q; want a usage error", bad, err, stderr)
		}
	}
	host, _ := os.Hostname()
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 65432}
	got := defaultInstance(addr)
	hostFits := storify.CheckInstanceName(host+":65432") == nil
	if storify.CheckInstanceName(got) != nil || !strings.HasSuffix(got, ":65432") || hostFits && got != host+":65432" {
		t.Errorf("default instance name %q on host %q", got, host)
	}
}

// adminKey makes a manager's SSH key, and an --admin-keys file that lets it in.
func adminKey(t *testing.T) (gossh.Signer, string) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	admins := filepath.Join(t.TempDir(), "admins")
	if err := os.WriteFile(admins, gossh.MarshalAuthorizedKey(signer.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	return signer, admins
}

// dialManager connects to storify's SSH server at addr as the manager, with key.
func dialManager(t *testing.T, addr net.Addr, key gossh.Signer) *gossh.Client {
	t.Helper()
	client, err := gossh.Dial("tcp", addr.String(), &gossh.ClientConfig{
		User: "manager", Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.InsecureIgnoreHostKey(), Timeout: 10 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// sshExec runs one manager command over SSH and returns its output.
func sshExec(t *testing.T, addr net.Addr, key gossh.Signer, command string) string {
	t.Helper()
	client := dialManager(t, addr, key)
	defer client.Close()
	s, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.CombinedOutput(command)
	if err != nil {
		t.Errorf("ssh manager %s: %v", command, err)
	}
	return string(out)
}
