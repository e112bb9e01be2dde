package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/storify/storify"
	"github.com/storify/storify/shell"
)

// Cluster is the shell.Hub of one instance of a store that several instances share:
// the manager's customers, kick and say reach the customers of every live instance,
// this one's through Local and the others' through Instances, which carries the
// requests and the replies (package postgres: LISTEN/NOTIFY and a table). Each
// instance answers the others with Answer.
//
// An instance that does not answer within half of Timeout (hung, stopped, cut off)
// is named in the answer, which holds what the others said; one that stopped
// renewing its lease (storify.InstanceLease) is no longer asked at all.
//
// A Cluster without Local is a script's (storify exec on a shared store): it serves
// no one and has not joined (Name is storify.ScriptInstance), and reaches every
// live instance's customers all the same.
type Cluster struct {
	Local     *Server
	Instances storify.Instances
	Name      string        // this instance's name, as it joined
	Timeout   time.Duration // the longest one command waits for the others; 0 means 5 seconds
	Log       *slog.Logger
}

var _ shell.Hub = (*Cluster)(nil)

// maxRemoteCustomers bounds the customers taken from one instance's reply.
const maxRemoteCustomers = 100_000

// Bounds on the text of a remote customer's fields, in bytes.
const (
	maxRemoteAddr = 64
	maxRemoteName = 200
)

// clusterRequest is what one instance asks another, as JSON.
type clusterRequest struct {
	Op      string `json:"op"`                // "customers", "kick" or "say"
	Session int64  `json:"session,omitempty"` // kick: the session on the instance asked
	Message string `json:"message,omitempty"` // say
}

// clusterReply is an instance's reply, as JSON.
type clusterReply struct {
	Customers []remoteCustomer `json:"customers,omitempty"`
	Kicked    bool             `json:"kicked,omitempty"`
	Told      int              `json:"told,omitempty"`
	Error     string           `json:"error,omitempty"` // the request was not understood
}

// remoteCustomer is a customer in a reply.
type remoteCustomer struct {
	ID         int64     `json:"id"`
	Addr       string    `json:"addr"`
	Name       string    `json:"name,omitempty"`
	Account    string    `json:"account,omitempty"`
	Since      time.Time `json:"since"`
	LastActive time.Time `json:"active"`
	Cart       int       `json:"cart"`
}

func (c *Cluster) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 5 * time.Second
	}
	return c.Timeout
}

func (c *Cluster) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}

// Roster lists the customers of every live instance (shell.Hub): this one's first,
// then the others' by instance name, each labelled with its instance when there are
// others. The instances that did not answer are named in Missing. If the others
// cannot be asked at all, it returns this instance's customers and an error.
func (c *Cluster) Roster(ctx context.Context) (shell.Roster, error) {
	var local []shell.CustomerInfo
	if c.Local != nil {
		local = c.Local.Customers()
	}
	replies, missing, err := c.ask(ctx, "", clusterRequest{Op: "customers"})
	if err == nil && len(replies) == 0 && len(missing) == 0 {
		return shell.Roster{Customers: local}, nil // alone: plain session numbers
	}
	// Others run, or may: sessions are N@INSTANCE, which kick takes even when
	// nobody else can be asked.
	for i := range local {
		local[i].Instance = c.Name
	}
	if err != nil {
		return shell.Roster{Customers: local}, unreached(err, "only this instance's customers are listed")
	}
	r := shell.Roster{Customers: local, Missing: missing}
	for _, rep := range replies {
		r.Customers = append(r.Customers, remoteCustomers(rep.instance, rep.Customers)...)
	}
	return r, nil
}

// KickSession disconnects a customer of any instance (shell.Hub). A session without
// an instance is this instance's, if no other is live; with others, it must name
// its instance, as Roster shows it.
func (c *Cluster) KickSession(ctx context.Context, ref shell.SessionRef) error {
	notFound := storify.Errorf(storify.ENOTFOUND, "no customer session %s; type customers to list them", ref)
	switch {
	case ref.Instance == c.Name && c.Local != nil:
		if !c.Local.Kick(ref.ID) {
			return notFound
		}
		return nil
	case ref.Instance == "":
		lctx, cancel := context.WithTimeout(ctx, c.timeout())
		others, err := c.Instances.Live(lctx)
		cancel()
		switch {
		case err != nil:
			return unreached(err, "try again in a moment")
		case len(others) == 0 && c.Local != nil:
			if !c.Local.Kick(ref.ID) {
				return notFound
			}
			return nil
		case len(others) == 0:
			return storify.Errorf(storify.ENOTFOUND, "no instance of the store is running, so no customer is connected")
		case len(others) == 1 && c.Local == nil:
			ref.Instance = others[0] // a script, and one instance: it is that one's
		default:
			this := ""
			if c.Local != nil {
				this = " (this one is " + c.Name + ")"
			}
			return storify.Errorf(storify.EINVALID, "several instances are running%s: name the session as customers shows it, NUMBER@INSTANCE", this)
		}
	}
	replies, missing, err := c.ask(ctx, ref.Instance, clusterRequest{Op: "kick", Session: ref.ID})
	switch {
	case err != nil:
		return unreached(err, "try again in a moment")
	case len(missing) > 0:
		return storify.Errorf(storify.EUNAVAILABLE, "instance %s did not answer: customer %s may still be connected", ref.Instance, ref)
	case len(replies) == 0:
		return storify.Errorf(storify.ENOTFOUND, "no instance %s is running; type customers to list the customers", ref.Instance)
	case !replies[0].Kicked:
		return notFound
	}
	return nil
}

// Say sends msg to the customers of every live instance (shell.Hub) and counts
// those told. If the others cannot be asked, this instance's customers are told
// all the same, and the error says so.
func (c *Cluster) Say(ctx context.Context, msg string) (shell.Told, error) {
	var told shell.Told
	if c.Local != nil {
		told.Customers = c.Local.Broadcast(msg)
	}
	replies, missing, err := c.ask(ctx, "", clusterRequest{Op: "say", Message: msg})
	if err != nil {
		return told, unreached(err, "only this instance's customers were told")
	}
	for _, rep := range replies {
		told.Customers += min(max(rep.Told, 0), maxRemoteCustomers)
	}
	told.Missing = missing
	return told, nil
}

// NotifyOrder tells this instance's customers whose order o is (shell.Hub): the
// other instances hear of the order from the store.
func (c *Cluster) NotifyOrder(o storify.Order, msg string) int {
	if c.Local == nil {
		return 0
	}
	return c.Local.NotifyOrder(o, msg)
}

// Answer answers another instance's request, from is its name: for
// storify.Instances.Join.
func (c *Cluster) Answer(_ context.Context, from string, body []byte) []byte {
	var req clusterRequest
	var rep clusterReply
	if err := json.Unmarshal(body, &req); err != nil {
		rep.Error = "the request is not JSON"
		return encode(rep)
	}
	switch req.Op {
	case "customers":
		for _, ci := range c.Local.Customers() {
			rep.Customers = append(rep.Customers, remoteCustomer{ID: ci.ID, Addr: ci.Addr, Name: ci.Name, Account: ci.Account,
				Since: ci.Since, LastActive: ci.LastActive, Cart: ci.CartUnits})
		}
	case "kick":
		if rep.Kicked = c.Local.Kick(req.Session); rep.Kicked {
			c.log().Info("customer disconnected by the manager of another instance", "session", req.Session, "by", from)
		}
	case "say":
		msg := strings.TrimSpace(req.Message)
		if msg == "" || len(msg) > shell.MaxMessage || !storify.Printable(msg) {
			rep.Error = "the message is empty, too long, or not printable"
			break
		}
		rep.Told = c.Local.Broadcast(msg)
		c.log().Info("message from the manager of another instance sent", "customers", rep.Told, "by", from)
	default:
		rep.Error = "unknown request"
	}
	return encode(rep)
}

// reply is an instance's reply, read.
type reply struct {
	instance string
	clusterReply
}

// ask sends req to the other live instances (or the one named to), and reads their
// replies. A reply that cannot be read counts as no answer, and is logged.
func (c *Cluster) ask(ctx context.Context, to string, req clusterRequest) (replies []reply, missing []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	got, missing, err := c.Instances.Ask(ctx, to, encode(req), c.timeout()/2)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range got {
		if storify.CheckInstanceName(r.Instance) != nil {
			continue
		}
		var cr clusterReply
		if err := json.Unmarshal(r.Body, &cr); err != nil || cr.Error != "" {
			c.log().Warn("another instance's reply could not be read; taken for no answer", "instance", r.Instance, "err", err, "reply_error", safeText(cr.Error, 100))
			missing = append(missing, r.Instance)
			continue
		}
		replies = append(replies, reply{r.Instance, cr})
	}
	slices.Sort(missing)
	return replies, missing, nil
}

// unreached is what a manager is told when the other instances could not be asked:
// what was done (then), and why, which the log says in full.
func unreached(err error, then string) error {
	var why string
	switch storify.ErrorCode(err) {
	case storify.EUNAVAILABLE:
		why = "the store cannot reach its database just now"
	case storify.EINTERNAL:
		why = "something went wrong on our side"
	default:
		why = storify.ErrorMessage(err)
	}
	return storify.Errorf(storify.EUNAVAILABLE, "the other instances could not be asked (%s); %s", why, then)
}

// remoteCustomers turns an instance's list of customers into the manager's,
// keeping at most maxRemoteCustomers, with every text made safe to show and cut to
// size: the list comes from another process.
func remoteCustomers(instance string, list []remoteCustomer) []shell.CustomerInfo {
	out := make([]shell.CustomerInfo, 0, min(len(list), maxRemoteCustomers))
	for _, rc := range list[:min(len(list), maxRemoteCustomers)] {
		if rc.ID <= 0 {
			continue
		}
		out = append(out, shell.CustomerInfo{
			ID: rc.ID, Instance: instance, Addr: safeText(rc.Addr, maxRemoteAddr),
			Name: safeText(rc.Name, maxRemoteName), Account: safeText(rc.Account, maxRemoteName),
			Since: rc.Since, LastActive: rc.LastActive, CartUnits: min(max(rc.Cart, 0), storify.MaxQty*1000),
		})
	}
	return out
}

// safeText makes s fit to show: valid UTF-8, control and format characters as ?,
// at most n bytes.
func safeText(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "") // a rune cut in two goes
	}
	return s
}

// encode writes v as JSON, without escaping < > & (a message stays as short as it
// was typed).
func encode(v any) []byte {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		panic(fmt.Sprintf("server: encoding %T: %v", v, err)) // plain structs always encode
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
