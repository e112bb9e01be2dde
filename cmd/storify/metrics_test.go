package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/simulate"
)

// scrape GETs path from p's metrics listener and returns the status and body.
func (p *program) scrape(path string) (int, string) {
	p.t.Helper()
	addr := p.m.MetricsAddr()
	if addr == nil {
		p.t.Fatal("no metrics listener")
	}
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Get("http://" + addr.String() + path)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// sample returns the value of the series (name and labels, as the text format
// writes them: labels sorted by name) in a scrape, and whether it is there.
func sample(body, series string) (float64, bool) {
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// wantSamples checks series values in a scrape.
func wantSamples(t *testing.T, body string, want map[string]float64) {
	t.Helper()
	for series, v := range want {
		if got, ok := sample(body, series); !ok {
			t.Errorf("the scrape has no %s", series)
		} else if got != v {
			t.Errorf("%s = %v, want %v", series, got, v)
		}
	}
}

// TestMetricsAfterShopping: with --metrics-listen, what a manager and customers do
// moves the counters at /metrics; /healthz and /readyz answer; the Go runtime and
// process collectors are there.
func TestMetricsAfterShopping(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "m.db"), "--no-sample", "--metrics-listen", "127.0.0.1:0")
	if status, body := p.scrape("/healthz"); status != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", status, body)
	}
	if status, body := p.scrape("/readyz"); status != 200 || body != "ok\n" {
		t.Errorf("/readyz: %d %q", status, body)
	}
	_, before := p.scrape("/metrics")
	wantSamples(t, before, map[string]float64{
		`storify_checkouts_total{outcome="placed"}`:       0,
		`storify_checkouts_total{outcome="refused"}`:      0,
		`storify_units_sold_total`:                        0,
		`storify_log_lines_dropped_total`:                 0,
		`storify_customers_connected{transport="telnet"}`: 0,
	})
	for _, series := range []string{"go_goroutines", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := sample(before, series); !ok {
			t.Errorf("the scrape has no %s", series)
		}
	}

	p.manager(`addproduct Mug 5 3`)
	ann, bob := dial(t, p.m.Addr()), dial(t, p.m.Addr())
	ann.do("add Mug 2")
	bob.do("add Mug 2")
	if r := ann.do("checkout Ann"); !strings.Contains(r, "is placed") {
		t.Fatalf("checkout: %q", r)
	}
	if r := bob.do("checkout Bob"); !strings.Contains(r, "only 1 Mug left") {
		t.Fatalf("checkout of more than there is: %q", r)
	}

	_, after := p.scrape("/metrics")
	wantSamples(t, after, map[string]float64{
		`storify_checkouts_total{outcome="placed"}`:                               1,
		`storify_checkouts_total{outcome="refused"}`:                              1,
		`storify_units_sold_total`:                                                2,
		`storify_commands_total{command="addproduct",outcome="ok",set="manager"}`: 1,
		`storify_database_errors_total{kind="unavailable"}`:                       0,
	})
	if n, _ := sample(after, "storify_group_commit_batch_size_count"); n < 1 {
		t.Errorf("storify_group_commit_batch_size_count = %v after a checkout, want at least 1", n)
	}
	if n, _ := sample(after, `storify_command_duration_seconds_count{command="addproduct",set="manager"}`); n != 1 {
		t.Errorf("addproduct's latency observed %v times, want 1", n)
	}
}

// TestMetricsOff: without --metrics-listen nothing is served, and nothing is
// reported.
func TestMetricsOff(t *testing.T) {
	p := startProgram(t, filepath.Join(t.TempDir(), "m.db"), "--no-sample")
	if p.m.MetricsAddr() != nil {
		t.Errorf("metrics served at %v without --metrics-listen", p.m.MetricsAddr())
	}
	if _, ok := p.m.shopStore.(observedStore); ok {
		t.Error("the store is observed without --metrics-listen")
	}
}

// pauseProxy forwards TCP connections to target; paused, it keeps every socket
// open and forwards nothing, as a network partition does.
type pauseProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	gate   chan struct{} // closed while forwarding
	conns  []net.Conn
}

func newPauseProxy(t *testing.T, target string) *pauseProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &pauseProxy{ln: ln, target: target, gate: make(chan struct{})}
	close(p.gate)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.resume()
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, c := range p.conns {
			c.Close()
		}
	})
	return p
}

func (p *pauseProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go p.pipe(s, c)
		go p.pipe(c, s)
	}
}

// pipe copies from src to dst, holding each chunk while the proxy is paused.
func (p *pauseProxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			<-gate
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutAll closes every connection forwarded so far, as a dropped link does.
func (p *pauseProxy) cutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *pauseProxy) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default:
	}
}

func (p *pauseProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// TestReadyzFollowsTheDatabase: /readyz says 503 while the PostgreSQL database
// does not answer (paused behind a proxy, as in a partition), within --db-timeout,
// and 200 again once it does; /healthz stays 200 throughout.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	dsn := postgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skip("needs a postgres:// URL")
	}
	proxy := newPauseProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	p := startProgram(t, u.String(), "--no-sample", "--metrics-listen", "127.0.0.1:0", "--db-timeout", "1s")
	if status, body := p.scrape("/readyz"); status != 200 {
		t.Fatalf("/readyz with the database answering: %d %q", status, body)
	}
	proxy.pause()
	start := time.Now()
	status, body := p.scrape("/readyz")
	took := time.Since(start)
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "cannot reach its database") {
		t.Errorf("/readyz with the database paused: %d %q, want 503 saying the database cannot be reached", status, body)
	}
	t.Logf("/readyz answered %d after %v with the database paused (--db-timeout 1s)", status, took.Round(time.Millisecond))
	if status, _ := p.scrape("/healthz"); status != 200 {
		t.Errorf("/healthz with the database paused: %d, want 200", status)
	}
	_, m := p.scrape("/metrics")
	if n, _ := sample(m, `storify_database_errors_total{kind="unavailable"}`); n < 1 {
		t.Errorf(`storify_database_errors_total{kind="unavailable"} = %v after /readyz found the database away, want at least 1`, n)
	}
	proxy.resume()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, body := p.scrape("/readyz")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz 15 s after the database came back: %d %q", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMetricsDuringSimulation scrapes /metrics while simulated customers shop and
// after, and checks the counters against what the simulation saw: every command
// the customers sent counted under its name, every order they were told of
// counted as placed with its units, customers connected while they shop and none
// after. A wrong login is counted as a failed login.
func TestMetricsDuringSimulation(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sim.db")
	p := startProgram(t, db, "--metrics-listen", "127.0.0.1:0")
	p.manager("addproduct Pencil 0.80 1000")

	type result struct {
		r   *simulate.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := simulate.Run(context.Background(), simulate.Config{Addr: p.m.Addr().String(), Customers: 5, Duration: 1500 * time.Millisecond, Seed: 7})
		done <- result{r, err}
	}()
	time.Sleep(700 * time.Millisecond)
	_, during := p.scrape("/metrics")
	if n, _ := sample(during, `storify_customers_connected{transport="telnet"}`); n < 1 {
		t.Errorf("customers connected during the simulation: %v, want at least 1", n)
	}
	if n, _ := sample(during, `storify_commands_total{command="list",outcome="ok",set="customer"}`); n < 1 {
		t.Errorf("customers' list commands counted during the simulation: %v, want some", n)
	}
	res := <-done
	if res.err != nil || res.r.Errors() > 0 {
		t.Fatalf("simulate: %v, %d errors: %v", res.err, res.r.Errors(), res.r.ErrorSamples)
	}
	c := dial(t, p.m.Addr())
	c.doUntil("login nobody", "Password: ")
	if r := c.do("wrongpassword"); !strings.Contains(r, "Wrong name or password") {
		t.Errorf("a wrong login: %q", r)
	}
	c.conn.Close()

	var after string
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, after = p.scrape("/metrics")
		if n, _ := sample(after, `storify_customers_connected{transport="telnet"}`); n == 0 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("customers connected 10 s after they all left: %v", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, cmd := range res.r.Commands {
		var counted float64
		for _, o := range []string{"ok", "refused", "failed"} {
			n, _ := sample(after, fmt.Sprintf(`storify_commands_total{command=%q,outcome=%q,set="customer"}`, cmd.Name, o))
			counted += n
		}
		// The simulation's check before it starts sends a list and a quit of its own.
		if extra := map[string]int64{"list": 1, "quit": 1}[cmd.Name]; counted != float64(cmd.Count+extra) {
			t.Errorf("%s: %v counted, the simulation sent %d", cmd.Name, counted, cmd.Count)
		}
		if n, _ := sample(after, fmt.Sprintf(`storify_commands_total{command=%q,outcome="failed",set="customer"}`, cmd.Name)); n != 0 {
			t.Errorf("%s: %v failed", cmd.Name, n)
		}
	}
	units := 0
	for _, o := range res.r.Orders {
		units += o.Units
	}
	if len(res.r.Orders) == 0 {
		t.Fatal("the simulation placed no orders")
	}
	wantSamples(t, after, map[string]float64{
		`storify_checkouts_total{outcome="placed"}`:                                float64(len(res.r.Orders)),
		`storify_units_sold_total`:                                                 float64(units),
		`storify_login_failures_total`:                                             1,
		`storify_commands_total{command="login",outcome="refused",set="customer"}`: 1,
	})
	t.Logf("%d commands, %d orders of %d units, counted alike", res.r.TotalCommands(), len(res.r.Orders), units)
}

// TestMetricsOverSSH: an SSH customer is counted as connected over ssh while their
// session runs, and their commands and the SSH manager's are counted as the
// customers' and the manager's.
func TestMetricsOverSSH(t *testing.T) {
	needOpenSSH(t)
	keys := t.TempDir()
	boss, ada := keygen(t, keys, "boss"), keygen(t, keys, "ada")
	admins := filepath.Join(keys, "admins")
	pub, err := os.ReadFile(boss + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(admins, pub, 0o600)
	p := startProgram(t, filepath.Join(t.TempDir(), "s.db"), "--ssh-listen", "127.0.0.1:0", "--admin-keys", admins, "--metrics-listen", "127.0.0.1:0")
	o := newOpenSSH(t, p.m.SSHAddr())
	if out, errs, code := o.run(o.cmd(ada, "ada", "show 3"), ""); code != 0 {
		t.Fatalf("ssh show 3: %d %q %q", code, out, errs)
	}
	if out, errs, code := o.run(o.cmd(boss, "manager", "products"), ""); code != 0 {
		t.Fatalf("ssh manager products: %d %q %q", code, out, errs)
	}

	// A customer's shell, held open until its stdin closes.
	c := o.cmd(ada, "ada", "")
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout, c.Stderr = io.Discard, io.Discard
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	waitSample := func(series string, want float64) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			_, body := p.scrape("/metrics")
			got, _ := sample(body, series)
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s = %v, want %v", series, got, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitSample(`storify_customers_connected{transport="ssh"}`, 1)
	io.WriteString(stdin, "list\nquit\n")
	stdin.Close()
	c.Wait()
	waitSample(`storify_customers_connected{transport="ssh"}`, 0)

	_, body := p.scrape("/metrics")
	wantSamples(t, body, map[string]float64{
		`storify_commands_total{command="show",outcome="ok",set="customer"}`:    1,
		`storify_commands_total{command="list",outcome="ok",set="customer"}`:    1,
		`storify_commands_total{command="products",outcome="ok",set="manager"}`: 1,
		`storify_customers_connected{transport="telnet"}`:                       0,
	})
}
