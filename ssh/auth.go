package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
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
	extRole        = "storify-role" // roleManager or roleCustomer
	extKey         = "storify-key"  // the fingerprint of the key used, if any
	extPublicKey   = "storify-public-key"
	extComment     = "storify-key-comment"
	extAccount     = "storify-account" // the account logged in: its id and name
	extAccountName = "storify-account-name"

	roleManager  = "manager"
	roleCustomer = "customer"
)

// errAuth is every refusal: a client learns nothing from it (the protocol sends
// only "failure" anyway).
var errAuth = errors.New("ssh: authentication failed")

// authTimeout bounds the database calls of one authentication attempt.
const authTimeout = 5 * time.Second

// publicKey authenticates a key. The manager's user name needs one of the admin
// keys. A key bound to an account logs it in; a user name that is an account
// needs that account's key (or else its password, asked next). Any other user
// gets in with any key, as a guest. (The callback runs before the client has
// proved it holds the key; its answer counts only once it has.)
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
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	perms := &gossh.Permissions{Extensions: map[string]string{
		extRole: roleCustomer, extKey: fp, extPublicKey: strings.TrimSpace(string(gossh.MarshalAuthorizedKey(key))),
	}}
	named, err := t.account(ctx, meta.User())
	if err != nil {
		return nil, err
	}
	acct, err := t.Store.AccountByKey(ctx, fp)
	switch {
	case err == nil && storify.Locked(acct.PasswordHash):
		return nil, errAuth // a locked account logs in no way
	case err == nil && (named == nil || named.ID == acct.ID):
		withAccount(perms, acct)
		return perms, nil
	case err == nil || storify.ErrorCode(err) == storify.ENOTFOUND:
		if named != nil {
			return nil, errAuth // not this account's key: its password, then
		}
		return perms, nil
	}
	t.Log.Error("ssh: looking up a key", "err", err)
	return nil, errAuth
}

// keyboardInteractive asks the password of a user name that is an account, and
// asks nothing of anyone else: a guest. The manager's user name is refused.
func (t *Transport) keyboardInteractive(meta gossh.ConnMetadata, challenge gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
	if meta.User() == ManagerUser {
		// Asked nothing, refused all the same: to the client this is the
		// refusal of any other method.
		challenge("", "", nil, nil)
		return nil, errAuth
	}
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	named, err := t.account(ctx, meta.User())
	if err != nil {
		return nil, err
	}
	if named == nil {
		return &gossh.Permissions{Extensions: map[string]string{extRole: roleCustomer}}, nil
	}
	answers, err := challenge(meta.User(), "", []string{"Password for " + named.Name + ": "}, []bool{false})
	if err != nil || len(answers) != 1 {
		return nil, errAuth
	}
	return t.checkPassword(ctx, meta, answers[0])
}

// password logs an account in with its password.
func (t *Transport) password(meta gossh.ConnMetadata, password []byte) (*gossh.Permissions, error) {
	if meta.User() == ManagerUser {
		return nil, errAuth
	}
	ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
	defer cancel()
	return t.checkPassword(ctx, meta, string(password))
}

// checkPassword checks an account's password through the login throttle that
// telnet logins go through.
func (t *Transport) checkPassword(ctx context.Context, meta gossh.ConnMetadata, password string) (*gossh.Permissions, error) {
	addr := meta.RemoteAddr().String()
	if host, _, err := net.SplitHostPort(addr); err == nil {
		addr = host
	}
	acct, err := shell.CheckPassword(ctx, t.Store, t.Throttle, t.Passwords, t.Metrics, meta.User(), password, addr)
	if err != nil {
		if storify.ErrorCode(err) == storify.ECONFLICT {
			t.Log.Info("ssh: password login refused", "user", meta.User(), "addr", addr, "why", storify.ErrorMessage(err))
		} else if storify.ErrorCode(err) == "" || storify.ErrorCode(err) == storify.EINTERNAL {
			t.Log.Error("ssh: checking a password", "err", err)
		}
		return nil, errAuth
	}
	perms := &gossh.Permissions{Extensions: map[string]string{extRole: roleCustomer}}
	withAccount(perms, acct)
	return perms, nil
}

// account returns the account a user name names, nil if none.
func (t *Transport) account(ctx context.Context, user string) (*storify.Account, error) {
	acct, err := t.Store.AccountByName(ctx, user)
	switch {
	case err == nil:
		return &acct, nil
	case storify.ErrorCode(err) == storify.ENOTFOUND || storify.ErrorCode(err) == storify.EINVALID:
		return nil, nil
	}
	t.Log.Error("ssh: looking up an account", "err", err)
	return nil, errAuth
}

func withAccount(perms *gossh.Permissions, acct storify.Account) {
	perms.Extensions[extAccount] = strconv.FormatInt(acct.ID, 10)
	perms.Extensions[extAccountName] = acct.Name
}

// loggedIn is the account authentication logged in, nil for a guest.
func loggedIn(ext map[string]string) *storify.Account {
	id, err := strconv.ParseInt(ext[extAccount], 10, 64)
	if err != nil {
		return nil
	}
	return &storify.Account{ID: id, Name: ext[extAccountName]}
}

// refuseAll is the callback of a connection being turned away.
func refuseAll(gossh.ConnMetadata, gossh.PublicKey) (*gossh.Permissions, error) { return nil, errAuth }
