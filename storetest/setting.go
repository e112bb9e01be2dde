package storetest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/storify/storify"
)

// A setting keeps its first value; other keys are apart; empty keys and values
// are refused.
func testInitSetting(t *testing.T, s storify.Store) {
	ctx := context.Background()
	got, err := s.InitSetting(ctx, "ssh-host-key", []byte("first"))
	if err != nil || string(got) != "first" {
		t.Fatalf("InitSetting on a new key = %q, %v; want first", got, err)
	}
	if got, err = s.InitSetting(ctx, "ssh-host-key", []byte("second")); err != nil || string(got) != "first" {
		t.Errorf("InitSetting on a set key = %q, %v; want the kept value, first", got, err)
	}
	if got, err = s.InitSetting(ctx, "other", []byte{0, 0xff, 1}); err != nil || !bytes.Equal(got, []byte{0, 0xff, 1}) {
		t.Errorf("InitSetting on another key = %q, %v", got, err)
	}
	for _, c := range []struct{ key, value string }{{"", "v"}, {"k", ""}} {
		if _, err := s.InitSetting(ctx, c.key, []byte(c.value)); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("InitSetting(%q, %q) = %v, want EINVALID", c.key, c.value, err)
		}
	}
}

// Twenty callers setting one key at once all get the same value, one of theirs.
func testConcurrentInitSetting(t *testing.T, s storify.Store) {
	const callers = 20
	var wg sync.WaitGroup
	got := make([][]byte, callers)
	errs := make([]error, callers)
	start := make(chan struct{})
	for i := range callers {
		wg.Go(func() {
			<-start
			got[i], errs[i] = s.InitSetting(context.Background(), "key", fmt.Appendf(nil, "value %d", i))
		})
	}
	close(start)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if !bytes.Equal(got[i], got[0]) {
			t.Errorf("caller %d got %q, caller 0 got %q", i, got[i], got[0])
		}
	}
	var v int
	if _, err := fmt.Sscanf(string(got[0]), "value %d", &v); err != nil || v < 0 || v >= callers {
		t.Errorf("the kept value %q is none of the callers'", got[0])
	}
}
