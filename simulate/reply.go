package simulate

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/storify/storify"
)

// The store's replies, as shell/customer.go and shell/format.go write them.
var (
	catalogHeaderRe = regexp.MustCompile(`^\s*#\s+Product\s+Price$`)
	catalogRowRe    = regexp.MustCompile(`^\s*(\d+)  (.*?)\s+(\d+\.\d\d)(?:  (\d+) left|  (sold out))?$`)
	showTitleRe     = regexp.MustCompile(`^#(\d+) (.+)$`)
	inStockRe       = regexp.MustCompile(`^In stock: (\d+)$`)
	inCartRe        = regexp.MustCompile(`^In your cart: (\d+)$`)
	addedRe         = regexp.MustCompile(`^Added (\d+) (.+) to your cart \((\d+) in cart, (\d+\.\d\d) each\)\.$`)
	soldOutRe       = regexp.MustCompile(`^(.+) is sold out\.$`)
	onlyLeftRe      = regexp.MustCompile(`^Only (\d+) (.+) left\.$`)
	noLongerRe      = regexp.MustCompile(`^(.+) is no longer sold\.$`)
	removedAllRe    = regexp.MustCompile(`^Removed (.+) from your cart\.$`)
	removedSomeRe   = regexp.MustCompile(`^Removed (\d+) (.+); (\d+) left in your cart\.$`)
	notInCartRe     = regexp.MustCompile(`^(.+) is not in your cart\.$`)
	cartLineRe      = regexp.MustCompile(`^\s+(\d+) x (.+?)\s+(\d+\.\d\d)\s+(\d+\.\d\d)$`)
	cartTotalRe     = regexp.MustCompile(`^\s+Total\s+(\d+\.\d\d)$`)
	placedRe        = regexp.MustCompile(`^Thank you, (.+)\. Order #(\d+) is placed: (\d+) units?, total (\d+\.\d\d)\.$`)
	notPlacedRe     = regexp.MustCompile(`^No order was placed: (.+)\. Your cart is unchanged\.$`)
	// positionRe is the line under a page of a long list.
	positionRe = regexp.MustCompile(`^[a-z ]+ [0-9,]+–[0-9,]+ of ([0-9,]+)[.,] `)
)

const (
	catalogEmpty = "The catalog is empty."
	catalogHint  = "Type show N for details, add N to put one in your cart."
	cartEmpty    = "Your cart is empty. Type add PRODUCT to fill it."
	cartHint     = "Type checkout to place the order."
	noItems      = "Your cart is empty; add something first."
	noOrders     = "You have placed no orders yet."
)

// handle reads a command's reply, updates what the customer knows (catalog, cart,
// orders), and says how the command went. A reply that does not fit the command, or
// contradicts the cart the customer tracked, is a failure.
func (c *customer) handle(cmd command, lines []string) (outcome, error) {
	if len(lines) == 0 {
		return failed, fmt.Errorf("an empty reply")
	}
	if strings.HasPrefix(lines[0], "Unknown command") {
		return failed, fmt.Errorf("%s", clip(lines[0]))
	}
	switch cmd.a {
	case actList:
		return c.handleList(lines)
	case actSearch:
		if len(lines) == 1 && strings.HasPrefix(lines[0], "Nothing matches ") {
			return succeeded, nil
		}
		if strings.HasPrefix(lines[0], "Nothing matches ") { // "Did you mean …?", then what that finds
			lines = lines[1:]
		}
		lines, _ = cutPosition(lines)
		ps, err := parseCatalog(lines)
		if err != nil {
			return failed, err
		}
		c.learn(ps, false)
		return succeeded, nil
	case actShow:
		return c.handleShow(cmd, lines)
	case actAdd:
		return c.handleAdd(cmd, lines)
	case actRemove:
		return c.handleRemove(cmd, lines)
	case actCart:
		return c.handleCart(lines)
	case actCheckout:
		return c.handleCheckout(lines)
	case actOrders:
		return c.handleOrders(lines)
	}
	return failed, fmt.Errorf("no handler for %s", actionNames[cmd.a])
}

func unexpected(lines []string) error {
	return fmt.Errorf("unexpected reply %q", clip(strings.Join(lines, " | ")))
}

func (c *customer) handleList(lines []string) (outcome, error) {
	if len(lines) == 1 && lines[0] == catalogEmpty {
		c.learn(nil, true)
		return succeeded, nil
	}
	if lines[len(lines)-1] == catalogHint { // shown under the first list of a session
		lines = lines[:len(lines)-1]
	}
	lines, total := cutPosition(lines)
	ps, err := parseCatalog(lines)
	if err != nil {
		return failed, err
	}
	c.learn(ps, total < 0) // a page is not the whole catalog
	return succeeded, nil
}

// cutPosition removes the line that ends a page of a long list ("products 1–20
// of 300. Type next …") and returns the total it gives, or -1 if there was none.
func cutPosition(lines []string) ([]string, int) {
	if n := len(lines); n > 1 {
		if m := positionRe.FindStringSubmatch(lines[n-1]); m != nil {
			total, _ := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
			return lines[:n-1], total
		}
	}
	return lines, -1
}

// plenty is the stock assumed for a catalog row that names none: more than the
// ten units below which the store says how many are left.
const plenty = 11

// parseCatalog reads a catalog table: a header, then one row per product.
func parseCatalog(lines []string) ([]product, error) {
	if !catalogHeaderRe.MatchString(lines[0]) {
		return nil, unexpected(lines)
	}
	ps := make([]product, 0, len(lines)-1)
	for _, l := range lines[1:] {
		m := catalogRowRe.FindStringSubmatch(l)
		if m == nil {
			return nil, fmt.Errorf("unexpected catalog row %q", clip(l))
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		// A row that says nothing of stock has more than the store's "few left"
		// (10): plenty is counted as 11, a lower bound.
		stock := plenty
		switch {
		case m[4] != "":
			stock, _ = strconv.Atoi(m[4])
		case m[5] != "":
			stock = 0
		}
		ps = append(ps, product{id: id, name: strings.TrimRight(m[2], " "), stock: stock})
	}
	return ps, nil
}

func (c *customer) handleShow(cmd command, lines []string) (outcome, error) {
	m := showTitleRe.FindStringSubmatch(lines[0])
	if m == nil {
		return failed, unexpected(lines)
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	if id != cmd.product {
		return failed, fmt.Errorf("asked for #%d, shown #%d", cmd.product, id)
	}
	p := product{id: id, name: m[2], stock: -1}
	inCart := 0
	for _, l := range lines[1:] {
		l = strings.TrimSpace(l)
		if m := inStockRe.FindStringSubmatch(l); m != nil {
			p.stock, _ = strconv.Atoi(m[1])
		} else if m := inCartRe.FindStringSubmatch(l); m != nil {
			inCart, _ = strconv.Atoi(m[1])
		} else if l == "Sold out." {
			p.stock = 0
		} else if l == "No longer sold." {
			c.forget(id)
			return succeeded, nil
		}
	}
	if p.stock < 0 {
		return failed, fmt.Errorf("no stock line in %q", clip(strings.Join(lines, " | ")))
	}
	if want := c.cartQty(id); inCart != want {
		return failed, fmt.Errorf("the store says %d in the cart; the customer added %d", inCart, want)
	}
	c.names[id] = p.name
	c.setKnown(p)
	return succeeded, nil
}

func (c *customer) handleAdd(cmd command, lines []string) (outcome, error) {
	l := lines[0]
	if m := addedRe.FindStringSubmatch(l); m != nil && len(lines) == 1 {
		qty, _ := strconv.Atoi(m[1])
		inCart, _ := strconv.Atoi(m[3])
		if want := c.cartQty(cmd.product) + cmd.qty; qty != cmd.qty || inCart != want {
			return failed, fmt.Errorf("added %d, %d in cart; the customer expected %d, %d in cart", qty, inCart, cmd.qty, want)
		}
		c.setCartQty(cmd.product, inCart)
		return succeeded, nil
	}
	if m := soldOutRe.FindStringSubmatch(l); m != nil {
		c.setStock(cmd.product, 0)
		return refused, nil
	}
	if m := onlyLeftRe.FindStringSubmatch(l); m != nil {
		n, _ := strconv.Atoi(m[1])
		c.setStock(cmd.product, n)
		return refused, nil
	}
	if noLongerRe.MatchString(l) {
		c.forget(cmd.product)
		return refused, nil
	}
	return failed, unexpected(lines)
}

func (c *customer) handleRemove(cmd command, lines []string) (outcome, error) {
	had := c.cartQty(cmd.product)
	l := lines[0]
	if removedAllRe.MatchString(l) {
		if had == 0 || cmd.qty != 0 && cmd.qty < had {
			return failed, fmt.Errorf("removed all; the customer had %d and took out %d", had, cmd.qty)
		}
		c.setCartQty(cmd.product, 0)
		return succeeded, nil
	}
	if m := removedSomeRe.FindStringSubmatch(l); m != nil {
		left, _ := strconv.Atoi(m[3])
		if left != had-cmd.qty {
			return failed, fmt.Errorf("%d left in the cart; the customer had %d and took out %d", left, had, cmd.qty)
		}
		c.setCartQty(cmd.product, left)
		return succeeded, nil
	}
	if notInCartRe.MatchString(l) {
		if had > 0 {
			return failed, fmt.Errorf("the store says it is not in the cart; the customer added %d", had)
		}
		return refused, nil
	}
	return failed, unexpected(lines)
}

// handleCart checks the store's cart against the one the customer tracked: the same
// products in the same order, with the same quantities.
func (c *customer) handleCart(lines []string) (outcome, error) {
	if len(lines) == 1 && lines[0] == cartEmpty {
		if len(c.cart) > 0 {
			return failed, fmt.Errorf("the store says the cart is empty; the customer added %d units", c.cartUnits())
		}
		return succeeded, nil
	}
	if lines[0] != "Your cart:" || lines[len(lines)-1] != cartHint {
		return failed, unexpected(lines)
	}
	var qtys []int
	total := false
	for _, l := range lines[1 : len(lines)-1] {
		if m := cartLineRe.FindStringSubmatch(l); m != nil && !total {
			n, _ := strconv.Atoi(m[1])
			qtys = append(qtys, n)
		} else if cartTotalRe.MatchString(l) {
			total = true
		} else if !strings.HasPrefix(l, "Note: ") {
			return failed, fmt.Errorf("unexpected cart line %q", clip(l))
		}
	}
	want := make([]int, len(c.cart))
	for i, it := range c.cart {
		want[i] = it.Qty
	}
	if !total || fmt.Sprint(qtys) != fmt.Sprint(want) {
		return failed, fmt.Errorf("the store's cart holds quantities %v; the customer added %v", qtys, want)
	}
	return succeeded, nil
}

func (c *customer) handleCheckout(lines []string) (outcome, error) {
	l := lines[0]
	if m := placedRe.FindStringSubmatch(l); m != nil && len(lines) == 1 {
		id, _ := strconv.ParseInt(m[2], 10, 64)
		units, _ := strconv.Atoi(m[3])
		total, err := storify.ParseCents(m[4])
		if err != nil {
			return failed, fmt.Errorf("order #%d: bad total %q", id, m[4])
		}
		// The order is noted even if the reply disagrees with the cart, so that
		// Verify checks it against the store too.
		c.orders = append(c.orders, PlacedOrder{ID: id, Customer: c.name, Units: units, Total: total, Lines: c.cart})
		c.cart = nil
		c.placed++
		if m[1] != c.name || units != c.orders[len(c.orders)-1].lineUnits() {
			return failed, fmt.Errorf("order #%d placed for %q with %d units; the customer is %s with %d units in the cart",
				id, m[1], units, c.name, c.orders[len(c.orders)-1].lineUnits())
		}
		return succeeded, nil
	}
	if m := notPlacedRe.FindStringSubmatch(l); m != nil {
		c.removeShort(m[1])
		return refused, nil
	}
	if l == noItems {
		if len(c.cart) > 0 {
			return failed, fmt.Errorf("the store says the cart is empty; the customer added %d units", c.cartUnits())
		}
		return refused, nil
	}
	return failed, unexpected(lines)
}

// removeShort queues taking out of the cart the product a refused checkout named
// ("only 2 Blue Mug left"), as a person would before trying again.
func (c *customer) removeShort(why string) {
	best := -1
	for i, it := range c.cart {
		name := c.names[it.ProductID]
		if name != "" && strings.Contains(why, name) && (best < 0 || len(name) > len(c.names[c.cart[best].ProductID])) {
			best = i
		}
	}
	if best < 0 {
		best = c.rng.IntN(len(c.cart))
	}
	cmd := c.removeCommand(c.cart[best], false)
	c.queued = &cmd
}

func (c *customer) handleOrders(lines []string) (outcome, error) {
	if len(lines) == 1 && lines[0] == noOrders {
		if c.placed > 0 {
			return failed, fmt.Errorf("the store shows no orders; the customer placed %d", c.placed)
		}
		return succeeded, nil
	}
	// A long list comes a page at a time: the position line says how many in all.
	lines, total := cutPosition(lines)
	shown := 0
	for _, l := range lines {
		if strings.HasPrefix(l, "Order #") {
			shown++
			if !strings.Contains(l, " for "+c.name+", ") {
				return failed, fmt.Errorf("an order that is not %s's: %q", c.name, clip(l))
			}
		}
	}
	if shown == 0 {
		return failed, unexpected(lines)
	}
	if total < 0 {
		total = shown
	}
	if total != c.placed {
		return failed, fmt.Errorf("the store shows %d orders; the customer placed %d in this session", total, c.placed)
	}
	return succeeded, nil
}

func (o PlacedOrder) lineUnits() int {
	n := 0
	for _, l := range o.Lines {
		n += l.Qty
	}
	return n
}
