-- What the store records about itself, one row per key. 'initialized' is written
-- once, the first time the store is opened (Store.Initialize): the sample catalog is
-- for a store that was never opened before, not for one that happens to be empty.
CREATE TABLE store_meta (
	key   text NOT NULL PRIMARY KEY,
	value text NOT NULL
);

-- A store with anything in it was opened before this migration existed.
INSERT INTO store_meta (key, value)
SELECT 'initialized', 'before migration 0020'
WHERE EXISTS (SELECT FROM products) OR EXISTS (SELECT FROM orders) OR EXISTS (SELECT FROM accounts);
