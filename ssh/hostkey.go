package ssh

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/storify/storify"
	gossh "golang.org/x/crypto/ssh"
)

// hostKeySetting is the store setting that holds the host key, in OpenSSH's
// private key PEM format.
const hostKeySetting = "ssh_host_key"

// StoreHostKey returns the store's own host key: the one kept in the store, or a
// new Ed25519 key, kept there now. Every program that opens the store (every
// instance on one PostgreSQL database) presents the same key, so that a client
// behind a load balancer never sees "host key changed".
func StoreHostKey(ctx context.Context, store storify.Store) (gossh.Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	block, err := gossh.MarshalPrivateKey(priv, "storify host key")
	if err != nil {
		return nil, err
	}
	kept, err := store.InitSetting(ctx, hostKeySetting, pem.EncodeToMemory(block))
	if err != nil {
		return nil, fmt.Errorf("the SSH host key: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(kept)
	if err != nil {
		return nil, fmt.Errorf("the SSH host key kept in the store: %w", err)
	}
	return signer, nil
}

// FileHostKey reads a host key from an unencrypted private key file, as
// ssh-keygen writes it.
func FileHostKey(path string) (gossh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	signer, err := gossh.ParsePrivateKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return signer, nil
}

// Fingerprint is a key's SHA256 fingerprint as ssh-keygen -l shows it.
func Fingerprint(key gossh.PublicKey) string { return gossh.FingerprintSHA256(key) }
