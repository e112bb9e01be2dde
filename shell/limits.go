package shell

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"github.com/storify/storify"
)

// The limits (LoginThrottle, RegisterThrottle) keep their state as records
// (storify.LimitRecord): in a process's memory (memLimits) when the store is one
// process's, or in the database when several instances share the store
// (storify.SharedLimits), so that a limit holds for the whole store. Either way the
// rules are the Go code in this package, run on records read under a lock; the
// store only keeps them.

// memLimits keeps limit records in memory, for one process.
type memLimits struct {
	mu   sync.Mutex
	recs map[string]storify.LimitRecord
}

// maxMemRecords is the number of records past which lapsed ones are dropped,
// bounding memory under a flood of names and addresses.
const maxMemRecords = 100_000

// update is storify.SharedLimits.UpdateLimits on the process's memory, with now
// the time. fn runs under the lock: it only decodes, decides and encodes.
func (m *memLimits) update(now time.Time, keys []string, fn func(now time.Time, recs []storify.LimitRecord) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.recs == nil {
		m.recs = map[string]storify.LimitRecord{}
	}
	if len(m.recs) > maxMemRecords {
		for k, r := range m.recs {
			if now.After(r.Until) {
				delete(m.recs, k)
			}
		}
	}
	recs := make([]storify.LimitRecord, len(keys))
	for i, k := range keys {
		recs[i] = m.recs[k]
	}
	if err := fn(now, recs); err != nil {
		return err
	}
	for i, k := range keys {
		if recs[i].Value == nil {
			delete(m.recs, k)
		} else {
			m.recs[k] = recs[i]
		}
	}
	return nil
}

// limitState runs fn on the records under keys, in shared when it is set, else
// in mem with the clock now.
func limitState(ctx context.Context, shared storify.SharedLimits, mem *memLimits, now func() time.Time,
	keys []string, fn func(now time.Time, recs []storify.LimitRecord) error) error {
	if shared != nil {
		return shared.UpdateLimits(ctx, keys, fn)
	}
	return mem.update(now(), keys, fn)
}

// decodeRecord reads a record's value into v; a missing or unreadable value
// leaves v as it is (empty).
func decodeRecord(r storify.LimitRecord, v any) {
	if len(r.Value) > 0 {
		json.Unmarshal(r.Value, v) // written by encodeRecord; a bad one counts as none
	}
}

// encodeRecord makes the record of v, lapsing at until; empty (nothing to keep)
// removes the record.
func encodeRecord(v any, until time.Time, empty bool) storify.LimitRecord {
	if empty {
		return storify.LimitRecord{}
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of strings to times and numbers always encode
	}
	return storify.LimitRecord{Value: b, Until: until}
}

// newPlaceID names an attempt's places in the records: random, so that places
// taken on different instances never collide.
func newPlaceID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// latest is the later of a and b.
func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
