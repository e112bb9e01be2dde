package telnet_test

import (
	"errors"
	"os"
	"testing"

	"github.com/storify/storify/telnet"
)

// TestNegotiationReplies checks the exact answer to what real clients send at connect
// and to repeated or confirming requests.
func TestNegotiationReplies(t *testing.T) {
	tests := []struct {
		name  string
		input string
		reply string
	}{
		{name: "nothing sent at connect", input: "hello\r\n", reply: ""},
		{name: "PuTTY connect burst",
			input: IAC + WILL + NAWS + IAC + WILL + TSPEED + IAC + WILL + TTYPE + IAC + WILL + ENVIRON +
				IAC + DO + ECHO + IAC + WILL + SGA + IAC + DO + SGA,
			reply: IAC + DO + NAWS + IAC + DONT + TSPEED + IAC + DONT + TTYPE + IAC + DONT + ENVIRON +
				IAC + WONT + ECHO + IAC + DONT + SGA + IAC + WILL + SGA},
		{name: "BSD telnet burst (port 23 style)",
			input: IAC + DO + SGA + IAC + WILL + TTYPE + IAC + WILL + NAWS + IAC + WILL + TSPEED +
				IAC + WILL + LFLOW + IAC + WILL + LINEMODE + IAC + WILL + ENVIRON + IAC + DO + STATUS +
				IAC + WILL + XDISPLOC,
			reply: IAC + WILL + SGA + IAC + DONT + TTYPE + IAC + DO + NAWS + IAC + DONT + TSPEED +
				IAC + DONT + LFLOW + IAC + DONT + LINEMODE + IAC + DONT + ENVIRON + IAC + WONT + STATUS +
				IAC + DONT + XDISPLOC},
		{name: "repeated DO SGA answered once", input: IAC + DO + SGA + IAC + DO + SGA, reply: IAC + WILL + SGA},
		{name: "DONT SGA after agreeing", input: IAC + DO + SGA + IAC + DONT + SGA + IAC + DONT + SGA,
			reply: IAC + WILL + SGA + IAC + WONT + SGA},
		{name: "SGA can be enabled again", input: IAC + DO + SGA + IAC + DONT + SGA + IAC + DO + SGA,
			reply: IAC + WILL + SGA + IAC + WONT + SGA + IAC + WILL + SGA},
		{name: "DONT and WONT for options already off: silence",
			input: IAC + DONT + ECHO + IAC + DONT + SGA + IAC + DONT + NAWS + IAC + WONT + ECHO + IAC + WONT + TTYPE,
			reply: ""},
		{name: "NAWS agreed once", input: IAC + WILL + NAWS + IAC + WILL + NAWS, reply: IAC + DO + NAWS},
		{name: "NAWS withdrawn is confirmed once",
			input: IAC + WILL + NAWS + IAC + WONT + NAWS + IAC + WONT + NAWS, reply: IAC + DO + NAWS + IAC + DONT + NAWS},
		{name: "DO NAWS refused: the server has no window to report", input: IAC + DO + NAWS, reply: IAC + WONT + NAWS},
		{name: "unsolicited DO ECHO refused", input: IAC + DO + ECHO, reply: IAC + WONT + ECHO},
		{name: "unknown DO refused", input: IAC + DO + "\xc8", reply: IAC + WONT + "\xc8"},
		{name: "unknown WILL refused", input: IAC + WILL + "\xc8", reply: IAC + DONT + "\xc8"},
		{name: "DO BINARY refused", input: IAC + DO + "\x00" + IAC + WILL + "\x00", reply: IAC + WONT + "\x00" + IAC + DONT + "\x00"},
		{name: "DO TIMING-MARK", input: IAC + DO + TM + IAC + DO + TM, reply: IAC + WILL + TM + IAC + WILL + TM},
	}
	for _, tt := range tests {
		for _, way := range decodeWays {
			t.Run(tt.name+"/"+way.name, func(t *testing.T) {
				_, reply, _ := decode(t, tt.input, 0, way.wrap)
				if reply != tt.reply {
					t.Errorf("wrote\n %q\nwant %q", reply, tt.reply)
				}
			})
		}
	}
}

// A burst that arrives in one segment is answered in one write, not one per option.
func TestRepliesBatched(t *testing.T) {
	burst := IAC + WILL + NAWS + IAC + WILL + TTYPE + IAC + DO + ECHO + IAC + DO + SGA
	_, _, p := decode(t, burst, 0, decodeWays[0].wrap)
	if p.writes != 1 {
		t.Errorf("%d writes for one burst, want 1", p.writes)
	}
}

// conversation connects a Conn to a simulated client through an in-memory queue.
type conversation struct {
	t    *testing.T
	in   *queue
	p    *rwPipe
	conn *telnet.Conn
}

func newConversation(t *testing.T) *conversation {
	in := &queue{}
	p := &rwPipe{r: in}
	return &conversation{t: t, in: in, p: p, conn: telnet.NewConn(p, telnet.Options{})}
}

// send delivers client bytes, lets the Conn decode them (until it would block) and
// returns what the Conn wrote in answer.
func (cv *conversation) send(client string) string {
	cv.t.Helper()
	cv.in.buf.WriteString(client)
	for {
		_, err := cv.conn.ReadLine()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			cv.t.Fatalf("ReadLine: %v", err)
		}
	}
	out := cv.p.out.String()
	cv.p.out.Reset()
	return out
}

// flush returns what the caller queued (SetEcho), as the client would receive it.
func (cv *conversation) flush() string {
	cv.t.Helper()
	if err := cv.conn.Flush(); err != nil {
		cv.t.Fatal(err)
	}
	out := cv.p.out.String()
	cv.p.out.Reset()
	return out
}

// naiveClient acknowledges every command it receives, the behavior RFC 854 warns
// leads to endless loops between two such peers.
func naiveClient(server string) string {
	var reply []byte
	for i := 0; i+2 < len(server); i++ {
		if server[i] != IAC[0] {
			continue
		}
		opt := server[i+2]
		switch server[i+1] {
		case WILL[0]:
			reply = append(reply, IAC[0], DO[0], opt)
		case WONT[0]:
			reply = append(reply, IAC[0], DONT[0], opt)
		case DO[0]:
			reply = append(reply, IAC[0], WILL[0], opt)
		case DONT[0]:
			reply = append(reply, IAC[0], WONT[0], opt)
		}
		i += 2
	}
	return string(reply)
}

// politeClient wants every option it offered; it answers a refusal of a pending request
// with nothing, and a request from the server per RFC 1143 (it agrees to nothing new).
type politeClient struct {
	pending map[string]bool // "DO x" / "WILL x" sent and not yet answered
	enabled map[string]bool
}

func (pc *politeClient) receive(server string) string {
	var reply string
	for i := 0; i+2 < len(server); i++ {
		if server[i] != IAC[0] {
			continue
		}
		verb, opt := server[i+1:i+2], server[i+2:i+3]
		i += 2
		var mine, refuse string // the request this answers, and how to refuse a new one
		switch verb {
		case WILL:
			mine, refuse = DO+opt, IAC+DONT+opt
		case WONT:
			mine = DO + opt
		case DO:
			mine, refuse = WILL+opt, IAC+WONT+opt
		case DONT:
			mine = WILL + opt
		default:
			continue
		}
		positive := verb == WILL || verb == DO
		switch {
		case pc.pending[mine]:
			delete(pc.pending, mine)
			pc.enabled[mine] = positive
		case positive && !pc.enabled[mine]:
			reply += refuse // a new request from the server
		case positive:
			// Already on: RFC 1143 says no answer.
		case pc.enabled[mine]:
			pc.enabled[mine] = false
			if verb == WONT {
				reply += IAC + DONT + opt
			} else {
				reply += IAC + WONT + opt
			}
		}
	}
	return reply
}

// The Conn and a client answering each other must go quiet within a few rounds.
func TestNoNegotiationLoops(t *testing.T) {
	burst := IAC + WILL + NAWS + IAC + WILL + TTYPE + IAC + WILL + ENVIRON + IAC + DO + ECHO +
		IAC + WILL + SGA + IAC + DO + SGA + IAC + WILL + LINEMODE + IAC + DO + STATUS
	clients := []struct {
		name   string
		answer func(string) string
	}{
		{"naive", naiveClient},
		{"RFC 1143", func() func(string) string {
			pc := &politeClient{pending: map[string]bool{}, enabled: map[string]bool{}}
			for i := 0; i+2 < len(burst); i += 3 {
				pc.pending[burst[i+1:i+3]] = true
			}
			return pc.receive
		}()},
	}
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			cv := newConversation(t)
			server := cv.send(burst)
			if server == "" {
				t.Fatal("no answer to the connect burst")
			}
			echoDone := false
			for round := 0; ; round++ {
				if round > 10 {
					t.Fatalf("negotiation still going after %d rounds: server %q", round, server)
				}
				client := cl.answer(server)
				if !echoDone {
					// Password entry in between: hide and show echo once.
					echoDone = true
					if err := cv.conn.SetEcho(true); err != nil {
						t.Fatal(err)
					}
					client = cl.answer(cv.flush()) + client
				}
				if client == "" {
					break
				}
				server = cv.send(client)
				if server == "" {
					break
				}
			}
			if err := cv.conn.SetEcho(false); err != nil {
				t.Fatal(err)
			}
			server = cv.flush()
			for round := 0; server != ""; round++ {
				if round > 10 {
					t.Fatalf("echo negotiation still going: server %q", server)
				}
				server = cv.send(cl.answer(server))
			}
		})
	}
}

// TestSetEcho follows password entry with the answers real clients give.
func TestSetEcho(t *testing.T) {
	type exchange struct {
		hide   *bool  // call SetEcho with this value, then Flush
		client string // or: deliver these client bytes
		want   string // bytes the Conn writes in answer
	}
	on, off := true, false
	tests := []struct {
		name  string
		steps []exchange
	}{
		{name: "telnet client agrees both ways", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{client: IAC + DO + ECHO, want: ""},
			{hide: &off, want: IAC + WONT + ECHO},
			{client: IAC + DONT + ECHO, want: ""},
			{hide: &on, want: IAC + WILL + ECHO},
		}},
		{name: "repeated requests send once", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{hide: &on, want: ""},
			{client: IAC + DO + ECHO, want: ""},
			{hide: &on, want: ""},
			{hide: &off, want: IAC + WONT + ECHO},
			{hide: &off, want: ""},
		}},
		{name: "raw client never answers", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{hide: &off, want: ""},
			{hide: &on, want: ""},
			{hide: &off, want: ""},
		}},
		{name: "mind changed before the answer arrives", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{hide: &off, want: ""},
			{client: IAC + DO + ECHO, want: IAC + WONT + ECHO},
			{client: IAC + DONT + ECHO, want: ""},
		}},
		{name: "mind changed twice while disabling", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{client: IAC + DO + ECHO, want: ""},
			{hide: &off, want: IAC + WONT + ECHO},
			{hide: &on, want: ""},
			{client: IAC + DONT + ECHO, want: IAC + WILL + ECHO},
			{client: IAC + DO + ECHO, want: ""},
		}},
		{name: "client refuses", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{client: IAC + DONT + ECHO, want: ""},
			{hide: &off, want: ""},
		}},
		{name: "client turns echo back on while hidden", steps: []exchange{
			{hide: &on, want: IAC + WILL + ECHO},
			{client: IAC + DO + ECHO, want: ""},
			{client: IAC + DONT + ECHO, want: IAC + WONT + ECHO},
			{client: IAC + DO + ECHO, want: IAC + WILL + ECHO},
		}},
		{name: "PuTTY's DO ECHO at connect, then a password", steps: []exchange{
			{client: IAC + DO + ECHO, want: IAC + WONT + ECHO},
			{hide: &on, want: IAC + WILL + ECHO},
			{client: IAC + DO + ECHO, want: ""},
			{hide: &off, want: IAC + WONT + ECHO},
			{client: IAC + DONT + ECHO, want: ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cv := newConversation(t)
			for i, st := range tt.steps {
				var got string
				if st.hide != nil {
					if err := cv.conn.SetEcho(*st.hide); err != nil {
						t.Fatal(err)
					}
					if n := cv.conn.Buffered(); n != len(st.want) {
						t.Errorf("step %d: Buffered() = %d after SetEcho, want %d", i, n, len(st.want))
					}
					got = cv.flush()
				} else {
					got = cv.send(st.client)
				}
				if got != st.want {
					t.Errorf("step %d: wrote %q, want %q", i, got, st.want)
				}
			}
		})
	}
}
