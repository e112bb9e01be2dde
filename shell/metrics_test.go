package shell_test

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
	"golang.org/x/crypto/bcrypt"
)

// fakeMetrics records what the shells report.
type fakeMetrics struct {
	storify.NoMetrics
	mu             sync.Mutex
	asked          []string // the commands whose recorders were asked for
	runs           map[string][]storify.Outcome
	took           map[string][]time.Duration
	loginFailed    int
	loginThrottled int
}

func newFakeMetrics() *fakeMetrics {
	return &fakeMetrics{runs: map[string][]storify.Outcome{}, took: map[string][]time.Duration{}}
}

type fakeRecorder struct {
	m    *fakeMetrics
	name string
}

func (r fakeRecorder) Record(o storify.Outcome, d time.Duration) {
	r.m.mu.Lock()
	defer r.m.mu.Unlock()
	r.m.runs[r.name] = append(r.m.runs[r.name], o)
	r.m.took[r.name] = append(r.m.took[r.name], d)
}

func (m *fakeMetrics) Command(set, name string) storify.CommandRecorder {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, set+"/"+name)
	return fakeRecorder{m, set + "/" + name}
}

func (m *fakeMetrics) LoginFailed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loginFailed++
}

func (m *fakeMetrics) LoginThrottled() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loginThrottled++
}

// measured runs one customer session reporting to m, with throttle, and returns
// its output.
func measured(t *testing.T, store storify.Store, m storify.CommandMetrics, throttle *shell.LoginThrottle, lines ...string) string {
	t.Helper()
	var out bytes.Buffer
	term := shell.NewLineTerm(strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, 1024)
	c := shell.NewCustomer(store, term, shell.CustomerConfig{StoreName: "Test", Addr: "10.0.0.1",
		Throttle: throttle, BcryptCost: bcrypt.MinCost, Metrics: m})
	if err := c.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	term.Flush()
	return out.String()
}

// Every command line is reported once, under its command's name (aliases under the
// command's), with how it ended: done, refused with a reason the customer can act
// on, or failed because the store could not do it. Lines that name no command are
// reported as "unknown", never under what was typed; empty lines are not reported.
func TestCommandsReported(t *testing.T) {
	store := &awayStore{Store: mustOpenStore(t)}
	m := newFakeMetrics()
	out := measured(t, store, m, shell.NewLoginThrottle(),
		"list", "ls", "", "add 99", "add 1", "frobnicate", `add "unclosed`, "checkout Ann", "checkout Ann", "quit")
	t.Logf("session:\n%s", out)
	store.awayCalls.Store(1)
	measured(t, store, m, shell.NewLoginThrottle(), "search mug")

	want := map[string][]storify.Outcome{
		"customer/list":     {storify.OutcomeOK, storify.OutcomeOK},
		"customer/add":      {storify.OutcomeRefused, storify.OutcomeOK},
		"customer/unknown":  {storify.OutcomeRefused, storify.OutcomeRefused},
		"customer/checkout": {storify.OutcomeOK, storify.OutcomeRefused}, // the second: an empty cart
		"customer/quit":     {storify.OutcomeOK},
		"customer/search":   {storify.OutcomeFailed},
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for name, outcomes := range want {
		if got := m.runs[name]; !slices.Equal(got, outcomes) {
			t.Errorf("%s reported %v, want %v", name, got, outcomes)
		}
	}
	for name := range m.runs {
		if _, ok := want[name]; !ok {
			t.Errorf("%s reported %v, and should not have been", name, m.runs[name])
		}
	}
	// The recorders were asked for once per command, not per session.
	if n, distinct := len(m.asked), len(slices.Compact(slices.Sorted(slices.Values(m.asked)))); n != distinct {
		t.Errorf("recorders asked for %d times for %d commands: %v", n, distinct, m.asked)
	}
}

// slowTerm is a Term whose answers to questions (not command lines) take a while
// to come, as a person's do.
type slowTerm struct {
	shell.Term
	prompt string
	pause  time.Duration
}

func (t slowTerm) ReadLine(prompt string) (string, error) {
	if prompt != t.prompt {
		time.Sleep(t.pause)
	}
	return t.Term.ReadLine(prompt)
}

// A command's time starts again when its last question is answered: the time a
// customer takes to answer is theirs, not the store's.
func TestCommandTimeLeavesOutAnswers(t *testing.T) {
	m := newFakeMetrics()
	var out bytes.Buffer
	const pause = 500 * time.Millisecond
	lt := shell.NewLineTerm(strings.NewReader("show\nBlue Mug\n"), &out, 1024)
	term := slowTerm{Term: lt, prompt: "Test> ", pause: pause}
	c := shell.NewCustomer(mustOpenStore(t), term, shell.CustomerConfig{StoreName: "Test", Metrics: m})
	if err := c.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	took := m.took["customer/show"]
	if len(took) != 1 || took[0] >= pause {
		t.Errorf("show, asked its product and answered after %v, took %v; want one run shorter than the answer's wait", pause, took)
	}
	if got := m.runs["customer/show"]; !slices.Equal(got, []storify.Outcome{storify.OutcomeOK}) {
		t.Errorf("show reported %v, want ok", got)
	}
}

// Wrong passwords are reported as failed logins, and logins the throttle turns
// away as throttled, not as failures: the sixth guess at one name is throttled.
func TestLoginsReported(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	measured(t, store, nil, th, "register Eve", "password1", "password1")
	m := newFakeMetrics()
	var lines []string
	for i := range 6 {
		lines = append(lines, "login Eve", "wrongpass"+string(rune('a'+i)))
	}
	out := measured(t, store, m, th, lines...)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loginFailed != 5 || m.loginThrottled != 1 {
		t.Errorf("6 wrong guesses: %d failed logins and %d throttled reported, want 5 and 1:\n%s", m.loginFailed, m.loginThrottled, out)
	}
	if got := m.runs["customer/login"]; len(got) != 6 || slices.ContainsFunc(got, func(o storify.Outcome) bool { return o != storify.OutcomeRefused }) {
		t.Errorf("login reported %v, want refused 6 times", got)
	}
}

// CheckPassword, the login of transports that ask the password themselves (SSH),
// reports wrong and throttled passwords as the login command does.
func TestCheckPasswordReported(t *testing.T) {
	store := mustOpenStore(t)
	th := shell.NewLoginThrottle()
	measured(t, store, nil, th, "register Eve", "password1", "password1")
	m := newFakeMetrics()
	pw := shell.NewPasswords(shell.PasswordBudget{})
	for i := range 6 {
		shell.CheckPassword(context.Background(), store, th, pw, m, "Eve", "wrongpass"+string(rune('a'+i)), "10.0.0.1")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loginFailed != 5 || m.loginThrottled != 1 {
		t.Errorf("6 wrong passwords: %d failed logins and %d throttled reported, want 5 and 1", m.loginFailed, m.loginThrottled)
	}
}
