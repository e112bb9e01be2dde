package shell

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
	"golang.org/x/crypto/bcrypt"
)

// The manager's commands for customer accounts and for keeping addresses out.

// Banner keeps addresses from connecting; the customer server implements it.
// Its errors are the store's, where the bans are kept in a store that several
// instances share.
type Banner interface {
	// Ban keeps the addresses of p out until until (the zero time: until Unban).
	Ban(ctx context.Context, p netip.Prefix, until time.Time) error
	// Unban lifts the ban of exactly p, and reports whether there was one.
	Unban(ctx context.Context, p netip.Prefix) (bool, error)
	// Bans lists the bans in force.
	Bans(ctx context.Context) ([]BanInfo, error)
}

// BanInfo is one ban in force.
type BanInfo struct {
	Prefix netip.Prefix
	Until  time.Time // the zero time: until unbanned
}

// adminCommands are the manager's account and ban commands, in help order.
func adminCommands() []*Command[*Manager] {
	account := Arg{Name: "NAME", Prompt: "Account name: ", Rest: true, Kind: KindAccount}
	address := Arg{Name: "ADDRESS", Prompt: "Address (an IP address, or a network as 10.0.0.0/24): ", Valid: validAddress}
	return []*Command[*Manager]{
		{Name: "resetpassword", Args: []Arg{account},
			Help: "give an account a one-time password, shown once: its customer chooses a new one at login", Run: (*Manager).resetPassword},
		{Name: "lock", Args: []Arg{account},
			Help: "lock an account: no login until unlocked; its connected sessions are closed", Run: (*Manager).lock},
		{Name: "unlock", Args: []Arg{account}, Help: "unlock a locked account", Run: (*Manager).unlock},
		{Name: "deleteaccount", Args: []Arg{account}, Flags: []string{"--yes"},
			Help: "delete an account and its saved cart; its orders are kept, without its name (asks first, or takes --yes)",
			Run:  (*Manager).deleteAccount},
		{Name: "ban", Args: []Arg{address, {Name: "DURATION", Optional: true, Valid: validBanDuration}},
			Help: "turn away connections from an address, for DURATION (30m, 2h, 7d) or until unban; disconnects them now", Run: (*Manager).ban},
		{Name: "unban", Args: []Arg{address}, Help: "lift a ban", Run: (*Manager).unban},
		{Name: "bans", Help: "list the bans in force", Run: (*Manager).listBans},
	}
}

// oneTimeAlphabet has no letters or digits that are easy to mistake for others.
const oneTimeAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newPassword returns a random password of three groups of four characters: about
// 59 bits, easy to read out over the phone.
func newPassword() string {
	var b strings.Builder
	var c [1]byte
	// Bytes at or past the last whole multiple of the alphabet's size are drawn
	// again, so that every character is as likely as any other.
	limit := 256 - 256%len(oneTimeAlphabet)
	for n := 0; n < 12; {
		rand.Read(c[:])
		if int(c[0]) >= limit {
			continue
		}
		if n > 0 && n%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(oneTimeAlphabet[int(c[0])%len(oneTimeAlphabet)])
		n++
	}
	return b.String()
}

func (m *Manager) resetPassword(ctx context.Context, a Args) error {
	pw := newPassword()
	hash, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	acct, err := m.store.SetPasswordHash(ctx, a.Get("NAME"), append([]byte(storify.OneTimePrefix), hash...))
	if err != nil {
		return err
	}
	m.printf("The password of %s is now: %s\n", acct.Name, pw)
	m.printf("Give it to the customer: it works once, and they choose their own when they log in with it. The old one no longer works; this one is not shown again.\n")
	return nil
}

func (m *Manager) lock(ctx context.Context, a Args) error {
	acct, err := m.store.LockAccount(ctx, a.Get("NAME"), true)
	if err != nil {
		return err
	}
	m.printf("The account %s is locked: no one can log in to it until you unlock it.%s\n", acct.Name, m.disconnect(ctx, func(c CustomerInfo) bool {
		return c.Account != "" && username.Key(c.Account) == username.Key(acct.Name)
	}))
	return nil
}

func (m *Manager) unlock(ctx context.Context, a Args) error {
	acct, err := m.store.LockAccount(ctx, a.Get("NAME"), false)
	if err != nil {
		return err
	}
	m.printf("The account %s is unlocked.\n", acct.Name)
	return nil
}

func (m *Manager) deleteAccount(ctx context.Context, a Args) error {
	acct, err := m.store.AccountByName(ctx, a.Get("NAME"))
	if err != nil {
		return err
	}
	q := fmt.Sprintf("Delete the account %s? Its orders are kept, without its name.", acct.Name)
	if ok, err := m.confirm(q, "--yes", a); !ok || err != nil {
		return cancelled(err)
	}
	n, err := m.store.DeleteAccount(ctx, acct.Name)
	if err != nil {
		return err
	}
	m.printf("The account %s is deleted; %s kept for %s.%s\n", acct.Name, count(n, "order"), storify.DeletedCustomer,
		m.disconnect(ctx, func(c CustomerInfo) bool {
			return c.Account != "" && username.Key(c.Account) == username.Key(acct.Name)
		}))
	return nil
}

// disconnect kicks the connected customers that match, on every instance, and says
// how many.
func (m *Manager) disconnect(ctx context.Context, match func(CustomerInfo) bool) string {
	if m.hub == nil {
		return ""
	}
	r, _ := m.hub.Roster(ctx) // what it could list; it says nothing of the rest
	n := 0
	for _, c := range r.Customers {
		if match(c) && m.hub.KickSession(ctx, c.Ref()) == nil {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" %s disconnected.", count(n, "customer"))
}

func (m *Manager) ban(ctx context.Context, a Args) error {
	if m.bans == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	p, err := parseAddress(a.Get("ADDRESS"))
	if err != nil {
		return err
	}
	var until time.Time
	how := "until you unban it"
	if s := a.Get("DURATION"); s != "" {
		d, err := parseBanDuration(s)
		if err != nil {
			return err
		}
		until = time.Now().Add(d)
		how = "until " + until.Local().Format("2006-01-02 15:04")
	}
	if err := m.bans.Ban(ctx, p, until); err != nil {
		return err
	}
	m.printf("Connections from %s are turned away %s.%s\n", showPrefix(p), how, m.disconnect(ctx, func(c CustomerInfo) bool {
		ap, err := netip.ParseAddrPort(c.Addr)
		return err == nil && p.Contains(ap.Addr().Unmap())
	}))
	return nil
}

func (m *Manager) unban(ctx context.Context, a Args) error {
	if m.bans == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	p, err := parseAddress(a.Get("ADDRESS"))
	if err != nil {
		return err
	}
	if ok, err := m.bans.Unban(ctx, p); err != nil {
		return err
	} else if !ok {
		return storify.Errorf(storify.ENOTFOUND, "%s is not banned; type bans to list the bans", showPrefix(p))
	}
	m.printf("%s may connect again.\n", showPrefix(p))
	return nil
}

func (m *Manager) listBans(ctx context.Context, _ Args) error {
	if m.bans == nil {
		return storify.Errorf(storify.ECONFLICT, "no customer server is running")
	}
	bs, err := m.bans.Bans(ctx)
	if err != nil {
		return err
	}
	if len(bs) == 0 {
		m.printf("No bans.\n")
		return nil
	}
	m.printf("%-40s  %s\n", "Address", "Until")
	for _, b := range bs {
		until := "unbanned"
		if !b.Until.IsZero() {
			until = b.Until.Local().Format("2006-01-02 15:04")
		}
		m.printf("%-40s  %s\n", showPrefix(b.Prefix), until)
	}
	return nil
}

// parseAddress reads an IP address (a network of one) or a network in CIDR form.
func parseAddress(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if p, err := netip.ParsePrefix(s); err == nil {
		return p.Masked(), nil
	}
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	return netip.Prefix{}, storify.Errorf(storify.EINVALID, "%q is not an address: type an IP address (203.0.113.7) or a network (203.0.113.0/24)", safe(s, 45))
}

// showPrefix shows a network of one address as the address alone.
func showPrefix(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// parseBanDuration reads how long a ban lasts: a Go duration (90m, 2h) or days (7d).
func parseBanDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		n, err = strconv.Atoi(days)
		d = time.Duration(n) * 24 * time.Hour
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d <= 0 || d > 10*365*24*time.Hour {
		return 0, storify.Errorf(storify.EINVALID, "%q is not a duration: type one like 30m, 2h or 7d", safe(s, 20))
	}
	return d, nil
}

func validAddress(s string) error     { _, err := parseAddress(s); return err }
func validBanDuration(s string) error { _, err := parseBanDuration(s); return err }
