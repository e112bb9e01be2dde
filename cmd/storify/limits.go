package main

import (
	"context"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// banRefresh is how often an instance of a shared store reads the bans again in
// any case, for a change whose notification it missed (its listener was away).
const banRefresh = 2 * time.Second

// shareLimits makes the login throttle, the sign-up limits and the bans the
// store's, when several instances share it (PostgreSQL), so that each holds for
// the whole store; with SQLite they stay this process's. It returns what stops
// following the store's bans.
func shareLimits(store storify.Store, throttle *shell.LoginThrottle, signups *shell.RegisterThrottle, bans *server.Bans) (stop func()) {
	if limits, ok := store.(storify.SharedLimits); ok {
		throttle.Shared, signups.Shared = limits, limits
	}
	shared, ok := store.(storify.SharedBans)
	if !ok {
		return func() {}
	}
	bans.Shared = shared
	// The bans in force now apply from the first connection on, if they can be
	// read; Follow keeps trying otherwise.
	ctx, cancel := context.WithCancel(context.Background())
	bans.Refresh(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		bans.Follow(ctx, banRefresh)
	}()
	return func() {
		cancel()
		<-done
	}
}
