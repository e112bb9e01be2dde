package main

import (
	"context"
	"fmt"
	"net"
	"os"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
)

// joinInstances makes this process one of the live instances of a shared store
// (PostgreSQL), under --instance or the default name for customers listening on
// addr, and points m.Hub at every instance's customers. A store that only this
// process opens (SQLite) leaves m.Hub at m.Server.
func (m *Main) joinInstances(ctx context.Context, addr net.Addr) error {
	instances, ok := m.Store.(storify.Instances)
	if !ok {
		return nil
	}
	name := m.Config.Instance
	if name == "" {
		name = defaultInstance(addr)
	}
	cluster := &server.Cluster{Local: m.Server, Instances: instances, Name: name, Timeout: m.Config.DBTimeout, Log: m.Log}
	if err := instances.Join(ctx, name, cluster.Answer); err != nil {
		if storify.ErrorCode(err) == storify.ECONFLICT {
			return fmt.Errorf("--instance %s: %s", name, storify.ErrorMessage(err))
		}
		return fmt.Errorf("joining the store's instances as %s: %w", name, err)
	}
	m.Hub, m.Instance = cluster, name
	return nil
}

// defaultInstance is the instance's name when --instance does not give one: the
// host name and the customers' port, such as shop1:65432.
func defaultInstance(addr net.Addr) string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	port := "0"
	if _, p, err := net.SplitHostPort(addr.String()); err == nil {
		port = p
	}
	// The port is kept whole: the name is cut from the front.
	return storify.InstanceName(host + ":" + port)
}
