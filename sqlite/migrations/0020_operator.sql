-- 'initialized' is written once in settings (0010), the first time the store is
-- opened (Store.Initialize): the sample catalog is for a store that was never opened
-- before, not for one that happens to be empty. A store with anything in it was
-- opened before this migration existed.
INSERT INTO settings (key, value)
SELECT 'initialized', CAST('before migration 0020' AS BLOB)
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
