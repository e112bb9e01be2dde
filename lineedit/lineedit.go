// Package lineedit is a server-side line editor for a remote terminal (an SSH
// session with a PTY): it turns the keys a terminal sends into an edited line,
// and writes the echo and cursor movements the terminal needs to show it.
//
// It knows nothing of connections: Feed takes input bytes one at a time, and
// what the terminal is to be sent accumulates until TakeOutput. Keys: printable
// text (wide and combining characters kept whole), Backspace, Delete, Left,
// Right, Home, End, Ctrl-A/B/E/F, Ctrl-U (erase to start), Ctrl-K (erase to end),
// Ctrl-W (erase word), Up/Down and Ctrl-P/N (history), Tab (completion),
// Ctrl-L (redraw), Ctrl-C (cancel the line), Ctrl-D (end of input on an empty
// line, else delete). Other control characters and unknown escape sequences are
// dropped, so nothing typed can reach a terminal as a control sequence.
package lineedit

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Event is what one input byte completed.
type Event uint8

// Events returned by Feed.
const (
	None      Event = iota
	Line            // a line was entered: Line returns it
	Interrupt       // Ctrl-C: the line was cancelled
	EOF             // Ctrl-D on an empty line
	TooLong         // a line over the cap was entered: it was discarded
)

// maxHistory is how many lines Up can bring back.
const maxHistory = 100

// Editor is one terminal's line editor. Not safe for concurrent use.
type Editor struct {
	// Complete, if set, completes the text before the cursor on Tab: it
	// returns every candidate for that whole text (each one the text with its
	// last word completed). One candidate is taken; several are completed to
	// their common prefix, and listed if that adds nothing.
	Complete func(before string) []string
	// MaxLine caps a line in bytes; a longer line is refused at Enter.
	MaxLine int

	width   int
	prompt  string
	promptW int
	line    []rune
	pos     int  // the cursor: an index in line
	row     int  // the screen row of the cursor, counted from the prompt's
	hidden  bool // typed text is not shown (a password)
	entered string

	history []string
	hpos    int    // index in history while browsing; len(history) when not
	saved   []rune // the line being typed when browsing started

	esc     escState
	escArgs []byte
	pend    [utf8.UTFMax]byte // an incomplete UTF-8 sequence
	npend   int
	lastCR  bool
	out     []byte
}

type escState uint8

const (
	escNone escState = iota
	escStart
	escCSI
	escSS3
)

// New returns an editor for a terminal width columns wide (80 if not positive).
func New(width int) *Editor {
	e := &Editor{MaxLine: 1024}
	e.SetWidth(width)
	return e
}

// SetWidth sets the terminal's width, used from the next redraw on.
func (e *Editor) SetWidth(width int) {
	if width <= 0 {
		width = 80
	}
	e.width = width
}

// Width is the terminal's width.
func (e *Editor) Width() int { return e.width }

// SetHidden hides typed text (a password prompt) or shows it again. A hidden
// line is kept out of the history.
func (e *Editor) SetHidden(hidden bool) { e.hidden = hidden }

// TakeOutput returns what the terminal is to be sent, and forgets it.
func (e *Editor) TakeOutput() []byte {
	out := e.out
	e.out = nil
	return out
}

// Shown tells the editor that prompt is on the screen already, with the cursor
// after it, shown by someone else (a greeting).
func (e *Editor) Shown(prompt string) {
	e.prompt, e.promptW = prompt, StringWidth(prompt)
	e.row = e.promptW / e.width
}

// Show shows prompt on a fresh line, with the line typed so far after it and
// the cursor where it was.
func (e *Editor) Show(prompt string) {
	e.prompt, e.promptW = prompt, StringWidth(prompt)
	e.row = 0
	e.draw()
}

// BreakLine moves the cursor below the line being typed, to the start of a new
// line, so that something can be shown there; Show shows the line again.
func (e *Editor) BreakLine() {
	end, _ := e.layout(len(e.line))
	e.moveRows(end.row - e.row)
	e.out = append(e.out, "\r\n"...)
	e.row = 0
}

// Typed is the line being typed ("" while hidden).
func (e *Editor) Typed() string {
	if e.hidden {
		return ""
	}
	return string(e.line)
}

// Line returns the line entered, after Feed returned Line.
func (e *Editor) Line() string { return e.entered }

// Feed takes one input byte.
func (e *Editor) Feed(b byte) Event {
	lastCR := e.lastCR
	e.lastCR = false
	switch e.esc {
	case escStart:
		switch b {
		case '[':
			e.esc, e.escArgs = escCSI, e.escArgs[:0]
		case 'O':
			e.esc = escSS3
		default:
			e.esc = escNone // Alt-key: dropped
		}
		return None
	case escCSI:
		if b >= 0x40 && b <= 0x7e {
			e.esc = escNone
			return e.csi(b)
		}
		if len(e.escArgs) < 16 {
			e.escArgs = append(e.escArgs, b)
		}
		return None
	case escSS3:
		e.esc = escNone
		return e.csi(b)
	}
	if e.npend > 0 || b >= 0x80 {
		return e.utf8Byte(b)
	}
	switch b {
	case '\r':
		e.lastCR = true
		return e.enter()
	case '\n', 0:
		if lastCR {
			return None // the rest of CR LF or CR NUL
		}
		if b == '\n' {
			return e.enter()
		}
	case 0x01: // Ctrl-A
		e.moveTo(0)
	case 0x02: // Ctrl-B
		e.moveTo(e.prevStop(e.pos))
	case 0x03: // Ctrl-C
		e.out = append(e.out, "^C"...)
		e.reset()
		return Interrupt
	case 0x04: // Ctrl-D
		if len(e.line) == 0 {
			return EOF
		}
		e.deleteRange(e.pos, e.nextStop(e.pos))
	case 0x05: // Ctrl-E
		e.moveTo(len(e.line))
	case 0x06: // Ctrl-F
		e.moveTo(e.nextStop(e.pos))
	case 0x08, 0x7f: // Backspace
		e.deleteRange(e.prevStop(e.pos), e.pos)
	case '\t':
		e.complete()
	case 0x0b: // Ctrl-K
		e.deleteRange(e.pos, len(e.line))
	case 0x0c: // Ctrl-L
		e.out = append(e.out, "\x1b[H\x1b[2J"...)
		e.row = 0
		e.render()
	case 0x0e: // Ctrl-N
		e.historyMove(+1)
	case 0x10: // Ctrl-P
		e.historyMove(-1)
	case 0x15: // Ctrl-U
		e.deleteRange(0, e.pos)
	case 0x17: // Ctrl-W
		e.deleteRange(e.wordStart(), e.pos)
	case 0x1b:
		e.esc = escStart
	default:
		if b >= 0x20 {
			e.insert(rune(b))
		}
	}
	return None
}

func (e *Editor) utf8Byte(b byte) Event {
	if e.npend > 0 && (b < 0x80 || b >= 0xc0) {
		e.npend = 0 // a broken sequence: dropped
		return e.Feed(b)
	}
	e.pend[e.npend] = b
	e.npend++
	if !utf8.FullRune(e.pend[:e.npend]) {
		if e.npend == utf8.UTFMax {
			e.npend = 0
		}
		return None
	}
	r, _ := utf8.DecodeRune(e.pend[:e.npend])
	e.npend = 0
	if r != utf8.RuneError && printable(r) {
		e.insert(r)
	}
	return None
}

// csi acts on an escape sequence's final byte.
func (e *Editor) csi(final byte) Event {
	arg := string(e.escArgs)
	e.escArgs = e.escArgs[:0]
	switch final {
	case 'A':
		e.historyMove(-1)
	case 'B':
		e.historyMove(+1)
	case 'C':
		e.moveTo(e.nextStop(e.pos))
	case 'D':
		e.moveTo(e.prevStop(e.pos))
	case 'H':
		e.moveTo(0)
	case 'F':
		e.moveTo(len(e.line))
	case '~':
		switch arg {
		case "1", "7":
			e.moveTo(0)
		case "4", "8":
			e.moveTo(len(e.line))
		case "3":
			e.deleteRange(e.pos, e.nextStop(e.pos))
		}
	}
	return None
}

func (e *Editor) enter() Event {
	e.moveTo(len(e.line))
	e.out = append(e.out, "\r\n"...)
	e.entered = string(e.line)
	hidden := e.hidden
	e.reset()
	if len(e.entered) > e.MaxLine {
		e.entered = ""
		return TooLong
	}
	if !hidden && strings.TrimSpace(e.entered) != "" && (len(e.history) == 0 || e.history[len(e.history)-1] != e.entered) {
		if len(e.history) == maxHistory {
			e.history = append(e.history[:0], e.history[1:]...)
		}
		e.history = append(e.history, e.entered)
	}
	e.hpos = len(e.history)
	return Line
}

func (e *Editor) reset() {
	e.line, e.pos, e.row, e.saved = e.line[:0], 0, 0, nil
	e.hpos = len(e.history)
}

func (e *Editor) insert(r rune) {
	if n := utf8.RuneLen(r); n < 0 || e.lineBytes()+n > e.MaxLine {
		return // a line cannot grow past the cap: it would be refused anyway
	}
	e.line = append(e.line, 0)
	copy(e.line[e.pos+1:], e.line[e.pos:])
	e.line[e.pos] = r
	e.pos++
	if e.hidden {
		return
	}
	// Typing at the end of a line that does not wrap: the character itself is
	// the whole echo.
	if e.pos == len(e.line) {
		if start, _ := e.layout(e.pos - 1); start.row == e.row && start.col+RuneWidth(r) < e.width && (RuneWidth(r) > 0 || e.pos > 1) {
			e.out = utf8.AppendRune(e.out, r)
			return
		}
	}
	e.render()
}

func (e *Editor) lineBytes() int {
	n := 0
	for _, r := range e.line {
		n += utf8.RuneLen(r)
	}
	return n
}

func (e *Editor) deleteRange(from, to int) {
	if from >= to {
		return
	}
	e.line = append(e.line[:from], e.line[to:]...)
	e.pos = from
	if !e.hidden {
		e.render()
	}
}

func (e *Editor) moveTo(pos int) {
	if pos == e.pos {
		return
	}
	e.pos = pos
	if e.hidden {
		return
	}
	e.placeCursor()
}

// prevStop is where Left goes from pos: over a whole character, its combining
// marks included.
func (e *Editor) prevStop(pos int) int {
	for pos > 0 {
		pos--
		if RuneWidth(e.line[pos]) > 0 {
			break
		}
	}
	return pos
}

// nextStop is where Right goes from pos.
func (e *Editor) nextStop(pos int) int {
	if pos < len(e.line) {
		pos++
	}
	for pos < len(e.line) && RuneWidth(e.line[pos]) == 0 {
		pos++
	}
	return pos
}

func (e *Editor) wordStart() int {
	p := e.pos
	for p > 0 && e.line[p-1] == ' ' {
		p--
	}
	for p > 0 && e.line[p-1] != ' ' {
		p--
	}
	return p
}

func (e *Editor) historyMove(d int) {
	if e.hidden {
		return
	}
	n := e.hpos + d
	if n < 0 || n > len(e.history) {
		return
	}
	if e.hpos == len(e.history) {
		e.saved = append(e.saved[:0], e.line...)
	}
	e.hpos = n
	if n == len(e.history) {
		e.line = append(e.line[:0], e.saved...)
	} else {
		e.line = append(e.line[:0], []rune(e.history[n])...)
	}
	e.pos = len(e.line)
	e.render()
}

func (e *Editor) complete() {
	if e.Complete == nil || e.hidden {
		return
	}
	before := string(e.line[:e.pos])
	cands := e.Complete(before)
	if len(cands) == 0 {
		return
	}
	common := cands[0]
	for _, c := range cands[1:] {
		common = commonPrefix(common, c)
	}
	if len(common) > len(before) && strings.HasPrefix(strings.ToLower(common), strings.ToLower(before)) || len(cands) == 1 {
		rest := []rune(common)
		e.line = append(rest, e.line[e.pos:]...)
		e.pos = len(rest)
		e.render()
		return
	}
	// Nothing to add: list the candidates under the line, then show it again.
	e.BreakLine()
	for _, c := range cands {
		e.out = append(e.out, lastWord(c)...)
		e.out = append(e.out, "  "...)
	}
	e.out = append(e.out, "\r\n"...)
	e.render()
}

// commonPrefix is the longest prefix of a and b, compared case-insensitively,
// as a spells it.
func commonPrefix(a, b string) string {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && strings.EqualFold(string(ra[n]), string(rb[n])) {
		n++
	}
	return string(ra[:n])
}

func lastWord(s string) string {
	s = strings.TrimRight(s, " ")
	if i := strings.LastIndexAny(s, " \""); i >= 0 {
		return s[i+1:]
	}
	return s
}

// spot is a screen position relative to the start of the prompt.
type spot struct{ row, col int }

// layout returns where line[n] starts on the screen (and, as end, where the
// text ends), the way a terminal lays it out: a wide character that does not
// fit at the end of a row goes to the next one.
func (e *Editor) layout(n int) (at, end spot) {
	p := spot{e.promptW / e.width, e.promptW % e.width}
	for i, r := range e.line {
		w := RuneWidth(r)
		if e.hidden {
			w = 0
		}
		if w == 2 && p.col == e.width-1 {
			p.row, p.col = p.row+1, 0
		}
		if i == n {
			at = p
		}
		p.col += w
		if p.col >= e.width {
			p.row, p.col = p.row+1, 0
		}
	}
	if n >= len(e.line) {
		at = p
	}
	return at, p
}

// render draws the prompt and the line again from the start of the prompt,
// clears what was below, and puts the cursor back.
func (e *Editor) render() {
	e.moveRows(-e.row)
	e.out = append(e.out, "\r\x1b[J"...)
	e.draw()
}

// draw writes the prompt and the line from where the cursor is, the start of a
// line, and puts the cursor where it belongs.
func (e *Editor) draw() {
	e.out = append(e.out, e.prompt...)
	if !e.hidden {
		e.out = append(e.out, string(e.line)...)
	}
	_, end := e.layout(len(e.line))
	if end.col == 0 && (end.row > 0) {
		// The terminal holds the cursor at the end of the full row until the
		// next character: move it to the next row so positions are certain.
		e.out = append(e.out, "\r\n"...)
	}
	e.row = end.row
	if e.pos != len(e.line) {
		e.placeCursor()
	}
}

// placeCursor moves the cursor from row e.row to where e.pos is shown.
func (e *Editor) placeCursor() {
	at, _ := e.layout(e.pos)
	e.moveRows(at.row - e.row)
	e.row = at.row
	e.out = append(e.out, '\r')
	if at.col > 0 {
		e.out = append(e.out, "\x1b["...)
		e.out = strconv.AppendInt(e.out, int64(at.col), 10)
		e.out = append(e.out, 'C')
	}
}

func (e *Editor) moveRows(d int) {
	switch {
	case d < 0:
		e.out = append(e.out, "\x1b["...)
		e.out = strconv.AppendInt(e.out, int64(-d), 10)
		e.out = append(e.out, 'A')
	case d > 0:
		e.out = append(e.out, "\x1b["...)
		e.out = strconv.AppendInt(e.out, int64(d), 10)
		e.out = append(e.out, 'B')
	}
}
