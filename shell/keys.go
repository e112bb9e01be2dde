package shell

import (
	"context"
	"io"
	"strconv"
	"strings"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// The SSH keys of an account: a customer who came in over SSH with a key can
// bind it to their account (register does it at once), and a bound key logs the
// account in on the next visit. Customers on telnet have no key to bind.

func (c *Customer) keys(ctx context.Context, a Args) error {
	c.mu.Lock()
	acct := c.account
	c.mu.Unlock()
	if acct == nil {
		return storify.Errorf(storify.ECONFLICT, "log in first: keys belong to an account")
	}
	switch action := strings.ToLower(a.Get("ACTION")); action {
	case "", "list":
		return c.listKeys(ctx, acct.ID)
	case "add":
		return c.addKey(ctx, acct.ID)
	case "remove", "rm":
		n, err := strconv.Atoi(strings.TrimPrefix(a.Get("N"), "#"))
		if err != nil || n < 1 {
			return storify.Errorf(storify.EINVALID, "say which key to remove by its number: keys remove N")
		}
		keys, err := c.store.AccountKeys(ctx, acct.ID)
		if err != nil {
			return err
		}
		if n > len(keys) {
			return storify.Errorf(storify.ENOTFOUND, "there is no key %d; type keys to list them", n)
		}
		if err := c.store.RemoveAccountKey(ctx, acct.ID, keys[n-1].Fingerprint); err != nil {
			return err
		}
		c.printf("Key %d (%s) no longer logs you in.\n", n, keys[n-1].Fingerprint)
		return nil
	default:
		return storify.Errorf(storify.EINVALID, "keys takes add, or remove N; %q is neither", safe(action, 20))
	}
}

func (c *Customer) listKeys(ctx context.Context, accountID int64) error {
	keys, err := c.store.AccountKeys(ctx, accountID)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		if c.key.Fingerprint != "" {
			c.printf("No SSH key logs you in yet. Type keys add to bind the one you came in with.\n")
		} else {
			c.printf("No SSH key logs you in. Connect over SSH with a key and type keys add to bind it.\n")
		}
		return nil
	}
	for i, k := range keys {
		kind, _, _ := strings.Cut(k.PublicKey, " ")
		mark := ""
		if k.Fingerprint == c.key.Fingerprint {
			mark = "  (this connection)"
		}
		c.printf("%d  %s  %s  added %s%s\n", i+1, kind, k.Fingerprint, k.Added.Local().Format("2006-01-02 15:04"), mark)
	}
	return nil
}

func (c *Customer) addKey(ctx context.Context, accountID int64) error {
	if c.key.Fingerprint == "" {
		return storify.Errorf(storify.ECONFLICT, "this connection has no SSH key to bind; connect with ssh and a key")
	}
	if _, err := c.store.AddAccountKey(ctx, accountID, c.key); err != nil {
		return err
	}
	c.printf("Your SSH key %s now logs you in.\n", c.key.Fingerprint)
	return nil
}

// LogIn logs the session in to an account its transport authenticated (an SSH
// key bound to it, or its password given to SSH): as login does, the cart
// filled as a guest joins the account's saved cart. Quiet leaves out the line
// about the saved cart (for a single command, whose output is its reply only).
func (c *Customer) LogIn(ctx context.Context, acct storify.Account, quiet bool) error {
	if quiet {
		term := c.term
		c.term = discardTerm{}
		defer func() { c.term = term }()
	}
	err := c.enter(ctx, acct)
	c.publish()
	return err
}

// discardTerm is a Term that shows nothing.
type discardTerm struct{}

func (discardTerm) Write(p []byte) (int, error)     { return len(p), nil }
func (discardTerm) ReadLine(string) (string, error) { return "", io.EOF }

// CheckPassword checks an account's name and password as the login command does,
// for a transport that asks the password itself (SSH): the attempt goes through
// the login throttle, and passwords (the shared hashing budget) checks it, against
// a dummy hash when there is no such account. addr is the client's address. It
// returns the account, or EINVALID "wrong name or password", or ECONFLICT while
// the throttle holds the name or the address back, or for a one-time password
// (resetpassword), which only the login command takes: it has the customer
// choose a new one. A locked account's password never matches. metrics, if not
// nil, is told of a wrong password or a throttled attempt, as the login command's.
func CheckPassword(ctx context.Context, store storify.Store, throttle *LoginThrottle, passwords *Passwords, metrics storify.CommandMetrics, name, password, addr string) (storify.Account, error) {
	if metrics == nil {
		metrics = storify.NoMetrics{}
	}
	wrong := storify.Errorf(storify.EINVALID, "wrong name or password")
	key := username.Key(name)
	if key == "" || password == "" || len(password) > MaxPasswordLen {
		return storify.Account{}, wrong
	}
	attempt, wait, err := throttle.Reserve(ctx, key, addr)
	if err != nil {
		return storify.Account{}, err
	}
	if attempt == nil {
		metrics.LoginThrottled()
		return storify.Account{}, storify.Errorf(storify.ECONFLICT, "too many failed logins; try again in %s", roundWait(wait))
	}
	defer attempt.Release(context.WithoutCancel(ctx)) // unless decided
	if wait, ok, err := attempt.Check(ctx); err != nil {
		return storify.Account{}, err
	} else if !ok {
		metrics.LoginThrottled()
		return storify.Account{}, storify.Errorf(storify.ECONFLICT, "too many failed logins; try again in %s", roundWait(wait))
	}
	acct, err := store.AccountByName(ctx, key)
	if err != nil && storify.ErrorCode(err) != storify.ENOTFOUND {
		return storify.Account{}, err
	}
	var hash []byte
	if err == nil {
		hash = acct.PasswordHash
	}
	ok, err := passwords.Check(ctx, hash, password)
	if err != nil {
		return storify.Account{}, err
	}
	if !ok {
		if err := attempt.Fail(ctx); err != nil {
			return storify.Account{}, err // unrecorded, the failure is not told
		}
		metrics.LoginFailed()
		return storify.Account{}, wrong
	}
	attempt.Succeed(ctx) // unrecorded, its places lapse
	if storify.OneTime(acct.PasswordHash) {
		// The store gave this password for one login, at which the customer
		// chooses their own: the login command asks for it, a transport cannot.
		return storify.Account{}, storify.Errorf(storify.ECONFLICT, "the password was reset by the store: log in with the login command to choose your own")
	}
	acct.PasswordHash = nil
	return acct, nil
}
