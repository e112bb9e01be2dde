package storify

import "context"

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
