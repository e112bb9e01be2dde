package shell

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

// errCancelled is what a prompt answered with nothing (or Ctrl-C) gives: a quiet
// cancel. Other read errors pass through.
func errCancelled(err error) error {
	if err == nil || errors.Is(err, ErrInterrupt) || errors.Is(err, ErrLineTooLong) {
		return storify.Errorf(storify.EINVALID, "cancelled")
	}
	return err
}

func (c *Customer) loggedOut(context.Context) error {
	if name := c.Account(); name != "" {
		return storify.Errorf(storify.ECONFLICT, "you are logged in as %s; log out first", name)
	}
	return nil
}

// readPassword reads a password with echo off where the Term can hide it.
func (c *Customer) readPassword(prompt string) (string, error) {
	defer c.answered()
	if pr, ok := c.term.(PasswordReader); ok {
		return pr.ReadPassword(prompt)
	}
	return c.term.ReadLine(prompt)
}

func (c *Customer) register(ctx context.Context, a Args) error {
	name, key, err := username.Clean(a.Get("NAME"))
	if err != nil {
		return err
	}
	// Whether a name is taken is the one thing register must tell; the checks are
	// counted per address, so that names cannot be probed in bulk.
	if wait, err := c.registrations.Check(ctx, c.addr); err != nil {
		return err
	} else if wait > 0 {
		return storify.Errorf(storify.ECONFLICT, "too many sign-ups from your address; try again in %s", roundWait(wait))
	}
	if _, err := c.store.AccountByName(ctx, key); err == nil {
		return storify.Errorf(storify.ECONFLICT, "the name %s is taken; choose another", name)
	} else if storify.ErrorCode(err) != storify.ENOTFOUND {
		return err
	}
	reg, wait, err := c.registrations.Reserve(ctx, c.addr)
	if err != nil {
		return err
	}
	if reg == nil {
		return storify.Errorf(storify.ECONFLICT, "too many new accounts right now; try again in %s", roundWait(wait))
	}
	defer reg.Release(context.WithoutCancel(ctx)) // unless Done
	pw, err := c.readPassword("Password: ")
	if err != nil || pw == "" {
		return errCancelled(err)
	}
	if err := checkPasswordRules(pw); err != nil {
		return err
	}
	again, err := c.readPassword("Password again: ")
	if err != nil {
		return errCancelled(err)
	}
	if again != pw {
		return storify.Errorf(storify.EINVALID, "the passwords differ; nothing was registered")
	}
	hash, err := c.passwords.Hash(ctx, pw)
	if err != nil {
		return err
	}
	acct, err := c.store.CreateAccount(ctx, name, hash)
	if err != nil {
		return err
	}
	reg.Done()
	c.printf("Welcome, %s: your account is open and you are logged in.\n", acct.Name)
	if c.key.Fingerprint != "" {
		// Over SSH with a key: the key logs the new account in from now on.
		if _, err := c.store.AddAccountKey(ctx, acct.ID, c.key); err == nil {
			c.printf("Your SSH key %s logs you in from now on.\n", c.key.Fingerprint)
		} else if storify.ErrorCode(err) == storify.ECONFLICT {
			c.printf("Your SSH key logs in another account, so it was not bound to this one.\n")
		} else {
			c.fail(err)
			c.printf("Type keys add to bind your SSH key later.\n")
		}
	}
	return c.enter(ctx, acct)
}

// roundWait rounds a wait up to whole seconds for a message.
func roundWait(d time.Duration) time.Duration {
	return (d + time.Second - 1).Truncate(time.Second)
}

// loginThrottled reports a login the throttle turned away.
func (c *Customer) loginThrottled() {
	if c.metrics != nil {
		c.metrics.LoginThrottled()
	}
}

// login logs in to an account. The attempt is reserved in the throttle before the
// password is asked for, and known and unknown names take the same path: one
// bcrypt comparison, against the dummy hash when there is no such account.
func (c *Customer) login(ctx context.Context, a Args) error {
	key := username.Key(a.Get("NAME"))
	if key == "" {
		return storify.Errorf(storify.EINVALID, "no account can have that name")
	}
	attempt, wait, err := c.throttle.Reserve(ctx, key, c.addr)
	if err != nil {
		return err
	}
	if attempt == nil {
		c.loginThrottled()
		return storify.Errorf(storify.ECONFLICT, "too many failed logins; try again in %s", roundWait(wait))
	}
	defer attempt.Release(context.WithoutCancel(ctx)) // unless decided
	pw, err := c.readPassword("Password: ")
	if err != nil || pw == "" {
		return errCancelled(err)
	}
	if len(pw) > MaxPasswordLen {
		// bcrypt would compare only the first 72 bytes; no password is longer.
		return tooLong()
	}
	if wait, ok, err := attempt.Check(ctx); err != nil {
		return err
	} else if !ok {
		c.loginThrottled()
		return storify.Errorf(storify.ECONFLICT, "too many failed logins; try again in %s", roundWait(wait))
	}
	acct, err := c.store.AccountByName(ctx, key)
	if err != nil && storify.ErrorCode(err) != storify.ENOTFOUND {
		return err
	}
	var hash []byte
	if err == nil {
		hash = acct.PasswordHash
	}
	ok, err := c.passwords.Check(ctx, hash, pw)
	if err != nil {
		return err
	}
	if !ok {
		if err := attempt.Fail(ctx); err != nil {
			// Unrecorded, the failure must not be told: the throttle would not
			// have counted the guess.
			return err
		}
		if c.metrics != nil {
			c.metrics.LoginFailed()
		}
		return storify.Errorf(storify.EINVALID, "wrong name or password")
	}
	attempt.Succeed(ctx) // unrecorded, its places lapse
	if storify.OneTime(acct.PasswordHash) {
		if err := c.replaceOneTime(ctx, acct); err != nil {
			return err
		}
	}
	c.printf("Welcome back, %s.\n", acct.Name)
	return c.enter(ctx, acct)
}

// replaceOneTime has the customer choose a new password in place of the one-time
// password the manager gave them, before they are logged in: a password that
// someone else has read stays usable for one login only.
func (c *Customer) replaceOneTime(ctx context.Context, acct storify.Account) error {
	c.printf("Your password was reset by the store: choose your own now.\n")
	pw, err := c.readPassword("New password: ")
	if err != nil || pw == "" {
		return notReplaced(err)
	}
	if err := checkPasswordRules(pw); err != nil {
		return err
	}
	again, err := c.readPassword("New password again: ")
	if err != nil || again == "" {
		return notReplaced(err)
	}
	if again != pw {
		return storify.Errorf(storify.EINVALID, "the passwords differ; you are not logged in, and the password from the store still works once")
	}
	hash, err := c.passwords.Hash(ctx, pw)
	if err != nil {
		return err
	}
	_, err = c.store.SetPasswordHash(ctx, acct.Name, hash)
	return err
}

func notReplaced(err error) error {
	if err == nil || errors.Is(err, ErrInterrupt) || errors.Is(err, ErrLineTooLong) {
		return storify.Errorf(storify.EINVALID, "cancelled; you are not logged in, and the password from the store still works once")
	}
	return err
}

// enter logs the session in to acct: the cart filled as a guest joins the account's
// saved cart, and the result is saved.
func (c *Customer) enter(ctx context.Context, acct storify.Account) error {
	c.mu.Lock()
	guest := c.cart.Items()
	c.mu.Unlock()
	var merged *storify.Cart
	for try := 0; ; try++ {
		saved, err := c.store.SavedCart(ctx, acct.ID)
		if err != nil {
			return err
		}
		merged = storify.NewCart(saved)
		for _, it := range guest {
			room := storify.MaxQty - merged.Qty(it.ProductID)
			if n := min(it.Qty, room); n > 0 {
				merged.Add(it.ProductID, n)
			}
		}
		if len(guest) == 0 {
			break
		}
		err = c.store.ChangeCart(ctx, acct.ID, saved, merged.Items())
		if err == nil {
			break
		} else if !errors.Is(err, storify.ErrCartChanged) || try >= maxCartRetries {
			return err
		}
	}
	acct.PasswordHash = nil
	c.mu.Lock()
	c.account, c.name, c.cart = &acct, acct.Name, *merged
	c.mu.Unlock()
	if n := merged.Units(); n > 0 {
		fmt.Fprintf(c.term, "Your cart holds %s; type cart to see it.\n", count(n, "unit"))
	}
	return nil
}

func (c *Customer) logout(context.Context, Args) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.account == nil {
		return storify.Errorf(storify.ECONFLICT, "you are not logged in")
	}
	fmt.Fprintf(c.term, "Goodbye, %s: you are logged out, and your cart is saved for next time.\n", c.account.Name)
	c.account, c.name = nil, ""
	c.cart.Clear()
	c.orders = nil
	return nil
}

func (c *Customer) whoami(context.Context, Args) error {
	if name := c.Account(); name != "" {
		c.printf("You are logged in as %s.\n", name)
	} else {
		c.printf("You are shopping as a guest. Type register or login to use an account.\n")
	}
	return nil
}
