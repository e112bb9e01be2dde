package postgres

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/storify/storify"
)

// The instances of one store reach each other through it (storify.Instances):
//
//   - Each instance holds its name with a lease, a row of live_instances that it
//     renews every leaseRenew and that lapses InstanceLease after the last renewal.
//     Only the instances whose lease holds are asked anything, so one that was
//     killed or hangs is waited for until its lease lapses, at most.
//   - A request is a NOTIFY on the store's live channel, which every instance's
//     listener LISTENs on (listen.go): "q ID EXPIRES FROM TO BODY", FROM being the
//     asker's name (exec for a script, which has none), TO one instance's name or *
//     for all. EXPIRES, in microseconds since 1970 by the
//     database's clock, is when the asker stops waiting: an instance that hears the
//     request later (it was stopped, its listener cut off) does not act on it.
//   - A reply, which may be larger than a NOTIFY's payload, is a row of
//     live_replies, announced on the same channel as "r ID INSTANCE" so that the
//     asker stops waiting as soon as everyone has answered; the asker then reads
//     and deletes the replies in one statement.
//
// Nothing of this is on the customers' path: a lease costs one UPDATE a second, and
// a request a few statements, made only when a manager asks.

// leaseRenew is how often an instance renews its lease.
const leaseRenew = time.Second

// liveQueue bounds the requests that wait to be answered; past it, requests are
// dropped (and their asker reports this instance as not answering).
const liveQueue = 16

// replyKeep is how long a reply that its asker did not read (it gave up) is kept.
const replyKeep = time.Minute

// replyNotices bounds the reply announcements buffered for one request; the asker
// reads every reply from the table in the end, announced or not.
const replyNotices = 256

// liveChannelName is the channel on which the instances of the store in schema
// send each other requests and announce their replies.
func liveChannelName(schema string) string {
	h := sha256.Sum256([]byte(schema))
	return "storify_live_" + hex.EncodeToString(h[:8])
}

// liveState is what a Store knows of the live instances: itself, once it has joined,
// and the requests it waits for replies to.
type liveState struct {
	member atomic.Pointer[member] // nil until Join

	mu      sync.Mutex
	waiting map[string]chan string // by request id: the instances that announced a reply
}

// member is this Store's place among the live instances.
type member struct {
	name, token string // the name it joined with; the token that says the lease is its own
	answer      func(ctx context.Context, from string, request []byte) []byte
	requests    chan liveRequest // from the listener to the answering goroutine
	held        atomic.Bool      // the lease is this Store's: requests to name are answered
	stop        context.CancelFunc
	done        sync.WaitGroup
}

// liveRequest is a request another instance sent.
type liveRequest struct {
	id, from string
	expires  int64 // microseconds since 1970, by the database's clock
	body     []byte
}

// claimSQL takes name for token unless another token holds a lease that has not
// lapsed; it returns a row if it did.
const claimSQL = `INSERT INTO live_instances AS i (name, token, started, lease_until)
	VALUES ($1::text, $2::text, clock_timestamp(), clock_timestamp() + $3::interval)
	ON CONFLICT (name) DO UPDATE SET token = EXCLUDED.token, started = EXCLUDED.started, lease_until = EXCLUDED.lease_until
	WHERE i.token = EXCLUDED.token OR i.lease_until < clock_timestamp()
	RETURNING true`

// Join implements storify.Instances.
func (s *Store) Join(ctx context.Context, name string, answer func(ctx context.Context, from string, request []byte) []byte) error {
	if err := storify.CheckInstanceName(name); err != nil {
		return err
	}
	m := &member{name: name, token: newInstanceID(), answer: answer, requests: make(chan liveRequest, liveQueue)}
	giveUp := time.Now().Add(storify.InstanceLease + leaseRenew)
	for warned := false; ; warned = true {
		ok, err := s.claim(ctx, m)
		if err != nil {
			return fmt.Errorf("postgres: joining as instance %s: %w", name, err)
		}
		if ok {
			break
		}
		if time.Now().After(giveUp) {
			return storify.Errorf(storify.ECONFLICT,
				"another instance of this store is running under the name %s; give this one another name (--instance)", name)
		}
		if !warned {
			s.log.Warn("another live instance holds this instance's name; waiting for its lease to lapse, in case it is this instance's own from before a restart",
				"instance", name, "up_to", storify.InstanceLease+leaseRenew)
		}
		t := time.NewTimer(leaseRenew / 4)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	m.held.Store(true)
	if !s.live.member.CompareAndSwap(nil, m) {
		return errors.New("postgres: join: this Store has joined already")
	}
	s.cleanLive(ctx)
	lctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	m.done.Add(2)
	go func() { defer m.done.Done(); s.keepLease(lctx, m) }()
	go func() { defer m.done.Done(); s.answerRequests(lctx, m) }()
	return nil
}

// claim takes m's name for it, if no other live instance holds it.
func (s *Store) claim(ctx context.Context, m *member) (ok bool, err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	err = s.pool.QueryRow(ctx, claimSQL, m.name, m.token, storify.InstanceLease).Scan(&ok)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return ok, err
}

// cleanLive deletes the leases that lapsed a day ago and the replies nobody read.
func (s *Store) cleanLive(ctx context.Context) {
	ctx, cancel := s.budget(ctx)
	defer cancel()
	s.pool.Exec(ctx, `DELETE FROM live_instances WHERE lease_until < clock_timestamp() - interval '1 day'`)
	s.pool.Exec(ctx, `DELETE FROM live_replies WHERE at < clock_timestamp() - $1::interval`, replyKeep)
}

// keepLease renews m's lease every leaseRenew until ctx ends. If another instance
// took the name meanwhile (this one did not renew in time: it was stopped, or cut
// off from the database), this one stops answering to it, says so, and takes it
// back if it lapses again.
func (s *Store) keepLease(ctx context.Context, m *member) {
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	failing, cleaned := false, time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.renew(ctx, m)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil && !failing:
			failing = true
			s.log.Warn("this instance cannot renew its lease: the other instances stop asking it once the lease lapses", "instance", m.name, "err", err)
		case err == nil && failing:
			failing = false
			s.log.Info("this instance renews its lease again", "instance", m.name)
		}
		if time.Since(cleaned) > replyKeep {
			s.cleanLive(ctx)
			cleaned = time.Now()
		}
	}
}

// renew renews m's lease, or takes the name back if it lapsed and was deleted.
func (s *Store) renew(ctx context.Context, m *member) error {
	ctx, cancel := s.budget(ctx)
	defer cancel()
	tag, err := s.pool.Exec(ctx, `UPDATE live_instances SET lease_until = clock_timestamp() + $3::interval WHERE name = $1 AND token = $2`,
		m.name, m.token, storify.InstanceLease)
	if err != nil {
		return err
	}
	ok := tag.RowsAffected() == 1
	if !ok {
		if ok, err = s.claim(ctx, m); err != nil {
			return err
		}
	}
	switch was := m.held.Swap(ok); {
	case was && !ok:
		s.log.Error("another instance took this instance's name while this one did not renew its lease: the other instances' managers no longer reach this one's customers",
			"instance", m.name)
	case !was && ok:
		s.log.Info("this instance holds its name again", "instance", m.name)
	}
	return nil
}

// leave ends this Store's lease, so that the other instances stop asking it at
// once, and its name is free.
func (s *Store) leave() {
	m := s.live.member.Load()
	if m == nil {
		return
	}
	m.stop()
	m.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), min(s.timeout, time.Second))
	defer cancel()
	s.pool.Exec(ctx, `DELETE FROM live_instances WHERE name = $1 AND token = $2`, m.name, m.token)
}

// onLive handles a notification on the live channel, on the listener's goroutine:
// it only hands things on.
func (s *Store) onLive(payload string) {
	kind, rest, _ := strings.Cut(payload, " ")
	switch kind {
	case "r":
		id, instance, ok := strings.Cut(rest, " ")
		if !ok {
			return
		}
		s.live.mu.Lock()
		ch := s.live.waiting[id]
		s.live.mu.Unlock()
		if ch != nil {
			select {
			case ch <- instance:
			default: // the asker reads the replies from the table anyway
			}
		}
	case "q":
		m := s.live.member.Load()
		if m == nil || !m.held.Load() {
			return
		}
		f := strings.SplitN(rest, " ", 5) // ID EXPIRES FROM TO BODY
		if len(f) != 5 || f[2] == m.name || f[3] != "*" && f[3] != m.name {
			return
		}
		expires, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || f[2] != storify.ScriptInstance && storify.CheckInstanceName(f[2]) != nil || len(f[0]) > 64 {
			return
		}
		select {
		case m.requests <- liveRequest{id: f[0], expires: expires, from: f[2], body: []byte(f[4])}:
		default:
			s.log.Warn("a request of another instance was dropped: too many wait to be answered", "from", f[2])
		}
	}
}

// answerRequests answers the other instances' requests, one at a time, until ctx
// ends.
func (s *Store) answerRequests(ctx context.Context, m *member) {
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-m.requests:
			if err := s.answerOne(ctx, m, r); err != nil && ctx.Err() == nil {
				s.log.Warn("a request of another instance was not answered", "from", r.from, "err", err)
			}
		}
	}
}

// replySQL stores a reply and announces it.
const replySQL = `WITH r AS (
	INSERT INTO live_replies (request, instance, body) VALUES ($1::text, $2::text, $3::text) ON CONFLICT DO NOTHING RETURNING 1)
SELECT pg_notify($4::text, 'r ' || $1::text || ' ' || $2::text) FROM r`

// answerOne acts on request r, if its asker still waits, and stores the reply.
func (s *Store) answerOne(ctx context.Context, m *member, r liveRequest) error {
	ctx, cancel := s.budget(ctx)
	defer cancel()
	var fresh bool
	err := s.pool.QueryRow(ctx, `SELECT clock_timestamp() < 'epoch'::timestamptz + $1::bigint * interval '1 microsecond'`, r.expires).Scan(&fresh)
	if err != nil {
		return err
	}
	if !fresh {
		s.log.Info("a request of another instance came after its asker stopped waiting; not acted on", "from", r.from)
		return nil
	}
	body := m.answer(ctx, r.from, r.body)
	if err := checkText(body, storify.MaxInstanceReply, "reply"); err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, replySQL, r.id, m.name, string(body), s.liveChannel)
	return err
}

// checkText checks that b can travel as text: at most max bytes of UTF-8, no NUL.
func checkText(b []byte, max int, what string) error {
	switch {
	case len(b) > max:
		return storify.Errorf(storify.EINVALID, "the %s is %d bytes, more than %d", what, len(b), max)
	case !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0:
		return storify.Errorf(storify.EINVALID, "the %s is not text", what)
	}
	return nil
}

// askSQL lists the live instances to ask and, if there are any, sends them the
// request.
const askSQL = `WITH l AS (
	SELECT ARRAY(SELECT name FROM live_instances
		WHERE lease_until > clock_timestamp() AND name <> $1::text AND ($2::text = '' OR name = $2::text) ORDER BY name) AS names),
n AS (
	SELECT pg_notify($3::text, 'q ' || $4::text || ' ' ||
		((extract(epoch FROM clock_timestamp()) * 1000000)::bigint + $5::bigint)::text || ' ' ||
		$8::text || ' ' || $6::text || ' ' || $7::text)
	FROM l WHERE cardinality(l.names) > 0)
SELECT names, (SELECT count(*) FROM n) FROM l`

// Ask implements storify.Instances.
func (s *Store) Ask(ctx context.Context, to string, request []byte, wait time.Duration) (replies []storify.InstanceReply, missing []string, err error) {
	self, from := "", storify.ScriptInstance // a script: every live instance is asked
	if m := s.live.member.Load(); m != nil {
		self, from = m.name, m.name
	}
	if err := checkText(request, storify.MaxInstanceRequest, "request"); err != nil {
		return nil, nil, err
	}
	target := "*"
	if to != "" {
		if err := storify.CheckInstanceName(to); err != nil {
			return nil, nil, err
		}
		target = to
	}
	id := newInstanceID()
	notices := make(chan string, replyNotices)
	s.live.mu.Lock()
	if s.live.waiting == nil {
		s.live.waiting = map[string]chan string{}
	}
	s.live.waiting[id] = notices
	s.live.mu.Unlock()
	defer func() {
		s.live.mu.Lock()
		delete(s.live.waiting, id)
		s.live.mu.Unlock()
	}()

	var asked []string
	if err := s.askAll(ctx, self, from, to, target, id, request, wait, &asked); err != nil {
		return nil, nil, err
	}
	if len(asked) == 0 {
		return nil, nil, nil
	}
	pending := make(map[string]bool, len(asked))
	for _, name := range asked {
		pending[name] = true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
gather:
	for len(pending) > 0 {
		select {
		case name := <-notices:
			delete(pending, name)
		case <-t.C:
			break gather
		case <-ctx.Done():
			break gather
		}
	}
	got, err := s.takeReplies(ctx, id, asked)
	if err != nil {
		return nil, nil, err
	}
	for _, name := range asked {
		if body, ok := got[name]; ok {
			replies = append(replies, storify.InstanceReply{Instance: name, Body: body})
		} else {
			missing = append(missing, name)
		}
	}
	return replies, missing, nil
}

// askAll sends the request from the instance from, to every live instance but self
// (or the one named to), and sets *asked to the instances it went to.
func (s *Store) askAll(ctx context.Context, self, from, to, target, id string, request []byte, wait time.Duration, asked *[]string) (err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	var sent int64
	return s.pool.QueryRow(ctx, askSQL, self, to, s.liveChannel, id, wait.Microseconds(), target, string(request), from).Scan(asked, &sent)
}

// takeReplies reads and deletes the replies to request id of the instances asked.
// A reply larger than MaxInstanceReply is left out, as if it had not come.
func (s *Store) takeReplies(ctx context.Context, id string, asked []string) (got map[string][]byte, err error) {
	ctx, done := s.call(ctx, &err)
	defer done()
	rows, _ := s.pool.Query(ctx, `DELETE FROM live_replies WHERE request = $1 AND instance = ANY($2)
		RETURNING instance, CASE WHEN octet_length(body) <= $3 THEN body END`, id, asked, storify.MaxInstanceReply)
	got = map[string][]byte{}
	var name string
	var body *string
	_, err = pgx.ForEachRow(rows, []any{&name, &body}, func() error {
		if body == nil {
			s.log.Warn("an instance's reply was too large; taken for no answer", "instance", name)
			return nil
		}
		got[name] = []byte(*body)
		return nil
	})
	return got, err
}

// Live implements storify.Instances.
func (s *Store) Live(ctx context.Context) (names []string, err error) {
	ctx, end := s.call(ctx, &err)
	defer end()
	self := ""
	if m := s.live.member.Load(); m != nil {
		self = m.name
	}
	err = s.read(ctx, func(q querier) error {
		rows, _ := q.Query(ctx, `SELECT name FROM live_instances WHERE lease_until > clock_timestamp() AND name <> $1 ORDER BY name`, self)
		names, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return names, err
}

var _ storify.Instances = (*Store)(nil)
