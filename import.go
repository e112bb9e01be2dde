package storify

// ProductRow is one product as a catalog file gives it, to add or to update.
type ProductRow struct {
	Line        int // the row's line in its file, for messages
	Name        string
	Price       Cents
	Stock       int
	Description string
	Category    string // "" for none
}

// ImportResult says what an import changed, or would change.
type ImportResult struct {
	Added, Updated, Unchanged int
}

// CheckRow checks a row as AddProduct checks a product, and returns it cleaned
// (spaces trimmed). Its errors are EINVALID and name the row's line.
func CheckRow(r ProductRow) (ProductRow, error) {
	var err error
	at := func(err error) error {
		return Errorf(EINVALID, "line %d: %s", r.Line, ErrorMessage(err))
	}
	if r.Name, err = CleanName(r.Name, "product name"); err != nil {
		return r, at(err)
	}
	if r.Description, err = CleanDescription(r.Description); err != nil {
		return r, at(err)
	}
	if r.Category, err = CleanCategory(r.Category); err != nil {
		return r, at(err)
	}
	if err := CheckPrice(r.Price); err != nil {
		return r, at(err)
	}
	if r.Stock < 0 || r.Stock > MaxStock {
		return r, at(Errorf(EINVALID, "the stock must be a whole number from 0 to %d", MaxStock))
	}
	return r, nil
}
