package main

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runChild runs storify (the test binary standing in for it) with args and stdin,
// and returns its stdout, its stderr and its exit status.
func runChild(t *testing.T, stdin string, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "STORIFY_TEST_CHILD=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errs
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = exit.ExitCode()
	case err != nil:
		t.Fatalf("storify %v: %v", args, err)
	}
	return out.String(), errs.String(), status
}

// TestScriptedConsole: a console reading a pipe answers on stdout with no prompts,
// says each failure in one line on stderr, never takes the next line as the answer
// to a question, runs every line, and exits 1 because commands failed.
func TestScriptedConsole(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	script := "addproduct Lamp 20 5\nrestock Lamp five\nrestock Lamp 3\nproducts\nrestock\nnosuch\n"
	stdout, stderr, status := runChild(t, script, "--no-sample", "--db", db, "--listen", "127.0.0.1:0", "--log-level", "warn")
	wantOut := "Added #1 Lamp at 20.00, 5 in stock.\n" +
		"#1 Lamp: 8 in stock.\n" +
		"#  Product  Price  Stock\n" +
		"1  Lamp     20.00      8\n"
	wantErr := "line 2: restock Lamp five: \"five\" is not a quantity: type a whole number from 1 to 1000000000; quote product names with spaces: restock \"Blue Mug\" QTY.\n" +
		"line 5: restock: PRODUCT is missing; usage: restock PRODUCT QTY\n" +
		"line 6: nosuch: Unknown command \"nosuch\". Type help to list commands.\n" +
		"storify: 3 commands failed\n"
	if stdout != wantOut || stderr != wantErr || status != 1 {
		t.Errorf("stdout:\n%q\nwant:\n%q\nstderr:\n%q\nwant:\n%q\nstatus %d, want 1", stdout, wantOut, stderr, wantErr, status)
	}

	// The same script with --fail-fast stops at line 2.
	stdout, stderr, status = runChild(t, script, "--no-sample", "--db", db+"2", "--listen", "127.0.0.1:0", "--log-level", "warn", "--fail-fast")
	if stdout != "Added #1 Lamp at 20.00, 5 in stock.\n" || !strings.HasPrefix(stderr, "line 2: ") || strings.Count(stderr, "\n") != 2 ||
		!strings.HasSuffix(stderr, "storify: stopped at the first failed command (--fail-fast)\n") || status != 1 {
		t.Errorf("--fail-fast: stdout %q, stderr %q, status %d", stdout, stderr, status)
	}

	// A script in which everything succeeds exits 0.
	stdout, stderr, status = runChild(t, "restock 1 2\n", "--no-sample", "--db", db, "--listen", "127.0.0.1:0", "--log-level", "warn")
	if stdout != "#1 Lamp: 10 in stock.\n" || stderr != "" || status != 0 {
		t.Errorf("a good script: stdout %q, stderr %q, status %d", stdout, stderr, status)
	}
}

// TestExecBesideARunningStore: storify exec and storify -c change a SQLite store
// that a running storify serves, exit with the commands' status, and the running
// store's customers see the change. The store was opened first with --no-sample,
// so exec (without it) adds no sample catalog.
func TestExecBesideARunningStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	running := startChild(t, db, "--no-sample")
	stdout, stderr, status := runChild(t, "", "exec", "--db", db, "--log-level", "warn", "addproduct", "Desk Lamp", "20", "5")
	if stdout != "Added #1 Desk Lamp at 20.00, 5 in stock.\n" || stderr != "" || status != 0 {
		t.Errorf("exec addproduct: stdout %q, stderr %q, status %d", stdout, stderr, status)
	}
	stdout, stderr, status = runChild(t, "", "exec", "--db", db, "--log-level", "warn", "restock", "desk lamp", "x")
	if stdout != "" || !strings.HasPrefix(stderr, `line 1: restock "desk lamp" x: `) || status != 1 {
		t.Errorf("exec with a bad argument: stdout %q, stderr %q, status %d", stdout, stderr, status)
	}
	stdout, stderr, status = runChild(t, "", "-c", "restock 1 3\nprice 1 18", "--db", db, "--log-level", "warn")
	if stdout != "#1 Desk Lamp: 8 in stock.\n#1 Desk Lamp: price 18.00 (was 20.00).\n" || stderr != "" || status != 0 {
		t.Errorf("-c: stdout %q, stderr %q, status %d", stdout, stderr, status)
	}
	c := dialAddr(t, running.addr)
	deadline := time.Now().Add(5 * time.Second)
	for {
		list := c.do("list")
		if strings.Contains(list, "1  Desk Lamp  18.00  8 left") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running store's customers do not see what exec did:\n%s", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestEmptiedStoreStaysEmpty: a store created with --no-sample is not given the
// sample catalog when it is opened again without the flag; a new store is.
func TestEmptiedStoreStaysEmpty(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	for _, args := range [][]string{{"--no-sample"}, {}, {}} {
		args = append(args, "--db", empty, "--listen", "127.0.0.1:0")
		stdout, stderr, status := runChild(t, "products\n", args...)
		if stdout != "No products yet. Type addproduct to add one.\n" || status != 0 || strings.Contains(stderr, "sample") {
			t.Errorf("storify %v: stdout %q, stderr %q, status %d; want an empty store", args, stdout, stderr, status)
		}
	}
	stdout, stderr, status := runChild(t, "", "exec", "--db", filepath.Join(dir, "new.db"), "products")
	if !strings.Contains(stdout, "6  Sticker Pack") || !strings.Contains(stderr, `msg="new store: added the sample catalog" products=6`) || status != 0 {
		t.Errorf("a new store: stdout %q, stderr %q, status %d; want the sample catalog", stdout, stderr, status)
	}
}

// TestEventsAsLogLinesInAScript: when the console is not a terminal, an order
// placed and a checkout refused are structured log lines on stderr.
func TestEventsAsLogLinesInAScript(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"))
	c, bob := dial(t, p.m.Addr()), dial(t, p.m.Addr())
	c.do("add 5 5")
	bob.do("add 5 1")
	c.do("checkout Ada")
	bob.do("checkout Bob")
	p.waitLog(`level=INFO msg="order placed" order=1 customer=Ada units=5 total=249.95`)
	p.waitLog(`level=INFO msg="checkout refused" customer=Bob why="Desk Lamp is sold out"`)
	p.waitLog(`level=INFO msg="customer connected" session=1 addr=127.0.0.1:`)
}

// TestBanKeepsAnAddressOut: ban disconnects the customers from an address and turns
// away its new connections; unban lets them in again.
func TestBanKeepsAnAddressOut(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"))
	c := dial(t, p.m.Addr())
	if r := p.manager("ban 127.0.0.1 1h"); !strings.Contains(r, "Connections from 127.0.0.1 are turned away until ") || !strings.Contains(r, "1 customer disconnected.") {
		t.Errorf("ban: %q", r)
	}
	c.readUntil("Goodbye")
	conn, err := net.Dial("tcp", p.m.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(conn)
	conn.Close()
	if string(got) != "This store does not serve your address.\r\n" {
		t.Errorf("a banned address was told %q", got)
	}
	p.waitLog(`level=WARN msg="customer refused" addr=127.0.0.1:`)
	if r := p.manager("unban 127.0.0.1"); r != "127.0.0.1 may connect again.\n" {
		t.Errorf("unban: %q", r)
	}
	dial(t, p.m.Addr()).do("list")
}

// TestScriptsTakeNoServingFlags: exec and -c serve no one, so a flag of serving
// (metrics, listeners) given to them is refused with a line saying so rather than
// taken and ignored, exec's help lists only the flags it uses, and the serving
// variables of a shared environment file do not get in a script's way.
func TestScriptsTakeNoServingFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	_, stderr, status := runChild(t, "", "-c", "products", "--db", db, "--metrics-listen", "127.0.0.1:0")
	if status != 2 || !strings.Contains(stderr, "--metrics-listen would do nothing") {
		t.Errorf("-c with --metrics-listen: status %d, stderr %q", status, stderr)
	}
	_, stderr, status = runChild(t, "", "exec", "--db", db, "--ssh-listen", "127.0.0.1:0", "products")
	if status != 2 || !strings.Contains(stderr, "-ssh-listen") {
		t.Errorf("exec with --ssh-listen: status %d, stderr %q", status, stderr)
	}
	help, _, status := runChild(t, "", "exec", "--help")
	if status != 0 || !strings.Contains(help, "--db-timeout") || strings.Contains(help, "--listen") || strings.Contains(help, "--metrics-listen") {
		t.Errorf("exec --help (status %d) should list the store's flags and none of serving:\n%s", status, help)
	}
	cmd := exec.Command(os.Args[0], "exec", "--db", db, "--no-sample", "products")
	cmd.Env = append(os.Environ(), "STORIFY_TEST_CHILD=1", "STORIFY_METRICS_LISTEN=127.0.0.1:1", "STORIFY_PROXY_PROTOCOL=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "No products yet") {
		t.Errorf("exec with the service's environment: %v\n%s", err, out)
	}
}
