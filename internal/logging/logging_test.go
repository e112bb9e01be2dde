package logging_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/storify/storify/internal/logging"
)

// TestLogsFormats: the level filters, JSON lines carry the time unless NoTime, text
// lines too; Close writes what is queued.
func TestLogsFormats(t *testing.T) {
	var out lockedBuffer
	logs := logging.New(&out, logging.Config{Level: slog.LevelWarn, JSON: true})
	logs.Logger.Info("not shown")
	logs.Logger.Warn("customer refused", "addr", "127.0.0.1:1")
	if err := logs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(out.String()), &rec); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, out.String())
	}
	if rec["msg"] != "customer refused" || rec["level"] != "WARN" || rec["addr"] != "127.0.0.1:1" || rec["time"] == nil {
		t.Errorf("JSON line = %v", rec)
	}

	var text lockedBuffer
	logs = logging.New(&text, logging.Config{NoTime: true})
	logs.Logger.Debug("not shown")
	logs.Logger.Info("store open", "name", "Test")
	logs.Close(context.Background())
	if got := text.String(); got != "level=INFO msg=\"store open\" name=Test\n" {
		t.Errorf("text line = %q", got)
	}

	var timed lockedBuffer
	logs = logging.New(&timed, logging.Config{})
	logs.Logger.Info("store open")
	logs.Close(context.Background())
	if got := timed.String(); !strings.HasPrefix(got, "time=") {
		t.Errorf("text line without its time: %q", got)
	}
}

// TestLogsNeverWaitForAStuckOutput: the whole logger returns at once on an output
// that never reads, reports what it dropped in the logger's format once the output
// moves, and flushes the rate limiter's summaries at Close.
func TestLogsNeverWaitForAStuckOutput(t *testing.T) {
	out := newStuckOutput()
	logs := logging.New(out, logging.Config{JSON: true, MaxBytes: 1024, Burst: 1000, Interval: time.Hour})
	within(t, "logging", func() {
		for i := range 2000 {
			logs.Logger.Info("customer connected", "session", i)
		}
	})
	if logs.Dropped() == 0 {
		t.Errorf("nothing dropped on a stuck output")
	}
	close(out.release)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(out.String(), "dropped"); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no drop notice once the output moved again:\n%s", out)
		}
	}
	if err := logs.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{`"msg":"log lines dropped: the log output was too slow","dropped":`, `"msg":"similar lines suppressed","line":"customer connected","count":1000`} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %s:\n%s", want, got)
		}
	}
}

func TestParseLevelAndFormat(t *testing.T) {
	for in, want := range map[string]slog.Level{"debug": slog.LevelDebug, "INFO": slog.LevelInfo, "Warn": slog.LevelWarn, "error": slog.LevelError} {
		if got, err := logging.ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "warning", "info+2", "0"} {
		if _, err := logging.ParseLevel(in); err == nil {
			t.Errorf("ParseLevel(%q) took it", in)
		}
	}
	if j, err := logging.ParseFormat("JSON"); !j || err != nil {
		t.Errorf("ParseFormat(JSON) = %v, %v", j, err)
	}
	if j, err := logging.ParseFormat("text"); j || err != nil {
		t.Errorf("ParseFormat(text) = %v, %v", j, err)
	}
	if _, err := logging.ParseFormat("logfmt"); err == nil {
		t.Errorf("ParseFormat(logfmt) took it")
	}
}
