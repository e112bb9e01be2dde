//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConsoleOnATerminal: on a terminal the console completes what each argument
// takes (commands after help, statuses after orders, product names where a
// product goes) and keeps its history in a file, so it survives a restart.
func TestConsoleOnATerminal(t *testing.T) {
	dir := t.TempDir()
	db, history := filepath.Join(dir, "s.db"), filepath.Join(dir, "history")
	env := []string{"STORIFY_HISTORY=" + history}
	args := []string{"--no-sample", "--db", db, "--listen", "127.0.0.1:0", "--name", "Test", "--log-level", "warn"}
	p := startPTY(t, env, args...)
	const prompt = "Test manager> "
	mark := p.waitFor(0, prompt)
	p.typeKeys("addproduct \"Desk Lamp\" 20 5\r")
	mark = p.waitFor(mark, "Added #1 Desk Lamp at 20.00, 5 in stock.\r\n")
	p.typeKeys("restock de\t")
	mark = p.waitFor(mark, "sk Lamp")
	p.typeKeys(" 3\r")
	mark = p.waitFor(mark, "#1 Desk Lamp: 8 in stock.\r\n")
	p.typeKeys("orders pl\t")
	mark = p.waitFor(mark, "aced")
	p.typeKeys("\r")
	mark = p.waitFor(mark, "No orders.\r\n")
	p.typeKeys("help resto\t")
	mark = p.waitFor(mark, "ck")
	p.typeKeys("\r")
	mark = p.waitFor(mark, "restock PRODUCT QTY\r\n  add QTY received units to a product's stock\r\n")
	p.typeKeys("exit\r")
	p.waitFor(mark, "Closing the store.\r\n")
	if status := p.exited(); status != 0 {
		t.Errorf("exit status %d; the terminal showed:\n%q", status, p.output())
	}
	b, err := os.ReadFile(history)
	if err != nil || !strings.Contains(string(b), "addproduct \"Desk Lamp\" 20 5\n") || !strings.Contains(string(b), "orders placed\n") {
		t.Fatalf("history file: %q, %v", b, err)
	}
	if fi, err := os.Stat(history); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v, %v; want 0600", fi.Mode(), err)
	}

	// After a restart, Up brings back the commands typed before.
	p = startPTY(t, env, args...)
	mark = p.waitFor(0, prompt)
	p.typeKeys("\x1b[A\x1b[A\r") // exit, then help restock
	p.waitFor(mark, "restock PRODUCT QTY\r\n")
	p.typeKeys("exit\r")
	if status := p.exited(); status != 0 {
		t.Errorf("second run: exit status %d", status)
	}
}

// TestConsoleShowsTheShopMoving: on a terminal, a customer connecting, an order
// placed, a checkout refused for want of stock and the customer leaving appear as
// plain sentences above the prompt; the prompt and the line being typed come back
// under them.
func TestConsoleShowsTheShopMoving(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	p := startPTY(t, []string{"STORIFY_HISTORY=off"}, "--db", db, "--listen", "127.0.0.1:0", "--name", "Test")
	mark := p.waitFor(0, " a new store: the sample catalog of 6 products is added\r\n")
	mark = p.waitFor(mark, " Test is open on "+db+"; customers connect with telnet 127.0.0.1 ")
	port := p.output()[mark:]
	port = port[:strings.IndexAny(port, "\r\n")]
	mark = p.waitFor(mark, "Test manager> ")
	p.typeKeys("prod") // half a line, typed when the events come
	c := dialAddr(t, "127.0.0.1:"+port)
	mark = p.waitFor(mark, " customer 1 connected from 127.0.0.1:")
	c.do("add 1 2")
	c.doUntil("checkout", "Your name: ")
	c.do("Ada")
	mark = p.waitFor(mark, " order #1 placed by Ada: 2 units, 25.00\r\n")
	bob := dialAddr(t, "127.0.0.1:"+port)
	bob.do("add 5 5")
	c.do("add 5 5")
	c.do("checkout Ada")
	bob.do("checkout Bob")
	mark = p.waitFor(mark, " a checkout by Bob was refused: Desk Lamp is sold out\r\n")
	c.doUntil("quit", "Goodbye, come again.")
	mark = p.waitFor(mark, " customer 1 (127.0.0.1:")
	mark = p.waitFor(mark, ") left\r\n")
	mark = p.waitFor(mark, "Test manager> \x1b[0Kprod")
	p.typeKeys("ucts\r")
	p.waitFor(mark, "Blue Mug")
	if strings.Contains(p.output(), "level=INFO") {
		t.Errorf("log syntax on the terminal:\n%q", p.output())
	}
	p.typeKeys("exit\r")
	if status := p.exited(); status != 0 {
		t.Errorf("exit status %d", status)
	}
}

// TestSimulateShowsProgressOnATerminal: storify simulate with its stdout on a
// terminal rewrites a progress line every second, then prints its table.
func TestSimulateShowsProgressOnATerminal(t *testing.T) {
	store := startChild(t, filepath.Join(t.TempDir(), "s.db"))
	p := startPTY(t, nil, "simulate", "--addr", store.addr, "--customers", "3", "--duration", "2500ms", "--seed", "1")
	mark := p.waitFor(0, "\r")
	mark = p.waitFor(mark, "s  3 connected  ")
	mark = p.waitFor(mark, " commands/s  ")
	mark = p.waitFor(mark, " checkouts/s  0 errors")
	p.waitFor(mark, "Simulated 3 customers on "+store.addr)
	if status := p.exited(); status != 0 {
		t.Errorf("exit status %d:\n%q", status, p.output())
	}
}

// TestConsoleAsksAtATerminal: at a terminal, a price of 0.00 is asked about and
// "no" changes nothing; a missing argument is asked for; an ambiguous name is
// refused with the quoting it needs, before anything is asked.
func TestConsoleAsksAtATerminal(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	p := startPTY(t, []string{"STORIFY_HISTORY=off"}, "--db", db, "--listen", "127.0.0.1:0", "--name", "Test", "--log-level", "warn")
	mark := p.waitFor(0, "Test manager> ")
	p.typeKeys("price 1 0\r")
	mark = p.waitFor(mark, "Give Blue Mug away, at a price of 0.00? (yes/no) ")
	p.typeKeys("no\r")
	mark = p.waitFor(mark, "Cancelled; nothing was changed.\r\n")
	p.typeKeys("addproduct Model 3 10 5\r")
	mark = p.waitFor(mark, `Is the name "Model" or "Model 3"? Quote it to say which: addproduct "Model" 3 10 5, or addproduct "Model 3" 10 5.`+"\r\n")
	p.typeKeys("restock Blue Mug\r")
	mark = p.waitFor(mark, "Units received: ")
	p.typeKeys("6\r")
	mark = p.waitFor(mark, "#1 Blue Mug: 30 in stock.\r\n")
	p.typeKeys("show 1\r")
	p.waitFor(mark, "  On hand:     30\r\n  Received:    30\r\n  Sold:        0 (revenue 0.00; cancelled orders left out)\r\n  Written off: 0\r\n")
	p.typeKeys("exit\r")
	if status := p.exited(); status != 0 {
		t.Errorf("exit status %d", status)
	}
}
