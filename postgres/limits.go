package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// The store's limits and bans, shared by every instance (storify.SharedLimits,
// storify.SharedBans). The limits decide in Go; here their records are only read
// and written, under advisory locks, so that one decision at a time sees them.

var (
	_ storify.SharedLimits = (*Store)(nil)
	_ storify.SharedBans   = (*Store)(nil)
)

// limitLockClass is the first key of a limit record's advisory lock ("LIMT"); the
// second is a hash of its key. (Another key of the same hash only makes one
// decision wait for another.)
const limitLockClass int32 = 0x4c494d54

// lockLimits takes the advisory lock of each key ($2) in ascending hash, so that
// decisions on several keys cannot deadlock, held until the transaction ends.
const lockLimits = `SELECT pg_advisory_xact_lock($1, k)
	FROM (SELECT DISTINCT hashtext(current_schema() || ' ' || t) AS k FROM unnest($2::text[]) AS t ORDER BY k) AS keys`

// sweepEvery is how many decisions, on average, one drops lapsed records (a few
// hundred at most each time), so that the table holds what counts and a little more.
const sweepEvery = 64

// sweepLimits drops lapsed records, in a statement of its own after a decision;
// rows locked by a decision in flight are left for the next sweep, so it waits for
// no one, and a decision that wants a row it is dropping waits only for it.
const sweepLimits = `DELETE FROM limits WHERE key IN (
	SELECT key FROM limits WHERE until < now() LIMIT 500 FOR UPDATE SKIP LOCKED)`

// UpdateLimits implements storify.SharedLimits: one transaction takes the keys'
// advisory locks, reads their records and the clock (one round trip), lets fn
// decide, writes back the records fn changed (one more) and commits. Now and then
// it sweeps lapsed records after.
func (s *Store) UpdateLimits(ctx context.Context, keys []string, fn func(now time.Time, recs []storify.LimitRecord) error) (err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	err = s.transact(ctx, func(b *pgx.Batch) {
		b.Queue(lockLimits, limitLockClass, keys)
		b.Queue(`SELECT key, value, until FROM limits WHERE key = ANY($1::text[])`, keys)
		b.Queue(`SELECT clock_timestamp()`)
	}, func(tx pgx.Tx, br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("postgres: limits: lock: %w", err)
		}
		found := map[string]storify.LimitRecord{}
		rows, _ := br.Query()
		var key string
		var r storify.LimitRecord
		if _, err := pgx.ForEachRow(rows, []any{&key, &r.Value, &r.Until}, func() error {
			found[key] = storify.LimitRecord{Value: r.Value, Until: utc(r.Until)}
			return nil
		}); err != nil {
			return fmt.Errorf("postgres: limits: %w", err)
		}
		var now time.Time
		if err := br.QueryRow().Scan(&now); err != nil {
			return fmt.Errorf("postgres: limits: %w", err)
		}
		if err := br.Close(); err != nil {
			return fmt.Errorf("postgres: limits: %w", err)
		}
		recs := make([]storify.LimitRecord, len(keys))
		for i, k := range keys {
			recs[i] = found[k]
		}
		if err := fn(utc(now), recs); err != nil {
			return err
		}
		wb := &pgx.Batch{}
		for i, k := range keys {
			old := found[k]
			switch r := recs[i]; {
			case r.Value == nil && old.Value != nil:
				wb.Queue(`DELETE FROM limits WHERE key = $1`, k)
			case r.Value != nil && (!bytes.Equal(r.Value, old.Value) || !r.Until.Equal(old.Until)):
				wb.Queue(`INSERT INTO limits (key, value, until) VALUES ($1, $2, $3)
					ON CONFLICT (key) DO UPDATE SET value = excluded.value, until = excluded.until`, k, r.Value, r.Until)
			}
		}
		if wb.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, wb).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: limits: %w", err)
	}
	if rand.N(sweepEvery) == 0 {
		// On its own, holding no lock, so that it waits for no one; a failure
		// leaves the rows for the next sweep.
		s.pool.Exec(ctx, sweepLimits)
	}
	return nil
}

// notifyBans tells every instance, on commit only, that the bans changed.
const notifyBans = `SELECT pg_notify($1, '')`

// AddBan implements storify.SharedBans; it drops the lapsed bans too.
func (s *Store) AddBan(ctx context.Context, p netip.Prefix, until time.Time) (err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	var u *time.Time
	if !until.IsZero() {
		u = &until
	}
	err = s.write(ctx, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO bans (prefix, until) VALUES ($1, $2) ON CONFLICT (prefix) DO UPDATE SET until = excluded.until`, p.Masked().String(), u)
		b.Queue(`DELETE FROM bans WHERE until <= now()`)
		b.Queue(notifyBans, s.bansChannel)
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return fmt.Errorf("postgres: ban: %w", err)
	}
	return nil
}

// RemoveBan implements storify.SharedBans.
func (s *Store) RemoveBan(ctx context.Context, p netip.Prefix) (found bool, err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	err = s.write(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM bans WHERE prefix = $1 AND (until IS NULL OR until > now())`, p.Masked().String())
		if err != nil {
			return err
		}
		found = tag.RowsAffected() > 0
		_, err = tx.Exec(ctx, notifyBans, s.bansChannel)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: unban: %w", err)
	}
	return found, nil
}

// Bans implements storify.SharedBans. Lapsed bans are left out here, and dropped
// from the table by the next ban (AddBan): a read stays a read.
func (s *Store) Bans(ctx context.Context) (bans []storify.Ban, err error) {
	err = s.read(ctx, func(q querier) error {
		bans = bans[:0]
		rows, _ := q.Query(ctx, `SELECT prefix, until FROM bans WHERE until IS NULL OR until > now()`)
		var prefix string
		var until *time.Time
		_, err := pgx.ForEachRow(rows, []any{&prefix, &until}, func() error {
			p, err := netip.ParsePrefix(prefix)
			if err != nil {
				return fmt.Errorf("ban %q: %w", prefix, err)
			}
			b := storify.Ban{Prefix: p}
			if until != nil {
				b.Until = utc(*until)
			}
			bans = append(bans, b)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: bans: %w", err)
	}
	return bans, nil
}

// WatchBans implements storify.SharedBans: f is called by the listener on each
// notification that the bans changed.
func (s *Store) WatchBans(f func()) {
	if f == nil {
		s.banWatch.Store(nil)
		return
	}
	s.banWatch.Store(&f)
}

// bansChanged tells the watcher, if any, that the bans changed.
func (s *Store) bansChanged() {
	if f := s.banWatch.Load(); f != nil {
		(*f)()
	}
}

// bansChannelName is the channel on which the store in schema announces that its
// bans changed.
func bansChannelName(schema string) string {
	h := sha256.Sum256([]byte(schema))
	return "storify_bans_" + hex.EncodeToString(h[:8])
}
