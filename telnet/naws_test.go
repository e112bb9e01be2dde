package telnet_test

import (
	"strings"
	"testing"

	"github.com/storify/storify/telnet"
)

// TestWindowSize checks that the window size a client reports after offering NAWS
// is what WindowSize says, however the bytes arrive, and that what is malformed or
// unasked for changes nothing.
func TestWindowSize(t *testing.T) {
	const offer = IAC + WILL + NAWS
	tests := []struct {
		name          string
		input         string
		width, height int
	}{
		{name: "none sent", input: "a\n", width: 0, height: 0},
		{name: "80x24", input: offer + IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + "a\n", width: 80, height: 24},
		{name: "resized: the last one counts",
			input: offer + IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + IAC + SB + NAWS + "\x00\x84\x00\x3c" + IAC + SE + "a\n",
			width: 132, height: 60},
		{name: "0xFF doubled in the payload",
			input: offer + IAC + SB + NAWS + "\x00" + IAC + IAC + "\x01" + IAC + IAC + IAC + SE + "a\n", width: 255, height: 511},
		{name: "size without the offer ignored", input: IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + "a\n"},
		{name: "payload too short ignored", input: offer + IAC + SB + NAWS + "\x00\x50\x00" + IAC + SE + "a\n"},
		{name: "payload too long ignored", input: offer + IAC + SB + NAWS + "\x00\x50\x00\x18\x00" + IAC + SE + "a\n"},
		{name: "another option's payload ignored", input: offer + IAC + SB + TTYPE + "\x00\x50\x00\x18" + IAC + SE + "a\n"},
		{name: "size forgotten when NAWS is withdrawn",
			input: offer + IAC + SB + NAWS + "\x00\x50\x00\x18" + IAC + SE + IAC + WONT + NAWS + "a\n"},
		{name: "size cut by a command is ignored, the command kept",
			input: offer + IAC + SB + NAWS + "\x00\x50" + IAC + IP + "a\n"},
	}
	for _, tt := range tests {
		for _, way := range decodeWays {
			t.Run(tt.name+"/"+way.name, func(t *testing.T) {
				p := &rwPipe{r: way.wrap(strings.NewReader(tt.input))}
				c := telnet.NewConn(p, telnet.Options{})
				for {
					if _, err := c.ReadLine(); err != nil && err != telnet.ErrInterrupt {
						break
					}
				}
				if w, h := c.WindowSize(); w != tt.width || h != tt.height {
					t.Errorf("window %dx%d, want %dx%d", w, h, tt.width, tt.height)
				}
			})
		}
	}
}
