package shell

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify"
	"github.com/storify/storify/sqlite"
)

// FuzzReplyText: the helpers every reply goes through never produce invalid
// UTF-8, and capitalize keeps a letter of several bytes whole.
func FuzzReplyText(f *testing.F) {
	for _, s := range []string{"", "éclair is sold out", "ǆ", "\xff\xfe", "ß", "ﬁne", "a", "\xc3", "日本", "İ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got := sentence(s); !utf8.ValidString(got) {
			t.Fatalf("sentence(%q) = %q, not UTF-8", s, got)
		}
		if got := safe(s, 30); !utf8.ValidString(got) {
			t.Fatalf("safe(%q) = %q, not UTF-8", s, got)
		}
		if !utf8.ValidString(s) {
			return
		}
		got := capitalize(s)
		if !utf8.ValidString(got) {
			t.Fatalf("capitalize(%q) = %q, not UTF-8", s, got)
		}
		r, n := utf8.DecodeRuneInString(s)
		if n > 0 && (got[len(got)-(len(s)-n):] != s[n:] || []rune(got)[0] != unicode.ToUpper(r)) {
			t.Fatalf("capitalize(%q) = %q", s, got)
		}
	})
}

// FuzzCustomerReply runs any command line in a customer session on a store whose
// products have names of several-byte letters: the reply is valid UTF-8.
func FuzzCustomerReply(f *testing.F) {
	for _, s := range []string{
		"add éclair", "add ÉCLAIR 2", "show émail", "remove éclair", "search é", "checkout ǆemal", "\xff",
		"add \xc3", "login é", "register Élodie", "order 1", "cart", "list", "ñandú",
	} {
		f.Add(s)
	}
	store, err := sqlite.Open(filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { store.Close() })
	for _, p := range []storify.NewProduct{
		{Name: "Éclair", Price: 250, Stock: 0},
		{Name: "Émail Mug", Price: 900, Stock: 3},
		{Name: "Ǆemal Tea", Price: 500, Stock: 2},
	} {
		if _, err := store.AddProduct(context.Background(), p); err != nil {
			f.Fatal(err)
		}
	}
	passwords := NewPasswords(PasswordBudget{Cost: 4})
	f.Fuzz(func(t *testing.T, line string) {
		var out bytes.Buffer
		term := NewLineTerm(strings.NewReader("ñ-password\n"), &out, 1024)
		c := NewCustomer(store, term, CustomerConfig{StoreName: "Fuzz", Addr: "10.0.0.1", Passwords: passwords})
		c.Exec(context.Background(), line)
		term.Flush()
		if !utf8.Valid(out.Bytes()) {
			t.Fatalf("reply to %q is not UTF-8: %q", line, out.Bytes())
		}
	})
}
