package sqlite

import (
	"context"
	"fmt"
	"time"
)

// externalCheckEvery is how often the Store asks SQLite whether another connection
// (another process: storify exec, a second console) has committed to the file. It
// bounds how long the copy of the catalog can miss such a change.
const externalCheckEvery = 100 * time.Millisecond

// externalWrites notices commits to the database file made by other processes, so
// that the copy of the catalog does not outlive them. SQLite's PRAGMA data_version,
// asked on one connection, changes whenever another connection has committed, and
// not for that connection's own commits. It is asked on the Store's writer, the one
// connection its own writes go through, so that they do not count: after a
// checkout the catalog's copy is patched with the products it changed (see
// internal/catalog), not read whole because data_version moved. One goroutine asks,
// so readers never wait for the writer.
type externalWrites struct {
	stop context.CancelFunc
	done chan struct{}
}

// watchExternal starts the goroutine that invalidates the catalog's copy when
// another process commits.
func (s *Store) watchExternal() (*externalWrites, error) {
	var last int64
	if err := s.writer.QueryRow(`PRAGMA data_version`).Scan(&last); err != nil {
		return nil, fmt.Errorf("read data_version: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	w := &externalWrites{stop: stop, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(externalCheckEvery)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			qctx, cancel := context.WithTimeout(ctx, s.timeout)
			var v int64
			err := s.writer.QueryRowContext(qctx, `PRAGMA data_version`).Scan(&v)
			cancel()
			if err != nil {
				if ctx.Err() == nil {
					s.catalog.Invalidate() // unsure: reading the catalog again is always safe
				}
				continue
			}
			if v != last {
				last = v
				s.catalog.Invalidate()
			}
		}
	}()
	return w, nil
}

// close stops the goroutine and waits for it.
func (w *externalWrites) close() error {
	w.stop()
	<-w.done
	return nil
}
