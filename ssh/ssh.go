// Package ssh is storify's second way in, next to telnet: customers and managers
// over SSH (golang.org/x/crypto/ssh), on the same command engine and the same
// session registry. The server package accepts the connections, counts them
// against its limits and shuts them down; this package speaks SSH on them:
// host key, authentication, one session channel per connection, a line codec
// without a terminal and a line editor with one.
package ssh

import (
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
	gossh "golang.org/x/crypto/ssh"
)

// Defaults for the Transport's limits.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultMaxAuthTries     = 6
)

// refuseTimeout bounds the handshake that tells a refused client why, and
// maxRefusing the number of those handshakes at once; past it a refused
// connection is just closed.
const (
	refuseTimeout = 5 * time.Second
	maxRefusing   = 32
)

// Transport serves SSH connections for a server.Server. Set its fields before
// calling Serve.
type Transport struct {
	Server  *server.Server // the registry and limits, shared with telnet
	Store   storify.Store  // accounts and keys at login, and the SSH managers' console
	HostKey gossh.Signer
	// AdminKeys are the managers' keys: user "manager" with one of them gets
	// the manager's console. None: nobody is the manager over SSH.
	AdminKeys []AdminKey
	// HandshakeTimeout bounds the key exchange, authentication and the session
	// request together; zero means DefaultHandshakeTimeout.
	HandshakeTimeout time.Duration
	// MaxAuthTries caps authentication attempts on one connection; zero means
	// DefaultMaxAuthTries.
	MaxAuthTries int
	// Throttle is the login throttle passwords given to SSH go through: the
	// telnet customers' (server.ShopOptions). Nil: one of the transport's own.
	Throttle *shell.LoginThrottle
	// Passwords checks passwords within the store's hashing budget: the telnet
	// customers' (server.ShopOptions). Nil: one of the transport's own.
	Passwords *shell.Passwords
	Log       *slog.Logger
	// Metrics, if set, is told of the SSH managers' commands and of wrong or
	// throttled passwords; the customers' commands report through the server's
	// Handler (server.ShopOptions).
	Metrics storify.CommandMetrics

	// Hub is what the managers' customers, kick and say reach: nil for Server's
	// own customers, a server.Cluster for every instance's.
	Hub shell.Hub

	once     sync.Once
	config   *gossh.ServerConfig
	refusing atomic.Int32
}

// Name is the transport's name in the metrics (server.Named).
func (t *Transport) Name() string { return "ssh" }

func (t *Transport) init() {
	t.once.Do(func() {
		if t.Log == nil {
			t.Log = slog.New(slog.DiscardHandler)
		}
		if t.HandshakeTimeout <= 0 {
			t.HandshakeTimeout = DefaultHandshakeTimeout
		}
		if t.MaxAuthTries <= 0 {
			t.MaxAuthTries = DefaultMaxAuthTries
		}
		if t.Throttle == nil {
			t.Throttle = shell.NewLoginThrottle()
		}
		if t.Passwords == nil {
			t.Passwords = shell.NewPasswords(shell.PasswordBudget{})
		}
		t.config = &gossh.ServerConfig{
			MaxAuthTries:                t.MaxAuthTries,
			PublicKeyCallback:           t.publicKey,
			KeyboardInteractiveCallback: t.keyboardInteractive,
			PasswordCallback:            t.password,
			ServerVersion:               "SSH-2.0-storify",
		}
		t.config.AddHostKey(t.HostKey)
	})
}

// Serve accepts SSH connections on l until the server shuts down, which makes it
// return server.ErrServerClosed. It closes l.
func (t *Transport) Serve(l net.Listener) error {
	t.init()
	return t.Server.ServeTransport(l, t)
}

// Refuse tells a client over a limit why, in the authentication banner (which
// OpenSSH shows), and fails its authentication.
func (t *Transport) Refuse(conn net.Conn, why string) {
	t.init()
	if t.refusing.Add(1) > maxRefusing {
		t.refusing.Add(-1)
		return
	}
	defer t.refusing.Add(-1)
	conn.SetDeadline(time.Now().Add(refuseTimeout))
	cfg := &gossh.ServerConfig{
		MaxAuthTries:      1,
		PublicKeyCallback: refuseAll,
		KeyboardInteractiveCallback: func(gossh.ConnMetadata, gossh.KeyboardInteractiveChallenge) (*gossh.Permissions, error) {
			return nil, errAuth
		},
		PasswordCallback: func(gossh.ConnMetadata, []byte) (*gossh.Permissions, error) { return nil, errAuth },
		BannerCallback:   func(gossh.ConnMetadata) string { return why + "\r\n" },
		ServerVersion:    t.config.ServerVersion,
	}
	cfg.AddHostKey(t.HostKey)
	if sc, _, _, err := gossh.NewServerConn(conn, cfg); err == nil {
		sc.Close()
	}
}

// request is what a client asked of its session channel before the shell or the
// command started.
type request struct {
	pty     bool
	term    string
	width   int
	height  int
	command string // exec; "" for a shell
}

// ServeConn runs one SSH connection: the handshake and authentication, then one
// session channel, then the session on it through the ticket.
func (t *Transport) ServeConn(conn net.Conn, tk *server.Ticket) {
	t.init()
	conn.SetDeadline(time.Now().Add(t.HandshakeTimeout))
	sc, chans, reqs, err := gossh.NewServerConn(conn, t.config)
	if err != nil {
		t.Log.Debug("ssh handshake failed", "session", tk.ID(), "addr", conn.RemoteAddr().String(), "err", err)
		return
	}
	defer sc.Close()
	ch, chReqs, req, ok := t.sessionRequest(chans, reqs)
	if !ok {
		return
	}
	conn.SetDeadline(time.Time{})

	ext := sc.Permissions.Extensions
	manager := ext[extRole] == roleManager
	var ed *editor
	cfg := server.SessionConfig{Command: req.command, Manager: manager, NewLine: "\n", Codec: newLineCodec}
	if req.pty { // the client's terminal is raw: the server echoes and ends lines with CR LF
		ed = newEditor(req.width, req.height)
		cfg.Codec, cfg.NewLine = ed.codec, "\r\n"
	}
	go t.control(chans, reqs, chReqs, ed)

	mode := "shell"
	switch {
	case req.command != "":
		mode = "exec"
	case req.pty:
		mode = "terminal"
	}
	if manager {
		t.Log.Info("manager logged in over ssh", "session", tk.ID(), "key", ext[extKey], "comment", ext[extComment], "mode", mode)
		cfg.Handler = &managerHandler{t: t, key: ext[extKey], comment: ext[extComment]}
	} else {
		cfg.Key = storify.AccountKey{Fingerprint: ext[extKey], PublicKey: ext[extPublicKey]}
		if cfg.Account = loggedIn(ext); cfg.Account != nil {
			cfg.Greeting = "Welcome back to " + t.Server.Name + ", " + cfg.Account.Name + ". Type help or ? to list commands."
		}
		t.Log.Info("ssh customer", "session", tk.ID(), "user", sc.User(), "key", ext[extKey], "account", ext[extAccountName], "mode", mode)
	}
	cfg.Conn = newChannelConn(ch, conn)
	tk.Serve(cfg)

	// Let the client close first (see closeWait), or cut it off.
	cut := time.AfterFunc(closeWait, func() { sc.Close() })
	sc.Wait()
	cut.Stop()
}

// sessionRequest waits for the client's session channel and its shell or exec
// request, answering what comes before (pty-req, env). Other channel types
// (port forwarding) are refused: the store forwards nothing.
func (t *Transport) sessionRequest(chans <-chan gossh.NewChannel, reqs <-chan *gossh.Request) (gossh.Channel, <-chan *gossh.Request, request, bool) {
	var req request
	for {
		select {
		case r, ok := <-reqs:
			if !ok {
				return nil, nil, req, false
			}
			r.Reply(false, nil)
		case nc, ok := <-chans:
			if !ok {
				return nil, nil, req, false
			}
			if nc.ChannelType() != "session" {
				nc.Reject(gossh.Prohibited, "only sessions are served here")
				continue
			}
			ch, chReqs, err := nc.Accept()
			if err != nil {
				return nil, nil, req, false
			}
			for r := range chReqs {
				switch r.Type {
				case "pty-req":
					var p ptyRequest
					if gossh.Unmarshal(r.Payload, &p) != nil {
						r.Reply(false, nil)
						continue
					}
					req.pty, req.term, req.width, req.height = true, p.Term, int(p.Columns), int(p.Rows)
					r.Reply(true, nil)
				case "window-change":
					var w windowChange
					if gossh.Unmarshal(r.Payload, &w) == nil {
						req.width, req.height = int(w.Columns), int(w.Rows)
					}
				case "shell":
					r.Reply(true, nil)
					return ch, chReqs, req, true
				case "exec":
					var e struct{ Command string }
					if gossh.Unmarshal(r.Payload, &e) != nil {
						r.Reply(false, nil)
						continue
					}
					req.command = cleanCommand(e.Command)
					if req.command == "" {
						req.command = " " // an empty command runs nothing, and succeeds
					}
					r.Reply(true, nil)
					return ch, chReqs, req, true
				default:
					r.Reply(false, nil)
				}
			}
			ch.Close()
			return nil, nil, req, false
		}
	}
}

type ptyRequest struct {
	Term                   string
	Columns, Rows          uint32
	WidthPixels, HeightPix uint32
	Modes                  string
}

type windowChange struct {
	Columns, Rows          uint32
	WidthPixels, HeightPix uint32
}

// control answers what the client sends besides the session's input, until the
// connection ends: further channels are refused (one session per connection,
// so that the limits count sessions), global requests are refused, and
// window-change resizes the line editor. It never touches the session's
// output: a resize is picked up by the session's goroutine.
func (t *Transport) control(chans <-chan gossh.NewChannel, reqs, chReqs <-chan *gossh.Request, ed *editor) {
	for chans != nil {
		select {
		case nc, ok := <-chans:
			if !ok {
				chans = nil
				continue
			}
			nc.Reject(gossh.ResourceShortage, "one session per connection")
		case r, ok := <-reqs:
			if !ok {
				reqs = nil
				continue
			}
			r.Reply(false, nil)
		case r, ok := <-chReqs:
			if !ok {
				chReqs = nil
				continue
			}
			if r.Type == "window-change" && ed != nil {
				var w windowChange
				if gossh.Unmarshal(r.Payload, &w) == nil {
					ed.resize(int(w.Columns), int(w.Rows))
				}
			}
			if r.WantReply {
				r.Reply(false, nil)
			}
		}
	}
}

var (
	_ server.Transport = (*Transport)(nil)
	_ server.Codec     = (*lineCodec)(nil)
	_ server.Codec     = (*editor)(nil)
	_ server.Completer = (*editor)(nil)
	_ net.Conn         = (*channelConn)(nil)
)
