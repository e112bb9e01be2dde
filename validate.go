package storify

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what users may type into the store.
const (
	MaxQty            = 10_000        // units of one product in one cart line
	MaxStock          = 1_000_000_000 // units of one product on hand
	MaxNameLen        = 60            // characters in a product or customer name
	MaxDescriptionLen = 200           // characters in a product description
)

// ParseQty reads a quantity: a whole number from 1 to MaxQty.
func ParseQty(s string) (int, error) {
	return parseCount(s, MaxQty, "quantity")
}

// ParseStock reads a starting stock: a whole number from 0 to MaxStock.
func ParseStock(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > MaxStock || !allDigits(strings.TrimSpace(s)) {
		return 0, Errorf(EINVALID, "%q is not a stock: type a whole number from 0 to %d", clip(s, 20), MaxStock)
	}
	return n, nil
}

// ParseID reads an order or catalog number, with or without a leading "#".
func ParseID(s string) (int64, error) {
	t := strings.TrimPrefix(strings.TrimSpace(s), "#")
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || !allDigits(t) {
		return 0, Errorf(EINVALID, "%q is not a number", clip(s, 20))
	}
	return n, nil
}

func parseCount(s string, max int, what string) (int, error) {
	t := strings.TrimSpace(s)
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n > max || !allDigits(t) {
		return 0, Errorf(EINVALID, "%q is not a %s: type a whole number from 1 to %d", clip(s, 20), what, max)
	}
	return n, nil
}

// CleanName checks a product or customer name: trimmed, 1 to MaxNameLen printable
// characters, not all digits (digits alone name a catalog number). what is "product
// name" or "customer name", for the message.
func CleanName(s, what string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(EINVALID, "the %s is empty", what)
	case utf8.RuneCountInString(s) > MaxNameLen:
		return "", Errorf(EINVALID, "the %s is longer than %d characters", what, MaxNameLen)
	case !Printable(s):
		return "", Errorf(EINVALID, "the %s has characters that cannot be shown", what)
	case allDigits(strings.TrimPrefix(s, "#")):
		return "", Errorf(EINVALID, "the %s must not be a number", what)
	}
	return s, nil
}

// CleanDescription checks a product description: printable, at most MaxDescriptionLen
// characters; it may be empty.
func CleanDescription(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case utf8.RuneCountInString(s) > MaxDescriptionLen:
		return "", Errorf(EINVALID, "the description is longer than %d characters", MaxDescriptionLen)
	case !Printable(s):
		return "", Errorf(EINVALID, "the description has characters that cannot be shown")
	}
	return s, nil
}

// Printable reports whether s is valid UTF-8 with no control characters, so that it
// can reach a terminal without becoming an escape sequence.
func Printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) && r != '\u200d' {
			return false
		}
	}
	return true
}

// clip shortens s to n bytes for quoting it in a message, and makes it safe to print.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > n {
		cut := n
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
