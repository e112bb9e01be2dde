// Package stalltest holds what the tests of every transport use to show that one
// stalled peer stalls no one else: a bound on how long an action may take beside
// it, and the manager's console run against a server's hub.
package stalltest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Timed runs f and fails the test if it takes longer than limit (a bound to detect
// a hang, not a measure of speed); it returns how long f took. A stalled f is not
// waited for.
func Timed(t *testing.T, what string, limit time.Duration, f func()) time.Duration {
	t.Helper()
	start := time.Now()
	done := make(chan struct{})
	go func() { f(); close(done) }()
	select {
	case <-done:
		d := time.Since(start)
		t.Logf("%s: %v", what, d)
		return d
	case <-time.After(limit):
		t.Fatalf("%s still waiting after %v", what, limit)
		return 0
	}
}

// ManagerExec runs one console command against store and hub and returns its reply.
func ManagerExec(store storify.Store, hub shell.Hub, line string) string {
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(""), &out, 1024)
	m := shell.NewManager(store, hub, term, shell.ManagerConfig{StoreName: "Test"})
	m.Exec(context.Background(), line)
	term.Flush()
	return out.String()
}
