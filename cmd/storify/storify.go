package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/logging"
	"github.com/storify/storify/postgres"
	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
	"github.com/storify/storify/sqlite"
	"golang.org/x/term"
)

// errUsage means the flags were wrong; the flag package has said why.
var errUsage = errors.New("usage")

// Config is everything the flags and environment set.
type Config struct {
	DB        string
	DBTimeout time.Duration // the budget of one database call
	Listen    string
	Name      string
	NoSample  bool

	MaxLine      int
	MaxCustomers int
	MaxPerIP     int
	IdleTimeout  time.Duration
	WriteTimeout time.Duration
	ShutdownWait time.Duration

	LogLevel       slog.Level // the lowest level logged: Info unless --log-level says
	LogJSON        bool       // --log-format json: JSON lines instead of key=value text
	MaxNewAccounts int        // accounts opened per hour in the whole store

	ProxyProtocol  bool           // customers come through proxies that send a PROXY header
	TrustedProxies []netip.Prefix // the proxies whose PROXY header is believed

	MetricsListen string // where /metrics, /healthz and /readyz are served; "" for nowhere

	// Instance is this instance's name among those sharing a PostgreSQL store; ""
	// for the host name and the customers' port.
	Instance string

	// The console's script, when stdin is not a terminal or with -c or exec.
	FailFast bool     // --fail-fast: stop at the first failed command
	Commands string   // -c: run these commands (one a line) instead of reading stdin
	Command  []string // storify exec's arguments: the words of one command

	SSHListen  string // "" serves no SSH
	SSHHostKey string // a private key file; "" keeps the host key in the store
	AdminKeys  string // authorized_keys of the managers over SSH; "" for none
}

// logCloseWait is how long Close waits for the log output to take the last lines: a
// log reader that stopped reading must not hold up exit.
const logCloseWait = 500 * time.Millisecond

// Main is the whole program, so that a test can run it in-process on a :0 port.
type Main struct {
	Config Config
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Interactive forces the console's line editor on or off; nil asks whether
	// stdin is a terminal.
	Interactive *bool
	// Ready, if not nil, is closed once the store is open and customers can connect.
	Ready chan struct{}
	// ScriptPrompt is written before each line a script console reads (stdin not a
	// terminal), so that a program driving it line by line sees where a reply ends.
	// Empty by default: a script's stdout holds only the replies.
	ScriptPrompt string

	Store  storify.Store
	Server *server.Server
	// Hub is what the managers' customers, kick and say reach: Server, or on a
	// shared store every live instance (a server.Cluster). Open sets it.
	Hub shell.Hub
	// Instance is this instance's name on a shared store, once Open has joined;
	// "" on a store that only this instance opens.
	Instance string
	// Log is the program's logger; Open makes one on Stderr (or above the console's
	// line) unless it is set.
	Log *slog.Logger
	// Metrics is where the rooms report; Open sets it (Prometheus with
	// --metrics-listen, storify.NoMetrics without).
	Metrics storify.Metrics
	metrics *metricsServer // serving --metrics-listen, once Open has started it
	// shopStore is Store as the customers and the console use it: reporting to
	// Metrics when they are served.
	shopStore storify.Store
	logs      *logging.Logs // the log path Open made for Log, if it made one
	bans      *server.Bans  // the addresses the manager turned away
	listener  net.Listener
	served    chan error
	console   *console

	sshListener net.Listener // nil without --ssh-listen
	sshServed   chan error
	hostKey     string // the SSH host key's fingerprint
	shopOptions server.ShopOptions
	events      atomic.Pointer[server.Server] // shows log events to SSH managers, while set
	stopOrders  func()                        // stops telling customers of other instances' ships and cancels
	stopBans    func()                        // stops following a shared store's bans
}

// NewMain returns a Main on the process's standard streams.
func NewMain() *Main {
	return &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
}

// ParseFlags reads flags, with defaults from the environment.
func (m *Main) ParseFlags(name string, args []string) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(m.Stderr)
	c := &m.Config
	fs.StringVar(&c.DB, "db", env("STORIFY_DB", "storify.db"), "the store: a SQLite file, or a postgres:// URL for PostgreSQL (env STORIFY_DB)")
	dbTimeout, derr := durationEnv("STORIFY_DB_TIMEOUT", defaultDBTimeout)
	if derr != nil {
		fmt.Fprintf(m.Stderr, "storify: %v\n", derr)
		return errUsage
	}
	fs.DurationVar(&c.DBTimeout, "db-timeout", dbTimeout,
		"longest a database call may take, retries and waiting for a connection included; past it a customer is told the store cannot reach its database (env STORIFY_DB_TIMEOUT)")
	fs.StringVar(&c.Name, "name", env("STORIFY_NAME", "OPEN store"), "the store's name (env STORIFY_NAME)")
	fs.BoolVar(&c.NoSample, "no-sample", false, "start a new store with an empty catalog")
	level := fs.String("log-level", env("STORIFY_LOG_LEVEL", "info"), "the lowest level logged: debug, info, warn or error (env STORIFY_LOG_LEVEL)")
	format := fs.String("log-format", env("STORIFY_LOG_FORMAT", "text"), "log lines as text (key=value) or json (env STORIFY_LOG_FORMAT)")
	// The flags of serving customers; storify exec serves none, so it has none of them.
	var trusted *string
	if name != "storify exec" {
		trusted = m.serveFlags(fs)
	}
	if err := m.parseScriptFlags(fs, name, args); err != nil {
		return err
	}
	if c.DBTimeout <= 0 {
		fmt.Fprintf(m.Stderr, "storify: --db-timeout must be positive\n")
		return errUsage
	}
	var err error
	if c.LogLevel, err = logging.ParseLevel(*level); err != nil {
		fmt.Fprintf(m.Stderr, "storify: --log-level (or STORIFY_LOG_LEVEL) must be debug, info, warn or error, not %q\n", *level)
		return errUsage
	}
	if c.LogJSON, err = logging.ParseFormat(*format); err != nil {
		fmt.Fprintf(m.Stderr, "storify: --log-format (or STORIFY_LOG_FORMAT) must be text or json, not %q\n", *format)
		return errUsage
	}
	if c.Name = strings.TrimSpace(c.Name); !storify.Printable(c.Name) || c.Name == "" || len(c.Name) > 60 {
		fmt.Fprintf(m.Stderr, "storify: --name must be 1 to 60 printable characters\n")
		return errUsage
	}
	if trusted == nil {
		return nil
	}
	if c.Commands != "" {
		// -c runs commands and exits, as exec does: a flag that only serving
		// would use, given on the command line, is a mistake to point out.
		var serving []string
		fs.Visit(func(f *flag.Flag) {
			if !scriptFlags[f.Name] {
				serving = append(serving, "--"+f.Name)
			}
		})
		if len(serving) > 0 {
			fmt.Fprintf(m.Stderr, "storify: -c runs commands and exits without serving customers: %s would do nothing\n", strings.Join(serving, ", "))
			return errUsage
		}
		return nil
	}
	if c.TrustedProxies, err = parseTrustedProxies(*trusted); err != nil {
		fmt.Fprintf(m.Stderr, "storify: --trusted-proxies: %v\n", err)
		return errUsage
	}
	if c.ProxyProtocol && len(c.TrustedProxies) == 0 {
		fmt.Fprintf(m.Stderr, "storify: --proxy-protocol needs --trusted-proxies: the addresses of the proxies to believe\n")
		return errUsage
	}
	if c.MaxNewAccounts <= 0 {
		fmt.Fprintf(m.Stderr, "storify: --max-new-accounts must be a positive number\n")
		return errUsage
	}
	if c.Instance != "" {
		if err := storify.CheckInstanceName(c.Instance); err != nil {
			fmt.Fprintf(m.Stderr, "storify: --instance (or STORIFY_INSTANCE): %s\n", storify.ErrorMessage(err))
			return errUsage
		}
	}
	return nil
}

// scriptFlags are the flags that matter to a script (-c, exec): the store, its
// name, the log, and how the script runs. The rest are for serving customers.
var scriptFlags = map[string]bool{"db": true, "db-timeout": true, "name": true, "no-sample": true,
	"log-level": true, "log-format": true, "fail-fast": true, "c": true}

// serveFlags adds the flags of serving customers to fs; it returns the unparsed
// --trusted-proxies.
func (m *Main) serveFlags(fs *flag.FlagSet) (trusted *string) {
	c := &m.Config
	fs.StringVar(&c.Listen, "listen", env("STORIFY_LISTEN", "127.0.0.1:65432"),
		"address customers connect to; :65432 listens on every interface (env STORIFY_LISTEN)")
	fs.IntVar(&c.MaxLine, "max-line", server.DefaultMaxLine, "longest command line a customer may send, in bytes")
	fs.IntVar(&c.MaxCustomers, "max-customers", server.DefaultMaxCustomers, "customers connected at once")
	fs.IntVar(&c.MaxPerIP, "max-per-ip", server.DefaultMaxPerIP, "customers connected at once from one address (loopback is not limited)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "disconnect a customer silent this long")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", server.DefaultWriteTimeout, "drop a customer who reads nothing this long")
	fs.DurationVar(&c.ShutdownWait, "shutdown-wait", 5*time.Second, "longest wait for customers' commands at shutdown")
	fs.IntVar(&c.MaxNewAccounts, "max-new-accounts", envInt("STORIFY_MAX_NEW_ACCOUNTS", 100),
		"accounts customers may open per hour in the whole store (env STORIFY_MAX_NEW_ACCOUNTS)")
	fs.BoolVar(&c.ProxyProtocol, "proxy-protocol", env("STORIFY_PROXY_PROTOCOL", "") == "1" || env("STORIFY_PROXY_PROTOCOL", "") == "true",
		"customers connect through a load balancer that sends the PROXY protocol (v1 or v2); needs --trusted-proxies (env STORIFY_PROXY_PROTOCOL=1)")
	fs.StringVar(&c.MetricsListen, "metrics-listen", env("STORIFY_METRICS_LISTEN", ""),
		"address to serve Prometheus metrics (/metrics), /healthz and /readyz on, e.g. 127.0.0.1:9464; off when empty (env STORIFY_METRICS_LISTEN)")
	trusted = fs.String("trusted-proxies", env("STORIFY_TRUSTED_PROXIES", ""),
		"comma-separated CIDRs of the proxies whose PROXY header is believed, e.g. 10.0.0.5/32,fd00::/64 (env STORIFY_TRUSTED_PROXIES)")
	fs.StringVar(&c.Instance, "instance", env("STORIFY_INSTANCE", ""),
		"this instance's name among the instances sharing a PostgreSQL store, shown by customers and taken by kick; default: the host name and the customers' port, such as shop1:65432 (env STORIFY_INSTANCE)")
	fs.StringVar(&c.SSHListen, "ssh-listen", env("STORIFY_SSH_LISTEN", ""),
		"address customers (and managers) connect to over SSH, e.g. 127.0.0.1:2222; empty: no SSH (env STORIFY_SSH_LISTEN)")
	fs.StringVar(&c.SSHHostKey, "ssh-host-key", env("STORIFY_SSH_HOST_KEY", ""),
		"the SSH host key's private key file; empty: an Ed25519 key made on first start and kept in the store (env STORIFY_SSH_HOST_KEY)")
	fs.StringVar(&c.AdminKeys, "admin-keys", env("STORIFY_ADMIN_KEYS", ""),
		"authorized_keys file of the managers: user manager with one of these keys gets the console over SSH (env STORIFY_ADMIN_KEYS)")
	return trusted
}

// parseFlags parses args with fs, whose usage text is text: flag.ErrHelp for -h
// (the help written to stdout, where --help | less finds it), errUsage (the reason
// written on fs's output, with where to find help) for wrong flags or stray
// arguments. With allowArgs, arguments after the flags are left in fs.Args().
func parseFlags(fs *flag.FlagSet, text string, args []string, stdout io.Writer, allowArgs bool) error {
	fs.Usage = func() {} // the flag package calls it on errors too; we print below
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, text)
			printFlags(stdout, fs)
			return err
		}
		fmt.Fprintf(fs.Output(), "Run %s --help for usage.\n", fs.Name())
		return errUsage
	}
	if fs.NArg() > 0 && !allowArgs {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\nRun %s --help for usage.\n", fs.Name(), fs.Arg(0), fs.Name())
		return errUsage
	}
	return nil
}

// defaultDBTimeout is --db-timeout's default.
const defaultDBTimeout = 5 * time.Second

// durationEnv reads a duration from the environment; def if it is not set.
func durationEnv(key string, def time.Duration) (time.Duration, error) {
	v := env(key, "")
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q is not a duration (such as 5s or 500ms)", key, v)
	}
	return d, nil
}

// envInt is env for a whole number; a value that is not one is ignored.
func envInt(key string, def int) int {
	if n, err := strconv.Atoi(env(key, "")); err == nil {
		return n
	}
	return def
}

func env(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}

// Run parses args, opens the store and serves customers; with console it runs the
// manager's console until exit or end of input, otherwise until ctx ends. Then it
// closes everything gracefully.
func (m *Main) Run(ctx context.Context, args []string, console bool) error {
	name := "storify"
	if !console {
		name = "storify serve"
	}
	if err := m.ParseFlags(name, args); err != nil {
		return err
	}
	if console && m.Config.Commands != "" {
		return m.runScript(ctx, strings.NewReader(m.Config.Commands+"\n"))
	}
	if console {
		m.console = newConsole(m)
	}
	if err := m.Open(ctx); err != nil {
		m.closeConsole()
		m.closeLog()
		return err
	}
	var err error
	if console {
		err = m.console.run(ctx)
	} else {
		select {
		case <-ctx.Done():
		case err = <-m.served:
		}
	}
	// A second signal during shutdown exits at once.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sig)
	go func() {
		if _, ok := <-sig; ok {
			sayBounded(m.Stderr, "storify: second signal; exiting at once\n")
			os.Exit(1)
		}
	}()
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open opens the store (seeding a new one with the sample catalog) and starts
// serving customers on Config.Listen.
func (m *Main) Open(ctx context.Context) error {
	if m.Log == nil {
		// The console shows events live above the line being typed, so their time
		// would only take room; a service's log needs it.
		var w io.Writer = m.Stderr
		if m.console != nil {
			w = m.console.logOutput()
		}
		// A person at the console's terminal reads events as sentences; a pipe, a
		// file or a service manager gets structured lines.
		readable := m.console != nil && m.console.rl != nil && !m.Config.LogJSON
		m.logs = logging.New(w, logging.Config{Level: m.Config.LogLevel, JSON: m.Config.LogJSON, NoTime: m.console != nil, Readable: readable})
		// Events go to the log, and to the managers connected over SSH.
		m.Log = slog.New(teeHandler{m.logs.Logger.Handler(), newManagerEvents(&m.events)})
	}
	m.newMetrics()
	if err := m.openStore(ctx); err != nil {
		return err
	}
	if err := m.serveMetrics(); err != nil {
		m.Store.Close()
		return err
	}
	store := m.Store
	if nc, ok := store.(interface{ NameConflicts() []storify.NameConflict }); ok {
		for _, c := range nc.NameConflicts() {
			m.Log.Warn("account cannot log in: its name breaks the account name rule; rename it",
				"account", c.ID, "name", c.Name, "same_as", c.WithID, "why", c.Reason)
		}
	}
	// Customers and the console use the Store through observedStore when it is
	// watched; without metrics, nothing stands between them and it.
	m.shopStore = store
	if m.metrics != nil {
		m.shopStore = observedStore{store, m.Metrics}
	}
	l, err := net.Listen("tcp", m.Config.Listen)
	if err != nil {
		m.closeMetrics()
		store.Close()
		return fmt.Errorf("listening for customers: %w", err)
	}
	if m.Config.ProxyProtocol {
		l = newProxyListener(l, m.Config.TrustedProxies, m.Log, m.Metrics)
	}
	m.listener = l
	// One login throttle and one hashing budget (its dummy hash built now) for the
	// process: telnet's login command and SSH's passwords go through the same.
	m.shopOptions = server.ShopOptions{
		Throttle:      shell.NewLoginThrottle(),
		Passwords:     shell.NewPasswords(shell.PasswordBudget{}),
		Registrations: shell.NewRegisterThrottle(m.Config.MaxNewAccounts),
		Metrics:       m.commandMetrics(),
	}
	m.Server = &server.Server{
		Name: m.Config.Name, Log: m.Log, Handler: server.Shop(eventStore{m.shopStore, m.Log}, m.Config.Name, m.Log, m.shopOptions),
		MaxLine: m.Config.MaxLine, MaxCustomers: m.Config.MaxCustomers, MaxPerIP: m.Config.MaxPerIP,
		IdleTimeout: m.Config.IdleTimeout, WriteTimeout: m.Config.WriteTimeout,
		Metrics: m.Metrics,
	}
	m.Hub = m.Server
	if err := m.joinInstances(ctx, l.Addr()); err != nil {
		l.Close()
		m.closeMetrics()
		store.Close()
		m.Store, m.Server, m.Hub = nil, nil, nil
		return err
	}
	var ssh *sshTransport
	if m.Config.SSHListen != "" {
		if ssh, err = m.openSSH(ctx); err != nil {
			l.Close()
			m.closeMetrics()
			store.Close()
			m.Store, m.Server = nil, nil
			return err
		}
	}
	m.stopOrders = watchOrders(context.Background(), m.shopStore, m.Server, m)
	m.served = make(chan error, 1)
	m.bans = &server.Bans{Log: m.Log, Metrics: m.Metrics}
	m.stopBans = shareLimits(m.Store, m.shopOptions.Throttle, m.shopOptions.Registrations, m.bans)
	go func() { m.served <- m.Server.Serve(m.bans.Listener(l)) }()
	if ssh != nil {
		if len(ssh.AdminKeys) > 0 {
			m.events.Store(m.Server)
		}
		m.sshServed = make(chan error, 1)
		go func() { m.sshServed <- ssh.Serve(m.bans.Listener(m.sshListener)) }()
	}
	if m.Ready != nil {
		close(m.Ready)
	}
	attrs := []any{"name", m.Config.Name, "db", redact(m.Config.DB), "customers", "telnet " + strings.Replace(l.Addr().String(), ":", " ", 1)}
	if m.Instance != "" {
		attrs = append(attrs, "instance", m.Instance)
	}
	if ssh != nil {
		host, port, _ := net.SplitHostPort(m.sshListener.Addr().String())
		attrs = append(attrs, "ssh", "ssh -p "+port+" "+host, "ssh_host_key", m.hostKey)
	}
	m.Log.Info("store open", attrs...)
	return nil
}

// SSHAddr is the address SSH clients connect to, once Open has succeeded with
// --ssh-listen; nil without.
func (m *Main) SSHAddr() net.Addr {
	if m.sshListener == nil {
		return nil
	}
	return m.sshListener.Addr()
}

// openStore opens the store that Config.DB names as m.Store. A store opened for the
// first time ever gets the sample catalog, unless Config.NoSample says not to; a
// store opened before never does, even when its catalog is empty.
func (m *Main) openStore(ctx context.Context) error {
	store, err := openStore(ctx, m.Config.DB, m.Config.DBTimeout, m.Metrics, m.Log)
	if err != nil {
		return err
	}
	var sample []storify.NewProduct
	if !m.Config.NoSample {
		sample = sampleCatalog
	}
	if first, err := store.Initialize(ctx, sample); err != nil {
		store.Close()
		return fmt.Errorf("initializing the store: %w", err)
	} else if first && len(sample) > 0 {
		m.Log.Info("new store: added the sample catalog", "products", len(sample))
	}
	m.Store = store
	return nil
}

// Addr is the address customers connect to, once Open has succeeded.
func (m *Main) Addr() net.Addr { return m.listener.Addr() }

// Close says goodbye to the customers, waits up to Config.ShutdownWait for their
// commands in flight, and closes the store.
func (m *Main) Close() error {
	var errs []error
	if m.stopOrders != nil {
		m.stopOrders()
		m.stopOrders = nil
	}
	if m.stopBans != nil {
		m.stopBans()
		m.stopBans = nil
	}
	if m.Server != nil {
		m.events.Store(nil)
		ctx, cancel := context.WithTimeout(context.Background(), m.Config.ShutdownWait)
		if err := m.Server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("closing the customer server: %w", err))
		}
		cancel()
		if err := <-m.served; err != nil && !errors.Is(err, server.ErrServerClosed) {
			errs = append(errs, err)
		}
		if m.sshServed != nil {
			if err := <-m.sshServed; err != nil && !errors.Is(err, server.ErrServerClosed) {
				errs = append(errs, err)
			}
			m.sshServed, m.sshListener = nil, nil
		}
		m.Server, m.Hub = nil, nil
	}
	m.closeMetrics()
	if m.Store != nil {
		if err := closeStore(m.Store, storeCloseWait); err != nil {
			errs = append(errs, fmt.Errorf("closing the store: %w", err))
		}
		m.Store, m.shopStore = nil, nil
	}
	m.closeConsole()
	if len(errs) == 0 && m.Log != nil {
		m.Log.Info("store closed")
	}
	m.closeLog()
	return errors.Join(errs...)
}

// storeCloseWait is the longest Close waits for the store to close, after the
// customers' commands have ended: a database that does not answer must not hold up
// the exit (each backend bounds its own close by --db-timeout, which may be longer).
// Every order a customer was told of is committed by then; what is abandoned is
// connections and unanswered work.
const storeCloseWait = time.Second

// closeStore closes s, waiting at most wait.
func closeStore(s storify.Store, wait time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return fmt.Errorf("the database did not let go within %v; abandoned", wait)
	}
}

// closeLog writes the queued log lines, waiting for a stuck log reader no longer
// than logCloseWait. What it leaves is lost: there is nowhere left to say so.
func (m *Main) closeLog() {
	if m.logs == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), logCloseWait)
	defer cancel()
	m.logs.Close(ctx)
}

// LogDropped is how many log lines were dropped because the log output did not
// keep up (or failed), since Open.
func (m *Main) LogDropped() uint64 {
	if m.logs == nil {
		return 0
	}
	return m.logs.Dropped()
}

func (m *Main) closeConsole() {
	if m.console != nil {
		m.console.close()
	}
}

// openStore opens the storage backend that dsn names: a postgres:// or
// postgresql:// URL selects PostgreSQL, anything else is a SQLite file. Every
// database call gets timeout. Opening PostgreSQL must succeed within it too: a
// database that cannot be reached fails the start at once, with an error that wraps
// storify.ErrUnavailable (exit status 3), rather than retrying: a service manager
// restarts the program with its own backoff, and a person at the console learns at
// once that the database is away.
func openStore(ctx context.Context, dsn string, timeout time.Duration, metrics storify.StoreMetrics, log *slog.Logger) (storify.Store, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		s, err := postgres.Open(ctx, dsn, postgres.Options{Timeout: timeout, Metrics: metrics, Log: log})
		if errors.Is(err, storify.ErrUnavailable) {
			return nil, fmt.Errorf("cannot reach the database %s within --db-timeout %v: %w", redact(dsn), timeout, err)
		}
		return s, err
	}
	return sqlite.Open(dsn, sqlite.Options{Timeout: timeout, Metrics: metrics})
}

// redact hides a password in a database URL before it is logged.
func redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		return u.Redacted()
	}
	return dsn
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var _ shell.Hub = (*server.Server)(nil)
