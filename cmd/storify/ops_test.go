package main

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The example operations files (ops/), checked against the program they run.
const opsDir = "../../ops"

func readOps(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(opsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// envFile parses a systemd EnvironmentFile of KEY=VALUE lines and comments.
func envFile(t *testing.T, text string) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("storify.env: %q is not KEY=VALUE", line)
		}
		env[k] = v
	}
	return env
}

// unitValue returns the value of key in a unit file (its last setting).
func unitValue(t *testing.T, unit, key string) string {
	t.Helper()
	var v string
	found := false
	for _, line := range strings.Split(unit, "\n") {
		if rest, ok := strings.CutPrefix(line, key+"="); ok {
			v, found = rest, true
		}
	}
	if !found {
		t.Fatalf("storify.service has no %s", key)
	}
	return v
}

// TestOpsFilesAgree: the systemd unit's ExecStart, with its environment file, is a
// command line storify serve accepts, every variable in that file is one storify
// reads (a misspelt one would be ignored silently), and HAProxy and Prometheus reach
// the addresses the instance listens on, HAProxy with the PROXY header the
// instance expects.
func TestOpsFilesAgree(t *testing.T) {
	unit, envText := readOps(t, "storify.service"), readOps(t, "storify.env")
	haproxy, prom := readOps(t, "haproxy.cfg"), readOps(t, "prometheus.yml")

	argv := strings.Fields(unitValue(t, unit, "ExecStart"))
	if len(argv) < 2 || filepath.Base(argv[0]) != "storify" || argv[1] != "serve" {
		t.Fatalf("ExecStart runs %q, want storify serve", argv)
	}
	if got := unitValue(t, unit, "EnvironmentFile"); got != "/etc/storify/storify.env" {
		t.Errorf("EnvironmentFile=%s, but storify.env says it is /etc/storify/storify.env", got)
	}
	var help bytes.Buffer
	(&Main{Stdout: &help, Stderr: &help}).ParseFlags("storify serve", []string{"--help"})
	env := envFile(t, envText)
	for k, v := range env {
		if !strings.Contains(help.String(), "env "+k) {
			t.Errorf("storify.env sets %s, which storify serve does not read", k)
		}
		t.Setenv(k, v)
	}
	var stderr bytes.Buffer
	m := &Main{Stdout: &stderr, Stderr: &stderr}
	if err := m.ParseFlags("storify serve", argv[2:]); err != nil {
		t.Fatalf("storify serve %s with storify.env: %v\n%s", strings.Join(argv[2:], " "), err, stderr.String())
	}
	c := m.Config
	if !c.ProxyProtocol || len(c.TrustedProxies) == 0 || c.MetricsListen == "" {
		t.Errorf("storify.env: proxy protocol %v from %v, metrics on %q; the example wants all three", c.ProxyProtocol, c.TrustedProxies, c.MetricsListen)
	}

	// HAProxy sends every customer connection, with a PROXY v2 header, to a server
	// listening as the instance does, and checks /readyz on its metrics port.
	servers := regexp.MustCompile(`(?m)^\s*server\s+\S+\s+(\S+)(.*)$`).FindAllStringSubmatch(haproxy, -1)
	if len(servers) < 2 {
		t.Fatalf("haproxy.cfg has %d servers, want two or more", len(servers))
	}
	listed := false
	for _, s := range servers {
		if !strings.Contains(s[2], "send-proxy-v2") {
			t.Errorf("haproxy.cfg: server %s sends no PROXY v2 header", s[1])
		}
		listed = listed || s[1] == c.Listen
	}
	if !listed {
		t.Errorf("haproxy.cfg has no server at the instance's address %s", c.Listen)
	}
	_, metricsPort, err := net.SplitHostPort(c.MetricsListen)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(haproxy, "check port "+metricsPort) || !strings.Contains(haproxy, "uri /readyz") {
		t.Errorf("haproxy.cfg does not check /readyz on the metrics port %s", metricsPort)
	}
	if !strings.Contains(prom, "'"+c.MetricsListen+"'") {
		t.Errorf("prometheus.yml does not scrape the instance's metrics at %s", c.MetricsListen)
	}
}

// TestOpsUnitVerifies: systemd-analyze verify finds nothing to say about the unit
// (unknown keys, bad values), where systemd-analyze is installed. The unit runs this
// test's binary in storify's place, since verify checks that ExecStart exists.
func TestOpsUnitVerifies(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	envPath := filepath.Join(dir, "storify.env")
	if err := os.WriteFile(envPath, []byte(readOps(t, "storify.env")), 0o600); err != nil {
		t.Fatal(err)
	}
	unit := strings.NewReplacer("/usr/local/bin/storify", self, "/etc/storify/storify.env", envPath).Replace(readOps(t, "storify.service"))
	unitPath := filepath.Join(dir, "storify.service")
	if err := os.WriteFile(unitPath, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", "--man=no", unitPath).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify storify.service: %v\n%s", err, out)
	}
}
