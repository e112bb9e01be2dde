package main

import (
	"context"
	"fmt"
	"net"

	"github.com/storify/storify/ssh"
	gossh "golang.org/x/crypto/ssh"
)

type sshTransport = ssh.Transport

// openSSH loads the host key and the managers' keys and listens on --ssh-listen.
func (m *Main) openSSH(ctx context.Context) (*ssh.Transport, error) {
	var key gossh.Signer
	var err error
	if m.Config.SSHHostKey != "" {
		key, err = ssh.FileHostKey(m.Config.SSHHostKey)
	} else {
		key, err = ssh.StoreHostKey(ctx, m.Store)
	}
	if err != nil {
		return nil, fmt.Errorf("the SSH host key: %w", err)
	}
	var admins []ssh.AdminKey
	if m.Config.AdminKeys != "" {
		if admins, err = ssh.ReadAdminKeys(m.Config.AdminKeys); err != nil {
			return nil, fmt.Errorf("--admin-keys: %w", err)
		}
	}
	l, err := net.Listen("tcp", m.Config.SSHListen)
	if err != nil {
		return nil, fmt.Errorf("listening for SSH: %w", err)
	}
	m.sshListener = l
	m.hostKey = ssh.Fingerprint(key.PublicKey())
	return &ssh.Transport{Server: m.Server, Hub: m.Hub, Store: m.shopStore, HostKey: key, AdminKeys: admins, Throttle: m.shopOptions.Throttle, Passwords: m.shopOptions.Passwords, Log: m.Log, Metrics: m.commandMetrics()}, nil
}
