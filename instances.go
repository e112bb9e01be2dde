package storify

import (
	"context"
	"strings"
	"time"
)

// Instances is a Store that several instances of storify share (PostgreSQL), through
// which each instance reaches the others for what lives only in an instance's memory:
// its connected customers, which the managers list, kick and send messages to on any
// instance. It carries requests and replies without reading them: each is text (UTF-8,
// no NUL), a request at most MaxInstanceRequest bytes, a reply at most
// MaxInstanceReply.
type Instances interface {
	// Join makes this process the live instance called name (see CheckInstanceName)
	// for as long as the Store is open. The name is held by a lease in the database
	// that the instance renews every second; an instance that stops renewing it
	// (killed, hung, cut off from the database) is taken for gone once it lapses,
	// InstanceLease later. Join waits up to that long, and a second, for a lease
	// that holds name to lapse, since it may be this instance's own from before a
	// crash; if another instance keeps renewing it, Join fails with ECONFLICT.
	// answer is called for the other instances' requests, one at a time, each
	// with a deadline, unless its asker has stopped waiting for it; from is the
	// asking instance's name, and what answer returns is the reply.
	Join(ctx context.Context, name string, answer func(ctx context.Context, from string, request []byte) []byte) error
	// Ask sends request to the other live instances (only to the one named to,
	// if to is not "") and gathers the replies that come within wait, or before
	// ctx ends. missing names the live instances asked that did not answer in
	// time; an instance whose lease has lapsed is not asked and not missing.
	// A Store that has not joined asks too, as a script that serves no one
	// (storify exec): its requests come from ScriptInstance, and every live
	// instance is asked.
	Ask(ctx context.Context, to string, request []byte, wait time.Duration) (replies []InstanceReply, missing []string, err error)
	// Live lists the other live instances by name: all of them, before Join.
	Live(ctx context.Context) ([]string, error)
}

// InstanceReply is one instance's reply to a request.
type InstanceReply struct {
	Instance string
	Body     []byte
}

// Bounds on what the instances send each other (Instances).
const (
	MaxInstanceRequest = 6000    // bytes in a request: it travels in a NOTIFY, whose payload is under 8000
	MaxInstanceReply   = 8 << 20 // bytes in a reply: a list of 20 000 customers fits
	MaxInstanceName    = 64      // bytes in an instance's name
	// InstanceLease is how long after its last renewal an instance's name is
	// held for it: past that it is taken for gone.
	InstanceLease = 5 * time.Second
)

// ScriptInstance is who asks the live instances from a process that has not
// joined them (storify exec and -c): no instance may take the name.
const ScriptInstance = "exec"

// CheckInstanceName checks an instance's name: 1 to MaxInstanceName letters,
// digits, and . _ : - (a host name and a port, such as shop1:65432), and not
// ScriptInstance. A manager types it after an @ to name a customer on that
// instance.
func CheckInstanceName(name string) error {
	switch {
	case name == "":
		return Errorf(EINVALID, "the instance name is empty")
	case strings.EqualFold(name, ScriptInstance):
		return Errorf(EINVALID, "the instance name %q is kept for storify exec", name)
	case len(name) > MaxInstanceName:
		return Errorf(EINVALID, "the instance name %q is longer than %d characters", clip(name, 20), MaxInstanceName)
	case strings.IndexFunc(name, func(r rune) bool { return !instanceNameRune(r) }) >= 0:
		return Errorf(EINVALID, "the instance name %q may hold only letters, digits and . _ : -", clip(name, MaxInstanceName))
	}
	return nil
}

func instanceNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)
}

// InstanceName makes a valid instance name of s, such as a host name that holds
// other characters: each is replaced by -, and the name is cut to
// MaxInstanceName bytes (keeping its end, where a port is).
func InstanceName(s string) string {
	s = strings.Map(func(r rune) rune {
		if instanceNameRune(r) {
			return r
		}
		return '-'
	}, s)
	if len(s) > MaxInstanceName {
		s = s[len(s)-MaxInstanceName:]
	}
	if s == "" {
		s = "storify"
	}
	return s
}
