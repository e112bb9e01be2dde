package shell_test

import (
	"bytes"
	"context"
	"net/netip"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"golang.org/x/crypto/bcrypt"
)

// login runs a customer session that logs in as name with pw, and returns its
// output.
func login(t *testing.T, store storify.Store, name, pw string) string {
	t.Helper()
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader("login "+name+"\n"+pw+"\n"), &out, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test", Addr: "10.9.9.9", Throttle: shell.NewLoginThrottle(), BcryptCost: bcrypt.MinCost})
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String()
}

// TestManagerAccountAdmin: resetpassword gives a password that logs in once, to
// choose a new one; lock keeps
// everyone out until unlock, and deleteaccount keeps the orders without the name;
// the sessions of a locked or deleted account are disconnected.
func TestManagerAccountAdmin(t *testing.T) {
	store := mustOpenStore(t)
	ctx := context.Background()
	hash, _ := bcrypt.GenerateFromPassword([]byte("old password"), bcrypt.MinCost)
	ada, err := store.CreateAccount(ctx, "Ada", hash)
	if err != nil {
		t.Fatal(err)
	}
	items := []storify.CartItem{{ProductID: 1, Qty: 1}}
	if err := store.SaveCart(ctx, ada.ID, items); err != nil { // an account checks out its saved cart
		t.Fatal(err)
	}
	o, err := store.Checkout(ctx, storify.NewOrder{Customer: "Ada", AccountID: ada.ID, Items: items})
	if err != nil {
		t.Fatal(err)
	}
	hub := &fakeHub{customers: []shell.CustomerInfo{{ID: 7, Account: "Ada"}, {ID: 8, Account: "Bob"}, {ID: 9}}}

	out := manage(t, store, hub, "resetpassword ada")
	m := regexp.MustCompile(`The password of Ada is now: ([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("resetpassword:\n%s", out)
	}
	wantContains(t, login(t, store, "Ada", "old password"), "Wrong name or password.")
	// The password from the store works once, and only to choose a new one.
	out = login(t, store, "Ada", m[1]+"\nnew password 1\nnew password 2")
	wantContains(t, out, "Your password was reset by the store: choose your own now.\n",
		"The passwords differ; you are not logged in, and the password from the store still works once.")
	if strings.Contains(out, "Welcome back") {
		t.Fatalf("logged in without choosing a password:\n%s", out)
	}
	wantContains(t, login(t, store, "Ada", m[1]+"\nnew password 1\nnew password 1"), "Welcome back, Ada.")
	wantContains(t, login(t, store, "Ada", m[1]), "Wrong name or password.")
	if out := login(t, store, "Ada", "new password 1"); !strings.Contains(out, "Welcome back, Ada.") || strings.Contains(out, "reset") {
		t.Errorf("login with the chosen password:\n%s", out)
	}

	out = manage(t, store, hub, "lock Ada", "lock ada", "unlock bob", "lock nobody")
	wantContains(t, out,
		"The account Ada is locked: no one can log in to it until you unlock it. 1 customer disconnected.\n",
		"The account Ada is locked already.\n",
		`No account is named "bob".`,
		`No account is named "nobody".`,
	)
	if len(hub.kicked) != 1 || hub.kicked[0] != 7 {
		t.Errorf("kicked %v, want Ada's session 7", hub.kicked)
	}
	wantContains(t, login(t, store, "Ada", "new password 1"), "Wrong name or password.")
	if out := manage(t, store, hub, "accounts"); !regexp.MustCompile(`(?m)^Ada .* 1  locked$`).MatchString(out) {
		t.Errorf("accounts does not show Ada locked:\n%s", out)
	}
	wantContains(t, manage(t, store, hub, "unlock Ada"), "The account Ada is unlocked.\n")
	if out := manage(t, store, hub, "accounts"); strings.Contains(out, "locked") {
		t.Errorf("accounts shows a lock after unlock:\n%s", out)
	}
	wantContains(t, login(t, store, "Ada", "new password 1"), "Welcome back, Ada.")

	out = manage(t, store, hub, "deleteaccount Ada", "no", "deleteaccount Ada", "yes")
	wantContains(t, out,
		"Delete the account Ada? Its orders are kept, without its name. (yes/no) Cancelled; nothing was changed.\n",
		"The account Ada is deleted; 1 order kept for (deleted account). 1 customer disconnected.\n",
	)
	if got, _ := store.Order(ctx, o.ID); got.Customer != storify.DeletedCustomer || got.AccountID != 0 {
		t.Errorf("the deleted account's order: %+v", got)
	}
	if _, err := store.CreateAccount(ctx, "Bea", hash); err != nil {
		t.Fatal(err)
	}
	_, errs, failed := script(t, store, false, "deleteaccount Bea")
	if failed != 1 || !strings.Contains(errs, "Add --yes to say yes in a script.") {
		t.Errorf("deleteaccount in a script without --yes: %q, %d failures", errs, failed)
	}
	stdout, _, failed := script(t, store, false, "deleteaccount Bea --yes")
	if failed != 0 || stdout != "The account Bea is deleted; 0 orders kept for (deleted account).\n" {
		t.Errorf("deleteaccount --yes: %q, %d failures", stdout, failed)
	}
}

// fakeBans is a shell.Banner in memory.
type fakeBans map[netip.Prefix]time.Time

func (b fakeBans) Ban(_ context.Context, p netip.Prefix, until time.Time) error {
	b[p] = until
	return nil
}
func (b fakeBans) Unban(_ context.Context, p netip.Prefix) (bool, error) {
	_, ok := b[p]
	delete(b, p)
	return ok, nil
}
func (b fakeBans) Bans(context.Context) ([]shell.BanInfo, error) {
	var out []shell.BanInfo
	for p, u := range b {
		out = append(out, shell.BanInfo{Prefix: p, Until: u})
	}
	return out, nil
}

// TestManagerBan: ban takes an address or a network and a duration, disconnects
// whoever connects from there, and unban lifts it.
func TestManagerBan(t *testing.T) {
	store := mustOpenStore(t)
	hub := &fakeHub{customers: []shell.CustomerInfo{{ID: 1, Addr: "203.0.113.7:5000"}, {ID: 2, Addr: "203.0.113.9:5000"}, {ID: 3, Addr: "[2001:db8::1]:80"}}}
	bans := fakeBans{}
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join([]string{
		"ban 203.0.113.7 2h", "ban 2001:db8::/32", "ban nonsense", "ban 10.0.0.1 forever", "bans", "unban 203.0.113.7", "unban 203.0.113.7",
	}, "\n")+"\n"), &out, 1024)
	m := shell.NewManager(store, hub, term, shell.ManagerConfig{StoreName: "Test", Bans: bans})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	term.Flush()
	wantContains(t, out.String(),
		"Connections from 203.0.113.7 are turned away until ",
		". 1 customer disconnected.\n",
		"Connections from 2001:db8::/32 are turned away until you unban it. 1 customer disconnected.\n",
		`"nonsense" is not an address: type an IP address (203.0.113.7) or a network (203.0.113.0/24).`,
		`"forever" is not a duration: type one like 30m, 2h or 7d.`,
		"203.0.113.7 may connect again.\n",
		"203.0.113.7 is not banned; type bans to list the bans.\n",
	)
	if len(hub.kicked) != 2 || hub.kicked[0] != 1 || hub.kicked[1] != 3 {
		t.Errorf("kicked %v, want 1 and 3", hub.kicked)
	}
	if until, ok := bans[netip.MustParsePrefix("2001:db8::/32")]; !ok || !until.IsZero() || len(bans) != 1 {
		t.Errorf("bans = %v", bans)
	}
	if !regexp.MustCompile(`Address +Until\n(203\.0\.113\.7 +\d{4}-\d\d-\d\d \d\d:\d\d\n2001:db8::/32 +unbanned|2001:db8::/32 +unbanned\n203\.0\.113\.7 +\d{4}-\d\d-\d\d \d\d:\d\d)\n`).MatchString(out.String()) {
		t.Errorf("bans does not list both:\n%s", out.String())
	}
}
