package main

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestOrderNoticesAcrossInstances: two storify instances share one PostgreSQL
// store. An order shipped from A's console is told to its customer connected to B,
// and one cancelled from B's console to its customer on A; each exactly once, and
// never by the instance that has no such customer.
func TestOrderNoticesAcrossInstances(t *testing.T) {
	dsn := postgresDSN(t)
	a := startProgram(t, dsn, "--no-sample")
	b := startProgram(t, dsn, "--no-sample")
	a.manager(`addproduct Mug 5 10`)

	onB, onA := dial(t, b.m.Addr()), dial(t, a.m.Addr())
	onB.do("add Mug 1")
	fromB := orderRe.FindStringSubmatch(onB.do("checkout Ann"))
	onA.do("add Mug 2")
	fromA := orderRe.FindStringSubmatch(onA.do("checkout Bea"))
	if fromB == nil || fromA == nil {
		t.Fatal("the checkouts were not placed")
	}

	if r := a.manager("ship " + fromB[1]); strings.Contains(r, "customer is told") {
		t.Errorf("A says its customer is told of B's customer's order: %q", r)
	}
	shipped := "Your order #" + fromB[1] + " has shipped."
	seen := onB.readUntil(shipped)
	if r := b.manager("cancel " + fromA[1]); strings.Contains(r, "customer is told") {
		t.Errorf("B says its customer is told of A's customer's order: %q", r)
	}
	cancelled := "Your order #" + fromA[1] + " has been cancelled by the store."
	seenA := onA.readUntil(cancelled)

	// Any second notice would come with the listener's next round (at most a
	// second apart), before the reply to a command sent after it.
	time.Sleep(1500 * time.Millisecond)
	seen += onB.do("cart")
	seenA += onA.do("cart")
	if n := strings.Count(seen, shipped); n != 1 {
		t.Errorf("the customer on B was told %d times of the shipping:\n%s", n, seen)
	}
	if n := strings.Count(seenA, cancelled); n != 1 {
		t.Errorf("the customer on A was told %d times of the cancel:\n%s", n, seenA)
	}
	if strings.Contains(seenA, shipped) || strings.Contains(seen, cancelled) {
		t.Errorf("a customer was told of another's order:\nA: %s\nB: %s", seenA, seen)
	}
}

// TestOrderNoticeAfterListenerOutage: instance B cannot reach the database (paused
// behind a proxy) while A ships the order of B's customer, so B's listener misses
// the announcement; when B has the database back, the customer is told, once, and
// B's log says the listener was lost and is back.
func TestOrderNoticeAfterListenerOutage(t *testing.T) {
	dsn := postgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil || u.Host == "" {
		t.Skip("needs a postgres:// URL")
	}
	proxy := newPauseProxy(t, u.Host)
	u.Host = proxy.ln.Addr().String()
	a := startProgram(t, dsn, "--no-sample")
	b := startProgram(t, u.String(), "--no-sample", "--db-timeout", "1s")
	a.manager(`addproduct Mug 5 10`)
	onB := dial(t, b.m.Addr())
	onB.do("add Mug 1")
	placed := orderRe.FindStringSubmatch(onB.do("checkout Ann"))
	if placed == nil {
		t.Fatal("the checkout was not placed")
	}

	proxy.pause()
	// B's listener gives up on its connection after half its budget.
	time.Sleep(2 * time.Second)
	a.manager("ship " + placed[1])
	time.Sleep(500 * time.Millisecond)
	proxy.cutAll()
	proxy.resume()

	shipped := "Your order #" + placed[1] + " has shipped."
	seen := onB.readUntil(shipped)
	time.Sleep(1500 * time.Millisecond)
	seen += onB.do("cart")
	if n := strings.Count(seen, shipped); n != 1 {
		t.Errorf("the customer on B was told %d times:\n%s", n, seen)
	}
	// B's log says the listener was lost, and that it is back.
	b.waitLog("listener lost its database connection")
	b.waitLog("listener is back")
}
