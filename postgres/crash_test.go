//go:build linux

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// A database server that crashes under checkouts on two instances (stopped with
// -m immediate: its processes killed, what its WAL buffers held lost) keeps, once
// started again, every order a customer was told was placed. The instances let
// their rows go before the flush (they have company), so this holds only because
// no customer is answered before the flush that covers the order's commit.
func TestDatabaseCrashKeepsAcknowledgedOrders(t *testing.T) {
	testDSN(t) // with the other PostgreSQL tests, where a server runs
	c := newCluster(t)
	ctx := context.Background()
	open := func(name string) *postgres.Store {
		s, err := postgres.Open(ctx, withParams(t, c.dsn, map[string]string{"application_name": name}), postgres.Options{Timeout: 2 * time.Second})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	a, b := open("a"), open("b")
	waitListening(t, a, b)
	mug, err := a.AddProduct(ctx, storify.NewProduct{Name: "Blue Mug", Price: 1250, Stock: storify.MaxStock})
	if err != nil {
		t.Fatal(err)
	}

	var (
		mu    sync.Mutex
		acked []int64 // the orders customers were told were placed
		wg    sync.WaitGroup
	)
	stop := time.Now().Add(4 * time.Second)
	for i := range 40 {
		s := []*postgres.Store{a, b}[i%2]
		wg.Go(func() {
			for time.Now().Before(stop) {
				o, err := s.Checkout(ctx, storify.NewOrder{Customer: "Ada", Items: []storify.CartItem{{ProductID: mug.ID, Qty: 1}}})
				switch {
				case err == nil:
					mu.Lock()
					acked = append(acked, o.ID)
					mu.Unlock()
				case !errors.Is(err, storify.ErrUnavailable) && !errors.Is(err, storify.ErrUnconfirmed):
					t.Errorf("Checkout: %v", err)
					return
				default:
					time.Sleep(10 * time.Millisecond) // the database is away
				}
			}
		})
	}
	time.Sleep(time.Second)
	mu.Lock()
	before := len(acked)
	mu.Unlock()
	c.crash(t)
	c.start(t)
	wg.Wait()
	if before < 100 {
		t.Fatalf("only %d checkouts placed before the crash; the test proves nothing", before)
	}

	admin, err := pgx.Connect(ctx, c.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	rows, _ := admin.Query(ctx, `SELECT id FROM orders`)
	kept, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	isKept := make(map[int64]bool, len(kept))
	for _, id := range kept {
		isKept[id] = true
	}
	var lost []int64
	for _, id := range acked {
		if !isKept[id] {
			lost = append(lost, id)
		}
	}
	t.Logf("%d checkouts acknowledged (%d before the crash), %d orders kept", len(acked), before, len(kept))
	if len(lost) > 0 {
		t.Errorf("%d orders acknowledged to their customers are gone after the crash: %v", len(lost), lost[:min(len(lost), 10)])
	}
}

// cluster is a PostgreSQL server of the test's own, which the test may crash.
type cluster struct {
	bin, dir string
	port     int
	dsn      string
	cred     *syscall.Credential // the postgres user's, when the tests run as root
}

// newCluster creates and starts a server in a new directory, on a free port of
// 127.0.0.1, and stops and removes it when the test ends. It skips the test if this
// machine has no PostgreSQL server programs.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := ""
	if p, err := exec.LookPath("initdb"); err == nil {
		bin = filepath.Dir(p)
	} else if ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(ms) > 0 {
		slices.Sort(ms)
		bin = filepath.Dir(ms[len(ms)-1])
	} else {
		t.Skip("no initdb on this machine: the crash test needs PostgreSQL's server programs")
	}
	dir, err := os.MkdirTemp("", "storify-crash-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 { // the server refuses to run as root
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			t.Skip("running as root with no postgres user to run a server as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	c.dsn = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	t.Cleanup(func() {
		c.pgCtl(t, "stop", "-m", "immediate") // an error: it was not running
		os.RemoveAll(dir)
	})
	if out, err := c.command("initdb", "-D", c.data(), "-A", "trust", "-U", "postgres", "--no-sync").CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	c.start(t)
	return c
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

// command is one of the server's programs, run as the postgres user if need be.
func (c *cluster) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	return cmd
}

// pgCtl runs pg_ctl on the cluster and returns its error and output.
func (c *cluster) pgCtl(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	return c.command("pg_ctl", append([]string{"-D", c.data(), "-w", "-t", "30"}, args...)...).CombinedOutput()
}

// start starts the server and waits until it accepts connections. Its WAL writer
// writes the WAL only every 10 s, and as its pages fill: what no commit flushed
// itself is mostly still in memory when the server crashes.
func (c *cluster) start(t *testing.T) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c wal_writer_delay=10s", c.port, c.dir)
	if out, err := c.pgCtl(t, "start", "-o", opts, "-l", filepath.Join(c.dir, "log")); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// crash stops the server as a crash would: every process killed at once, nothing
// written that was not written already.
func (c *cluster) crash(t *testing.T) {
	t.Helper()
	if out, err := c.pgCtl(t, "stop", "-m", "immediate"); err != nil {
		t.Fatalf("pg_ctl stop -m immediate: %v\n%s", err, out)
	}
}
