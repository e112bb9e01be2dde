package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	gossh "golang.org/x/crypto/ssh"
)

// ManagerUser is the user name managers log in with.
const ManagerUser = "manager"

// AdminKey is one manager's public key, from --admin-keys.
type AdminKey struct {
	Key     gossh.PublicKey
	Comment string
}

// ReadAdminKeys reads an OpenSSH authorized_keys file: one key a line, with
// blank lines and # comments skipped. Options before a key are not supported
// and make the line an error, as does any line that is not a key, so that a
// mistake in the file is found at start rather than as a refused manager.
func ReadAdminKeys(path string) ([]AdminKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []AdminKey
	for n, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, options, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n+1, err)
		}
		if len(options) > 0 {
			return nil, fmt.Errorf("%s:%d: key options (%s) are not supported", path, n+1, bytes.Join(toBytes(options), []byte(",")))
		}
		keys = append(keys, AdminKey{Key: key, Comment: comment})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no keys", path)
	}
	return keys, nil
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// Extensions of ssh.Permissions that carry what authentication found.
const (
	extRole    = "storify-role" // roleManager or roleCustomer
	extKey     = "storify-key"  // the fingerprint of the key used, if any
	extComment = "storify-key-comment"

	roleManager  = "manager"
	roleCustomer = "customer"
)

// errAuth is every refusal: a client learns nothing from it (the protocol sends
// only "failure" anyway).
var errAuth = errors.New("ssh: authentication failed")

// publicKey authenticates a key: the manager's user name needs one of the admin
// keys; any other user gets in with any key, as a guest.
func (t *Transport) publicKey(meta gossh.ConnMetadata, key gossh.PublicKey) (*gossh.Permissions, error) {
	fp := Fingerprint(key)
	if meta.User() == ManagerUser {
		wire := key.Marshal()
		for _, ak := range t.AdminKeys {
			if bytes.Equal(ak.Key.Marshal(), wire) {
				return &gossh.Permissions{Extensions: map[string]string{extRole: roleManager, extKey: fp, extComment: ak.Comment}}, nil
			}
		}
		return nil, errAuth
	}
	return &gossh.Permissions{Extensions: map[string]string{extRole: roleCustomer, extKey: fp}}, nil
}

// keyboardInteractive lets a customer without a key in, as a guest, asking
// nothing. The manager's user name is refused.
func (t *Transport) keyboardInteractive(meta gossh.ConnMetadata, challenge gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
	if meta.User() == ManagerUser {
		// Asked nothing, refused all the same: to the client this is the
		// refusal of any other method.
		challenge("", "", nil, nil)
		return nil, errAuth
	}
	return &gossh.Permissions{Extensions: map[string]string{extRole: roleCustomer}}, nil
}

// refuseAll is the callback of a connection being turned away.
func refuseAll(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) { return nil, errAuth }
