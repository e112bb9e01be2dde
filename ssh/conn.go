package ssh

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// channelConn is an SSH session channel as the server's Session needs it: a
// net.Conn with working deadlines, which an ssh.Channel lacks.
//
// Reads: one goroutine reads the channel and hands each chunk over; Read waits for
// a chunk, the read deadline or Close, so that moving the deadline wakes the
// session for a notice, as it does on a TCP connection. Chunk buffers come from
// a pool and go back once read, so the reading goroutine goes straight back to
// the channel after a hand-over: one wake-up per chunk each side, and an idle
// session holds one small buffer.
//
// Writes: the session's goroutine writes to the channel itself. A write blocks
// while the client's window is full (or its TCP buffer); when the write deadline
// passes during a write, a timer closes the whole SSH connection, which ends the
// write with an error: a client who stops reading is dropped, and the write
// never holds anything but its own session.
type channelConn struct {
	ch     gossh.Channel
	tcp    net.Conn // the connection the channel runs on; closed to end a stuck write
	local  net.Addr
	remote net.Addr

	chunks chan chunk // from the reading goroutine
	cur    chunk      // being consumed by Read
	rerr   error      // the read error met, returned from now on
	rdl    deadline

	wmu      sync.Mutex // guards wdl and wtimer
	wdl      time.Time
	wdlNanos atomic.Int64 // wdl for Write to read without the lock; 0 for none
	wtimer   *time.Timer
	writing  atomic.Bool // a Write is in progress
	expired  atomic.Bool // the write deadline passed during a write
	exit     atomic.Int32
	exitSet  atomic.Bool // send exit-status on Close
	closed   chan struct{}
	close1   sync.Once
}

type chunk struct {
	buf *[]byte // from chunkPool
	b   []byte  // what is left to read of *buf
	err error
}

// readChunk is the size of a chunk buffer: small, since most of what a customer
// sends is one typed line, and 10,000 idle sessions each hold one.
const readChunk = 512

var chunkPool = sync.Pool{New: func() any { b := make([]byte, readChunk); return &b }}

func newChannelConn(ch gossh.Channel, tcp net.Conn) *channelConn {
	c := &channelConn{
		ch: ch, tcp: tcp, local: tcp.LocalAddr(), remote: tcp.RemoteAddr(),
		chunks: make(chan chunk), closed: make(chan struct{}),
	}
	c.rdl.init()
	go c.readLoop()
	return c
}

func (c *channelConn) readLoop() {
	for {
		buf := chunkPool.Get().(*[]byte)
		n, err := c.ch.Read(*buf)
		select {
		case c.chunks <- chunk{buf: buf, b: (*buf)[:n], err: err}:
		case <-c.closed:
			chunkPool.Put(buf)
			return
		}
		if err != nil {
			return
		}
	}
}

func (c *channelConn) Read(p []byte) (int, error) {
	if c.cur.buf == nil {
		if c.rerr != nil {
			return 0, c.rerr
		}
		select {
		case <-c.closed:
			return 0, net.ErrClosed
		default:
		}
		select {
		case c.cur = <-c.chunks:
		case <-c.rdl.wait():
			return 0, os.ErrDeadlineExceeded
		case <-c.closed:
			return 0, net.ErrClosed
		}
	}
	n := copy(p, c.cur.b)
	c.cur.b = c.cur.b[n:]
	if len(c.cur.b) == 0 {
		chunkPool.Put(c.cur.buf)
		if c.cur.err != nil {
			c.rerr = c.cur.err
		}
		c.cur = chunk{}
		if n == 0 && c.rerr != nil {
			return 0, c.rerr
		}
	}
	return n, nil
}

func (c *channelConn) Write(p []byte) (int, error) {
	// writing is set before the deadline is looked at: either the timer sees
	// the write in progress, or the write sees the deadline passed.
	c.writing.Store(true)
	defer c.writing.Store(false)
	if dl := c.wdlNanos.Load(); dl != 0 && time.Now().UnixNano() >= dl || c.expired.Load() {
		return 0, os.ErrDeadlineExceeded
	}
	n, err := c.ch.Write(p)
	if err != nil && c.expired.Load() {
		err = os.ErrDeadlineExceeded
	}
	return n, err
}

func (c *channelConn) SetWriteDeadline(t time.Time) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.wdl = t
	if t.IsZero() {
		c.wdlNanos.Store(0)
		if c.wtimer != nil {
			c.wtimer.Stop()
		}
		return nil
	}
	c.wdlNanos.Store(t.UnixNano())
	d := time.Until(t)
	if c.wtimer == nil {
		c.wtimer = time.AfterFunc(d, c.writeDeadlinePassed)
	} else {
		c.wtimer.Reset(d)
	}
	return nil
}

// writeDeadlinePassed runs on the write deadline's timer: a write still blocked
// then is ended by closing the connection under it.
func (c *channelConn) writeDeadlinePassed() {
	c.wmu.Lock()
	dl := c.wdl
	c.wmu.Unlock()
	if dl.IsZero() || time.Now().Before(dl) || !c.writing.Load() {
		return // moved on since, or no write to end
	}
	c.expired.Store(true)
	c.tcp.Close()
}

func (c *channelConn) SetReadDeadline(t time.Time) error {
	c.rdl.set(t)
	return nil
}

func (c *channelConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *channelConn) LocalAddr() net.Addr  { return c.local }
func (c *channelConn) RemoteAddr() net.Addr { return c.remote }

// SetExitStatus sets the status Close reports to the client (server.Session
// calls it before Close).
func (c *channelConn) SetExitStatus(code int) {
	c.exit.Store(int32(code))
	c.exitSet.Store(true)
}

// closeWait is how long Close lets the client close the connection itself after
// the channel is closed: closing a socket with data unread can reset it, and
// the client lose the end of what was sent.
const closeWait = time.Second

// Close sends the exit status, closes the channel and then the connection. It
// never blocks longer than about a second: a client that does not read is cut
// off.
func (c *channelConn) Close() error {
	c.close1.Do(func() {
		close(c.closed)
		c.tcp.SetWriteDeadline(time.Now().Add(closeWait))
		if c.exitSet.Load() {
			var status [4]byte
			binary.BigEndian.PutUint32(status[:], uint32(c.exit.Load()))
			c.ch.SendRequest("exit-status", false, status[:])
		}
		c.ch.CloseWrite()
		c.ch.Close()
		c.wmu.Lock()
		if c.wtimer != nil {
			c.wtimer.Stop()
		}
		c.wmu.Unlock()
		c.rdl.stop()
	})
	return nil
}

// deadline is a read deadline that a blocked Read can wait on: wait returns a
// channel closed once the deadline has passed. (The shape of net.Pipe's.)
type deadline struct {
	mu     sync.Mutex
	timer  *time.Timer
	cancel chan struct{}
}

func (d *deadline) init() { d.cancel = make(chan struct{}) }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.cancel // the timer's function ran, or is about to: wait for it
	}
	d.timer = nil
	closed := isClosed(d.cancel)
	if t.IsZero() {
		if closed {
			d.cancel = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.cancel = make(chan struct{})
		}
		cancel := d.cancel
		d.timer = time.AfterFunc(dur, func() { close(cancel) })
		return
	}
	if !closed {
		close(d.cancel)
	}
}

func (d *deadline) wait() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.cancel
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

var _ io.ReadWriteCloser = (*channelConn)(nil)
