package storify

import (
	"strconv"
	"strings"
)

// Cents is an amount of money in hundredths of the currency unit. Money is never a
// float: 0.10 + 0.20 must be 0.30.
type Cents int64

// MaxPrice is the highest price a product may have (one million).
const MaxPrice Cents = 100_000_000

// String formats c as "12.50", with a minus sign when negative.
func (c Cents) String() string {
	var buf [24]byte
	return string(c.Append(buf[:0]))
}

// Append appends c formatted as String does to b, allocating nothing when b has room.
func (c Cents) Append(b []byte) []byte {
	u := uint64(c)
	if c < 0 {
		b = append(b, '-')
		u = uint64(-c)
	}
	b = strconv.AppendUint(b, u/100, 10)
	return append(b, '.', byte('0'+u%100/10), byte('0'+u%10))
}

// ParseCents reads a price typed as "12", "12.5" or "12.50" (a leading "$" is allowed).
// It rejects negative amounts, more than two decimals, exponents and anything above
// MaxPrice, with an EINVALID error.
func ParseCents(s string) (Cents, error) {
	bad := Errorf(EINVALID, "%q is not a price: type it like 12.50 (at most %s)", clip(s, 20), MaxPrice)
	s = strings.TrimPrefix(strings.TrimSpace(s), "$")
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 2 || hasDot && frac == "" && whole == "" {
		return 0, bad
	}
	if !allDigits(whole) || !allDigits(frac) || len(whole) > 9 {
		return 0, bad
	}
	var c int64
	if whole != "" {
		n, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, bad
		}
		c = n * 100
	}
	switch len(frac) {
	case 1:
		c += int64(frac[0]-'0') * 10
	case 2:
		c += int64(frac[0]-'0')*10 + int64(frac[1]-'0')
	}
	if Cents(c) > MaxPrice {
		return 0, bad
	}
	return Cents(c), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
