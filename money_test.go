package storify_test

import (
	"testing"

	"github.com/storify/storify"
)

func TestCentsString(t *testing.T) {
	for c, want := range map[storify.Cents]string{
		0: "0.00", 5: "0.05", 10: "0.10", 1250: "12.50", 100_000_000: "1000000.00", -305: "-3.05",
	} {
		if got := c.String(); got != want {
			t.Errorf("Cents(%d) = %q, want %q", int64(c), got, want)
		}
	}
	// Money adds exactly: ten times 0.10 is 1.00.
	var sum storify.Cents
	for i := 0; i < 10; i++ {
		sum += 10
	}
	if sum.String() != "1.00" {
		t.Errorf("ten dimes = %s", sum)
	}
}

func TestParseCents(t *testing.T) {
	good := map[string]storify.Cents{
		"12.50": 1250, "12.5": 1250, "12": 1200, "0.05": 5, "$3": 300, " 7.00 ": 700, ".5": 50, "0": 0,
		"1000000": 100_000_000,
	}
	for s, want := range good {
		if got, err := storify.ParseCents(s); err != nil || got != want {
			t.Errorf("ParseCents(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", ".", "-1", "1.999", "1e3", "12,50", "abc", "1.2.3", "1000000.01", "99999999999", "+5", "NaN", "0x10", "١٢"} {
		if got, err := storify.ParseCents(s); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("ParseCents(%q) = %d, %v; want EINVALID", s, got, err)
		}
	}
}

func TestParseQtyAndID(t *testing.T) {
	for _, s := range []string{"0", "-1", "10001", "1.5", "1e2", "", "ten", "99999999999999999999"} {
		if _, err := storify.ParseQty(s); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("ParseQty(%q) = %v; want EINVALID", s, err)
		}
	}
	if n, err := storify.ParseQty(" 3 "); n != 3 || err != nil {
		t.Errorf("ParseQty(3) = %d, %v", n, err)
	}
	if id, err := storify.ParseID("#12"); id != 12 || err != nil {
		t.Errorf("ParseID(#12) = %d, %v", id, err)
	}
	if _, err := storify.ParseID("#-1"); err == nil {
		t.Errorf("ParseID(#-1) succeeded")
	}
}

func TestCleanName(t *testing.T) {
	for _, s := range []string{"", "   ", "123", "#4", "a\x1b[31m", "tab\there", "\u202eevil", string([]byte{0xff, 'x'}), string(make([]rune, 61))} {
		if _, err := storify.CleanName(s, "name"); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("CleanName(%q) = %v; want EINVALID", s, err)
		}
	}
	if got, err := storify.CleanName("  Crème Brûlée  ", "name"); got != "Crème Brûlée" || err != nil {
		t.Errorf("CleanName = %q, %v", got, err)
	}
}

func TestCart(t *testing.T) {
	var c storify.Cart
	if _, err := c.Add(1, 0); err == nil {
		t.Errorf("adding 0 units succeeded")
	}
	c.Add(1, 2)
	c.Add(2, 1)
	if n, _ := c.Add(1, 3); n != 5 || c.Units() != 6 || c.Len() != 2 {
		t.Errorf("after adds: qty %d, units %d, lines %d", n, c.Units(), c.Len())
	}
	if _, err := c.Add(1, storify.MaxQty); err == nil {
		t.Errorf("a line above MaxQty was accepted")
	}
	if left, _ := c.Remove(1, 2); left != 3 {
		t.Errorf("left %d after removing 2 of 5", left)
	}
	if _, err := c.Remove(9, 1); storify.ErrorCode(err) != storify.ENOTFOUND {
		t.Errorf("removing what is not there: %v", err)
	}
	c.Remove(1, 0)
	if items := c.Items(); len(items) != 1 || items[0] != (storify.CartItem{ProductID: 2, Qty: 1}) {
		t.Errorf("items = %v", items)
	}
	merged := storify.NewCart([]storify.CartItem{{ProductID: 3, Qty: 1}, {ProductID: 3, Qty: 2}, {ProductID: 1, Qty: 1}})
	if merged.Qty(3) != 3 || merged.Len() != 2 || merged.Items()[0].ProductID != 3 {
		t.Errorf("NewCart did not merge in order: %v", merged.Items())
	}
}
