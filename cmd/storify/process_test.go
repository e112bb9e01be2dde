package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
)

// TestMain lets the test binary stand in for storify: a child process started with
// STORIFY_TEST_CHILD=1 runs the program on its arguments, so the crash and signal
// tests need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("STORIFY_TEST_CHILD") == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// child is a storify process.
type child struct {
	cmd  *exec.Cmd
	addr string
	log  *syncBuffer
	done chan struct{}
}

var listenRe = regexp.MustCompile(`customers="telnet ([0-9.]+) (\d+)"`)

// startChild runs `storify serve` on db in a new process and waits until it listens.
func startChild(t *testing.T, db string, args ...string) *child {
	t.Helper()
	args = append([]string{"serve", "--db", db, "--listen", "127.0.0.1:0", "--name", "Test", "--shutdown-wait", "3s"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "STORIFY_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, log: &syncBuffer{}, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.log.Write([]byte(sc.Text() + "\n"))
			if m := listenRe.FindStringSubmatch(sc.Text()); m != nil {
				found <- net.JoinHostPort(m[1], m[2])
			}
		}
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done })
	select {
	case c.addr = <-found:
	case <-c.done:
		t.Fatalf("storify exited before listening:\n%s", c.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("storify did not listen:\n%s", c.log)
	}
	return c
}

// buyer checks out one unit of product 6 again and again, recording each order
// number it is told, until stop is closed or the connection fails.
func buyer(addr string, name string, stop <-chan struct{}, acked func(id int64)) (goodbye string) {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return ""
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	read := func() (string, error) {
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var b strings.Builder
		for !strings.HasSuffix(b.String(), "Test> ") {
			ch, err := r.ReadByte()
			if err != nil {
				return b.String(), err
			}
			b.WriteByte(ch)
		}
		return b.String(), nil
	}
	if _, err := read(); err != nil {
		return ""
	}
	for {
		select {
		case <-stop:
			return ""
		default:
		}
		for _, line := range []string{"add 6", "checkout " + name} {
			if _, err := io.WriteString(conn, line+"\r\n"); err != nil {
				return ""
			}
			reply, err := read()
			if m := orderRe.FindStringSubmatch(reply); m != nil {
				id, _ := strconv.ParseInt(m[1], 10, 64)
				acked(id)
			}
			if err != nil {
				return reply
			}
		}
	}
}

// checkStore opens db and checks that every acknowledged order is there and that
// stock on hand plus units sold equals units received for every product.
func checkStore(t *testing.T, db string, acked map[int64]bool) {
	t.Helper()
	store, err := sqlite.Open(db)
	if err != nil {
		t.Fatalf("reopening after the crash: %v", err)
	}
	defer store.Close()
	ctx := context.Background()
	for id := range acked {
		o, err := store.Order(ctx, id)
		if err != nil {
			t.Errorf("acknowledged order #%d: %v", id, err)
		} else if o.Units() != 1 || o.Total != 300 {
			t.Errorf("order #%d = %d units, %s; want 1 unit, 3.00", id, o.Units(), o.Total)
		}
	}
	orders, err := store.Orders(ctx, storify.OrderFilter{})
	if err != nil {
		t.Fatal(err)
	}
	sold := map[int64]int{}
	for _, o := range orders {
		if o.Status != storify.StatusCancelled {
			for _, l := range o.Lines {
				sold[l.ProductID] += l.Qty
			}
		}
	}
	ps, err := store.Products(ctx, storify.ProductFilter{All: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Stock < 0 || p.Stock+sold[p.ID] != p.Received {
			t.Errorf("%s: stock %d + sold %d != received %d", p.Name, p.Stock, sold[p.ID], p.Received)
		}
	}
}

// TestKill9KeepsAcknowledgedOrders kills storify with SIGKILL under checkout load and
// restarts it: every order a customer was told of is there, and stock adds up.
func TestKill9KeepsAcknowledgedOrders(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := filepath.Join(t.TempDir(), "crash.db")
	c := startChild(t, db)
	var mu sync.Mutex
	acked := map[int64]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buyer(c.addr, fmt.Sprint("buyer", i), stop, func(id int64) { mu.Lock(); acked[id] = true; mu.Unlock() })
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
	}
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatalf("no order was placed before the kill:\n%s", c.log)
	}
	checkStore(t, db, acked)
	t.Logf("killed with SIGKILL after %d acknowledged orders; all present after restart", len(acked))

	// It starts again on the same file with no repair, and sells on.
	c = startChild(t, db)
	more := map[int64]bool{}
	stop = make(chan struct{})
	go func() { time.Sleep(300 * time.Millisecond); close(stop) }()
	buyer(c.addr, "after", stop, func(id int64) { more[id] = true })
	if len(more) == 0 {
		t.Errorf("no order after the restart:\n%s", c.log)
	}
	for id := range more {
		if acked[id] {
			t.Errorf("order number #%d was handed out twice", id)
		}
	}
}

// TestSIGTERMUnderLoad: storify serve closes within seconds of SIGTERM under load,
// tells the customers, and keeps every acknowledged order.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	db := filepath.Join(t.TempDir(), "term.db")
	c := startChild(t, db)
	var mu sync.Mutex
	acked := map[int64]bool{}
	goodbyes := 0
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bye := buyer(c.addr, fmt.Sprint("buyer", i), nil, func(id int64) { mu.Lock(); acked[id] = true; mu.Unlock() })
			if strings.Contains(bye, "The store is closing now.") {
				mu.Lock()
				goodbyes++
				mu.Unlock()
			}
		}()
	}
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("storify did not exit within 10 s of SIGTERM:\n%s", c.log)
	}
	took := time.Since(start)
	wg.Wait()
	if code := c.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, c.log)
	}
	t.Logf("SIGTERM under load: exited in %v, %d orders acknowledged, %d of 20 customers told", took.Round(time.Millisecond), len(acked), goodbyes)
	if took > 5*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if goodbyes != 20 {
		t.Errorf("%d of 20 customers were told the store is closing", goodbyes)
	}
	if !strings.Contains(c.log.String(), `msg="store closed"`) {
		t.Errorf("no clean close in the log:\n%s", c.log)
	}
	checkStore(t, db, acked)
}
