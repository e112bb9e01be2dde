package shell

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/storify/storify"
)

// Catalog files are CSV (RFC 4180, as encoding/csv reads it) with a header row
// naming the columns, in any order: name, price and stock are required,
// description and category optional; other columns (number, discontinued, as
// export writes them) are ignored. Money is written 12.50.
var catalogColumns = []string{"name", "price", "stock", "description", "category"}

// maxRowErrors caps the bad rows one report lists; the rest are counted.
const maxRowErrors = 100

// CatalogFile is a catalog file read and checked.
type CatalogFile struct {
	Rows []storify.ProductRow
	// Errors are the bad rows, each "line N: what is wrong", in file order; at
	// most maxRowErrors of them, Bad counting them all.
	Errors []string
	Bad    int
}

func (f *CatalogFile) bad(line int, format string, args ...any) {
	f.Bad++
	if len(f.Errors) < maxRowErrors {
		f.Errors = append(f.Errors, fmt.Sprintf("line %d: ", line)+fmt.Sprintf(format, args...))
	}
}

// ReadCatalogFile reads a catalog file and checks every row, as the store will
// (storify.CheckRow, one row per name), so that a dry run can list every bad row
// with its line. An error is returned only when the file cannot be read at all.
func ReadCatalogFile(r io.Reader) (*CatalogFile, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // counted here, to say which line is wrong
	cr.ReuseRecord = true
	f := &CatalogFile{}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		f.bad(1, "the file is empty; the first line must name the columns: %s", strings.Join(catalogColumns, ","))
		return f, nil
	} else if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			f.bad(pe.Line, "this is not a CSV file (%v)", pe.Err)
			return f, nil
		}
		return nil, err
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))) // a spreadsheet's byte order mark
		if _, dup := col[h]; dup {
			f.bad(1, "the column %q is named twice", safe(h, 20))
		}
		col[h] = i
	}
	for _, c := range catalogColumns[:3] {
		if _, ok := col[c]; !ok {
			f.bad(1, "the first line must name the columns (%s); %q is missing", strings.Join(catalogColumns, ","), c)
		}
	}
	if f.Bad > 0 {
		return f, nil
	}
	width := len(header)
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok {
			return rec[i]
		}
		return ""
	}
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			f.bad(pe.Line, "not valid CSV (%v)", pe.Err)
			if f.Bad > 10*maxRowErrors {
				return f, nil // a file that is not CSV at all: enough said
			}
			continue
		} else if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != width {
			f.bad(line, "%d columns, but the header has %d", len(rec), width)
			continue
		}
		if bad := slicesIndexFunc(rec, func(s string) bool { return !utf8.ValidString(s) }); bad >= 0 {
			f.bad(line, "column %d is not UTF-8 text (save the file as CSV UTF-8)", bad+1)
			continue
		}
		row := storify.ProductRow{Line: line, Name: get(rec, "name"), Description: get(rec, "description"), Category: get(rec, "category")}
		if row.Price, err = storify.ParseCents(get(rec, "price")); err != nil {
			f.bad(line, "%s", storify.ErrorMessage(err))
			continue
		}
		if row.Stock, err = storify.ParseStock(get(rec, "stock")); err != nil {
			f.bad(line, "%s", storify.ErrorMessage(err))
			continue
		}
		if row, err = storify.CheckRow(row); err != nil {
			f.bad(line, "%s", strings.TrimPrefix(storify.ErrorMessage(err), fmt.Sprintf("line %d: ", line)))
			continue
		}
		key := storify.FoldKey(row.Name)
		if first, ok := seen[key]; ok {
			f.bad(line, "%q is named on line %d already", row.Name, first)
			continue
		}
		seen[key] = line
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

func slicesIndexFunc(s []string, fn func(string) bool) int {
	for i, v := range s {
		if fn(v) {
			return i
		}
	}
	return -1
}

// ImportCatalog reads a catalog file and, unless it has bad rows, imports it into
// store: a dry run (dryRun) or the real thing, all rows or none. It writes the
// report to w: what changes (or would), or every bad row by line; it returns an
// EINVALID error when the file has bad rows, so that nothing is imported.
func ImportCatalog(ctx context.Context, store storify.Store, r io.Reader, dryRun bool, w io.Writer) (storify.ImportResult, error) {
	f, err := ReadCatalogFile(r)
	if err != nil {
		return storify.ImportResult{}, err
	}
	if f.Bad > 0 {
		for _, e := range f.Errors {
			fmt.Fprintf(w, "  %s\n", e)
		}
		if more := f.Bad - len(f.Errors); more > 0 {
			fmt.Fprintf(w, "  and %s more.\n", count(more, "bad row"))
		}
		return storify.ImportResult{}, storify.Errorf(storify.EINVALID, "%s; nothing was imported", count(f.Bad, "bad row"))
	}
	res, err := store.ImportProducts(ctx, f.Rows, dryRun)
	if err != nil {
		return res, err
	}
	if dryRun {
		fmt.Fprintf(w, "%s checked: it would add %d, change %d, and leave %d unchanged.\n",
			count(len(f.Rows), "row"), res.Added, res.Updated, res.Unchanged)
	} else {
		fmt.Fprintf(w, "Imported %s: %d added, %d changed, %d unchanged.\n",
			count(len(f.Rows), "row"), res.Added, res.Updated, res.Unchanged)
	}
	return res, nil
}

// writeFileAtomic writes the file through a temporary file in the same folder,
// renamed over it once complete: a spreadsheet never opens half an export.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// exportCSV renders a table as CSV a spreadsheet opens: a header, CRLF line ends.
func exportCSV(header []string, rows func(emit func(...string))) ([]byte, int, error) {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return nil, 0, err
	}
	n := 0
	var werr error
	rows(func(rec ...string) {
		if werr == nil {
			werr = cw.Write(rec)
			n++
		}
	})
	cw.Flush()
	if werr == nil {
		werr = cw.Error()
	}
	return buf.Bytes(), n, werr
}

// ExportCSV writes what (products, orders or sales) from store to a CSV file and
// says how many rows.
func ExportCSV(ctx context.Context, store storify.Store, what, path string) (int, error) {
	var data []byte
	var n int
	var err error
	switch strings.ToLower(what) {
	case "products":
		ps, err2 := store.Products(ctx, storify.ProductFilter{All: true})
		if err2 != nil {
			return 0, err2
		}
		data, n, err = exportCSV([]string{"number", "name", "price", "stock", "description", "category", "discontinued"},
			func(emit func(...string)) {
				for _, p := range ps {
					emit(strconv.FormatInt(p.ID, 10), p.Name, p.Price.String(), strconv.Itoa(p.Stock), p.Description, p.Category,
						strconv.FormatBool(p.Discontinued))
				}
			})
	case "orders":
		orders, err2 := store.Orders(ctx, storify.OrderFilter{})
		if err2 != nil {
			return 0, err2
		}
		data, n, err = exportCSV([]string{"order", "placed", "customer", "status", "product", "name", "qty", "unit_price", "subtotal"},
			func(emit func(...string)) {
				for _, o := range orders {
					for _, l := range o.Lines {
						emit(strconv.FormatInt(o.ID, 10), o.Placed.Local().Format("2006-01-02 15:04:05"), o.Customer, string(o.Status),
							strconv.FormatInt(l.ProductID, 10), l.Name, strconv.Itoa(l.Qty), l.UnitPrice.String(), l.Subtotal().String())
					}
				}
			})
	case "sales":
		ss, err2 := store.Sales(ctx)
		if err2 != nil {
			return 0, err2
		}
		data, n, err = exportCSV([]string{"product", "name", "units", "revenue"}, func(emit func(...string)) {
			for _, s := range ss {
				emit(strconv.FormatInt(s.ProductID, 10), s.Name, strconv.Itoa(s.Units), s.Revenue.String())
			}
		})
	default:
		return 0, storify.Errorf(storify.EINVALID, "%q cannot be exported: type products, orders or sales", safe(what, 20))
	}
	if err != nil {
		return 0, err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return 0, storify.Errorf(storify.EINVALID, "cannot write the file: %v", err)
	}
	return n, nil
}
