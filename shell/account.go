package shell

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
	"golang.org/x/crypto/bcrypt"
)

const defaultBcryptCost = bcrypt.DefaultCost

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
	if pr, ok := c.term.(PasswordReader); ok {
		return pr.ReadPassword(prompt)
	}
	return c.term.ReadLine(prompt)
}

func (c *Customer) register(ctx context.Context, a Args) error {
	name, err := storify.CleanName(a.Get("NAME"), "account name")
	if err != nil {
		return err
	}
	if _, err := c.store.AccountByName(ctx, name); err == nil {
		return storify.Errorf(storify.ECONFLICT, "the name %s is taken; choose another", name)
	}
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
	hash, err := c.passwords.hash(pw)
	if err != nil {
		return err
	}
	acct, err := c.store.CreateAccount(ctx, name, hash)
	if err != nil {
		return err
	}
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

func (c *Customer) login(ctx context.Context, a Args) error {
	name := a.Get("NAME")
	if wait := c.throttle.Wait(name, c.addr); wait > 0 {
		return storify.Errorf(storify.ECONFLICT, "too many failed logins; try again in %s", wait.Round(time.Second))
	}
	pw, err := c.readPassword("Password: ")
	if err != nil || pw == "" {
		return errCancelled(err)
	}
	acct, err := c.store.AccountByName(ctx, name)
	if err != nil && storify.ErrorCode(err) != storify.ENOTFOUND {
		return err
	}
	var hash []byte
	if err == nil {
		hash = acct.PasswordHash
	}
	if !c.passwords.check(hash, pw) {
		c.throttle.Fail(name, c.addr)
		return storify.Errorf(storify.EINVALID, "wrong name or password")
	}
	c.throttle.Succeed(name)
	c.printf("Welcome back, %s.\n", acct.Name)
	return c.enter(ctx, acct)
}

// enter logs the session in to acct: the cart filled as a guest joins the account's
// saved cart, and the result is saved.
func (c *Customer) enter(ctx context.Context, acct storify.Account) error {
	saved, err := c.store.SavedCart(ctx, acct.ID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	merged := storify.NewCart(saved)
	guest := c.cart.Items()
	for _, it := range guest {
		room := storify.MaxQty - merged.Qty(it.ProductID)
		if n := min(it.Qty, room); n > 0 {
			merged.Add(it.ProductID, n)
		}
	}
	if len(guest) > 0 {
		if err := c.store.SaveCart(ctx, acct.ID, merged.Items()); err != nil {
			return err
		}
	}
	acct.PasswordHash = nil
	c.account, c.name, c.cart = &acct, acct.Name, *merged
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
