package shell_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"golang.org/x/crypto/bcrypt"
)

// session runs one customer session with a shared throttle and returns its output.
func session(t *testing.T, store storify.Store, throttle *shell.LoginThrottle, addr string, lines ...string) (string, *shell.Customer) {
	t.Helper()
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{
		StoreName: "Test", Addr: addr, Throttle: throttle, BcryptCost: bcrypt.MinCost,
	})
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String(), c
}

func TestAccountKeepsCartAndOrdersAcrossSessions(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	out, _ := session(t, store, th, "10.0.0.1",
		"add 2 3", // a guest cart, joined to the account at register
		"register", "Ada", "correct horse", "correct horse",
		"whoami", "add 1", "checkout", "add 2 1", "logout", "whoami", "cart")
	wantContains(t, out,
		"Choose a name: Password: Password again: Welcome, Ada: your account is open and you are logged in.",
		"Your cart holds 3 units",
		"You are logged in as Ada.",
		"Thank you, Ada. Order #1 is placed: 4 units, total 33.20.",
		"Goodbye, Ada: you are logged out, and your cart is saved for next time.",
		"You are shopping as a guest.",
		"Your cart is empty.",
	)
	// A second connection: same saved cart, same orders; a guest cart joins it.
	out, c := session(t, store, th, "10.0.0.2", "add 1", "login ada", "correct horse", "cart", "orders", "order 1")
	wantContains(t, out,
		"Password: Welcome back, Ada.",
		"Your cart holds 2 units",
		"1 x Notebook 6.90 6.90",
		"1 x Blue Mug 12.50 12.50",
		"Order #1 for Ada, placed",
	)
	if c.Account() != "Ada" || c.CartUnits() != 2 {
		t.Errorf("account %q, cart %d units", c.Account(), c.CartUnits())
	}
	ctx := context.Background()
	acct, err := store.AccountByName(ctx, "ADA")
	if err != nil {
		t.Fatal(err)
	}
	if saved, _ := store.SavedCart(ctx, acct.ID); len(saved) != 2 {
		t.Errorf("saved cart = %v", saved)
	}
	if bytes.Contains(acct.PasswordHash, []byte("correct horse")) || bcrypt.CompareHashAndPassword(acct.PasswordHash, []byte("correct horse")) != nil {
		t.Errorf("the stored hash is not a bcrypt hash of the password")
	}
}

func TestRegisterRefusals(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	session(t, store, th, "10.0.0.1", "register Bob", "password1", "password1")
	out, _ := session(t, store, th, "10.0.0.1",
		"register BOB",
		"register Carol", "short",
		"register Carol", "password1", "password2",
		"register Carol", strings.Repeat("p", 73),
		"register 123",
		"login Bob", "password1", "register Dan")
	wantContains(t, out,
		"The name BOB is taken; choose another.",
		"A password needs at least 8 characters.",
		"The passwords differ; nothing was registered.",
		"A password may have at most 72 bytes.",
		"The account name must not be a number.",
		"You are logged in as Bob; log out first.",
	)
	if as, _ := store.Accounts(context.Background()); len(as) != 1 {
		t.Errorf("accounts = %+v, want only Bob", as)
	}
}

func TestLoginThrottleSaysNothingAboutNames(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	now := time.Now()
	th.Now = func() time.Time { return now }
	session(t, store, th, "10.0.0.9", "register Eve", "password1", "password1")
	for _, name := range []string{"Eve", "Nobody"} {
		var lines []string
		for i := 0; i < 7; i++ {
			lines = append(lines, "login "+name, "guess"+string(rune('a'+i))+"xxxx")
		}
		out, _ := session(t, store, th, "10.0.0.1", lines...)
		if n := strings.Count(out, "Wrong name or password."); n != 5 {
			t.Errorf("%s: %d wrong-password replies before the throttle, want 5:\n%s", name, n, out)
		}
		if !strings.Contains(out, "Too many failed logins; try again in 30s.") {
			t.Errorf("%s: not throttled:\n%s", name, out)
		}
	}
	// The right password is refused too while throttled, and accepted after the pause.
	out, _ := session(t, store, th, "10.0.0.2", "login Eve", "password1")
	wantContains(t, out, "Too many failed logins")
	now = now.Add(31 * time.Second)
	out, _ = session(t, store, th, "10.0.0.2", "login Eve", "password1")
	wantContains(t, out, "Welcome back, Eve.")
}

func TestCustomerReachesNothingElse(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	ctx := context.Background()
	if _, err := store.Checkout(ctx, storify.NewOrder{Customer: "Other", Items: []storify.CartItem{{ProductID: 2, Qty: 1}}}); err != nil {
		t.Fatal(err)
	}
	var lines []string
	m := shell.NewManager(store, nil, shell.NewLineTerm(strings.NewReader(""), &bytes.Buffer{}, 10), shell.ManagerConfig{})
	for _, name := range m.Names() {
		switch name {
		case "help", "?", "orders", "order", "show", "exit", "quit", "next", "n", "prev", "page":
			continue // customers have their own commands of these names
		}
		lines = append(lines, name+" 1 1 1")
	}
	lines = append(lines, "order 1", "order #1", "register Zed", "password1", "password1", "order 1", "orders")
	out, _ := session(t, store, th, "10.0.0.3", lines...)
	if n := strings.Count(out, "Unknown command"); n != len(lines)-7 {
		t.Errorf("%d of %d manager commands refused:\n%s", n, len(lines)-7, out)
	}
	if strings.Contains(out, "Other") || strings.Count(out, "You have no order #1.") != 3 {
		t.Errorf("another customer's order was shown:\n%s", out)
	}
	if p, _ := store.Product(ctx, 1); p.Price != 1250 || p.Stock != 5 {
		t.Errorf("a customer changed the catalog: %+v", p)
	}
}
