package metrics_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/metrics"
)

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// What the rooms report shows at /metrics under its Prometheus name.
func TestReportsShow(t *testing.T) {
	dropped := uint64(7)
	m := metrics.New(metrics.Options{LogDropped: func() uint64 { return dropped }})
	m.CheckoutPlaced(3)
	m.CheckoutPlaced(2)
	m.CheckoutRefused()
	m.CommitBatch(5)
	m.DatabaseError(true)
	m.DatabaseError(false)
	m.DatabaseRetry()
	m.Alone(true)
	list := m.Command("customer", "list")
	list.Record(storify.OutcomeOK, 2*time.Millisecond)
	list.Record(storify.OutcomeFailed, time.Second)
	if again := m.Command("customer", "list"); again != list {
		t.Error("Command gave a second recorder for the same command")
	}
	m.LoginFailed()
	m.LoginThrottled()
	m.CustomerConnected("telnet")
	m.CustomerConnected("ssh")
	m.CustomerConnected("telnet")
	m.CustomerDisconnected("telnet")
	m.ConnectionRefused("max_per_ip")
	m.SlowReaderDropped()

	status, body := get(t, m.Handler(), "/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		`storify_checkouts_total{outcome="placed"} 2`,
		`storify_checkouts_total{outcome="refused"} 1`,
		`storify_units_sold_total 5`,
		`storify_group_commit_batch_size_sum 5`,
		`storify_group_commit_batch_size_bucket{le="4"} 0`,
		`storify_group_commit_batch_size_bucket{le="8"} 1`,
		`storify_database_errors_total{kind="unavailable"} 1`,
		`storify_database_errors_total{kind="internal"} 1`,
		`storify_database_retries_total 1`,
		`storify_instance_alone 1`,
		`storify_commands_total{command="list",outcome="ok",set="customer"} 1`,
		`storify_commands_total{command="list",outcome="failed",set="customer"} 1`,
		`storify_commands_total{command="list",outcome="refused",set="customer"} 0`,
		`storify_command_duration_seconds_count{command="list",set="customer"} 2`,
		`storify_command_duration_seconds_sum{command="list",set="customer"} 1.002`,
		`storify_login_failures_total 1`,
		`storify_login_throttled_total 1`,
		`storify_customers_connected{transport="telnet"} 1`,
		`storify_customers_connected{transport="ssh"} 1`,
		`storify_connections_refused_total{reason="max_per_ip"} 1`,
		`storify_connections_refused_total{reason="max_customers"} 0`,
		`storify_slow_readers_dropped_total 1`,
		`storify_log_lines_dropped_total 7`,
		"\ngo_goroutines ",
		"\nprocess_cpu_seconds_total ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// Reporting a command, a checkout or a connection allocates nothing: it is on the
// path every command takes.
func TestReportingAllocatesNothing(t *testing.T) {
	m := metrics.New(metrics.Options{})
	rec := m.Command("customer", "list")
	for name, f := range map[string]func(){
		"Record":            func() { rec.Record(storify.OutcomeOK, time.Millisecond) },
		"CheckoutPlaced":    func() { m.CheckoutPlaced(2) },
		"CommitBatch":       func() { m.CommitBatch(3) },
		"CustomerConnected": func() { m.CustomerConnected("telnet"); m.CustomerDisconnected("telnet") },
	} {
		if n := testing.AllocsPerRun(100, f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, n)
		}
	}
}

// /healthz answers while the process serves; /readyz answers as Ready does, 503
// with the store's message when the database is away.
func TestHealthAndReadiness(t *testing.T) {
	var readyErr error
	m := metrics.New(metrics.Options{Ready: func(ctx context.Context) error { return readyErr }})
	h := m.Handler()
	if status, body := get(t, h, "/healthz"); status != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", status, body)
	}
	if status, body := get(t, h, "/readyz"); status != 200 || body != "ok\n" {
		t.Errorf("/readyz, ready: %d %q", status, body)
	}
	readyErr = storify.Unavailable(errors.New("dial tcp: i/o timeout"))
	status, body := get(t, h, "/readyz")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "cannot reach its database") || strings.Contains(body, "dial tcp") {
		t.Errorf("/readyz, database away: %d %q; want 503 with the store's message and not the cause", status, body)
	}
	if status, _ := get(t, h, "/healthz"); status != 200 {
		t.Errorf("/healthz with the database away: %d, want 200", status)
	}
}

// BenchmarkRecord: what a command's report costs the session that ran it (the
// counter of its outcome and the latency histogram).
func BenchmarkRecord(b *testing.B) {
	rec := metrics.New(metrics.Options{}).Command("customer", "list")
	b.ReportAllocs()
	for b.Loop() {
		rec.Record(storify.OutcomeOK, 12*time.Microsecond)
	}
}

// BenchmarkRecordParallel: the same from every CPU at once, on one command's
// series, as many customers typing list do.
func BenchmarkRecordParallel(b *testing.B) {
	rec := metrics.New(metrics.Options{}).Command("customer", "list")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec.Record(storify.OutcomeOK, 12*time.Microsecond)
		}
	})
}
