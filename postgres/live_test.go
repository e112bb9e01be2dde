package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/postgres"
)

// echo answers every request with "NAME heard FROM: REQUEST".
func echo(name string) func(context.Context, string, []byte) []byte {
	return func(_ context.Context, from string, req []byte) []byte {
		return []byte(name + " heard " + from + ": " + string(req))
	}
}

// joined opens a store on dsn, listening, and joins it as instance name.
func joined(t testing.TB, dsn, name string, answer func(context.Context, string, []byte) []byte) *postgres.Store {
	t.Helper()
	s := mustOpen(t, dsn)
	waitListening(t, s)
	if err := s.Join(context.Background(), name, answer); err != nil {
		t.Fatalf("Join %s: %v", name, err)
	}
	return s
}

// replyMap is replies by instance.
func replyMap(replies []storify.InstanceReply) map[string]string {
	m := map[string]string{}
	for _, r := range replies {
		m[r.Instance] = string(r.Body)
	}
	return m
}

// TestInstancesAskEachOther: three instances on one store. A request from a reaches
// b and c (or only the one it names) and their replies come back, however large;
// an instance that closed is no longer asked, at once.
func TestInstancesAskEachOther(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	big := strings.Repeat("x", 100_000) // beyond a NOTIFY's 8000 bytes
	a := joined(t, sc.dsn, "a", echo("a"))
	b := joined(t, sc.dsn, "b", func(_ context.Context, from string, req []byte) []byte {
		return []byte("b heard " + from + ": " + string(req) + " " + big)
	})
	c := joined(t, sc.dsn, "shop-c:65432", echo("c"))

	replies, missing, err := a.Ask(ctx, "", []byte(`who "is" there?`), 5*time.Second)
	got := replyMap(replies)
	if err != nil || len(missing) != 0 || len(got) != 2 ||
		got["b"] != `b heard a: who "is" there? `+big || got["shop-c:65432"] != `c heard a: who "is" there?` {
		t.Errorf("Ask all = %.200v, missing %v, %v", got, missing, err)
	}
	replies, missing, err = b.Ask(ctx, "shop-c:65432", []byte("only you"), 5*time.Second)
	if got := replyMap(replies); err != nil || len(missing) != 0 || len(got) != 1 || got["shop-c:65432"] != "c heard b: only you" {
		t.Errorf("Ask c = %v, missing %v, %v", got, missing, err)
	}
	replies, missing, err = a.Ask(ctx, "zed", []byte("anyone?"), 5*time.Second)
	if err != nil || len(replies)+len(missing) != 0 {
		t.Errorf("Ask an instance that does not run = %v, missing %v, %v", replies, missing, err)
	}
	if live, err := a.Live(ctx); err != nil || !slices.Equal(live, []string{"b", "shop-c:65432"}) {
		t.Errorf("Live = %v, %v", live, err)
	}

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	replies, missing, err = a.Ask(ctx, "", []byte("still there?"), 5*time.Second)
	if got := replyMap(replies); err != nil || len(missing) != 0 || len(got) != 1 || got["b"] == "" {
		t.Errorf("Ask after c closed = %.100v, missing %v, %v", got, missing, err)
	}

	for _, req := range []string{strings.Repeat("y", storify.MaxInstanceRequest+1), "nul\x00", "\xff\xfe"} {
		if _, _, err := a.Ask(ctx, "", []byte(req), time.Second); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("Ask %.20q: %v, want EINVALID", req, err)
		}
	}
}

// TestInstancesSilentInstance: an instance that does not answer (its answering is
// stuck) is named as missing when the wait is over; a request it hears only after
// its asker stopped waiting is not acted on.
func TestInstancesSilentInstance(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	a := joined(t, sc.dsn, "a", echo("a"))
	release := make(chan struct{})
	var heard atomic.Int32
	var once sync.Once
	joined(t, sc.dsn, "b", func(_ context.Context, _ string, req []byte) []byte {
		heard.Add(1)
		if string(req) == "first" {
			<-release
		}
		return []byte("b: " + string(req))
	})
	t.Cleanup(func() { once.Do(func() { close(release) }) })

	for _, req := range []string{"first", "second"} {
		var missing []string
		bounded(t, "Ask "+req, 5*time.Second, func() (err error) {
			_, missing, err = a.Ask(ctx, "", []byte(req), 300*time.Millisecond)
			return err
		})
		if !slices.Equal(missing, []string{"b"}) {
			t.Errorf("Ask %s while b is stuck: missing %v, want [b]", req, missing)
		}
	}
	once.Do(func() { close(release) })
	replies, missing, err := a.Ask(ctx, "", []byte("third"), 5*time.Second)
	if got := replyMap(replies); err != nil || len(missing) != 0 || got["b"] != "b: third" {
		t.Errorf("Ask third = %v, missing %v, %v", got, missing, err)
	}
	// b handled its requests in order: the second came after a gave up on it.
	if n := heard.Load(); n != 2 {
		t.Errorf("b acted on %d requests, want 2 (first and third; the second came too late)", n)
	}
}

// TestInstancesJoinAfterCrash: an instance that crashed leaves its lease behind;
// started again under its name, it waits for that lease to lapse and then joins.
func TestInstancesJoinAfterCrash(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	a := joined(t, sc.dsn, "a", echo("a"))
	// The lease of a process that held "b" and died, due to lapse in a second.
	if _, err := adminConn(t).Exec(ctx, fmt.Sprintf(`INSERT INTO %s.live_instances (name, token, started, lease_until)
		VALUES ('b', 'dead', now(), clock_timestamp() + interval '1 second')`, sc.ident())); err != nil {
		t.Fatal(err)
	}
	if live, err := a.Live(ctx); err != nil || !slices.Equal(live, []string{"b"}) {
		t.Errorf("Live with b's lease held = %v, %v", live, err)
	}
	joined(t, sc.dsn, "b", echo("b"))
	replies, missing, err := a.Ask(ctx, "b", []byte("back?"), 5*time.Second)
	if got := replyMap(replies); err != nil || len(missing) != 0 || got["b"] != "b heard a: back?" {
		t.Errorf("Ask b after its restart = %v, missing %v, %v", got, missing, err)
	}
}

// TestInstancesIgnoreForgedNotifications: whatever else is sent on the store's live
// channel (half a request, a bad name, a request for someone else, a reply nobody
// asked for) is not acted on, and the instance answers the next true request.
func TestInstancesIgnoreForgedNotifications(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	a := joined(t, sc.dsn, "a", echo("a"))
	var heard atomic.Int32
	joined(t, sc.dsn, "b", func(_ context.Context, from string, req []byte) []byte {
		heard.Add(1)
		return []byte("b heard " + from + ": " + string(req))
	})
	h := sha256.Sum256([]byte(sc.name))
	channel := "storify_live_" + hex.EncodeToString(h[:8])
	admin := adminConn(t)
	far := strconv.FormatInt(time.Now().Add(time.Hour).UnixMicro(), 10)
	for _, payload := range []string{
		"", "q", "q id", "q id " + far + " a", "q id soon a * body", "q id " + far + " a\x1b[2J * body",
		"q id " + far + " a c body", "q id " + far + " b * from myself", "r", "r nobody", "r someid b", "x y z",
	} {
		if _, err := admin.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
			t.Fatal(err)
		}
	}
	replies, missing, err := a.Ask(ctx, "b", []byte("true request"), 5*time.Second)
	if got := replyMap(replies); err != nil || len(missing) != 0 || got["b"] != "b heard a: true request" {
		t.Errorf("Ask after the forgeries = %v, missing %v, %v", got, missing, err)
	}
	if n := heard.Load(); n != 1 {
		t.Errorf("b acted on %d requests, want 1: only the true one", n)
	}
}

// BenchmarkInstancesAsk measures one request from one instance to two others and
// their replies: what a manager's customers, kick or say costs on a shared store.
func BenchmarkInstancesAsk(b *testing.B) {
	sc := newSchema(b)
	ctx := context.Background()
	a := joined(b, sc.dsn, "a", echo("a"))
	joined(b, sc.dsn, "b", echo("b"))
	joined(b, sc.dsn, "c", echo("c"))
	for b.Loop() {
		replies, missing, err := a.Ask(ctx, "", []byte("customers"), 5*time.Second)
		if err != nil || len(replies) != 2 || len(missing) != 0 {
			b.Fatalf("Ask = %d replies, missing %v, %v", len(replies), missing, err)
		}
	}
}

// TestInstanceLosesItsNameAndTakesItBack: an instance whose name another took while
// it did not renew its lease (it was stopped, or cut off from the database) says
// so in its log and answers no more under that name, so that the other instances'
// managers are never answered by two instances of one name; once the name is free
// again, it takes it back, says so, and answers again.
func TestInstanceLosesItsNameAndTakesItBack(t *testing.T) {
	sc := newSchema(t)
	ctx := context.Background()
	var log lockedBuffer
	x, err := postgres.Open(ctx, sc.dsn, postgres.Options{Log: slog.New(slog.NewTextHandler(&log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	waitListening(t, x)
	if err := x.Join(ctx, "x", echo("x")); err != nil {
		t.Fatal(err)
	}
	asker := joined(t, sc.dsn, "asker", echo("asker"))
	ask := func() (map[string]string, []string) {
		replies, missing, err := asker.Ask(ctx, "x", []byte("there?"), time.Second)
		if err != nil {
			t.Fatalf("Ask x: %v", err)
		}
		return replyMap(replies), missing
	}
	if got, missing := ask(); got["x"] != "x heard asker: there?" || len(missing) != 0 {
		t.Fatalf("Ask x while it holds its name = %v, missing %v", got, missing)
	}

	// Another instance holds the name now, as if x's lease had lapsed and it took it.
	admin := adminConn(t)
	if _, err := admin.Exec(ctx, `UPDATE `+sc.ident()+`.live_instances SET token = 'another' WHERE name = 'x'`); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &log, "another instance took this instance's name")
	if got, missing := ask(); len(got) != 0 || !slices.Equal(missing, []string{"x"}) {
		t.Errorf("Ask x once another holds its name = %v, missing %v; want no answer from the x that lost it", got, missing)
	}

	// The other is gone, and its lease with it: x takes its name back.
	if _, err := admin.Exec(ctx, `DELETE FROM `+sc.ident()+`.live_instances WHERE name = 'x'`); err != nil {
		t.Fatal(err)
	}
	waitLog(t, &log, "this instance holds its name again")
	if got, missing := ask(); got["x"] != "x heard asker: there?" || len(missing) != 0 {
		t.Errorf("Ask x once it took its name back = %v, missing %v", got, missing)
	}
}

// lockedBuffer is a bytes.Buffer that a logger writes from other goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits up to 10 seconds for log to hold want.
func waitLog(t *testing.T, log *lockedBuffer, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(log.String(), want); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the log lacks %q after 10 s:\n%s", want, log.String())
		}
	}
}
