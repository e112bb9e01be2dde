package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/metrics"
)

// pinger is a Store that can say whether its database answers (both backends).
type pinger interface {
	Ping(ctx context.Context) error
}

// metricsServer serves --metrics-listen.
type metricsServer struct {
	prom     *metrics.Metrics
	store    pinger // what /readyz asks; set before the server starts
	listener net.Listener
	http     *http.Server
	served   chan error
}

// newMetrics sets m.Metrics: Prometheus when --metrics-listen is given, else
// nothing. It serves nothing yet (serveMetrics does, once the store is open), so
// that the store can report from its first call.
func (m *Main) newMetrics() {
	if m.Config.MetricsListen == "" {
		m.Metrics = storify.NoMetrics{}
		return
	}
	ms := &metricsServer{}
	ms.prom = metrics.New(metrics.Options{Ready: ms.ready, LogDropped: m.LogDropped})
	m.metrics, m.Metrics = ms, ms.prom
}

// ready is /readyz's check: the database answers within --db-timeout.
func (ms *metricsServer) ready(ctx context.Context) error { return ms.store.Ping(ctx) }

// commandMetrics is Metrics for the shells when it is served, nil otherwise: a
// shell with no metrics does not even read the clock.
func (m *Main) commandMetrics() storify.CommandMetrics {
	if m.metrics == nil {
		return nil
	}
	return m.Metrics
}

// serveMetrics starts serving --metrics-listen, if it is set.
func (m *Main) serveMetrics() error {
	ms := m.metrics
	if ms == nil {
		return nil
	}
	l, err := net.Listen("tcp", m.Config.MetricsListen)
	if err != nil {
		m.metrics = nil
		return fmt.Errorf("listening for metrics: %w", err)
	}
	ms.store = observedStore{m.Store, m.Metrics}
	ms.listener = l
	ms.http = &http.Server{
		Handler:           ms.prom.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		WriteTimeout:      m.Config.DBTimeout + 10*time.Second, // /readyz may wait --db-timeout
		IdleTimeout:       time.Minute,
	}
	ms.served = make(chan error, 1)
	go func() { ms.served <- ms.http.Serve(l) }()
	m.Log.Info("metrics served", "addr", "http://"+l.Addr().String()+"/metrics")
	return nil
}

// MetricsAddr is where the metrics are served, once Open has started them; nil
// without --metrics-listen.
func (m *Main) MetricsAddr() net.Addr {
	if m.metrics == nil || m.metrics.listener == nil {
		return nil
	}
	return m.metrics.listener.Addr()
}

// closeMetrics stops serving the metrics: scrapes in flight get a second.
func (m *Main) closeMetrics() {
	ms := m.metrics
	if ms == nil || ms.http == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := ms.http.Shutdown(ctx); err != nil {
		ms.http.Close()
	}
	if err := <-ms.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		m.Log.Warn("serving metrics", "err", err)
	}
	m.metrics = nil
}
