package storify_test

import (
	"strings"
	"testing"

	"github.com/storify/storify"
)

// TestInstanceNames: a name holds letters, digits and . _ : - (no space, no @, which
// kick's N@INSTANCE needs), 1 to 64 bytes; InstanceName makes one of any host name,
// keeping the port at its end.
func TestInstanceNames(t *testing.T) {
	for _, ok := range []string{"a", "shop1:65432", "shop-2.example.com:7000", "Node_3", strings.Repeat("x", 64)} {
		if err := storify.CheckInstanceName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "shop 1", "1@a", "café", "a\x1b[2J", strings.Repeat("x", 65)} {
		if err := storify.CheckInstanceName(bad); storify.ErrorCode(err) != storify.EINVALID {
			t.Errorf("%q: %v, want EINVALID", bad, err)
		}
	}
	for in, want := range map[string]string{
		"shop1:65432":                      "shop1:65432",
		"my host:65432":                    "my-host:65432",
		"":                                 "storify",
		strings.Repeat("h", 70) + ":65432": strings.Repeat("h", 58) + ":65432",
	} {
		if got := storify.InstanceName(in); got != want || storify.CheckInstanceName(got) != nil {
			t.Errorf("InstanceName(%q) = %q, want %q", in, got, want)
		}
	}
}
