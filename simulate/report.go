package simulate

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/storify/storify"
)

// Report is what a Run saw.
type Report struct {
	Addr      string
	Customers int
	Seed      int64
	Duration  time.Duration // asked for
	Elapsed   time.Duration // from the start until the last customer left
	// Interrupted is set when the caller's context ended the run early.
	Interrupted bool

	Connects      int64 // connections made, reconnections after a failure included
	ConnectErrors int64 // connections refused, or without a greeting
	// Commands has one entry per customer command, in a fixed order.
	Commands []CommandStats
	// Orders are the orders the store confirmed ("Order #N is placed"), by number.
	Orders []PlacedOrder
	// ErrorSamples are the first few errors, to show what went wrong.
	ErrorSamples []string
}

// CommandStats counts one command. Count is OK + Refused + Errors.
type CommandStats struct {
	Name  string
	Count int64
	OK    int64
	// Refused counts the store's normal refusals: out of stock, a product no longer
	// sold, an empty cart. They are answers, not failures.
	Refused int64
	// Errors counts failures: an unexpected reply (such as "Unknown command"), a
	// reply that contradicts the customer's cart, a missing prompt, a timeout.
	Errors int64
	// Latency is the time from sending the command to receiving the prompt that
	// ends its reply, for every command that got one.
	Latency Histogram
}

// PlacedOrder is an order the store confirmed to a simulated customer, with the cart
// the customer had tracked from the store's replies.
type PlacedOrder struct {
	ID       int64
	Customer string
	Units    int
	Total    storify.Cents
	Lines    []storify.CartItem // the cart at checkout, in the order first added
}

// TotalCommands is the number of commands sent.
func (r *Report) TotalCommands() int64 {
	var n int64
	for _, c := range r.Commands {
		n += c.Count
	}
	return n
}

// Errors is the number of failures: command errors and connection errors.
func (r *Report) Errors() int64 {
	n := r.ConnectErrors
	for _, c := range r.Commands {
		n += c.Errors
	}
	return n
}

// Command returns one command's figures by name; zero if there is no such command.
func (r *Report) Command(name string) CommandStats {
	for _, c := range r.Commands {
		if c.Name == name {
			return c
		}
	}
	return CommandStats{Name: name}
}

// WriteTable writes the report as a table for people.
func (r *Report) WriteTable(w io.Writer) {
	var b strings.Builder
	secs := r.Elapsed.Seconds()
	rate := func(n int64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	status := ""
	if r.Interrupted {
		status = " (interrupted)"
	}
	fmt.Fprintf(&b, "Simulated %d customers on %s for %.1fs%s, seed %d.\n", r.Customers, r.Addr, secs, status, r.Seed)
	fmt.Fprintf(&b, "  commands   %9d  %9.1f/s\n", r.TotalCommands(), rate(r.TotalCommands()))
	fmt.Fprintf(&b, "  checkouts  %9d  %9.1f/s\n", len(r.Orders), rate(int64(len(r.Orders))))
	fmt.Fprintf(&b, "  errors     %9d", r.Errors())
	if r.ConnectErrors > 0 {
		fmt.Fprintf(&b, "  (%d connecting)", r.ConnectErrors)
	}
	fmt.Fprintf(&b, "\n  connections %8d\n\n", r.Connects)
	fmt.Fprintf(&b, "%-9s %9s %9s %8s %7s %9s %9s %9s\n", "command", "count", "ok", "refused", "errors", "p50", "p95", "p99")
	var all Histogram
	var total CommandStats
	for _, c := range r.Commands {
		writeRow(&b, c)
		all.merge(&c.Latency)
		total.Count += c.Count
		total.OK += c.OK
		total.Refused += c.Refused
		total.Errors += c.Errors
	}
	total.Name, total.Latency = "all", all
	writeRow(&b, total)
	for i, e := range r.ErrorSamples {
		if i == 0 {
			b.WriteString("\nFirst errors:\n")
		}
		fmt.Fprintf(&b, "  %s\n", e)
	}
	io.WriteString(w, b.String())
}

func writeRow(b *strings.Builder, c CommandStats) {
	fmt.Fprintf(b, "%-9s %9d %9d %8d %7d %9s %9s %9s\n", c.Name, c.Count, c.OK, c.Refused, c.Errors,
		ms(c.Latency.Percentile(0.50)), ms(c.Latency.Percentile(0.95)), ms(c.Latency.Percentile(0.99)))
}

// ms formats a latency in milliseconds, "-" when there was none.
func ms(d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}

// The latency histogram keeps 2^subBits buckets per power of two of nanoseconds, so a
// percentile is within about 1.6% of the true value whatever the scale, in constant
// memory however long the run.
const (
	subBits    = 5
	subBuckets = 1 << subBits
	numBuckets = (64 - subBits + 1) * subBuckets
)

func bucketOf(ns uint64) int {
	if ns < subBuckets {
		return int(ns)
	}
	shift := bits.Len64(ns) - subBits - 1
	return (shift+1)*subBuckets + int(ns>>shift) - subBuckets
}

// bucketMid is the middle of bucket i's range, the value it stands for.
func bucketMid(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	shift := i/subBuckets - 1
	low := uint64(i%subBuckets+subBuckets) << shift
	return low + (uint64(1)<<shift)/2
}

// Histogram is a distribution of latencies.
type Histogram struct {
	counts []uint64 // by bucket; trailing empty buckets left out
	n      uint64
}

// Count is the number of latencies recorded.
func (h *Histogram) Count() int64 { return int64(h.n) }

// Percentile returns the latency below which the fraction q (0 to 1) of the
// recorded ones fall; 0 if none was recorded.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(bucketMid(i))
		}
	}
	return time.Duration(bucketMid(len(h.counts) - 1))
}

func (h *Histogram) merge(o *Histogram) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// commandCounters are one command's live figures, shared by all customers.
type commandCounters struct {
	count, ok, refused, errors atomic.Int64
	latency                    [numBuckets]atomic.Uint64
}

func (c *commandCounters) observe(d time.Duration) {
	c.latency[bucketOf(uint64(max(d, 0)))].Add(1)
}

func (c *commandCounters) snapshot(name string) CommandStats {
	s := CommandStats{Name: name, Count: c.count.Load(), OK: c.ok.Load(), Refused: c.refused.Load(), Errors: c.errors.Load()}
	last := -1
	counts := make([]uint64, numBuckets)
	for i := range c.latency {
		if counts[i] = c.latency[i].Load(); counts[i] > 0 {
			last = i
			s.Latency.n += counts[i]
		}
	}
	s.Latency.counts = counts[:last+1]
	return s
}

// maxErrorSamples bounds the errors a Report quotes.
const maxErrorSamples = 10

// noteError keeps the first few errors, in the order they happened.
func (s *sim) noteError(msg string) {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	if len(s.errSamples) < maxErrorSamples {
		s.errSamples = append(s.errSamples, time.Since(s.start).Truncate(time.Millisecond).String()+" "+msg)
	}
}

func (s *sim) report(elapsed time.Duration, customers []*customer) *Report {
	r := &Report{
		Addr: s.cfg.Addr, Customers: s.cfg.Customers, Seed: s.cfg.Seed, Duration: s.cfg.Duration, Elapsed: elapsed,
		Connects: s.connects.Load(), ConnectErrors: s.connectErrors.Load(),
	}
	for a := range numActions {
		r.Commands = append(r.Commands, s.stats[a].snapshot(actionNames[a]))
	}
	for _, c := range customers {
		r.Orders = append(r.Orders, c.orders...)
	}
	s.errMu.Lock()
	r.ErrorSamples = append([]string(nil), s.errSamples...)
	s.errMu.Unlock()
	slices.SortFunc(r.Orders, func(a, b PlacedOrder) int { return cmp.Compare(a.ID, b.ID) })
	return r
}
