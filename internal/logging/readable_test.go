package logging

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
)

// TestReadableLines: the store's events read as sentences with their time of day;
// what a sentence does not mention follows in parentheses; warnings say so; levels
// below the minimum are left out.
func TestReadableLines(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(NewReadableHandler(&b, slog.LevelInfo))
	log.Info("customer connected", "session", 3, "addr", "127.0.0.1:50412")
	log.Info("order placed", "order", 7, "customer", "Ada", "units", 1, "total", "12.50")
	log.Info("order placed", "order", 8, "customer", "Bob\x1b[31m", "units", 3, "total", "4.50")
	log.Info("customer not reading; dropped", "session", 4, "addr", "10.0.0.9:1", "after", 10*time.Second)
	log.Warn("accept failed; retrying", "err", "too many open files", "in", 5*time.Millisecond)
	log.With("session", 9).Error("command failed", "err", "disk full")
	log.Debug("session ended", "session", 3)
	got := b.String()
	want := "HH:MM:SS customer 3 connected from 127.0.0.1:50412\n" +
		"HH:MM:SS order #7 placed by Ada: 1 unit, 12.50\n" +
		"HH:MM:SS order #8 placed by Bob?[31m: 3 units, 4.50\n" +
		"HH:MM:SS customer 4 (10.0.0.9:1) stopped reading and is dropped, after 10s\n" +
		"HH:MM:SS warning: accept failed; retrying (err too many open files, in 5ms)\n" +
		"HH:MM:SS error: command failed (session 9, err disk full)\n"
	if masked := maskTimes(got); masked != want {
		t.Errorf("got:\n%s\nwant:\n%s", masked, want)
	}
}

// maskTimes replaces the time of day that starts each line with HH:MM:SS.
func maskTimes(s string) string {
	lines := bytes.Split([]byte(s), []byte("\n"))
	for i, l := range lines {
		if len(l) >= 9 && l[2] == ':' && l[5] == ':' && l[8] == ' ' {
			lines[i] = append([]byte("HH:MM:SS"), l[8:]...)
		}
	}
	return string(bytes.Join(lines, []byte("\n")))
}
