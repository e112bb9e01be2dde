package main

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestLoginThrottleAcrossProcesses: three storify processes on one PostgreSQL
// store, and six wrong passwords for one name, one after the other, spread over
// the three: the throttle counts them as one throttle does, so the sixth is not
// checked but paused (per instance, each would have allowed five).
func TestLoginThrottleAcrossProcesses(t *testing.T) {
	dsn := postgresDSN(t)
	instances := []*child{startChild(t, dsn, "--no-sample"), startChild(t, dsn, "--no-sample"), startChild(t, dsn, "--no-sample")}
	c := dialAddr(t, instances[0].addr)
	c.doUntil("register bob", "Password: ")
	c.doUntil("bob-password", "Password again: ")
	if got := c.do("bob-password"); !strings.Contains(got, "your account is open") {
		t.Fatalf("register bob: %q", got)
	}
	for i := range 6 {
		c := dialAddr(t, instances[i%3].addr)
		got := c.doUntilEither("login bob", "Password: ", "Test> ")
		if strings.HasSuffix(got, "Password: ") {
			got += c.do(fmt.Sprintf("wrong-password-%d", i))
		}
		switch {
		case i < 5 && !strings.Contains(got, "Wrong name or password."):
			t.Errorf("guess %d, on instance %d: %q, want it checked", i+1, i%3+1, got)
		case i == 5 && !strings.Contains(got, "Too many failed logins; try again in"):
			t.Errorf("the sixth guess, on instance 3: %q, want the pause", got)
		}
	}
}

// TestBanHoldsOnEveryInstance: a ban made on one instance's console turns
// connections away on another process at once, the third lists it, and an unban
// on the third lets them in again everywhere.
func TestBanHoldsOnEveryInstance(t *testing.T) {
	dsn := postgresDSN(t)
	a := startProgram(t, dsn, "--no-sample")
	b := startChild(t, dsn, "--no-sample")
	c := startProgram(t, dsn, "--no-sample")
	if got := a.manager("ban 127.0.0.1 2h"); !strings.Contains(got, "Connections from 127.0.0.1 are turned away until") {
		t.Fatalf("ban: %q", got)
	}
	began := time.Now()
	if !eventuallyRefused(t, b.addr, true) {
		t.Fatalf("instance B still serves an address banned on A, %v after the ban", time.Since(began))
	}
	t.Logf("B turns the address away %v after A banned it", time.Since(began).Round(time.Millisecond))
	if got := c.manager("bans"); !strings.Contains(got, "127.0.0.1") {
		t.Errorf("bans on instance C: %q, want A's ban", got)
	}
	if got := c.manager("unban 127.0.0.1"); !strings.Contains(got, "127.0.0.1 may connect again.") {
		t.Errorf("unban on C: %q", got)
	}
	if !eventuallyRefused(t, b.addr, false) || !eventuallyRefused(t, a.m.Addr().String(), false) {
		t.Errorf("an address unbanned on C is still turned away")
	}
}

// eventuallyRefused connects to addr until the store turns the connection away
// (refused) or greets it (!refused), for 10 seconds at most, and reports whether
// it did.
func eventuallyRefused(t *testing.T, addr string, refused bool) bool {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, len("This store does not serve your address."))
		_, err = io.ReadFull(conn, buf)
		conn.Close()
		if err == nil && (string(buf) == "This store does not serve your address.") == refused {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// TestSignupCapAcrossInstances: three instances of one PostgreSQL store run with
// --max-new-accounts 2 open two accounts in all, not two each. (The postgres
// package races sixty sign-ups over three instances for ten places.)
func TestSignupCapAcrossInstances(t *testing.T) {
	dsn := postgresDSN(t)
	var instances []*program
	for range 3 {
		instances = append(instances, startProgram(t, dsn, "--no-sample", "--max-new-accounts", "2",
			"--proxy-protocol", "--trusted-proxies", "127.0.0.1"))
	}
	for i, p := range instances {
		c, _ := dialProxied(t, p.m.Addr(), fmt.Sprintf("203.0.113.%d:1000", i+1), 2)
		got := c.doUntilEither(fmt.Sprintf("register shopper%d", i), "Password: ", "Test> ")
		if i < 2 {
			c.doUntil("a-password", "Password again: ")
			if got = c.do("a-password"); !strings.Contains(got, "your account is open") {
				t.Errorf("sign-up %d: %q", i, got)
			}
		} else if !strings.Contains(got, "Too many new accounts right now") {
			t.Errorf("a third account, on the third instance, with --max-new-accounts 2: %q", got)
		}
	}
}
