package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// unreadPipe returns the write end of a pipe that nobody reads, as stderr is when
// its reader hangs. The read end is closed when the test ends, which frees any
// writer still waiting.
func unreadPipe(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return w
}

// fill writes to w until the pipe is full: the next write to it waits for ever.
func fill(t *testing.T, w *os.File) {
	t.Helper()
	defer w.SetWriteDeadline(time.Time{})
	filler := []byte(strings.Repeat("x", 79) + "\n")
	for {
		w.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := w.Write(filler); errors.Is(err, os.ErrDeadlineExceeded) {
			return
		} else if err != nil {
			t.Fatal(err)
		}
	}
}

// TestStuckLogReaderStallsNoOne: with the log going to a full pipe nobody reads,
// every one of 1,000 customers is greeted (the accept loop logs each one), the
// console still answers, and the store still closes. Before the log path was
// asynchronous, the accept loop stopped at its first log line once the pipe was
// full, which in serve mode took about 490 customers.
func TestStuckLogReaderStallsNoOne(t *testing.T) {
	const customers = 1000
	stderr := unreadPipe(t) // closed after the program has stopped
	p := startProgramLogging(t, stderr, filepath.Join(t.TempDir(), "log.db"), "--log-level", "debug")
	fill(t, stderr) // as if the reader had hung a while ago
	addr := p.m.Addr().String()
	conns := make([]net.Conn, 0, customers) // held, or the collector closes them
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 1; i <= customers; i++ {
		conn, err := greeted(addr)
		if err != nil {
			t.Fatalf("customer %d of %d was not greeted: %v", i, customers, err)
		}
		conns = append(conns, conn)
	}
	if r := p.manager("customers"); !strings.Contains(r, fmt.Sprintf("%d connected.", customers)) {
		t.Errorf("customers does not list the %d customers:\n%s", customers, r)
	}
	if r := p.manager("products"); !strings.Contains(r, "Blue Mug") {
		t.Errorf("products:\n%s", r)
	}
	p.stop() // with the customers still there to say goodbye to, and log
	if p.m.LogDropped() == 0 {
		t.Errorf("no log line counted as dropped, yet the log reader never read")
	}
}

// greeted connects one customer and waits for the greeting, at most 10 s.
func greeted(addr string) (net.Conn, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w (read %q)", err, line)
	}
	if !strings.HasPrefix(line, "Welcome to Test.") {
		conn.Close()
		return nil, fmt.Errorf("greeting %q", line)
	}
	return conn, nil
}

// TestLogFlags: --log-level and --log-format, their environment twins, and a clear
// usage error for a wrong value from either.
func TestLogFlags(t *testing.T) {
	parse := func(args ...string) (*Main, string, error) {
		var stderr syncBuffer
		m := NewMain()
		m.Stderr = &stderr
		err := m.ParseFlags("storify", args)
		return m, stderr.String(), err
	}
	m, _, err := parse()
	if err != nil || m.Config.LogLevel != slog.LevelInfo || m.Config.LogJSON {
		t.Errorf("defaults: level %v, json %v, %v; want INFO, text", m.Config.LogLevel, m.Config.LogJSON, err)
	}
	m, _, err = parse("--log-level", "warn", "--log-format", "json")
	if err != nil || m.Config.LogLevel != slog.LevelWarn || !m.Config.LogJSON {
		t.Errorf("flags: level %v, json %v, %v; want WARN, json", m.Config.LogLevel, m.Config.LogJSON, err)
	}
	t.Setenv("STORIFY_LOG_LEVEL", "DEBUG")
	t.Setenv("STORIFY_LOG_FORMAT", "json")
	m, _, err = parse()
	if err != nil || m.Config.LogLevel != slog.LevelDebug || !m.Config.LogJSON {
		t.Errorf("environment: level %v, json %v, %v; want DEBUG, json", m.Config.LogLevel, m.Config.LogJSON, err)
	}
	m, _, err = parse("--log-level", "error", "--log-format", "text")
	if err != nil || m.Config.LogLevel != slog.LevelError || m.Config.LogJSON {
		t.Errorf("flags over environment: level %v, json %v, %v; want ERROR, text", m.Config.LogLevel, m.Config.LogJSON, err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--log-level", "verbose"}, `--log-level (or STORIFY_LOG_LEVEL) must be debug, info, warn or error, not "verbose"`},
		{[]string{"--log-format", "logfmt"}, `--log-format (or STORIFY_LOG_FORMAT) must be text or json, not "logfmt"`},
	} {
		if _, stderr, err := parse(c.args...); !errors.Is(err, errUsage) || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: %v, %q; want a usage error saying %s", c.args, err, stderr, c.want)
		}
	}
	t.Setenv("STORIFY_LOG_FORMAT", "xml")
	if _, stderr, err := parse(); !errors.Is(err, errUsage) || !strings.Contains(stderr, `not "xml"`) {
		t.Errorf("STORIFY_LOG_FORMAT=xml: %v, %q; want a usage error", err, stderr)
	}
}

// TestLogTimeByMode: serve's log lines carry their time; the console's do not (it
// shows events as they come), in text or JSON.
func TestLogTimeByMode(t *testing.T) {
	var log syncBuffer
	m := NewMain()
	m.Stderr, m.Ready = &log, make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		errc <- m.Run(ctx, []string{"--db", filepath.Join(t.TempDir(), "serve.db"), "--listen", "127.0.0.1:0", "--name", "Test"}, false)
	}()
	select {
	case <-m.Ready:
	case err := <-errc:
		t.Fatalf("storify serve exited: %v\n%s", err, &log)
	case <-time.After(10 * time.Second):
		t.Fatalf("storify serve did not open\n%s", &log)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("storify serve did not close\n%s", &log)
	}
	timed := regexp.MustCompile(`(?m)^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\S* level=INFO msg="store (open|closed)"`)
	if n := len(timed.FindAllString(log.String(), -1)); n != 2 {
		t.Errorf("serve: want 'store open' and 'store closed' with their time:\n%s", &log)
	}

	p := startProgram(t, filepath.Join(t.TempDir(), "console.db"), "--log-format", "json")
	p.stop()
	lines := strings.Split(strings.TrimSuffix(p.log.String(), "\n"), "\n")
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("console: not a JSON line: %q", line)
		} else if _, ok := rec["time"]; ok {
			t.Errorf("console: a line with its time: %q", line)
		}
	}
	if !strings.Contains(p.log.String(), `"msg":"store closed"`) {
		t.Errorf("console: no 'store closed' line:\n%s", p.log)
	}
}

// TestStuckStderrDoesNotHoldUpExit: storify serve, as a process whose stderr is a
// full pipe nobody reads, still serves, exits 0 soon after SIGTERM, and exits 1
// soon after a start-up error it cannot tell anyone about.
func TestStuckStderrDoesNotHoldUpExit(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	start := func(args ...string) (*exec.Cmd, <-chan struct{}) {
		stderr := unreadPipe(t)
		fill(t, stderr)
		cmd := exec.Command(os.Args[0], append([]string{"serve", "--db", filepath.Join(t.TempDir(), "s.db"), "--name", "Test"}, args...)...)
		cmd.Env = append(os.Environ(), "STORIFY_TEST_CHILD=1")
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		t.Cleanup(func() { cmd.Process.Kill(); <-done })
		return cmd, done
	}
	exited := func(cmd *exec.Cmd, done <-chan struct{}, what string, code int) {
		t.Helper()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("storify did not exit within 10 s of %s", what)
		}
		if got := cmd.ProcessState.ExitCode(); got != code {
			t.Errorf("exit code %d after %s, want %d", got, what, code)
		}
	}

	// The address is taken: the error cannot be told, and the program exits anyway.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cmd, done := start("--listen", taken.Addr().String())
	exited(cmd, done, "failing to listen", 1)

	// A free address: it serves, then closes on SIGTERM.
	addr := taken.Addr().String()
	taken.Close()
	cmd, done = start("--listen", addr)
	var conn net.Conn
	for deadline := time.Now().Add(20 * time.Second); conn == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("storify serve does not greet on %s: %v", addr, err)
		}
		conn, err = greeted(addr)
	}
	defer conn.Close()
	cmd.Process.Signal(syscall.SIGTERM)
	exited(cmd, done, "SIGTERM", 0)
}
