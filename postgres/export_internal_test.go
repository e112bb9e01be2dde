package postgres

import "time"

// WaitListening waits until s's listener is LISTENing, so that reads are served from
// its copy of the catalog, and reports whether it is; it gives up after timeout. It
// is for the black-box tests, which cannot otherwise tell a read served from the copy
// from one that went to the database.
func WaitListening(s *Store, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); !s.listening(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

func (s *Store) listening() bool {
	s.catalog.barrier.mu.Lock()
	defer s.catalog.barrier.mu.Unlock()
	return s.catalog.barrier.up
}

// Batches returns how many checkout transactions s has committed.
func Batches(s *Store) int64 { return s.commit.Batches() }

// Queued returns how many checkouts wait for s's committer.
func Queued(s *Store) int {
	return s.commit.Len()
}

// UnknownCommits returns how many COMMITs of s lost their connection before their
// outcome was known.
func UnknownCommits(s *Store) int64 { return s.unknownCommits.Load() }

// CheckoutCommit is what a checkout batch sends to commit when other instances
// share the store (commitThenFlushSQL); LoneCommit is what it sends when it is alone
// (pgx's Tx.Commit), which it is once CommitsAlone.
const (
	CheckoutCommit = commitThenFlushSQL
	LoneCommit     = "commit"
)

// CommitsAlone reports whether s's checkouts commit as an instance alone on its
// store does: its listener last found it alone.
func CommitsAlone(s *Store) bool { return s.lone.isAlone.Load() }

// HoldsPresence reports whether s's listener holds its store's presence lock.
func HoldsPresence(s *Store) bool { return s.lone.holdsShared() }

// ReadWindow is how long before a read began a change may have committed on another
// instance and still not be seen by it (readWindow).
const ReadWindow = readWindow

// TokenLockClass is the first key of a checkout token's advisory lock; the second is
// hashtext(token).
const TokenLockClass = tokenLockClass

// FullLoads returns how many times s has read the whole catalog.
func FullLoads(s *Store) int64 { return s.fullLoads.Load() }

// RowLoads returns how many times s has read some products' rows again.
func RowLoads(s *Store) int64 { return s.rowLoads.Load() }

// CatalogChannel is the channel on which the store in schema announces changes of
// its catalog.
func CatalogChannel(schema string) string { return channelName(schema) }

// Alone reports whether s's reads need no round of its listener now: it is the only
// instance of its store (alone.go), and the lease of its latest round has not ended.
func Alone(s *Store) bool { return clock() < s.catalog.barrier.aloneUntil.Load() }

// Rounds returns how many rounds s's listener has begun.
func Rounds(s *Store) int64 { return s.catalog.barrier.rounds.Load() }

// AloneLease is how long after a round began a lone instance's reads need no other.
const AloneLease = aloneLease

// AloneSettle is how long after it starts listening an instance first tries to be
// alone.
const AloneSettle = aloneSettle
