package main

import (
	"context"
	"errors"

	"github.com/storify/storify"
)

// observedStore is the Store with every call's outcome reported to the metrics:
// checkouts placed (and their units) or refused, and calls that failed for want of
// the database. It sits at the Store's boundary, so each call counts once however
// the backend nests its work; what only the backend sees (group commits, retries)
// it reports itself.
type observedStore struct {
	storify.Store
	m storify.StoreMetrics
}

// observe reports err, a Store call's error, if the database is why it failed. A call
// cut short because the store is closing is not the database's failure.
func (s observedStore) observe(err error) {
	if err == nil {
		return
	}
	switch storify.ErrorCode(err) {
	case storify.EUNAVAILABLE:
		s.m.DatabaseError(true)
	case storify.EINTERNAL:
		if !errors.Is(err, context.Canceled) {
			s.m.DatabaseError(false)
		}
	}
}

func (s observedStore) Checkout(ctx context.Context, no storify.NewOrder) (storify.Order, error) {
	o, err := s.Store.Checkout(ctx, no)
	switch {
	case err == nil:
		s.m.CheckoutPlaced(o.Units())
	case storify.ErrorCode(err) == storify.ECONFLICT:
		s.m.CheckoutRefused()
	default:
		s.observe(err)
	}
	return o, err
}

// Ping asks the backend whether its database answers (see pinger), and reports a
// failure as any call's; a backend that cannot say is asked for an order instead.
func (s observedStore) Ping(ctx context.Context) error {
	var err error
	if p, ok := s.Store.(pinger); ok {
		err = p.Ping(ctx)
	} else {
		_, err = s.Store.Orders(ctx, storify.OrderFilter{Limit: 1})
	}
	s.observe(err)
	return err
}

// The other calls report only their failures.

func (s observedStore) Products(ctx context.Context, filter storify.ProductFilter) ([]storify.Product, error) {
	v, err := s.Store.Products(ctx, filter)
	s.observe(err)
	return v, err
}

func (s observedStore) ProductsPage(ctx context.Context, filter storify.ProductFilter, from, to int) ([]storify.Product, int, error) {
	page, total, err := s.Store.ProductsPage(ctx, filter, from, to)
	s.observe(err)
	return page, total, err
}

func (s observedStore) Product(ctx context.Context, id int64) (storify.Product, error) {
	v, err := s.Store.Product(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) ProductByName(ctx context.Context, name string) (storify.Product, error) {
	v, err := s.Store.ProductByName(ctx, name)
	s.observe(err)
	return v, err
}

func (s observedStore) AddProduct(ctx context.Context, p storify.NewProduct) (storify.Product, error) {
	v, err := s.Store.AddProduct(ctx, p)
	s.observe(err)
	return v, err
}

func (s observedStore) Restock(ctx context.Context, id int64, qty int) (storify.Product, error) {
	v, err := s.Store.Restock(ctx, id, qty)
	s.observe(err)
	return v, err
}

func (s observedStore) SetPrice(ctx context.Context, id int64, price storify.Cents) (storify.Product, error) {
	v, err := s.Store.SetPrice(ctx, id, price)
	s.observe(err)
	return v, err
}

func (s observedStore) Discontinue(ctx context.Context, id int64) (storify.Product, error) {
	v, err := s.Store.Discontinue(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) Orders(ctx context.Context, filter storify.OrderFilter) ([]storify.Order, error) {
	v, err := s.Store.Orders(ctx, filter)
	s.observe(err)
	return v, err
}

func (s observedStore) Order(ctx context.Context, id int64) (storify.Order, error) {
	v, err := s.Store.Order(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) Ship(ctx context.Context, id int64) (storify.Order, error) {
	v, err := s.Store.Ship(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) Cancel(ctx context.Context, id int64) (storify.Order, error) {
	v, err := s.Store.Cancel(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) CreateAccount(ctx context.Context, name string, passwordHash []byte) (storify.Account, error) {
	v, err := s.Store.CreateAccount(ctx, name, passwordHash)
	s.observe(err)
	return v, err
}

func (s observedStore) AccountByName(ctx context.Context, name string) (storify.Account, error) {
	v, err := s.Store.AccountByName(ctx, name)
	s.observe(err)
	return v, err
}

func (s observedStore) Accounts(ctx context.Context) ([]storify.AccountSummary, error) {
	v, err := s.Store.Accounts(ctx)
	s.observe(err)
	return v, err
}

func (s observedStore) SavedCart(ctx context.Context, accountID int64) ([]storify.CartItem, error) {
	v, err := s.Store.SavedCart(ctx, accountID)
	s.observe(err)
	return v, err
}

func (s observedStore) SaveCart(ctx context.Context, accountID int64, items []storify.CartItem) error {
	err := s.Store.SaveCart(ctx, accountID, items)
	s.observe(err)
	return err
}

func (s observedStore) ChangeCart(ctx context.Context, accountID int64, from, to []storify.CartItem) error {
	err := s.Store.ChangeCart(ctx, accountID, from, to)
	s.observe(err)
	return err
}

func (s observedStore) Sales(ctx context.Context) ([]storify.Sale, error) {
	v, err := s.Store.Sales(ctx)
	s.observe(err)
	return v, err
}

func (s observedStore) Initialize(ctx context.Context, catalog []storify.NewProduct) (bool, error) {
	v, err := s.Store.Initialize(ctx, catalog)
	s.observe(err)
	return v, err
}

func (s observedStore) AdjustStock(ctx context.Context, productID int64, delta int, reason string) (storify.Product, error) {
	v, err := s.Store.AdjustStock(ctx, productID, delta, reason)
	s.observe(err)
	return v, err
}

func (s observedStore) Adjustments(ctx context.Context, productID int64) ([]storify.Adjustment, error) {
	v, err := s.Store.Adjustments(ctx, productID)
	s.observe(err)
	return v, err
}

func (s observedStore) SetPasswordHash(ctx context.Context, name string, hash []byte) (storify.Account, error) {
	v, err := s.Store.SetPasswordHash(ctx, name, hash)
	s.observe(err)
	return v, err
}

func (s observedStore) LockAccount(ctx context.Context, name string, lock bool) (storify.Account, error) {
	v, err := s.Store.LockAccount(ctx, name, lock)
	s.observe(err)
	return v, err
}

func (s observedStore) DeleteAccount(ctx context.Context, name string) (int, error) {
	v, err := s.Store.DeleteAccount(ctx, name)
	s.observe(err)
	return v, err
}

func (s observedStore) Reinstate(ctx context.Context, id int64) (storify.Product, error) {
	v, err := s.Store.Reinstate(ctx, id)
	s.observe(err)
	return v, err
}

func (s observedStore) Rename(ctx context.Context, id int64, name string) (storify.Product, error) {
	v, err := s.Store.Rename(ctx, id, name)
	s.observe(err)
	return v, err
}

func (s observedStore) Describe(ctx context.Context, id int64, description string) (storify.Product, error) {
	v, err := s.Store.Describe(ctx, id, description)
	s.observe(err)
	return v, err
}

func (s observedStore) SetCategory(ctx context.Context, id int64, category string) (storify.Product, error) {
	v, err := s.Store.SetCategory(ctx, id, category)
	s.observe(err)
	return v, err
}

func (s observedStore) SuggestSearch(ctx context.Context, text string) (string, error) {
	v, err := s.Store.SuggestSearch(ctx, text)
	s.observe(err)
	return v, err
}

func (s observedStore) ImportProducts(ctx context.Context, rows []storify.ProductRow, dryRun bool) (storify.ImportResult, error) {
	v, err := s.Store.ImportProducts(ctx, rows, dryRun)
	s.observe(err)
	return v, err
}

func (s observedStore) Categories(ctx context.Context) ([]storify.Category, error) {
	v, err := s.Store.Categories(ctx)
	s.observe(err)
	return v, err
}

func (s observedStore) SalesFor(ctx context.Context, p storify.Period) ([]storify.Sale, error) {
	v, err := s.Store.SalesFor(ctx, p)
	s.observe(err)
	return v, err
}

func (s observedStore) AddAccountKey(ctx context.Context, accountID int64, key storify.AccountKey) (storify.AccountKey, error) {
	v, err := s.Store.AddAccountKey(ctx, accountID, key)
	s.observe(err)
	return v, err
}

func (s observedStore) AccountByKey(ctx context.Context, fingerprint string) (storify.Account, error) {
	v, err := s.Store.AccountByKey(ctx, fingerprint)
	s.observe(err)
	return v, err
}

func (s observedStore) AccountKeys(ctx context.Context, accountID int64) ([]storify.AccountKey, error) {
	v, err := s.Store.AccountKeys(ctx, accountID)
	s.observe(err)
	return v, err
}

func (s observedStore) RemoveAccountKey(ctx context.Context, accountID int64, fingerprint string) error {
	err := s.Store.RemoveAccountKey(ctx, accountID, fingerprint)
	s.observe(err)
	return err
}

func (s observedStore) InitSetting(ctx context.Context, key string, value []byte) ([]byte, error) {
	v, err := s.Store.InitSetting(ctx, key, value)
	s.observe(err)
	return v, err
}
