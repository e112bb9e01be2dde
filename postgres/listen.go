package postgres

import (
	"context"
	crand "crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/storify/storify"
	"github.com/storify/storify/internal/catalog"
)

// Reconnecting the listener: the n-th wait after a failure is drawn from [d/2, d) with
// d = listenBackoffBase·2ⁿ⁻¹, capped at listenBackoffMax. The first try comes at once:
// a connection that the server dropped is usually replaced at the first attempt.
const (
	listenBackoffBase = 20 * time.Millisecond
	listenBackoffMax  = 5 * time.Second
)

// listenIdle is how long the listener waits for a read before it pings the server
// anyway: that notices a connection that died without a word.
const listenIdle = time.Second

// pingTimeout bounds one ping of the listener: if the connection hangs, the reads
// that wait for the ping go to the database after this long, and the listener
// connects again. A Store whose budget is shorter than twice this pings within half
// its budget instead (Store.pingTimeout), so that a read still has time for the
// database after a ping that failed.
const pingTimeout = 2 * time.Second

// pingTimeout is how long the listener waits for one ping.
func (s *Store) pingTimeout() time.Duration { return min(pingTimeout, s.timeout/2) }

// listenerSuffix is appended to the pool's application_name for the listener's
// connection, so that it can be told apart in pg_stat_activity.
const listenerSuffix = " listener"

// notifySQL announces, on commit only, that the transaction changed products.
const notifySQL = `SELECT pg_notify($1, $2)`

// channelName is the notification channel of the store in schema: one per schema, so
// that stores side by side in one database do not wake each other. It is a hash of
// the schema's name because a channel name is an identifier of at most 63 bytes, as a
// schema name can be on its own.
func channelName(schema string) string {
	h := sha256.Sum256([]byte(schema))
	return "storify_catalog_" + hex.EncodeToString(h[:8])
}

// ordersChannelName is the channel on which the store in schema announces orders
// shipped and cancelled, for the instances whose customers may be told.
func ordersChannelName(schema string) string {
	h := sha256.Sum256([]byte(schema))
	return "storify_orders_" + hex.EncodeToString(h[:8])
}

// orderEventSQL records an order's event and announces it, on commit only, on the
// orders channel: "INSTANCE STATUS ORDER EVENT".
const orderEventSQL = `WITH e AS (
	INSERT INTO order_events (order_id, status, instance) VALUES ($1::bigint, $2::text, $3::text) RETURNING id)
SELECT pg_notify($4::text, $3::text || ' ' || $2::text || ' ' || $1::bigint::text || ' ' || e.id::text) FROM e`

// queueOrderEvent adds the recording and announcement of order id's new status to
// the batch that begins its transaction.
func (s *Store) queueOrderEvent(b *pgx.Batch, id int64, status storify.OrderStatus) {
	b.Queue(orderEventSQL, id, string(status), s.instance, s.ordersChannel)
}

// orderEvent reads an order notification's payload: the event, its id, and whether
// it is another instance's (this Store's own are told by the instance itself).
func (s *Store) orderEvent(payload string) (e storify.OrderEvent, id int64, theirs bool) {
	f := strings.Fields(payload)
	if len(f) != 4 {
		return e, 0, false
	}
	order, err1 := strconv.ParseInt(f[2], 10, 64)
	id, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		return e, 0, false
	}
	return storify.OrderEvent{OrderID: order, Status: storify.OrderStatus(f[1])}, id, f[0] != s.instance
}

// eventMargin is how far before the listener was last known to hear that the events
// of an outage are read again: an event is stamped when its transaction began, which
// may be a while before it committed and was announced.
const eventMargin = time.Minute

// eventKeep is how long the order_events rows are kept.
const eventKeep = 24 * time.Hour

// eventLog is what the listener knows of the order events: when it last heard the
// server (a round answered), and the events it has told, for twice eventMargin
// after it heard them, so that one read again after an outage is told once.
// Only the listener's goroutine uses it.
type eventLog struct {
	heard time.Time
	seen  map[int64]time.Time
}

// tell hands event e (id) to the watcher, unless it was told already.
func (s *Store) tell(e storify.OrderEvent, id int64) {
	if s.events.seen == nil {
		s.events.seen = map[int64]time.Time{}
	}
	if _, ok := s.events.seen[id]; ok {
		return
	}
	s.events.seen[id] = time.Now()
	if f := s.orderWatch.Load(); f != nil {
		(*f)(e)
	}
}

// heard notes that the listener heard the server now: every event committed
// before has been announced to it.
func (s *Store) heard() {
	now := time.Now()
	s.events.heard = now
	for id, at := range s.events.seen {
		if now.Sub(at) > 2*eventMargin {
			delete(s.events.seen, id)
		}
	}
}

// catchUp tells the events announced while the listener was not listening: those
// stamped since eventMargin before it last heard the server. Called once LISTEN is
// in effect, so that what commits meanwhile is announced too (and told once). The
// first time, there is nothing to catch up: this instance had no customers yet.
func (s *Store) catchUp(ctx context.Context, conn *pgx.Conn) error {
	if !s.events.heard.IsZero() {
		window := time.Since(s.events.heard) + eventMargin
		rows, _ := conn.Query(ctx, `SELECT id, order_id, status, instance FROM order_events
			WHERE at > now() - $1::interval ORDER BY id`, window)
		var id, order int64
		var status, instance string
		_, err := pgx.ForEachRow(rows, []any{&id, &order, &status, &instance}, func() error {
			if instance != s.instance {
				s.tell(storify.OrderEvent{OrderID: order, Status: storify.OrderStatus(status)}, id)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM order_events WHERE at < now() - $1::interval`, eventKeep); err != nil {
		return err
	}
	s.heard()
	return nil
}

// WatchOrders implements storify.OrderWatcher: f is called from the listener, as
// each notification of another instance's ship or cancel is received.
func (s *Store) WatchOrders(f func(storify.OrderEvent)) {
	if f == nil {
		s.orderWatch.Store(nil)
		return
	}
	s.orderWatch.Store(&f)
}

// newInstanceID returns a random name for this Store, sent as the payload of its
// notifications so that its listener can skip them: its writes invalidate the copy
// themselves, before the notification could.
func newInstanceID() string {
	var b [8]byte
	crand.Read(b[:]) // never fails
	return hex.EncodeToString(b[:])
}

// listen keeps a connection LISTENing on the store's channel until ctx ends. Whenever
// the connection is lost it closes the barrier, so that reads go to the database, and
// connects again with backoff.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) {
	defer close(s.listenDone)
	for failures := 0; ; failures++ {
		if s.listenOnce(ctx, cfg) {
			failures = 0 // it was listening: the next failure is a new one
			if ctx.Err() == nil {
				s.listenerLost = true
				s.log.Warn("the store's listener lost its database connection: catalog reads go to the database, and other instances' order notices are told when it is back")
			}
		}
		if ctx.Err() != nil {
			return
		}
		wait := time.Duration(0)
		if failures > 0 {
			d := min(listenBackoffBase<<(failures-1), listenBackoffMax)
			wait = d/2 + rand.N(d/2)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// listenOnce connects, LISTENs, and then serves rounds until the connection fails or
// ctx ends. It reports whether it got as far as listening. Its errors are not
// reported: the only thing to do about them is to try again, and meanwhile reads go
// to the database.
func (s *Store) listenOnce(ctx context.Context, cfg *pgx.ConnConfig) (listened bool) {
	conn, err := pgx.ConnectConfig(ctx, cfg) // bounded by cfg.ConnectTimeout
	if err != nil {
		s.dropPresence()
		return false
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		conn.Close(ctx)
	}()
	// The presence lock goes with the connection, whenever this returns.
	defer s.dropPresence()
	lctx, cancel := context.WithTimeout(ctx, s.timeout)
	_, err = conn.Exec(lctx, `LISTEN `+pgx.Identifier{s.channel}.Sanitize()+`; LISTEN `+pgx.Identifier{s.ordersChannel}.Sanitize()+
		`; LISTEN `+pgx.Identifier{s.bansChannel}.Sanitize()+`; LISTEN `+pgx.Identifier{s.liveChannel}.Sanitize())
	if err == nil {
		err = s.catchUp(lctx, conn)
	}
	if err == nil {
		s.startPresence()
		err = s.tryPresence(lctx, conn, tryShared)
	}
	cancel()
	if err != nil {
		return false
	}
	if s.listenerLost {
		s.listenerLost = false
		s.log.Info("the store's listener is back: caught up with the other instances")
	}
	// Listening first, then invalidating: a change committed before LISTEN took
	// effect was not announced to this connection, but the next load sees it.
	s.catalog.invalidate()
	s.catalog.barrier.setUp(true)
	defer func() {
		// Notifications may have been lost with the connection.
		s.catalog.barrier.setUp(false)
		s.catalog.invalidate()
	}()
	b := &s.catalog.barrier
	for {
		idle := time.Now().Add(listenIdle)
		if !s.lone.holdsShared() && s.lone.nextTry.Before(idle) {
			idle = s.lone.nextTry
		}
		if s.awaitRound(ctx, conn, idle) != nil {
			return true
		}
		try, err := s.presenceStep(ctx, conn)
		if err != nil {
			return true
		}
		r := b.start()
		if try != "" {
			err = s.tryPresence(ctx, conn, try)
		} else {
			err = ping(ctx, conn, s.pingTimeout())
		}
		r.finish(err == nil, s.alone())
		if err != nil {
			return true
		}
		s.heard()
	}
}

// awaitRound reads the notifications as they come (OnNotification handles each),
// so that the other instances' requests are answered at once, until a round of the
// barrier is wanted or, at idle, when the next ping is due. It returns an error if
// ctx ends or the connection fails. A round wanted meanwhile interrupts the read at
// once, through the connection's deadline, which leaves the connection usable.
func (s *Store) awaitRound(ctx context.Context, conn *pgx.Conn, idle time.Time) error {
	kick := s.catalog.barrier.kick
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-kick:
			return nil
		default:
		}
		if !time.Now().Before(idle) {
			return nil
		}
		wctx, cancel := context.WithDeadline(ctx, idle)
		kicked := make(chan bool, 1)
		go func() {
			select {
			case <-kick:
				cancel()
				kicked <- true
			case <-wctx.Done():
				kicked <- false
			}
		}()
		err := conn.PgConn().WaitForNotification(wctx)
		cancel()
		wanted := <-kicked // the helper has returned
		switch {
		case wanted:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && (wctx.Err() == nil || conn.IsClosed()):
			return err // the connection failed
		}
	}
}

// ping makes a round trip on the listener's connection. The notifications received
// before its answer are handled (by OnNotification) before it returns.
//
// The round trip is a bare Sync message, answered by ReadyForQuery: before it sends
// ReadyForQuery, an idle backend sends the notifications it was signalled for, as it
// does after a query, and a Sync costs it no transaction, parsing or planning, where
// pgx's Ping (an empty query) does.
func ping(ctx context.Context, conn *pgx.Conn, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := conn.PgConn().StartPipeline(ctx)
	p.SendPipelineSync()
	if err := p.Flush(); err != nil {
		p.Close()
		return err
	}
	return p.Close() // reads up to ReadyForQuery
}

// listenerConfig is the pool's connection config for the listener's own connection:
// tagged with its own application_name, and invalidating the copy of the catalog on
// every notification from another instance as soon as it is received.
func (s *Store) listenerConfig(pool *pgx.ConnConfig) *pgx.ConnConfig {
	cfg := pool.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	name := cfg.RuntimeParams["application_name"]
	if name == "" {
		name = "storify"
	}
	cfg.RuntimeParams["application_name"] = name + listenerSuffix
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) {
		if n.Channel == s.bansChannel {
			s.bansChanged() // this instance's own bans too: its copy is read again
			return
		}
		if n.Channel == s.liveChannel {
			s.onLive(n.Payload)
			return
		}
		if n.Channel == s.ordersChannel {
			if e, id, theirs := s.orderEvent(n.Payload); theirs {
				s.tell(e, id)
			}
			return
		}
		s.catalogChanged(n.Payload)
	}
	return cfg
}

// A notification on the catalog's channel says which instance changed products and
// how: its payload is "INSTANCE" when anything may have changed, or "INSTANCE stock
// ITEM,ITEM…" when only those products' stock did, each ITEM a product's ID (a
// restock: the others read its row again) or ID:UNITS:VERSION (a checkout: the stock
// it left, and its stock_version, which the others take without reading the row).
const stockMark = " stock "

// stockPayload is the payload announcing that the stock of the products of stocks
// changed: to what, and as which version, for those with a Version (a checkout's),
// and to be read again for the others; with too many for one patch, or for a
// notification, it announces that anything may have.
func (s *Store) stockPayload(stocks []catalog.Stock) string {
	if len(stocks) == 0 || len(stocks) > catalog.MaxTouched {
		return s.instance
	}
	b := make([]byte, 0, len(s.instance)+len(stockMark)+24*len(stocks))
	b = append(b, s.instance...)
	b = append(b, stockMark...)
	for i, st := range stocks {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, st.ID, 10)
		if st.Version != 0 {
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(st.Units), 10)
			b = append(b, ':')
			b = strconv.AppendInt(b, st.Version, 10)
		}
	}
	return string(b)
}

// parseStockItem reads one ITEM of stockPayload: ID, or ID:UNITS:VERSION with a
// VERSION of 1 or more. ok is false if it is neither.
func parseStockItem(item string) (st catalog.Stock, ok bool) {
	id, told, hasStock := strings.Cut(item, ":")
	var err error
	if st.ID, err = strconv.ParseInt(id, 10, 64); err != nil {
		return st, false
	}
	if !hasStock {
		return st, true
	}
	units, version, ok := strings.Cut(told, ":")
	n, err1 := strconv.ParseInt(units, 10, 32)
	v, err2 := strconv.ParseInt(version, 10, 64)
	if !ok || err1 != nil || err2 != nil || v <= 0 {
		return st, false
	}
	st.Units, st.Version = int(n), v
	return st, true
}

// catalogChanged acts on a notification from the catalog's channel: nothing for this
// Store's own (its writes mark the copy themselves), the stock told taken and the
// products' rows to read again for a stock change, and the whole catalog to read
// again for anything else, or for a payload it cannot read.
func (s *Store) catalogChanged(payload string) {
	if from, ok := strings.CutSuffix(payload, joinMark); ok {
		if from != s.instance {
			s.joinHeard()
		}
		return
	}
	from, items, stockOnly := strings.Cut(payload, stockMark)
	if from == s.instance {
		return
	}
	if !stockOnly {
		s.catalog.invalidate()
		return
	}
	var touched []int64
	var stocks []catalog.Stock
	for item := range strings.SplitSeq(items, ",") {
		st, ok := parseStockItem(item)
		if !ok || len(touched)+len(stocks) == catalog.MaxTouched {
			s.catalog.invalidate()
			return
		}
		if st.Version != 0 {
			stocks = append(stocks, st)
		} else {
			touched = append(touched, st.ID)
		}
	}
	if len(stocks) > 0 {
		s.catalog.cache.Stocked(stocks...)
	}
	if len(touched) > 0 {
		s.catalog.cache.Touched(touched...)
	}
}
