package simulate

import (
	"testing"
	"time"
)

func TestBucketsAreContinuousAndClose(t *testing.T) {
	prev := -1
	for v := uint64(0); v < 1<<20; v++ {
		b := bucketOf(v)
		if b != prev && b != prev+1 {
			t.Fatalf("bucketOf(%d) = %d after %d", v, b, prev)
		}
		prev = b
	}
	for _, v := range []uint64{1, 31, 32, 33, 1000, 123456, 1e9, 1e12, 1 << 62} {
		mid := bucketMid(bucketOf(v))
		if d := float64(mid) - float64(v); d < -0.02*float64(v) || d > 0.02*float64(v) {
			t.Errorf("value %d stands as %d", v, mid)
		}
	}
	if b := bucketOf(^uint64(0)); b >= numBuckets {
		t.Errorf("the largest value falls in bucket %d of %d", b, numBuckets)
	}
}

func TestPercentile(t *testing.T) {
	var c commandCounters
	for i := 1; i <= 100; i++ {
		c.observe(time.Duration(i) * time.Millisecond)
	}
	h := c.snapshot("x").Latency
	for q, want := range map[float64]time.Duration{0.5: 50 * time.Millisecond, 0.95: 95 * time.Millisecond, 0.99: 99 * time.Millisecond, 1: 100 * time.Millisecond} {
		if got := h.Percentile(q); got < want*98/100 || got > want*102/100 {
			t.Errorf("p%v = %v, want about %v", q*100, got, want)
		}
	}
	var empty Histogram
	if empty.Percentile(0.5) != 0 {
		t.Error("an empty histogram has a median")
	}
}
