package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHelp: storify help and storify --help print the same help on stdout, with
// every subcommand's usage line and every flag; a wrong subcommand or flag is one
// line on stderr and exit status 2.
func TestHelp(t *testing.T) {
	help, stderr, status := runChild(t, "", "help")
	if stderr != "" || status != 0 {
		t.Fatalf("storify help: stderr %q, status %d", stderr, status)
	}
	for _, want := range []string{
		"  storify [flags]  ", "  storify [flags] -c 'COMMAND...'  ", "  storify exec [flags] COMMAND [ARG...]  ",
		"  storify serve [flags]  ", "  storify simulate [flags]  ", "  storify help [SUBCOMMAND]  ",
		"\n  -c string\n", "\n  --db string\n", "\n  --listen string\n", "\n  --name string\n", "\n  --no-sample\n",
		"\n  --max-line int\n", "\n  --max-customers int\n", "\n  --max-per-ip int\n", "\n  --idle-timeout duration\n",
		"\n  --write-timeout duration\n", "\n  --shutdown-wait duration\n", "\n  --log-level string\n",
		"\n  --log-format string\n", "\n  --fail-fast\n",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("storify help lacks %q:\n%s", want, help)
		}
	}
	if out, _, status := runChild(t, "", "--help"); out != help || status != 0 {
		t.Errorf("storify --help differs from storify help (status %d):\n%s", status, out)
	}
	for sub, want := range map[string]string{"exec": "\n  --fail-fast\n", "serve": "\n  --shutdown-wait duration\n", "simulate": "\n  --customers int\n"} {
		out, stderr, status := runChild(t, "", "help", sub)
		if !strings.Contains(out, "storify "+sub) || !strings.Contains(out, want) || stderr != "" || status != 0 {
			t.Errorf("storify help %s: stdout %q, stderr %q, status %d", sub, out, stderr, status)
		}
		if again, _, _ := runChild(t, "", sub, "--help"); again != out {
			t.Errorf("storify %s --help differs from storify help %s", sub, sub)
		}
	}
	// The manager's commands, without opening (and so creating) a store.
	db := filepath.Join(t.TempDir(), "never.db")
	out, stderr, status := runChild(t, "", "exec", "--db", db, "help")
	if !strings.Contains(out, "\n  adjust PRODUCT -N REASON  ") || !strings.Contains(out, "\n  ban ADDRESS [DURATION]  ") || stderr != "" || status != 0 {
		t.Errorf("storify exec help: stdout %q, stderr %q, status %d", out, stderr, status)
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("storify exec help made a store: %v", err)
	}
	for _, args := range [][]string{{"frobnicate"}, {"--frobnicate"}, {"help", "frobnicate"}, {"serve", "extra"}} {
		out, stderr, status := runChild(t, "", args...)
		if out != "" || status != 2 || stderr == "" || strings.Contains(stderr, "Flags:") || strings.Count(stderr, "\n") > 2 {
			t.Errorf("storify %v: stdout %q, stderr %q, status %d; want a short usage error", args, out, stderr, status)
		}
	}
}
