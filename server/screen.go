package server

// ScreenRows is the height of the customer's window in lines, as their client
// last reported it (telnet NAWS, an SSH pty-req or window-change), or 0 when it
// has not: the customer's long lists are then paged at the default height
// (shell.Screen). It is -1 for an SSH session without a terminal (a script),
// whose lists come whole.
func (s *Session) ScreenRows() int {
	if s.tc == nil {
		return 0
	}
	_, h := s.tc.WindowSize()
	return h
}
