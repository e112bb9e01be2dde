package username_test

import (
	"testing"

	"github.com/storify/storify"
	"github.com/storify/storify/internal/username"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, display, key string }{
		{"alice", "alice", "alice"},
		{"Alice", "Alice", "alice"},
		{"  Ada   Lovelace ", "Ada Lovelace", "ada lovelace"},
		{"ａｌｉｃｅ", "alice", "alice"}, // fullwidth: the same name as alice
		{"ALİCE", "ALİCE", "ali̇ce"},
		{"Straße", "Straße", "straße"},
		{"o'neil", "o'neil", "o'neil"},
		{"Ελένη", "Ελένη", "ελένη"},
		{"e\u0301mile", "émile", "émile"}, // NFC
	} {
		display, key, err := username.Clean(tt.in)
		if err != nil || display != tt.display || key != tt.key {
			t.Errorf("Clean(%q) = %q, %q, %v; want %q, %q", tt.in, display, key, err, tt.display, tt.key)
		}
	}
	for _, in := range []string{
		"", "  ", "ſam", "alice\u200d", "alice\u034f", "\u3164", "ali\u3164ce", "a\u202eb", "alice\u200b",
		"x\u00a0y", "аlice", "123", "#12", "Ada\x1b[31m", "Ada\xff", "Ⅻ",
	} {
		if d, k, err := username.Clean(in); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("Clean(%q) = %q, %q, %v; want EINVALID", in, d, k, err)
		}
	}
	if username.Key("ALICE") != username.Key("ａｌｉｃｅ") || username.Key("ſam") != "" {
		t.Errorf("Key does not follow Clean")
	}
}
