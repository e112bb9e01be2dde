package storify

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Admin is what the store's operator needs beyond selling: setting the store up on
// its first start. Every Store implements it.
type Admin interface {
	// Initialize records that the store has been opened, and returns true only the
	// first time it is called on a store, ever (false on every later call, from
	// any process). That first time, and only then, it adds catalog, in the same
	// transaction, so a store is either new and gets it whole, or was opened
	// before and gets nothing, whatever its catalog holds now. EINVALID for a bad
	// product in catalog; ECONFLICT for two products of one name.
	Initialize(ctx context.Context, catalog []NewProduct) (first bool, err error)

	// AdjustStock corrects a product's units on hand by delta, outside sales and
	// receipts, and records it with reason in the audit trail (Adjustments), in one
	// transaction. A negative delta writes units off (breakage, a miscount); a
	// positive one undoes write-offs, up to the units written off so far (units
	// received go through Restock). Received is unchanged, so that for every
	// product stock + units sold = received - written off. EINVALID for a delta of
	// 0 or beyond MaxStock, or a reason that is empty or not printable; ENOTFOUND
	// for no such product; ECONFLICT when the product has fewer units on hand than
	// would be written off, or fewer written off than would be put back.
	AdjustStock(ctx context.Context, productID int64, delta int, reason string) (Product, error)
	// Adjustments lists the stock adjustments of one product, or of every product
	// when productID is 0, oldest first.
	Adjustments(ctx context.Context, productID int64) ([]Adjustment, error)

	// SetPasswordHash replaces the password hash of the account named name,
	// compared case-insensitively; a locked account stays locked. ENOTFOUND if
	// there is none; EINVALID for an empty hash.
	SetPasswordHash(ctx context.Context, name string, hash []byte) (Account, error)
	// LockAccount locks an account (lock true) or unlocks it. A locked account's
	// password hash is kept with LockedPrefix before it, as the Unix shadow file
	// does, so that no password matches it until it is unlocked. ENOTFOUND if there
	// is no such account; ECONFLICT if it is locked already (or not locked).
	LockAccount(ctx context.Context, name string, lock bool) (Account, error)
	// DeleteAccount deletes an account, its saved cart and its SSH keys, in one transaction. Its
	// orders are kept, anonymised: their customer becomes DeletedCustomer and they
	// belong to no account. It returns how many orders were kept. ENOTFOUND if there
	// is no such account.
	DeleteAccount(ctx context.Context, name string) (orders int, err error)
}

// LockedPrefix marks a locked account's password hash: no bcrypt hash starts with
// it, so no password matches.
const LockedPrefix = "!"

// OneTimePrefix marks a password the manager set with resetpassword: it opens the
// account once, and the customer must then choose a new one before going on. The
// hash after it is an ordinary bcrypt hash.
const OneTimePrefix = "="

// OneTime reports whether a password hash is a one-time password's.
func OneTime(hash []byte) bool { return strings.HasPrefix(string(hash), OneTimePrefix) }

// DeletedCustomer is the customer name that a deleted account's orders keep.
const DeletedCustomer = "(deleted account)"

// Locked reports whether a password hash is a locked account's.
func Locked(hash []byte) bool { return strings.HasPrefix(string(hash), LockedPrefix) }

// LockHash is the password hash account a gets when it is locked (lock true) or
// unlocked, as Admin.LockAccount stores it: ECONFLICT if it is locked already (or
// not locked).
func LockHash(a Account, lock bool) ([]byte, error) {
	hash := a.PasswordHash
	switch locked := Locked(hash); {
	case lock && locked:
		return nil, Errorf(ECONFLICT, "the account %s is locked already", a.Name)
	case !lock && !locked:
		return nil, Errorf(ECONFLICT, "the account %s is not locked", a.Name)
	case lock:
		return append([]byte(LockedPrefix), hash...), nil
	}
	return hash[len(LockedPrefix):], nil
}

// Adjustment is one correction of a product's stock, as the audit trail keeps it.
type Adjustment struct {
	ID        int64
	ProductID int64
	Delta     int // negative: units written off; positive: a write-off undone
	Reason    string
	Made      time.Time
}

// WrittenOff is the number of units of product id that adjs write off, net.
func WrittenOff(adjs []Adjustment, id int64) int {
	n := 0
	for _, a := range adjs {
		if a.ProductID == id {
			n -= a.Delta
		}
	}
	return n
}

// CheckAdjustment checks the delta and reason of a stock adjustment, and returns
// the reason trimmed.
func CheckAdjustment(delta int, reason string) (string, error) {
	if delta == 0 || delta < -MaxStock || delta > MaxStock {
		return "", Errorf(EINVALID, "the adjustment must be a whole number of units from -%d to %d, not 0", MaxStock, MaxStock)
	}
	reason, err := CleanDescription(reason)
	if err != nil {
		return "", Errorf(EINVALID, "the reason is longer than %d characters or has characters that cannot be shown", MaxDescriptionLen)
	}
	if reason == "" {
		return "", Errorf(EINVALID, "say why the stock changes: the reason is kept in the audit trail")
	}
	return reason, nil
}

// Clean checks a new product as AddProduct does, and returns it with its name and
// description trimmed.
func (p NewProduct) Clean() (NewProduct, error) {
	var err error
	if p.Name, err = CleanName(p.Name, "product name"); err != nil {
		return p, err
	}
	if p.Description, err = CleanDescription(p.Description); err != nil {
		return p, err
	}
	if err := CheckPrice(p.Price); err != nil {
		return p, err
	}
	if p.Stock < 0 || p.Stock > MaxStock {
		return p, Errorf(EINVALID, "the stock must be a whole number from 0 to %d", MaxStock)
	}
	return p, nil
}

// ErrWriteOff is the error of a write-off of more units than the stock of name.
func ErrWriteOff(name string, stock int) *Error {
	return Errorf(ECONFLICT, "%s has %d units on hand; no more can be written off", name, stock)
}

// ErrPutBack is the error of undoing more write-offs of name than there were.
func ErrPutBack(name string, writtenOff int) *Error {
	return Errorf(ECONFLICT, "%d units of %s are written off, and no more can be put back; units received go through restock", writtenOff, name)
}

// ParseUnits reads units received, as restock takes them: a whole number from 1 to
// MaxStock, the most a product may have on hand (and addproduct's limit too).
func ParseUnits(s string) (int, error) {
	return parseCount(s, MaxStock, "quantity")
}

// ParseAdjustment reads a stock adjustment: a signed whole number, "-3" to write
// off three units, "+2" to put back two written off.
func ParseAdjustment(s string) (int, error) {
	t := strings.TrimSpace(s)
	if len(t) < 2 || t[0] != '-' && t[0] != '+' || !allDigits(t[1:]) {
		return 0, Errorf(EINVALID, "%q is not an adjustment: type -N to write off N units, or +N to put back N written off", clip(s, 20))
	}
	n, err := strconv.Atoi(t)
	if err != nil || n == 0 || n < -MaxStock || n > MaxStock {
		return 0, Errorf(EINVALID, "%q is not an adjustment: type -N or +N, N from 1 to %d", clip(s, 20), MaxStock)
	}
	return n, nil
}
