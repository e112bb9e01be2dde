package ssh_test

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/ssh"
	"golang.org/x/crypto/bcrypt"
	gossh "golang.org/x/crypto/ssh"
)

// answer is keyboard-interactive authentication that answers every question with
// pw, and records the questions.
func answer(pw string, asked *[]string) gossh.AuthMethod {
	return gossh.KeyboardInteractive(func(_, _ string, qs []string, _ []bool) ([]string, error) {
		out := make([]string, len(qs))
		for i, q := range qs {
			*asked = append(*asked, q)
			out[i] = pw
		}
		return out, nil
	})
}

// Register over SSH binds the key, which then logs the account in; the account's
// name with another key asks the password; keys lists, adds and removes.
func TestAccountsAndKeys(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	k1, k2 := newKey(t), newKey(t)

	tm := openTerm(t, sh.mustDial(t, "newbie", gossh.PublicKeys(k1)), false)
	tm.until("Test> ")
	tm.send("register Ada\nsecret-pw\nsecret-pw\n")
	if got := tm.until("Test> "); !strings.Contains(got, "Welcome, Ada: your account is open and you are logged in.\n") ||
		!strings.Contains(got, "Your SSH key "+ssh.Fingerprint(k1.PublicKey())+" logs you in from now on.\n") {
		t.Fatalf("register: %q", got)
	}
	tm.send("add mug 3\n")
	tm.until("Test> ")

	// The key logs Ada in, whatever the user name (but another account's).
	k1Auth := gossh.PublicKeys(k1)
	again := openTerm(t, sh.mustDial(t, "someone", k1Auth), false)
	if got := again.until("Test> "); !strings.HasPrefix(got, "Welcome back to Test, Ada. Type help or ? to list commands.\n") {
		t.Errorf("greeting with a bound key: %q", got)
	}
	if out, code := exec(t, sh.mustDial(t, "ada", k1Auth), "cart"); code != 0 || !strings.Contains(out, "3 x Mug") {
		t.Errorf("cart with the bound key: %q, %d", out, code)
	}

	// Ada's name with a key she has not bound: refused, so her password is asked.
	if _, err := sh.dial("Ada", gossh.PublicKeys(k2)); err == nil {
		t.Error("Ada's name with an unbound key got in")
	}
	var asked []string
	c2 := sh.mustDial(t, "Ada", gossh.PublicKeys(k2), answer("secret-pw", &asked))
	if len(asked) != 1 || asked[0] != "Password for Ada: " {
		t.Errorf("keyboard-interactive asked %q", asked)
	}
	if out, _ := exec(t, c2, "whoami"); !strings.Contains(out, "You are logged in as Ada.") {
		t.Errorf("whoami after the password: %q", out)
	}
	if out, code := exec(t, sh.mustDial(t, "ada", gossh.Password("secret-pw")), "keys add"); code != 1 || !strings.Contains(out, "no SSH key") {
		t.Errorf("keys add without a key: %q, %d", out, code)
	}
	// A session that came in by password has no key to bind: come in with k2
	// as a guest, log in as Ada, and bind it.
	g := openTerm(t, sh.mustDial(t, "guest2", gossh.PublicKeys(k2)), false)
	g.until("Test> ")
	g.send("login Ada\nsecret-pw\nkeys add\nkeys\n")
	got := g.until("(this connection)\nTest> ")
	if !strings.Contains(got, "Your SSH key "+ssh.Fingerprint(k2.PublicKey())+" now logs you in.") ||
		!strings.Contains(got, "1  ssh-ed25519  "+ssh.Fingerprint(k1.PublicKey())) ||
		!strings.Contains(got, "2  ssh-ed25519  "+ssh.Fingerprint(k2.PublicKey())) {
		t.Errorf("keys add, keys: %q", got)
	}
	g.send("keys remove 1\n")
	if got := g.until("Test> "); !strings.Contains(got, "Key 1 ("+ssh.Fingerprint(k1.PublicKey())+") no longer logs you in.") {
		t.Errorf("keys remove 1: %q", got)
	}
	if out, _ := exec(t, sh.mustDial(t, "someone", k1Auth), "whoami"); !strings.Contains(out, "guest") {
		t.Errorf("the removed key: %q", out)
	}
	if out, _ := exec(t, sh.mustDial(t, "someone", gossh.PublicKeys(k2)), "whoami"); !strings.Contains(out, "logged in as Ada") {
		t.Errorf("the added key: %q", out)
	}
}

// Passwords given to SSH go through the telnet login's throttle: after five
// wrong ones for a name, the right one is refused on both transports.
func TestPasswordThrottleSharedWithTelnet(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{MaxAuthTries: 10}, false)
	tm := openTerm(t, sh.mustDial(t, "x", guest), false)
	tm.until("Test> ")
	tm.send("register Bea\nsecret-pw\nsecret-pw\n")
	tm.until("Test> ")
	if _, err := sh.dial("bea", gossh.Password("wrong-pw")); err == nil {
		t.Fatal("a wrong password got in")
	}
	for range 5 {
		sh.dial("bea", gossh.Password("wrong-pw"))
	}
	if _, err := sh.dial("bea", gossh.Password("secret-pw")); err == nil {
		t.Error("the right password got in while the name is throttled")
	}
	conn, err := net.Dial("tcp", sh.telnet.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	conn.Write([]byte("login bea\r\n"))
	var b strings.Builder
	for !strings.Contains(b.String(), "oo many failed logins") && !strings.Contains(b.String(), "Password") {
		c, err := r.ReadByte()
		if err != nil {
			t.Fatalf("telnet: %v after %q", err, b.String())
		}
		b.WriteByte(c)
	}
	if !strings.Contains(b.String(), "Too many failed logins") {
		t.Errorf("telnet login after SSH failures: %q", b.String())
	}
}

// A locked account logs in by no key; a one-time password (resetpassword) is
// taken only by the login command, which has the customer choose their own.
func TestLockedAndOneTimeOverSSH(t *testing.T) {
	sh := startShop(t, &server.Server{}, &ssh.Transport{}, false)
	k := newKey(t)
	tm := openTerm(t, sh.mustDial(t, "x", gossh.PublicKeys(k)), false)
	tm.until("Test> ")
	tm.send("register Cy\nsecret-pw\nsecret-pw\n")
	if got := tm.until("Test> "); !strings.Contains(got, "logs you in from now on") {
		t.Fatalf("register: %q", got)
	}
	ctx := t.Context()
	if _, err := sh.store.LockAccount(ctx, "Cy", true); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.dial("someone", gossh.PublicKeys(k)); err == nil {
		t.Error("a locked account's key got in")
	}
	if _, err := sh.dial("cy", gossh.Password("secret-pw")); err == nil {
		t.Error("a locked account's password got in")
	}
	if _, err := sh.store.LockAccount(ctx, "Cy", false); err != nil {
		t.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("one-time-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sh.store.SetPasswordHash(ctx, "Cy", append([]byte(storify.OneTimePrefix), hash...)); err != nil {
		t.Fatal(err)
	}
	if _, err := sh.dial("cy", gossh.Password("one-time-pw")); err == nil {
		t.Error("a one-time password got in over SSH, without the customer choosing their own")
	}
	if out, _ := exec(t, sh.mustDial(t, "someone", gossh.PublicKeys(k)), "whoami"); !strings.Contains(out, "logged in as Cy") {
		t.Errorf("the key of an unlocked account: %q", out)
	}
}
