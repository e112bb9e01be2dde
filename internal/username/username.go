// Package username is the one rule for account names, used wherever a name is
// looked up, compared or counted: the stores' lookup and uniqueness, and the login
// throttle. A name is an identifier, not free text: it goes through the PRECIS
// UsernameCasePreserved profile for display and UsernameCaseMapped for its key
// (RFC 8265), word by word, and must be written in one script.
package username

import (
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
