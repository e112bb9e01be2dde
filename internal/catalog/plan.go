package catalog

import (
	"github.com/storify/storify"
)

// ImportPlan is what an import of rows into a catalog does: the products to add,
// the ones to update (with their catalog numbers), and the counts.
type ImportPlan struct {
	Add    []storify.ProductRow
	Update []Update
	storify.ImportResult
}

// Update is a row that changes an existing product.
type Update struct {
	ID  int64
	Old storify.Product
	Row storify.ProductRow
}

// PlanImport checks rows (storify.CheckRow, and one row per name) and matches
// them with current, every product of the catalog, by name key. A category keeps
// the spelling the catalog has for it, else the first row's. Both backends plan
// with it, inside the transaction that applies the plan.
func PlanImport(rows []storify.ProductRow, current []storify.Product) (ImportPlan, error) {
	byName := make(map[string]int, len(current))
	spelling := map[string]string{}
	for i, p := range current {
		byName[storify.FoldKey(p.Name)] = i
		if k := storify.FoldKey(p.Category); k != "" {
			if _, ok := spelling[k]; !ok {
				spelling[k] = p.Category
			}
		}
	}
	var plan ImportPlan
	seen := make(map[string]int, len(rows))
	for _, r := range rows {
		r, err := storify.CheckRow(r)
		if err != nil {
			return ImportPlan{}, err
		}
		key := storify.FoldKey(r.Name)
		if line, ok := seen[key]; ok {
			return ImportPlan{}, storify.Errorf(storify.EINVALID, "line %d: %q is named on line %d already", r.Line, r.Name, line)
		}
		seen[key] = r.Line
		if k := storify.FoldKey(r.Category); k != "" {
			if s, ok := spelling[k]; ok {
				r.Category = s
			} else {
				spelling[k] = r.Category
			}
		}
		i, ok := byName[key]
		if !ok {
			plan.Add = append(plan.Add, r)
			plan.Added++
			continue
		}
		p := current[i]
		if p.Name == r.Name && p.Price == r.Price && p.Stock == r.Stock && p.Description == r.Description && p.Category == r.Category {
			plan.Unchanged++
			continue
		}
		plan.Update = append(plan.Update, Update{ID: p.ID, Old: p, Row: r})
		plan.Updated++
	}
	return plan, nil
}
