package shell

import (
	"sync"

	"github.com/storify/storify"
	"golang.org/x/crypto/bcrypt"
)

// Password rules. bcrypt reads at most 72 bytes, so a longer password is refused
// rather than silently cut.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// PasswordReader is a Term that can read a line without showing it. A Term without
// it reads passwords as ordinary lines (a pipe or a test has no echo to hide).
type PasswordReader interface {
	// ReadPassword shows prompt and reads one line with echo off.
	ReadPassword(prompt string) (string, error)
}

// passwords hashes and checks passwords with bcrypt at a given cost.
type passwords struct {
	cost      int
	dummyOnce sync.Once
	dummy     []byte
}

func (p *passwords) hash(pw string) ([]byte, error) {
	if err := checkPasswordRules(pw); err != nil {
		return nil, err
	}
	return bcrypt.GenerateFromPassword([]byte(pw), p.cost)
}

// check reports whether pw matches hash. With a nil hash (no such account) it
// still spends the time of one comparison, so that timing does not tell whether a
// name exists.
func (p *passwords) check(hash []byte, pw string) bool {
	if hash == nil {
		p.dummyOnce.Do(func() { p.dummy, _ = bcrypt.GenerateFromPassword([]byte("not a password"), p.cost) })
		bcrypt.CompareHashAndPassword(p.dummy, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil
}

func checkPasswordRules(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return storify.Errorf(storify.EINVALID, "a password needs at least %d characters", MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return storify.Errorf(storify.EINVALID, "a password may have at most %d bytes", MaxPasswordLen)
	}
	return nil
}
