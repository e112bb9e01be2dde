// Package username is the one rule for account names, used wherever a name is
// looked up, compared or counted: the stores' lookup and uniqueness, and the login
// throttle. A name is an identifier, not free text: it goes through the PRECIS
// UsernameCasePreserved profile for display and UsernameCaseMapped for its key
// (RFC 8265), word by word, and must be written in one script.
package username

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/storify/storify"
	"golang.org/x/text/secure/precis"
)

// Clean checks an account name and returns the form to show (width-mapped, NFC,
// case kept) and the key two names share exactly when they are the same account
// (case and width folded). EINVALID, with a message fit for the customer, when
// the name is not acceptable.
//
// RFC 8265 profiles refuse spaces; as its section 3.5 suggests for applications
// that allow them, the profile is applied to each word and the words are joined
// with one ASCII space. Beyond PRECIS (which refuses invisible, zero-width,
// bidi-control and compatibility forms such as U+017F or U+3164), a name must not
// mix scripts, so that "аlice" with a Cyrillic а is not a second "alice".
func Clean(s string) (display, key string, err error) {
	words := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' })
	if len(words) == 0 {
		return "", "", storify.Errorf(storify.EINVALID, "the account name is empty")
	}
	shown := make([]string, len(words))
	keys := make([]string, len(words))
	for i, w := range words {
		p, err := precis.UsernameCasePreserved.String(w)
		if err != nil {
			return "", "", refused()
		}
		k, err := precis.UsernameCaseMapped.String(w)
		if err != nil {
			return "", "", refused()
		}
		shown[i], keys[i] = p, k
	}
	display, key = strings.Join(shown, " "), strings.Join(keys, " ")
	if !oneScript(display) {
		return "", "", storify.Errorf(storify.EINVALID, "an account name must be written in one script (letters of one alphabet)")
	}
	// CleanName's rules (length, printable, not a number) hold too.
	if _, err := storify.CleanName(display, "account name"); err != nil {
		return "", "", err
	}
	return display, key, nil
}

// Key returns the key of name, or "" when name is not acceptable (so it names no
// account).
func Key(name string) string {
	_, k, err := Clean(name)
	if err != nil {
		return ""
	}
	return k
}

func refused() error {
	return storify.Errorf(storify.EINVALID,
		"an account name may have letters, digits and punctuation only: no invisible, spacing or look-alike characters")
}

// scripts are those a letter's script is looked up in; Common and Inherited
// (digits, punctuation, combining marks) belong to any.
var scripts = func() []*unicode.RangeTable {
	var ts []*unicode.RangeTable
	for name, t := range unicode.Scripts {
		if name != "Common" && name != "Inherited" {
			ts = append(ts, t)
		}
	}
	return ts
}()

// oneScript reports whether every rune of s that belongs to a script belongs to
// the same one.
func oneScript(s string) bool {
	var seen *unicode.RangeTable
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r < utf8.RuneSelf && !unicode.IsLetter(r) || unicode.In(r, unicode.Common, unicode.Inherited) {
			continue
		}
		if seen != nil && unicode.Is(seen, r) {
			continue
		}
		var found *unicode.RangeTable
		for _, t := range scripts {
			if unicode.Is(t, r) {
				found = t
				break
			}
		}
		if found == nil {
			continue
		}
		if seen != nil && seen != found {
			return false
		}
		seen = found
	}
	return true
}

// Account is an account's row as a store holds it, for Rekey.
type Account struct {
	ID   int64
	Name string
	Key  string // the key stored with it
}

// Change is a key Rekey wants stored for an account.
type Change struct {
	ID  int64
	Key string
}

// Unusable is the key of an account whose name the rule refuses or whose key an
// older account has: no name maps to it (keys never start with a space), so the
// account cannot log in, and the names stay as they were, never merged.
func Unusable(id int64) string { return fmt.Sprintf(" unusable %d", id) }

// Rekey works out the key each account should have under the rule, oldest
// account first, and which accounts collide: their names are refused, or give
// the key of an older account. It returns the keys to change and the conflicts,
// which a store reports at start-up.
func Rekey(accounts []Account) ([]Change, []storify.NameConflict) {
	slices.SortFunc(accounts, func(a, b Account) int { return cmp.Compare(a.ID, b.ID) })
	owner := map[string]Account{}
	var changes []Change
	var conflicts []storify.NameConflict
	for _, a := range accounts {
		_, key, err := Clean(a.Name)
		switch first, taken := owner[key]; {
		case err != nil:
			key = Unusable(a.ID)
			conflicts = append(conflicts, storify.NameConflict{ID: a.ID, Name: a.Name, Reason: storify.ErrorMessage(err)})
		case taken:
			key = Unusable(a.ID)
			conflicts = append(conflicts, storify.NameConflict{ID: a.ID, Name: a.Name, WithID: first.ID, WithName: first.Name,
				Reason: "the same name as an older account under the name rule"})
		default:
			owner[key] = a
		}
		if key != a.Key {
			changes = append(changes, Change{ID: a.ID, Key: key})
		}
	}
	return changes, conflicts
}

// Nickname checks a name given at checkout by a guest, which the manager reads
// on orders: the PRECIS Nickname profile (RFC 8266: spaces collapsed, width and
// compatibility forms mapped, invisible and bidi-control characters refused),
// then CleanName's rules. EINVALID when it is not acceptable.
func Nickname(s string) (string, error) {
	n, err := precis.Nickname.String(s)
	if err != nil {
		return "", storify.Errorf(storify.EINVALID, "the name has invisible or control characters; type it plainly")
	}
	return storify.CleanName(n, "customer name")
}
