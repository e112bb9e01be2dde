package ssh

import (
	"context"
	"strings"

	"github.com/storify/storify/server"
	"github.com/storify/storify/shell"
)

// managerHandler runs the manager's console on an SSH session, for the holder of
// one of the admin keys.
type managerHandler struct {
	t            *Transport
	key, comment string // the admin key's fingerprint and comment
}

// Prompt is the manager's prompt (server.Prompter).
func (h *managerHandler) Prompt() string { return shell.ManagerPrompt(h.t.Server.Name) }

func (h *managerHandler) ServeSession(ctx context.Context, s *server.Session) {
	term := &loggedTerm{Session: s, h: h, id: s.ID, prompt: h.Prompt()}
	var hub shell.Hub = h.t.Server
	if h.t.Hub != nil {
		hub = h.t.Hub
	}
	m := shell.NewManager(h.t.Store, hub, term, shell.ManagerConfig{
		StoreName: h.t.Server.Name, Log: h.t.Log, HostKey: Fingerprint(h.t.HostKey.PublicKey()), Metrics: h.t.Metrics,
	})
	if c, ok := s.Codec().(server.Completer); ok {
		c.SetCompletion(func(before string) (string, []string) { return m.Complete(ctx, before) })
	}
	if cmd := s.Command(); cmd != "" {
		h.logCommand(s.ID, cmd)
		failures := m.Failures()
		err := m.Exec(ctx, cmd)
		if server.ExecFailed(cmd, err, m.Failures() > failures) {
			s.SetExitStatus(1)
		}
		return
	}
	if err := m.Run(ctx); err != nil {
		h.t.Log.Debug("manager session ended", "session", s.ID, "err", err)
	}
}

func (h *managerHandler) logCommand(id int64, line string) {
	h.t.Log.Info("manager command", "session", id, "key", h.key, "comment", h.comment, "command", line)
}

// loggedTerm is a manager's Session that logs every command line read at the
// manager's prompt, with the key that typed it.
type loggedTerm struct {
	*server.Session
	h      *managerHandler
	id     int64
	prompt string
}

func (t *loggedTerm) ReadLine(prompt string) (string, error) {
	line, err := t.Session.ReadLine(prompt)
	if err == nil && prompt == t.prompt && strings.TrimSpace(line) != "" {
		t.h.logCommand(t.id, line)
	}
	return line, err
}
