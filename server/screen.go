package server

// ScreenRows is the height of the customer's window in lines, as their telnet
// client last reported it (NAWS), or 0 when it has not: the customer's long lists
// are then paged at the default height (shell.Screen).
func (s *Session) ScreenRows() int {
	if s.tc == nil {
		return 0
	}
	_, h := s.tc.WindowSize()
	return h
}
