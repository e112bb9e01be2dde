-- What the store records about itself, one row per key. 'initialized' is written
-- once, the first time the store is opened (Store.Initialize): the sample catalog is
-- for a store that was never opened before, not for one that happens to be empty.
CREATE TABLE store_meta (
	key   TEXT NOT NULL PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;

-- A store with anything in it was opened before this migration existed.
INSERT INTO store_meta (key, value)
SELECT 'initialized', 'before migration 0020'
WHERE EXISTS (SELECT 1 FROM products) OR EXISTS (SELECT 1 FROM orders) OR EXISTS (SELECT 1 FROM accounts);

-- Corrections of stock outside sales and receipts (breakage, a miscount), kept as an
-- audit trail. delta < 0 writes units off; delta > 0 undoes a write-off. The units
-- written off are minus the sum of a product's deltas, so that
-- stock + units sold = received - written off, for every product.
CREATE TABLE stock_adjustments (
	id         INTEGER PRIMARY KEY,
	product_id INTEGER NOT NULL REFERENCES products (id),
	delta      INTEGER NOT NULL CHECK (delta <> 0),
	reason     TEXT    NOT NULL,
	made_at    INTEGER NOT NULL -- unix nanoseconds, UTC
);

CREATE INDEX stock_adjustments_product ON stock_adjustments (product_id, id);
