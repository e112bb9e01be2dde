package storify

import "sort"

// Checks every Store implementation makes the same way, so that the backends agree
// on what is valid and say it in the same words.

// CheckedOrder is a NewOrder whose customer name has been cleaned and whose items
// have been merged. ByID lists the indexes of Lines in ascending product id: a
// backend takes stock in that order, so that concurrent checkouts lock rows in one
// order and cannot deadlock.
type CheckedOrder struct {
	Customer  string
	AccountID int64
	Token     string     // never "": NewOrder.Token, or a new one
	Lines     []CartItem // merged, in the order first added
	ByID      []int
}

// Check checks what can be checked of an order without a store: the customer's
// name and the quantities (EINVALID).
func (o NewOrder) Check() (CheckedOrder, error) {
	customer, err := CleanName(o.Customer, "customer name")
	if err != nil {
		return CheckedOrder{}, err
	}
	if len(o.Items) == 0 {
		return CheckedOrder{}, Errorf(EINVALID, "the order is empty")
	}
	if err := checkToken(o.Token); err != nil {
		return CheckedOrder{}, err
	}
	token := o.Token
	if token == "" {
		token = NewToken()
	}
	lines, err := MergeItems(o.Items, "an order")
	if err != nil {
		return CheckedOrder{}, err
	}
	byID := make([]int, len(lines))
	for i := range byID {
		byID[i] = i
	}
	sort.Slice(byID, func(a, b int) bool { return lines[byID[a]].ProductID < lines[byID[b]].ProductID })
	return CheckedOrder{Customer: customer, AccountID: o.AccountID, Token: token, Lines: lines, ByID: byID}, nil
}

// MergeItems checks quantities and adds up those of a product listed more than once,
// keeping the order in which products were first listed. where names what holds
// them ("an order", "a cart") for the message when a sum exceeds MaxQty.
func MergeItems(items []CartItem, where string) ([]CartItem, error) {
	var lines []CartItem
	at := make(map[int64]int, len(items))
	for _, it := range items {
		if it.Qty <= 0 || it.Qty > MaxQty {
			return nil, Errorf(EINVALID, "the quantity must be a whole number from 1 to %d", MaxQty)
		}
		i, ok := at[it.ProductID]
		if !ok {
			at[it.ProductID] = len(lines)
			lines = append(lines, it)
			continue
		}
		lines[i].Qty += it.Qty
		if lines[i].Qty > MaxQty {
			return nil, Errorf(EINVALID, "at most %d units of one product in %s", MaxQty, where)
		}
	}
	return lines, nil
}

// CheckPrice checks a price is from 0 to MaxPrice (EINVALID).
func CheckPrice(price Cents) error {
	if price < 0 || price > MaxPrice {
		return Errorf(EINVALID, "the price must be from 0.00 to %s", MaxPrice)
	}
	return nil
}

// ErrNoProduct is the error for an unknown catalog number (ENOTFOUND).
func ErrNoProduct(id int64) error {
	return Errorf(ENOTFOUND, "no product #%d", id)
}
