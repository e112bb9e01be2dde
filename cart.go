package storify

// CartItem is a product and a quantity, as a cart holds it and Checkout takes it.
type CartItem struct {
	ProductID int64
	Qty       int
}

// Cart is a customer's cart: product quantities in the order first added. Prices are
// not kept: a cart is priced from the catalog when shown and at checkout.
type Cart struct {
	items []CartItem
}

// NewCart returns a cart holding items, duplicates merged.
func NewCart(items []CartItem) *Cart {
	c := &Cart{}
	for _, it := range items {
		if i := c.index(it.ProductID); i >= 0 {
			c.items[i].Qty += it.Qty
		} else {
			c.items = append(c.items, it)
		}
	}
	return c
}

func (c *Cart) index(productID int64) int {
	for i, it := range c.items {
		if it.ProductID == productID {
			return i
		}
	}
	return -1
}

// Items returns a copy of the cart's lines.
func (c *Cart) Items() []CartItem { return append([]CartItem(nil), c.items...) }

// Len is the number of distinct products in the cart.
func (c *Cart) Len() int { return len(c.items) }

// Units is the number of units in the cart.
func (c *Cart) Units() int {
	n := 0
	for _, it := range c.items {
		n += it.Qty
	}
	return n
}

// Qty is how many units of a product the cart holds.
func (c *Cart) Qty(productID int64) int {
	for _, it := range c.items {
		if it.ProductID == productID {
			return it.Qty
		}
	}
	return 0
}

// Add puts qty more units of a product in the cart and returns the new quantity.
// EINVALID if qty is not positive or the line would exceed MaxQty.
func (c *Cart) Add(productID int64, qty int) (int, error) {
	if qty <= 0 || qty > MaxQty {
		return 0, Errorf(EINVALID, "quantity must be a whole number from 1 to %d", MaxQty)
	}
	for i := range c.items {
		if c.items[i].ProductID == productID {
			if c.items[i].Qty+qty > MaxQty {
				return 0, Errorf(EINVALID, "at most %d units of one product in a cart", MaxQty)
			}
			c.items[i].Qty += qty
			return c.items[i].Qty, nil
		}
	}
	c.items = append(c.items, CartItem{ProductID: productID, Qty: qty})
	return qty, nil
}

// Remove takes qty units of a product out of the cart (all of them if qty is 0) and
// returns what is left. ENOTFOUND if the product is not in the cart.
func (c *Cart) Remove(productID int64, qty int) (int, error) {
	if qty < 0 {
		return 0, Errorf(EINVALID, "quantity must be a whole number from 1 to %d", MaxQty)
	}
	for i := range c.items {
		if c.items[i].ProductID != productID {
			continue
		}
		if qty == 0 || qty >= c.items[i].Qty {
			c.items = append(c.items[:i], c.items[i+1:]...)
			return 0, nil
		}
		c.items[i].Qty -= qty
		return c.items[i].Qty, nil
	}
	return 0, Errorf(ENOTFOUND, "that product is not in your cart")
}

// Clear empties the cart.
func (c *Cart) Clear() { c.items = nil }

// ErrCartChanged is ChangeCart's and an account's Checkout's refusal when the saved
// cart is not what the caller last read: another connection of the account changed
// it, or bought it.
var ErrCartChanged = Errorf(ECONFLICT, "your cart was changed on another connection")

// SameContents reports whether a and b, each merged, hold the same quantity of
// every product, in whatever order.
func SameContents(a, b []CartItem) bool {
	if len(a) != len(b) {
		return false
	}
	qty := make(map[int64]int, len(a))
	for _, it := range a {
		qty[it.ProductID] = it.Qty
	}
	for _, it := range b {
		if q, ok := qty[it.ProductID]; !ok || q != it.Qty {
			return false
		}
	}
	return true
}
