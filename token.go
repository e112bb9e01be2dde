package storify

import (
	"crypto/rand"
	"encoding/hex"
)

// MaxTokenLen is the longest checkout token a Store takes.
const MaxTokenLen = 64

// NewToken returns a new random checkout token (NewOrder.Token): 128 bits, so that
// two checkouts never share one by chance.
func NewToken() string {
	var b [16]byte
	rand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// checkToken checks a checkout token: printable ASCII without spaces, at most
// MaxTokenLen bytes; "" is allowed (the backend chooses one).
func checkToken(t string) error {
	if len(t) > MaxTokenLen {
		return Errorf(EINVALID, "the checkout token is longer than %d bytes", MaxTokenLen)
	}
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] > '~' {
			return Errorf(EINVALID, "the checkout token must be printable ASCII without spaces")
		}
	}
	return nil
}
