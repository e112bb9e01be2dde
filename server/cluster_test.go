package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/stalltest"
	"github.com/storify/storify/server"
)

// fakeInstances carries requests between Clusters in one process, as the store
// does between processes. A silent instance does not answer; forge, if set,
// replaces what an instance answers.
type fakeInstances struct {
	self    string
	members map[string]*server.Cluster
	silent  map[string]bool
	forge   map[string]func(reply []byte) []byte
	down    bool // the database cannot be reached: nobody can be asked
}

func (f *fakeInstances) Join(context.Context, string, func(context.Context, string, []byte) []byte) error {
	return nil
}

func (f *fakeInstances) Ask(ctx context.Context, to string, req []byte, _ time.Duration) (replies []storify.InstanceReply, missing []string, err error) {
	if f.down {
		return nil, nil, storify.Unavailable(errors.New("connection refused"))
	}
	for _, name := range f.others() {
		if to != "" && name != to {
			continue
		}
		if f.silent[name] {
			missing = append(missing, name)
			continue
		}
		body := f.members[name].Answer(ctx, f.self, req)
		if forge := f.forge[name]; forge != nil {
			body = forge(body)
		}
		replies = append(replies, storify.InstanceReply{Instance: name, Body: body})
	}
	return replies, missing, nil
}

func (f *fakeInstances) Live(context.Context) ([]string, error) { return f.others(), nil }

func (f *fakeInstances) others() []string {
	var names []string
	for _, name := range []string{"a", "b", "c"} {
		if _, ok := f.members[name]; ok && name != f.self {
			names = append(names, name)
		}
	}
	return names
}

// cluster starts one customer server per name, joined as instances a, b, c; each
// has one customer connected, at its prompt.
type cluster struct {
	hubs    map[string]*server.Cluster
	nets    map[string]*fakeInstances
	clients map[string]*client
}

func startCluster(t *testing.T, names ...string) *cluster {
	t.Helper()
	c := &cluster{hubs: map[string]*server.Cluster{}, nets: map[string]*fakeInstances{}, clients: map[string]*client{}}
	members := map[string]*server.Cluster{}
	for _, name := range names {
		srv := &server.Server{}
		addr := startServer(t, srv)
		f := &fakeInstances{self: name, members: members, silent: map[string]bool{}, forge: map[string]func([]byte) []byte{}}
		hub := &server.Cluster{Local: srv, Instances: f, Name: name, Timeout: time.Second}
		members[name], c.hubs[name], c.nets[name] = hub, hub, f
		cl := connect(t, addr)
		cl.until("echo> ")
		waitFor(t, func() bool { return srv.Len() == 1 })
		c.clients[name] = cl
	}
	return c
}

// TestClusterCustomersKickSay: the console of instance a lists the customers of a, b
// and c, each as N@INSTANCE; kick takes that form and closes the customer on c; say
// reaches all three and counts them. A plain session number is refused while other
// instances run, and taken when the instance runs alone.
func TestClusterCustomersKickSay(t *testing.T) {
	c := startCluster(t, "a", "b", "c")
	a := c.hubs["a"]
	out := stalltest.ManagerExec(nil, a, "customers")
	for _, want := range []string{`(?m)^1@a\s+127\.0\.0\.1:\d+`, `(?m)^1@b\s+127\.0\.0\.1:\d+`, `(?m)^1@c\s+127\.0\.0\.1:\d+`, `3 connected\.`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("customers lacks %s:\n%s", want, out)
		}
	}
	if out := stalltest.ManagerExec(nil, a, "say Closing at six"); !strings.Contains(out, "Sent to 3 customers.") {
		t.Errorf("say: %q", out)
	}
	for name, cl := range c.clients {
		if got := cl.until("echo> "); !strings.Contains(got, "Message from the store: Closing at six") {
			t.Errorf("the customer on %s got %q", name, got)
		}
	}
	if out := stalltest.ManagerExec(nil, a, "kick 1"); !strings.Contains(out, "NUMBER@INSTANCE") {
		t.Errorf("kick 1 among several instances: %q", out)
	}
	if out := stalltest.ManagerExec(nil, a, "kick 1@c"); !strings.Contains(out, "Customer 1@c is disconnected.") {
		t.Errorf("kick 1@c: %q", out)
	}
	if got := c.clients["c"].rest(); !strings.Contains(got, "The manager has closed your session. Goodbye.") {
		t.Errorf("the customer on c got %q", got)
	}
	if out := stalltest.ManagerExec(nil, a, "kick 1@c"); !strings.Contains(out, "No customer session 1@c") {
		t.Errorf("kick 1@c again: %q", out)
	}
	if out := stalltest.ManagerExec(nil, a, "kick 1@zed"); !strings.Contains(out, "No instance zed is running") {
		t.Errorf("kick 1@zed: %q", out)
	}

	alone := startCluster(t, "a")
	if out := stalltest.ManagerExec(nil, alone.hubs["a"], "customers"); !regexp.MustCompile(`(?m)^\s+1  127\.0\.0\.1:\d+`).MatchString(out) {
		t.Errorf("customers of a lone instance:\n%s", out)
	}
	if out := stalltest.ManagerExec(nil, alone.hubs["a"], "kick 1"); !strings.Contains(out, "Customer 1 is disconnected.") {
		t.Errorf("kick 1 on a lone instance: %q", out)
	}
}

// TestClusterScriptReachesEveryInstance: a script on a shared store (storify exec),
// which serves no one and has not joined, lists, tells and kicks the customers of
// every live instance; a plain session number is that of the only instance running,
// and refused when several run or none.
func TestClusterScriptReachesEveryInstance(t *testing.T) {
	c := startCluster(t, "a", "b")
	members := c.nets["a"].members
	script := &server.Cluster{Instances: &fakeInstances{self: storify.ScriptInstance, members: members}, Name: storify.ScriptInstance, Timeout: time.Second}
	out := stalltest.ManagerExec(nil, script, "customers")
	for _, want := range []string{`(?m)^1@a\s+127\.0\.0\.1:\d+`, `(?m)^1@b\s+127\.0\.0\.1:\d+`, `(?m)^2 connected\.$`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("customers from a script lacks %s:\n%s", want, out)
		}
	}
	if out := stalltest.ManagerExec(nil, script, "say Closing at six"); !strings.Contains(out, "Sent to 2 customers.") {
		t.Errorf("say from a script: %q", out)
	}
	for name, cl := range c.clients {
		if got := cl.until("echo> "); !strings.Contains(got, "Message from the store: Closing at six") {
			t.Errorf("the customer on %s got %q", name, got)
		}
	}
	if out := stalltest.ManagerExec(nil, script, "kick 1"); !strings.Contains(out, "everal instances are running: name the session") {
		t.Errorf("kick 1 from a script, two instances: %q", out)
	}
	if out := stalltest.ManagerExec(nil, script, "kick 1@exec"); !strings.Contains(out, `The instance name "exec" is kept for storify exec.`) {
		t.Errorf("kick 1@exec: %q", out)
	}
	if out := stalltest.ManagerExec(nil, script, "kick 1@b"); !strings.Contains(out, "Customer 1@b is disconnected.") {
		t.Errorf("kick 1@b from a script: %q", out)
	}
	if got := c.clients["b"].rest(); !strings.Contains(got, "The manager has closed your session. Goodbye.") {
		t.Errorf("the customer on b got %q", got)
	}

	delete(members, "b") // b stops: a is the only instance
	if out := stalltest.ManagerExec(nil, script, "kick 1"); !strings.Contains(out, "Customer 1 is disconnected.") {
		t.Errorf("kick 1 from a script, one instance: %q", out)
	}
	if got := c.clients["a"].rest(); !strings.Contains(got, "The manager has closed your session. Goodbye.") {
		t.Errorf("the customer on a got %q", got)
	}
	delete(members, "a")
	if out := stalltest.ManagerExec(nil, script, "customers"); out != "No customers connected.\n" {
		t.Errorf("customers from a script, no instance: %q", out)
	}
	if out := stalltest.ManagerExec(nil, script, "kick 1"); !strings.Contains(out, "No instance of the store is running") {
		t.Errorf("kick 1 from a script, no instance: %q", out)
	}
}

// TestClusterSilentInstance: an instance that does not answer is named, once, after
// the answer of those that did: its customers are not listed, may not have been
// told, and cannot be kicked.
func TestClusterSilentInstance(t *testing.T) {
	c := startCluster(t, "a", "b", "c")
	a := c.hubs["a"]
	c.nets["a"].silent["c"] = true
	out := stalltest.ManagerExec(nil, a, "customers")
	if !strings.Contains(out, "1@b") || strings.Contains(out, "1@c") ||
		!strings.Contains(out, "2 connected.\nInstance c did not answer; its customers are not listed.\n") {
		t.Errorf("customers with c silent:\n%s", out)
	}
	if out := stalltest.ManagerExec(nil, a, "say Hello"); !strings.Contains(out, "Sent to 2 customers.\nInstance c did not answer; its customers may not have been told.\n") {
		t.Errorf("say with c silent: %q", out)
	}
	if out := stalltest.ManagerExec(nil, a, "kick 1@c"); !strings.Contains(out, "Instance c did not answer: customer 1@c may still be connected") {
		t.Errorf("kick on the silent instance: %q", out)
	}
	c.nets["a"].silent["b"] = true
	if out := stalltest.ManagerExec(nil, a, "customers"); !strings.Contains(out, "Instances b, c did not answer; their customers are not listed.") {
		t.Errorf("customers with b and c silent:\n%s", out)
	}
}

// TestClusterForgedReplies: what another instance replies is data from another
// process: terminal escapes in it never reach the console, a reply that is not
// understood counts as no answer, and counts are kept in bounds.
func TestClusterForgedReplies(t *testing.T) {
	c := startCluster(t, "a", "b", "c")
	a := c.hubs["a"]
	now := time.Now()
	evil, _ := json.Marshal(map[string]any{"customers": []map[string]any{
		{"id": 7, "addr": "\x1b]0;pwned\x07203.0.113.9:1", "name": "Eve\x1b[2J\x1b[H", "account": "\u202eevil", "since": now, "active": now, "cart": -5},
		{"id": -1, "addr": "x", "since": now, "active": now},
		{"id": 8, "addr": strings.Repeat("9", 10000), "name": strings.Repeat("é", 5000), "since": now, "active": now, "cart": 1},
	}})
	c.nets["a"].forge["b"] = func([]byte) []byte { return evil }
	c.nets["a"].forge["c"] = func([]byte) []byte { return []byte("not json \x1b[2J") }
	out := stalltest.ManagerExec(nil, a, "customers")
	if i := strings.IndexAny(out, "\x1b\x07\u202e"); i >= 0 {
		t.Errorf("a control character reached the console at %d:\n%q", i, out)
	}
	if !strings.Contains(out, "7@b") || !strings.Contains(out, "8@b") || strings.Contains(out, "-1@b") {
		t.Errorf("customers with b's forged list:\n%s", out)
	}
	if !strings.Contains(out, "Instance c did not answer") {
		t.Errorf("c's garbled reply is not taken for no answer:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 1000 {
			t.Errorf("a line of %d bytes: the forged fields were not cut", len(line))
		}
	}
	c.nets["a"].forge["b"] = func([]byte) []byte { return []byte(`{"told":-1000000}`) }
	c.nets["a"].forge["c"] = func([]byte) []byte { return []byte(`{"told":1}`) }
	if out := stalltest.ManagerExec(nil, a, "say Hi"); !strings.Contains(out, "Sent to 2 customers.") {
		t.Errorf("say with a negative count from b: %q", out)
	}
}

// TestClusterAnswerRefusesBadMessages: a say request whose message the console would
// refuse (not printable, too long) reaches no customer of the instance asked.
func TestClusterAnswerRefusesBadMessages(t *testing.T) {
	c := startCluster(t, "a", "b")
	b := c.hubs["b"]
	for _, req := range []string{
		`{"op":"say","message":"\u001b[2Jgone"}`,
		`{"op":"say","message":"` + strings.Repeat("x", 5000) + `"}`,
		`{"op":"say","message":"  "}`,
		`{"op":"launch"}`,
		`not json`,
	} {
		var rep struct {
			Told  int
			Error string
		}
		if err := json.Unmarshal(b.Answer(context.Background(), "a", []byte(req)), &rep); err != nil || rep.Told != 0 || rep.Error == "" {
			t.Errorf("request %.40q: reply %+v, %v; want an error and no one told", req, rep, err)
		}
	}
	// The customer on b was told nothing: the next thing they see is the reply
	// to their own command.
	cl := c.clients["b"]
	cl.send("hello")
	if got := cl.until("echo> "); got != "you said: hello\r\necho> " {
		t.Errorf("the customer on b got %q", got)
	}
}

// TestClusterDatabaseAway: when the other instances cannot be asked at all, customers
// lists this instance's customers (as N@INSTANCE, which kick takes) and say tells
// them, and each says, in one line, that the others could not be asked.
func TestClusterDatabaseAway(t *testing.T) {
	c := startCluster(t, "a", "b")
	a := c.hubs["a"]
	c.nets["a"].down = true
	out := stalltest.ManagerExec(nil, a, "customers")
	if !regexp.MustCompile(`(?m)^1@a  127\.0\.0\.1:\d+`).MatchString(out) || strings.Contains(out, "@b") ||
		!strings.Contains(out, "1 connected.\nThe other instances could not be asked (the store cannot reach its database just now); only this instance's customers are listed.\n") {
		t.Errorf("customers with the database away:\n%s", out)
	}
	if out := stalltest.ManagerExec(nil, a, "say Hello"); out != "Sent to 1 customer.\nThe other instances could not be asked (the store cannot reach its database just now); only this instance's customers were told.\n" {
		t.Errorf("say with the database away: %q", out)
	}
	if got := c.clients["a"].until("echo> "); !strings.Contains(got, "Message from the store: Hello") {
		t.Errorf("the customer on a got %q", got)
	}
	// The session customers showed is what kick takes, database or not.
	if out := stalltest.ManagerExec(nil, a, "kick 1@a"); out != "Customer 1@a is disconnected.\n" {
		t.Errorf("kick 1@a with the database away: %q", out)
	}
}
