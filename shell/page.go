package shell

import (
	"context"
	"math"
	"strconv"

	"github.com/storify/storify"
)

// Screen is a Term that shows its replies on a screen of some height: a telnet
// session, an SSH channel, the console on a terminal. Lists that can grow are shown
// to it a page at a time. A Term that is not a Screen (a pipe, a script, a test)
// gets every row at once, so that whatever reads it can read it all.
type Screen interface {
	// ScreenRows is the screen's height in lines, 0 when it is not known, and
	// negative when the Term turns out to have no screen after all (an SSH
	// session without a terminal: a script).
	ScreenRows() int
}

// defaultPageRows is the rows of a page on a screen whose height is not known (a
// telnet client that does not send its window size): what fits any terminal.
const defaultPageRows = 20

// pageOverhead is the lines of a page that are not rows: the table's header, the
// line that says where you are, the prompt, and one line of the command that asked.
const pageOverhead = 4

// minPageRows keeps a page useful on a tiny window.
const minPageRows = 5

// pageRows returns the rows that fit one page of the session's screen, or 0 when
// the session is not paged.
func pageRows(t Term) int {
	s, ok := t.(Screen)
	if !ok {
		return 0
	}
	h := s.ScreenRows()
	switch {
	case h < 0:
		return 0
	case h == 0:
		return defaultPageRows
	}
	return max(h-pageOverhead, minPageRows)
}

// A listing is a list that can be shown page by page: the catalog, a search's
// results, orders, accounts.
type listing struct {
	noun  string // what the rows are, plural: "products"
	empty string // the line said when there are none
	jump  string // how to go to a page of it: "list PAGE"
	// load reads the list as it is now, or at least its rows [from, to), and says
	// how many rows it has; render then appends rows [from, to) of what load read
	// (within what it was asked for), a header line first. Given a nil slice,
	// render may return one shared with other sessions, to be written only.
	load   func(ctx context.Context, from, to int) (total int, err error)
	render func(b []byte, from, to int) []byte
	// after, if set, is written after the list when it is shown whole or as its
	// first page (a hint).
	after func() string
}

// productPage is the part of a product list that a listing's load read (with
// ProductsPage, so that a page of 100,000 products is what is read), for its
// render.
type productPage struct {
	from int               // the row ps begins at
	ps   []storify.Product // the rows read
}

// load reads rows [from, to) of the products filter selects, and says how many
// there are.
func (p *productPage) load(ctx context.Context, store storify.Store, filter storify.ProductFilter, from, to int) (total int, err error) {
	p.ps, total, err = store.ProductsPage(ctx, filter, from, to)
	p.from = from
	return total, err
}

// rows returns rows [from, to) of the list, which load read.
func (p *productPage) rows(from, to int) []storify.Product { return p.ps[from-p.from : to-p.from] }

// pager is what a session remembers of the last list it showed, so that next,
// prev and page N move through it.
type pager struct {
	cur      *listing
	from, to int // the rows shown last, [from, to)
	// more is set when the last reply was a page with rows after it: then an
	// empty line shows the next.
	more bool
}

// showList shows page of l (from 1), or all of l on a Term that is not a Screen.
func (sh *Shell[T]) showList(ctx context.Context, l *listing, page int) error {
	rows := max(pageRows(sh.term), 1)
	return sh.showRows(ctx, l, (page-1)*rows, page)
}

// showRows shows the page of l that starts at row from; page is its number when it
// was asked for by number (for the error if there is no such page), else 0.
func (sh *Shell[T]) showRows(ctx context.Context, l *listing, from, page int) error {
	rows := pageRows(sh.term)
	to := math.MaxInt // a Term that is not paged gets every row
	if rows > 0 {
		to = from + rows
	}
	total, err := l.load(ctx, from, to)
	if err != nil {
		return err
	}
	sh.pages = pager{cur: l}
	if total == 0 {
		sh.printf("%s\n", l.empty)
		return nil
	}
	if rows == 0 || total <= rows && from == 0 {
		sh.term.Write(l.render(nil, 0, total))
		if l.after != nil {
			sh.printf("%s", l.after())
		}
		sh.pages.to = total
		return nil
	}
	pages := (total + rows - 1) / rows
	if page > pages || from >= total {
		verb := "are"
		if pages == 1 {
			verb = "is"
		}
		return storify.Errorf(storify.EINVALID, "there %s only %s of %s; type %s with a page from 1 to %d",
			verb, count(pages, "page"), l.noun, l.jump, pages)
	}
	to = min(from+rows, total)
	sh.term.Write(l.render(nil, from, to))
	var b []byte
	b = append(b, l.noun...)
	b = append(b, ' ')
	b = appendThousands(b, from+1)
	b = append(b, "–"...)
	b = appendThousands(b, to)
	b = append(b, " of "...)
	b = appendThousands(b, total)
	if to < total {
		b = append(b, ". Type next (or just Enter) for more, "...)
		if from > 0 {
			b = append(b, "prev to go back, "...)
		}
	} else {
		b = append(b, ", the last page. Type prev to go back, "...)
	}
	b = append(b, l.jump...)
	b = append(b, " to go to a page.\n"...)
	sh.term.Write(b)
	if from == 0 && l.after != nil {
		sh.printf("%s", l.after())
	}
	sh.pages.from, sh.pages.to, sh.pages.more = from, to, to < total
	return nil
}

// turnPage shows the page after (forward) or before the last one shown.
func (sh *Shell[T]) turnPage(ctx context.Context, forward bool) error {
	l := sh.pages.cur
	if l == nil {
		return storify.Errorf(storify.EINVALID, "there is no list to page through; type list first")
	}
	if !forward {
		if sh.pages.from == 0 {
			return storify.Errorf(storify.EINVALID, "this is the first page of %s", l.noun)
		}
		return sh.showRows(ctx, l, max(sh.pages.from-max(pageRows(sh.term), 1), 0), 0)
	}
	// The list may have grown since: check it as it is now.
	total, err := l.load(ctx, sh.pages.to, sh.pages.to)
	if err != nil {
		return err
	}
	if sh.pages.to >= total {
		return storify.Errorf(storify.EINVALID, "that was the last page of %s", l.noun)
	}
	return sh.showRows(ctx, l, sh.pages.to, 0)
}

// gotoPage shows page n (as typed) of the last list shown.
func (sh *Shell[T]) gotoPage(ctx context.Context, n string) error {
	if sh.pages.cur == nil {
		return storify.Errorf(storify.EINVALID, "there is no list to page through; type list first")
	}
	page, err := parsePage(n)
	if err != nil {
		return err
	}
	return sh.showList(ctx, sh.pages.cur, page)
}

// parsePage reads a page number.
func parsePage(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, storify.Errorf(storify.EINVALID, "%q is not a page number: type a whole number from 1", safe(s, 20))
	}
	return n, nil
}

// isDigits reports whether s is a run of decimal digits, as a page number is.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// appendThousands appends n with commas between groups of three digits: 20,000.
func appendThousands(b []byte, n int) []byte {
	var d [24]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return b
}

// bytesWriter is an io.Writer that appends to a byte slice, for rows written with
// fmt.
type bytesWriter struct{ b *[]byte }

func (w bytesWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}
