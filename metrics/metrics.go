// Package metrics is the store's Prometheus instrumentation: it implements
// storify.Metrics on github.com/prometheus/client_golang, the one package of storify
// that knows Prometheus, and serves /metrics, /healthz and /readyz.
//
// Every series a command, a checkout or a connection touches is resolved once, when
// the Metrics is made or a command table first reports, so that reporting costs an
// atomic add or two: no label lookup, no allocation on the hot paths.
package metrics

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/storify/storify"
)

// Options are what the Metrics reads from the rest of the program.
type Options struct {
	// Ready reports whether the store can serve: nil if its database answered
	// within the budget. /readyz answers 503 with its error otherwise. Nil means
	// always ready.
	Ready func(ctx context.Context) error
	// LogDropped, if set, is how many log lines were dropped so far
	// (storify_log_lines_dropped_total).
	LogDropped func() uint64
}

// Transports and refusal reasons whose series exist from the start, so that a
// dashboard shows them at 0 before the first customer.
var (
	transports = []string{"telnet", "ssh"}
	reasons    = []string{"max_customers", "max_per_ip", "banned", "shutting_down", "no_proxy_header"}
)

// Metrics implements storify.Metrics on a Prometheus registry of its own.
type Metrics struct {
	reg   *prometheus.Registry
	ready func(ctx context.Context) error

	checkoutsPlaced  prometheus.Counter
	checkoutsRefused prometheus.Counter
	unitsSold        prometheus.Counter
	commitBatch      prometheus.Observer
	dbUnavailable    prometheus.Counter
	dbInternal       prometheus.Counter
	dbRetries        prometheus.Counter
	alone            prometheus.Gauge

	commands      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	mu            sync.Mutex
	recorders     map[[2]string]*recorder // by set and command name
	loginFailures prometheus.Counter
	loginThrottle prometheus.Counter

	connected   *prometheus.GaugeVec
	telnet, ssh prometheus.Gauge
	refused     *prometheus.CounterVec
	slowReaders prometheus.Counter
}

var _ storify.Metrics = (*Metrics)(nil)

// New returns a Metrics with every storify series registered, and the Go runtime and
// process collectors.
func New(opts Options) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
		f(c)
		return c
	}
	m := &Metrics{reg: reg, ready: opts.Ready, recorders: map[[2]string]*recorder{}}

	checkouts := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "storify_checkouts_total",
		Help: "Checkouts, by outcome: placed, or refused by the store (out of stock, discontinued, cart changed)."}, []string{"outcome"})
	f(checkouts)
	m.checkoutsPlaced = checkouts.WithLabelValues("placed")
	m.checkoutsRefused = checkouts.WithLabelValues("refused")
	m.unitsSold = counter("storify_units_sold_total", "Units sold in placed orders.")
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "storify_group_commit_batch_size",
		Help: "Checkouts committed together in one group commit.", Buckets: []float64{1, 2, 4, 8, 16, 32, 64}})
	f(batch)
	m.commitBatch = batch
	dbErrors := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "storify_database_errors_total",
		Help: "Store calls that failed for want of the database, by kind: unavailable (not reached within --db-timeout, or a commit unconfirmed) or internal."},
		[]string{"kind"})
	f(dbErrors)
	m.dbUnavailable = dbErrors.WithLabelValues("unavailable")
	m.dbInternal = dbErrors.WithLabelValues("internal")
	m.dbRetries = counter("storify_database_retries_total",
		"Database transactions run again after a transient failure (deadlock, serialization failure, connection lost before COMMIT).")

	m.alone = prometheus.NewGauge(prometheus.GaugeOpts{Name: "storify_instance_alone",
		Help: "1 while this instance is the only one of its PostgreSQL store, so that its catalog reads skip the listener's round trips; else 0."})
	f(m.alone)

	m.commands = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "storify_commands_total",
		Help: "Commands run, by command set (customer, manager), command and outcome (ok, refused, failed)."},
		[]string{"set", "command", "outcome"})
	f(m.commands)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "storify_command_duration_seconds",
		Help:    "Time from a command line read (or its last question answered) to its reply written, by command set and command.",
		Buckets: []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}},
		[]string{"set", "command"})
	f(m.latency)
	m.loginFailures = counter("storify_login_failures_total", "Logins refused after the password was checked: wrong password, or a locked account.")
	m.loginThrottle = counter("storify_login_throttled_total", "Logins turned away by the login throttle before any password was checked.")

	m.connected = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "storify_customers_connected",
		Help: "Customers connected now, by transport."}, []string{"transport"})
	f(m.connected)
	for _, t := range transports {
		m.connected.WithLabelValues(t)
	}
	m.telnet, m.ssh = m.connected.WithLabelValues("telnet"), m.connected.WithLabelValues("ssh")
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "storify_connections_refused_total",
		Help: "Customer connections turned away, by reason."}, []string{"reason"})
	f(m.refused)
	for _, r := range reasons {
		m.refused.WithLabelValues(r)
	}
	m.slowReaders = counter("storify_slow_readers_dropped_total", "Customers dropped for not reading their replies within --write-timeout.")
	if opts.LogDropped != nil {
		f(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "storify_log_lines_dropped_total",
			Help: "Log lines dropped because the log output did not keep up."}, func() float64 { return float64(opts.LogDropped()) }))
	}
	return m
}

// Registry is the registry the series are in, for tests and for adding more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// CheckoutPlaced implements storify.StoreMetrics.
func (m *Metrics) CheckoutPlaced(units int) {
	m.checkoutsPlaced.Inc()
	m.unitsSold.Add(float64(units))
}

// CheckoutRefused implements storify.StoreMetrics.
func (m *Metrics) CheckoutRefused() { m.checkoutsRefused.Inc() }

// CommitBatch implements storify.StoreMetrics.
func (m *Metrics) CommitBatch(n int) { m.commitBatch.Observe(float64(n)) }

// DatabaseError implements storify.StoreMetrics.
func (m *Metrics) DatabaseError(unavailable bool) {
	if unavailable {
		m.dbUnavailable.Inc()
	} else {
		m.dbInternal.Inc()
	}
}

// DatabaseRetry implements storify.StoreMetrics.
func (m *Metrics) DatabaseRetry() { m.dbRetries.Inc() }

// Alone implements storify.StoreMetrics.
func (m *Metrics) Alone(alone bool) {
	if alone {
		m.alone.Set(1)
	} else {
		m.alone.Set(0)
	}
}

// recorder is one command's series, resolved once.
type recorder struct {
	outcomes [3]prometheus.Counter // by storify.Outcome
	latency  prometheus.Observer
}

// Record implements storify.CommandRecorder.
func (r *recorder) Record(o storify.Outcome, d time.Duration) {
	if int(o) < len(r.outcomes) {
		r.outcomes[o].Inc()
	}
	r.latency.Observe(d.Seconds())
}

// Command implements storify.CommandMetrics: it resolves the command's series, once
// per set and name.
func (m *Metrics) Command(set, name string) storify.CommandRecorder {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{set, name}
	if r, ok := m.recorders[k]; ok {
		return r
	}
	r := &recorder{latency: m.latency.WithLabelValues(set, name)}
	for o := range r.outcomes {
		r.outcomes[o] = m.commands.WithLabelValues(set, name, storify.Outcome(o).String())
	}
	m.recorders[k] = r
	return r
}

// LoginFailed implements storify.CommandMetrics.
func (m *Metrics) LoginFailed() { m.loginFailures.Inc() }

// LoginThrottled implements storify.CommandMetrics.
func (m *Metrics) LoginThrottled() { m.loginThrottle.Inc() }

// gauge is the connected gauge of transport.
func (m *Metrics) gauge(transport string) prometheus.Gauge {
	switch transport {
	case "telnet":
		return m.telnet
	case "ssh":
		return m.ssh
	}
	return m.connected.WithLabelValues(transport)
}

// CustomerConnected implements storify.ServerMetrics.
func (m *Metrics) CustomerConnected(transport string) { m.gauge(transport).Inc() }

// CustomerDisconnected implements storify.ServerMetrics.
func (m *Metrics) CustomerDisconnected(transport string) { m.gauge(transport).Dec() }

// ConnectionRefused implements storify.ServerMetrics. Refusals are no hot path (a
// flood of them is rate-limited by the kernel's accept queue before us), so the
// reason is looked up.
func (m *Metrics) ConnectionRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// SlowReaderDropped implements storify.ServerMetrics.
func (m *Metrics) SlowReaderDropped() { m.slowReaders.Inc() }

// readyTimeout bounds a readiness check that Options.Ready does not bound itself.
const readyTimeout = 30 * time.Second

// Handler serves /metrics (the Prometheus text format), /healthz (200 while the
// process serves) and /readyz (200 when the database answered within the budget,
// 503 with the reason otherwise).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if m.ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			if err := m.ready(ctx); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				w.Write([]byte("not ready: " + storify.ErrorMessage(err) + "\n"))
				return
			}
		}
		w.Write([]byte("ok\n"))
	})
	return mux
}
