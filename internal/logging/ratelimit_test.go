package logging_test

import (
	"bytes"
	"context"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/storify/storify/internal/logging"
)

// lockedBuffer is a bytes.Buffer for a handler and a timer goroutine.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func noTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

// TestRateLimitSummarises: past the burst, records of one level and message are
// held back and summarised in one line; other messages, the same message at another
// level, and loggers made With attributes are counted apart or together as they should.
func TestRateLimitSummarises(t *testing.T) {
	var out lockedBuffer
	rl := logging.NewRateLimiter(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: noTime}), 3, time.Hour)
	log := slog.New(rl)
	withAddr := log.With("component", "server")
	for i := range 100 {
		if i%2 == 0 {
			log.Warn("customer refused", "n", i)
		} else {
			withAddr.Warn("customer refused", "n", i) // the same key: shares the count
		}
		if i < 5 {
			log.Info("customer refused", "n", i) // another level: its own count
			log.Info("store open")
		}
	}
	got := out.String()
	if n := strings.Count(got, `level=WARN msg="customer refused"`); n != 3 {
		t.Errorf("%d warnings passed, want 3:\n%s", n, got)
	}
	if n := strings.Count(got, `level=INFO msg="customer refused"`); n != 3 {
		t.Errorf("%d infos passed, want 3:\n%s", n, got)
	}
	if n := strings.Count(got, `msg="store open"`); n != 3 {
		t.Errorf("%d 'store open' passed, want 3:\n%s", n, got)
	}
	if !strings.Contains(got, `level=WARN msg="customer refused" component=server n=1`) {
		t.Errorf("the With logger's attributes are lost:\n%s", got)
	}
	if strings.Contains(got, logging.SuppressedMessage) {
		t.Errorf("a summary before the window ended:\n%s", got)
	}
	rl.Flush()
	got = out.String()
	for _, want := range []string{
		`level=WARN msg="similar lines suppressed" line="customer refused" count=97 window=1h0m0s` + "\n",
		`level=INFO msg="similar lines suppressed" line="customer refused" count=2 window=1h0m0s` + "\n",
		`level=INFO msg="similar lines suppressed" line="store open" count=2 window=1h0m0s` + "\n",
	} {
		if strings.Count(got, want) != 1 {
			t.Errorf("want one summary %q in:\n%s", want, got)
		}
	}
	// A flushed key starts afresh.
	log.Warn("customer refused", "n", 100)
	if !strings.HasSuffix(out.String(), `level=WARN msg="customer refused" n=100`+"\n") {
		t.Errorf("after Flush a record did not pass:\n%s", out.String())
	}
}

var summaryRe = regexp.MustCompile(`msg="similar lines suppressed" line=flood count=(\d+)`)

// TestRateLimitSummaryWhenTheWindowEnds: the summary comes when the interval is
// over, with no further record needed, and every record is either passed or counted.
func TestRateLimitSummaryWhenTheWindowEnds(t *testing.T) {
	var out lockedBuffer
	rl := logging.NewRateLimiter(slog.NewTextHandler(&out, &slog.HandlerOptions{ReplaceAttr: noTime}), 1, 50*time.Millisecond)
	log := slog.New(rl)
	for range 20 {
		log.Warn("flood")
	}
	deadline := time.Now().Add(10 * time.Second)
	for !summaryRe.MatchString(out.String()) {
		if time.Now().After(deadline) {
			t.Fatalf("no summary after the window ended:\n%s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	got := out.String()
	passed := strings.Count(got, "msg=flood")
	suppressed := 0
	for _, m := range summaryRe.FindAllStringSubmatch(got, -1) {
		n, _ := strconv.Atoi(m[1])
		suppressed += n
	}
	if passed+suppressed != 20 || passed > 19 {
		t.Errorf("%d passed and %d suppressed of 20:\n%s", passed, suppressed, got)
	}
}

// TestRateLimiterEnabled follows the next handler's level.
func TestRateLimiterEnabled(t *testing.T) {
	rl := logging.NewRateLimiter(slog.NewTextHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelWarn}), 1, time.Second)
	if rl.Enabled(context.Background(), slog.LevelInfo) || !rl.Enabled(context.Background(), slog.LevelError) {
		t.Errorf("Enabled does not follow the next handler's level")
	}
}
