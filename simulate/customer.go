package simulate

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
)

// action is a kind of customer command.
type action int

const (
	actList action = iota
	actSearch
	actShow
	actAdd
	actRemove
	actCart
	actCheckout
	actOrders
	actQuit
	numActions
)

var actionNames = [numActions]string{"list", "search", "show", "add", "remove", "cart", "checkout", "orders", "quit"}

// mix is how often a customer picks each command, in percent: mostly browsing, as in
// a real shop, and about one checkout for three adds.
var mix = []struct {
	a      action
	weight int
}{
	{actList, 30}, {actSearch, 10}, {actShow, 15}, {actAdd, 20},
	{actRemove, 5}, {actCart, 10}, {actCheckout, 7}, {actOrders, 3},
}

// outcome is how a command went.
type outcome int

const (
	succeeded outcome = iota
	refused           // a normal refusal: out of stock, not in the cart
	failed            // the store misbehaved
)

// maxReply bounds one reply: a catalog of thousands of products fits.
const maxReply = 4 << 20

// product is what a customer has learned of one catalog line.
type product struct {
	id    int64
	name  string
	stock int
}

// command is one command line a customer is about to send, with what it names.
type command struct {
	a       action
	line    string
	product int64 // show, add, remove: the product named
	qty     int   // add: units; remove: units, 0 for all
}

// customer is one simulated shopper. Only its own goroutine touches it.
type customer struct {
	sim  *sim
	name string // "sim-N": the name its orders are placed under
	rng  *rand.Rand

	conn     net.Conn
	unwatch  func() bool // stops closing conn at the hard stop
	counted  bool        // counted in sim.connected
	prompt   string
	promptNL []byte // "\n" + prompt: how a reply ends
	buf      []byte // received, not yet taken as a reply

	catalog []product        // learned from list, search and show; by catalog number
	names   map[int64]string // every product name ever seen, by number
	cart    []storify.CartItem
	placed  int      // orders placed in this session
	queued  *command // what the last reply calls for: remove what ran short

	orders []PlacedOrder
}

func newCustomer(s *sim, n int) *customer {
	return &customer{
		sim: s, name: "sim-" + strconv.Itoa(n),
		rng:   rand.New(rand.NewPCG(uint64(s.cfg.Seed), uint64(n))),
		names: map[int64]string{},
	}
}

// run shops until the run's duration ends, reconnecting after a failure, then quits.
func (c *customer) run() {
	defer c.hangUp()
	for c.sim.shopping() {
		if c.conn == nil {
			if err := c.connect(); err != nil {
				if c.sim.interrupted() {
					return
				}
				c.sim.connectErrors.Add(1)
				c.sim.noteError(fmt.Sprintf("%s: connecting: %v", c.name, err))
				c.pause(250 * time.Millisecond) // do not spin against a store that refuses
				continue
			}
		}
		if !c.exec(c.choose()) {
			c.pause(100 * time.Millisecond) // the store misbehaves: do not hammer it
		} else if t := c.sim.cfg.Think; t > 0 {
			c.pause(time.Duration(c.rng.Int64N(int64(2 * t))))
		}
	}
	if c.conn != nil && !c.sim.interrupted() {
		c.exec(command{a: actQuit, line: "quit"})
	}
}

// pause waits for d, or less if the shopping time ends first.
func (c *customer) pause(d time.Duration) {
	d = min(d, time.Until(c.sim.end))
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.sim.hard.Done():
	}
}

// connect starts a new session: a new connection, the greeting, an empty cart.
func (c *customer) connect() error {
	conn, err := c.sim.dial()
	if err != nil {
		return err
	}
	c.sim.connects.Add(1)
	c.conn = conn
	c.unwatch = context.AfterFunc(c.sim.hard, func() { conn.Close() })
	c.buf = c.buf[:0]
	c.cart, c.placed, c.queued = nil, 0, nil
	if err := c.readGreeting(); err != nil {
		c.hangUp()
		return err
	}
	c.counted = true
	c.sim.connected.Add(1)
	return nil
}

// hangUp closes the connection, if any.
func (c *customer) hangUp() {
	if c.conn == nil {
		return
	}
	c.unwatch()
	c.conn.Close()
	c.conn = nil
	if c.counted {
		c.counted = false
		c.sim.connected.Add(-1)
	}
}

var greetingRe = regexp.MustCompile(`^Welcome to (.+)\. Type help or \? to list commands\.$`)

// readGreeting reads up to the first prompt, learning the prompt from the greeting
// unless the Config gave it.
func (c *customer) readGreeting() error {
	c.conn.SetDeadline(c.deadline())
	prompt := c.sim.cfg.Prompt
	if prompt == "" {
		for bytes.IndexByte(c.buf, '\n') < 0 {
			if err := c.fill(); err != nil {
				return fmt.Errorf("no greeting: %w", err)
			}
		}
		first := strings.TrimRight(string(c.buf[:bytes.IndexByte(c.buf, '\n')]), "\r")
		m := greetingRe.FindStringSubmatch(first)
		if m == nil {
			return fmt.Errorf("unexpected greeting %q", clip(first))
		}
		prompt = m[1] + "> "
	}
	c.prompt, c.promptNL = prompt, []byte("\n"+prompt)
	for !c.atPrompt() {
		if err := c.fill(); err != nil {
			return fmt.Errorf("no prompt %q after the greeting: %w", prompt, err)
		}
	}
	c.buf = c.buf[:0]
	return nil
}

// deadline is when the reply being waited for is late: after the timeout, and never
// after the hard stop.
func (c *customer) deadline() time.Time {
	if t := time.Now().Add(c.sim.cfg.Timeout); t.Before(c.sim.stop) {
		return t
	}
	return c.sim.stop
}

func (c *customer) atPrompt() bool {
	return bytes.HasSuffix(c.buf, c.promptNL) || string(c.buf) == c.prompt
}

// fill reads what the store sent next.
func (c *customer) fill() error {
	if len(c.buf) >= maxReply {
		return fmt.Errorf("more than %d bytes without a prompt", maxReply)
	}
	if cap(c.buf)-len(c.buf) < 1024 {
		c.buf = slices.Grow(c.buf, max(2048, len(c.buf)))
	}
	n, err := c.conn.Read(c.buf[len(c.buf):cap(c.buf)])
	c.buf = c.buf[:len(c.buf)+n]
	if n > 0 {
		return nil // an error comes again with the next read
	}
	return c.netError(err)
}

// netError says what a read or write error means for the run.
func (c *customer) netError(err error) error {
	last := lastLine(c.buf)
	switch {
	case err == nil:
		return errors.New("empty read")
	case errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(c.sim.stop),
		errors.Is(err, net.ErrClosed) && c.sim.hard.Err() != nil:
		return errors.New("cut off at the end of the run: no reply within the grace period")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no reply within %v", c.sim.cfg.Timeout)
	case errors.Is(err, io.EOF) && last != "":
		return fmt.Errorf("the store closed the connection after %q", clip(last))
	case errors.Is(err, io.EOF):
		return errors.New("the store closed the connection")
	}
	return err
}

// roundTrip sends one command line and returns its reply's lines, without the
// prompt, and the time from sending to the prompt.
func (c *customer) roundTrip(line string) ([]string, time.Duration, error) {
	c.conn.SetDeadline(c.deadline())
	start := time.Now()
	if _, err := io.WriteString(c.conn, line+"\r\n"); err != nil {
		return nil, 0, c.netError(err)
	}
	for {
		for !c.atPrompt() {
			if err := c.fill(); err != nil {
				return nil, 0, err
			}
		}
		lines, notices := replyLines(c.buf[:len(c.buf)-len(c.prompt)], c.prompt)
		c.buf = c.buf[:0]
		if len(lines) > 0 || notices == 0 {
			return lines, time.Since(start), nil
		}
		// Only a notice ("*** …") shown at the prompt: the reply is still to come.
	}
}

// replyLines splits a reply into lines. Notices from the store ("*** The manager
// says …"), which may come before a reply with a prompt of their own, are left out
// and counted.
func replyLines(raw []byte, prompt string) (lines []string, notices int) {
	for l := range strings.SplitSeq(strings.ReplaceAll(string(raw), "\r\n", "\n"), "\n") {
		for strings.HasPrefix(l, prompt) {
			l = l[len(prompt):] // a prompt a notice interrupted
		}
		switch {
		case strings.HasPrefix(l, "*** "):
			notices++
		case l != "":
			lines = append(lines, l)
		}
	}
	return lines, notices
}

// quit says goodbye: the store answers and closes the connection.
func (c *customer) quit() (time.Duration, error) {
	c.conn.SetDeadline(c.deadline())
	start := time.Now()
	if _, err := io.WriteString(c.conn, "quit\r\n"); err != nil {
		return 0, c.netError(err)
	}
	for !bytes.Contains(c.buf, []byte("Goodbye, come again.\r\n")) {
		if err := c.fill(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

// exec runs one command and counts how it went; false for a failure. After a failure
// the conversation may be out of step, so the customer hangs up and will start a new
// session.
func (c *customer) exec(cmd command) bool {
	st := &c.sim.stats[cmd.a]
	var lines []string
	var took time.Duration
	var err error
	if cmd.a == actQuit {
		took, err = c.quit()
	} else {
		lines, took, err = c.roundTrip(cmd.line)
	}
	if err != nil && c.sim.interrupted() {
		c.hangUp() // the caller gave up; this is not the store's failure
		return true
	}
	st.count.Add(1)
	if err != nil {
		st.errors.Add(1)
		c.sim.noteError(fmt.Sprintf("%s: %s: %v", c.name, cmd.line, err))
		c.hangUp()
		return false
	}
	st.observe(took)
	if cmd.a == actQuit {
		st.ok.Add(1)
		c.hangUp()
		return true
	}
	switch out, err := c.handle(cmd, lines); out {
	case succeeded:
		st.ok.Add(1)
	case refused:
		st.refused.Add(1)
	default:
		st.errors.Add(1)
		c.sim.noteError(fmt.Sprintf("%s: %s: %v", c.name, cmd.line, err))
		c.hangUp()
		return false
	}
	return true
}

// choose picks the next command by the mix, with products the customer knows of.
func (c *customer) choose() command {
	if q := c.queued; q != nil {
		c.queued = nil
		return *q
	}
	if len(c.catalog) == 0 {
		return command{a: actList, line: "list"} // look before anything else
	}
	a := c.pick()
	if (a == actRemove || a == actCheckout) && len(c.cart) == 0 {
		a = actAdd
	}
	switch a {
	case actSearch:
		return command{a: a, line: "search " + c.searchText()}
	case actShow:
		p := c.catalog[c.rng.IntN(len(c.catalog))]
		return command{a: a, line: "show " + c.ref(p.id), product: p.id}
	case actAdd:
		p := c.productToAdd()
		qty := 1
		if c.rng.IntN(10) < 3 {
			qty = 2 + c.rng.IntN(2)
		}
		line := "add " + c.ref(p.id)
		if qty > 1 || c.rng.IntN(4) == 0 {
			line += " " + strconv.Itoa(qty)
		}
		return command{a: a, line: line, product: p.id, qty: qty}
	case actRemove:
		it := c.cart[c.rng.IntN(len(c.cart))]
		return c.removeCommand(it, it.Qty > 1 && c.rng.IntN(2) == 0)
	case actCart:
		return command{a: a, line: "cart"}
	case actCheckout:
		return command{a: a, line: "checkout " + c.name}
	case actOrders:
		return command{a: a, line: "orders"}
	}
	return command{a: actList, line: "list"}
}

func (c *customer) pick() action {
	total := 0
	for _, m := range mix {
		total += m.weight
	}
	n := c.rng.IntN(total)
	for _, m := range mix {
		if n -= m.weight; n < 0 {
			return m.a
		}
	}
	return actList
}

func (c *customer) removeCommand(it storify.CartItem, one bool) command {
	cmd := command{a: actRemove, line: "remove " + c.ref(it.ProductID), product: it.ProductID}
	if one {
		cmd.qty = 1
		cmd.line += " 1"
	}
	return cmd
}

// productToAdd is mostly a product the last catalog showed in stock, as a person
// would choose, and sometimes any product.
func (c *customer) productToAdd() product {
	var inStock []product
	for _, p := range c.catalog {
		if p.stock > c.cartQty(p.id) {
			inStock = append(inStock, p)
		}
	}
	if len(inStock) > 0 && c.rng.IntN(100) < 85 {
		return inStock[c.rng.IntN(len(inStock))]
	}
	return c.catalog[c.rng.IntN(len(c.catalog))]
}

// ref names a product as people do: mostly by number, sometimes by name.
func (c *customer) ref(id int64) string {
	name := c.names[id]
	switch n := c.rng.IntN(100); {
	case n < 10:
		return "#" + strconv.FormatInt(id, 10)
	case n < 35 && nameTypable(name):
		if isASCII(name) && c.rng.IntN(2) == 0 {
			name = strings.ToLower(name)
		}
		if strings.Contains(name, " ") {
			return `"` + name + `"`
		}
		return name
	}
	return strconv.FormatInt(id, 10)
}

// nameTypable reports whether a name can be typed as one word or a quoted one that
// the store will not take for a number.
func nameTypable(name string) bool {
	return name != "" && !strings.ContainsAny(name, `"'`) && !strings.ContainsAny(name[:1], "0123456789+-$#.")
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// searchText is mostly a word of a product's name, sometimes one that matches nothing.
func (c *customer) searchText() string {
	if c.rng.IntN(5) > 0 {
		p := c.catalog[c.rng.IntN(len(c.catalog))]
		var words []string
		for w := range strings.FieldsSeq(p.name) {
			if len(w) >= 2 && isAlnum(w) {
				words = append(words, strings.ToLower(w))
			}
		}
		if len(words) > 0 {
			return words[c.rng.IntN(len(words))]
		}
	}
	return "zq" + strconv.Itoa(c.rng.IntN(1000))
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i] | 0x20; (b < 'a' || b > 'z') && (s[i] < '0' || s[i] > '9') {
			return false
		}
	}
	return true
}

func (c *customer) cartQty(id int64) int {
	for _, it := range c.cart {
		if it.ProductID == id {
			return it.Qty
		}
	}
	return 0
}

func (c *customer) cartUnits() int {
	n := 0
	for _, it := range c.cart {
		n += it.Qty
	}
	return n
}

// setCartQty sets a product's quantity in the tracked cart, keeping the order in
// which products were first added, as the store does; 0 takes it out.
func (c *customer) setCartQty(id int64, qty int) {
	for i := range c.cart {
		if c.cart[i].ProductID == id {
			if qty == 0 {
				c.cart = slices.Delete(c.cart, i, i+1)
			} else {
				c.cart[i].Qty = qty
			}
			return
		}
	}
	if qty > 0 {
		c.cart = append(c.cart, storify.CartItem{ProductID: id, Qty: qty})
	}
}

// learn records what a catalog table showed; a full list replaces what was known.
func (c *customer) learn(ps []product, full bool) {
	if full {
		c.catalog = c.catalog[:0]
	}
	for _, p := range ps {
		c.names[p.id] = p.name
		c.setKnown(p)
	}
}

func (c *customer) setKnown(p product) {
	i, found := slices.BinarySearchFunc(c.catalog, p.id, func(q product, id int64) int { return cmp.Compare(q.id, id) })
	if found {
		c.catalog[i] = p
	} else {
		c.catalog = slices.Insert(c.catalog, i, p)
	}
}

func (c *customer) forget(id int64) {
	c.catalog = slices.DeleteFunc(c.catalog, func(p product) bool { return p.id == id })
}

func (c *customer) setStock(id int64, stock int) {
	for i := range c.catalog {
		if c.catalog[i].id == id {
			c.catalog[i].stock = stock
		}
	}
}

func lastLine(b []byte) string {
	s := strings.TrimRight(string(b), "\r\n")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// clip shortens a reply for an error message.
func clip(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}
