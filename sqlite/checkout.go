package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/storify/storify"
)

// checkout is a checked NewOrder, ready to be placed.
type checkout struct {
	storify.CheckedOrder
}

// newCheckout checks what can be checked without the database, so that a bad order
// never takes a turn at the writer.
func newCheckout(no storify.NewOrder) (*checkout, error) {
	co, err := no.Check()
	if err != nil {
		return nil, err
	}
	return &checkout{CheckedOrder: co}, nil
}

// checkoutStmts are the statements of a checkout, prepared once on the writer
// connection: parsing them again for every order cost more CPU than running them,
// and the committer runs every checkout on one goroutine. A checkoutStmts is either
// the prepared set or that set bound to one transaction.
type checkoutStmts struct {
	savepoint, rollbackTo, release *sql.Stmt
	account, take, insertOrder     *sql.Stmt
	prior                          *sql.Stmt
	insertLine, emptySavedCart     *sql.Stmt
}

// stmtField is one statement of a checkoutStmts and its SQL.
type stmtField struct {
	stmt  **sql.Stmt
	query string
}

// fields lists the statements with their SQL, so that preparing, binding and closing
// cannot miss one.
func (cs *checkoutStmts) fields() []stmtField {
	return []stmtField{
		{&cs.savepoint, `SAVEPOINT checkout`},
		{&cs.rollbackTo, `ROLLBACK TO checkout`},
		{&cs.release, `RELEASE checkout`},
		{&cs.account, `SELECT 1 FROM accounts WHERE id = ?`},
		{&cs.take, `UPDATE products SET stock = stock - ?
			WHERE id = ? AND stock >= ? AND discontinued = 0
			RETURNING name, price`},
		{&cs.insertOrder, `INSERT INTO orders (customer, account_id, total, status, placed_at, token)
			VALUES (?, ?, ?, ?, ?, ?)
			RETURNING id`},
		{&cs.prior, `SELECT id FROM orders WHERE token = ?`},
		{&cs.insertLine, `INSERT INTO order_lines (order_id, line, product_id, name, qty, unit_price)
			VALUES (?, ?, ?, ?, ?, ?)`},
		{&cs.emptySavedCart, `DELETE FROM saved_cart_items WHERE account_id = ?`},
	}
}

// prepareCheckout prepares the checkout statements on db.
func prepareCheckout(ctx context.Context, db *sql.DB) (*checkoutStmts, error) {
	cs := &checkoutStmts{}
	for _, f := range cs.fields() {
		var err error
		if *f.stmt, err = db.PrepareContext(ctx, f.query); err != nil {
			cs.close() //nolint:errcheck // the prepare error is the one to report
			return nil, fmt.Errorf("prepare %q: %w", f.query, err)
		}
	}
	return cs, nil
}

// in binds the prepared statements to tx. On the one writer connection they are
// prepared already, so binding parses nothing.
func (cs *checkoutStmts) in(ctx context.Context, tx *sql.Tx) *checkoutStmts {
	bound := &checkoutStmts{}
	prepared := cs.fields()
	for i, f := range bound.fields() {
		*f.stmt = tx.StmtContext(ctx, *prepared[i].stmt)
	}
	return bound
}

func (cs *checkoutStmts) close() error {
	var errs []error
	for _, f := range cs.fields() {
		if *f.stmt != nil {
			errs = append(errs, (*f.stmt).Close())
		}
	}
	return errors.Join(errs...)
}

// place writes the order in tx with the statements st bound to it, or returns why it
// cannot and leaves tx to be rolled back to the savepoint its caller made.
//
// Stock is taken with a conditional UPDATE per product, so the check and the take are
// one statement and nothing can sell a unit twice. Products are taken in ascending id
// order, the order every backend locks rows in, so concurrent checkouts cannot
// deadlock where rows are locked (PostgreSQL); here the write lock alone would do.
func (co *checkout) place(ctx context.Context, tx *sql.Tx, st *checkoutStmts) (storify.Order, error) {
	order := storify.Order{
		Customer:  co.Customer,
		AccountID: co.AccountID,
		Lines:     make([]storify.OrderLine, len(co.Lines)),
		Status:    storify.StatusPlaced,
		// Timed once the write lock is held, so that placed times rise with order
		// numbers; rounded as it will read back.
		Placed: fromUnixNano(unixNano(time.Now())),
	}
	var account any // NULL for a guest
	if co.AccountID != 0 {
		account = co.AccountID
		var one int
		err := st.account.QueryRowContext(ctx, co.AccountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return storify.Order{}, noAccount(co.AccountID)
		} else if err != nil {
			return storify.Order{}, fmt.Errorf("sqlite: checkout: account %d: %w", co.AccountID, err)
		}
		if err := checkSavedCart(ctx, tx, co.AccountID, co.Lines); err != nil {
			return storify.Order{}, err // an account buys its saved cart, as it is now
		}
	}
	for _, i := range co.ByID {
		it := co.Lines[i]
		l := storify.OrderLine{ProductID: it.ProductID, Qty: it.Qty}
		err := st.take.QueryRowContext(ctx, it.Qty, it.ProductID, it.Qty).Scan(&l.Name, &l.UnitPrice)
		if errors.Is(err, sql.ErrNoRows) {
			// The caller's rollback puts back the units taken from earlier lines.
			return storify.Order{}, whyNotTaken(ctx, tx, it.ProductID)
		} else if err != nil {
			return storify.Order{}, fmt.Errorf("sqlite: checkout: take %d of product %d: %w", it.Qty, it.ProductID, err)
		}
		order.Lines[i] = l
		order.Total += l.Subtotal()
	}

	err := st.insertOrder.QueryRowContext(ctx,
		order.Customer, account, order.Total, order.Status, unixNano(order.Placed), co.Token).Scan(&order.ID)
	if isUniqueViolation(err) {
		return storify.Order{}, errPrior
	} else if err != nil {
		return storify.Order{}, fmt.Errorf("sqlite: checkout: insert order: %w", err)
	}
	for i, l := range order.Lines {
		if _, err := st.insertLine.ExecContext(ctx,
			order.ID, i+1, l.ProductID, l.Name, l.Qty, l.UnitPrice); err != nil {
			return storify.Order{}, fmt.Errorf("sqlite: checkout: insert line %d of order %d: %w", i+1, order.ID, err)
		}
	}
	if co.AccountID != 0 {
		// The saved cart was what the customer just bought; keeping it would sell
		// it twice on the next visit.
		if _, err := st.emptySavedCart.ExecContext(ctx, co.AccountID); err != nil {
			return storify.Order{}, fmt.Errorf("sqlite: checkout: empty the saved cart of account %d: %w", co.AccountID, err)
		}
	}
	return order, nil
}

// errPrior is place finding that the checkout's token placed an order already. The
// unique index on the token finds it, rather than a lookup before every order: a
// checkout sent again is rare, and the committer runs every checkout in turn.
var errPrior = errors.New("sqlite: checkout: the token placed an order already")

// priorOrder returns the order that token placed.
func priorOrder(ctx context.Context, tx *sql.Tx, st *checkoutStmts, token string) (storify.Order, error) {
	var id int64
	if err := st.prior.QueryRowContext(ctx, token).Scan(&id); err != nil {
		return storify.Order{}, fmt.Errorf("sqlite: checkout: look up token: %w", err)
	}
	return order(ctx, tx, id)
}

// whyNotTaken explains, as the customer should read it, why the conditional update
// took no stock of product id.
func whyNotTaken(ctx context.Context, tx *sql.Tx, id int64) error {
	p, err := product(ctx, tx, id)
	switch {
	case err != nil:
		return err
	case p.Discontinued:
		return storify.Errorf(storify.ECONFLICT, "%s is no longer sold", p.Name)
	case p.Stock == 0:
		return storify.Errorf(storify.ECONFLICT, "%s is sold out", p.Name)
	default:
		return storify.Errorf(storify.ECONFLICT, "only %d %s left", p.Stock, p.Name)
	}
}
