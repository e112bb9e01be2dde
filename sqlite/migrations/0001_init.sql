-- The catalog. name_key and description_key hold the name and description under Unicode
-- simple case folding, computed in Go: SQLite's NOCASE and LIKE fold ASCII only, and the
-- store promises case-insensitive names and search for "Crème" as much as for "Mug".
CREATE TABLE products (
	id              INTEGER PRIMARY KEY,
	name            TEXT    NOT NULL,
	name_key        TEXT    NOT NULL UNIQUE,
	description     TEXT    NOT NULL DEFAULT '',
	description_key TEXT    NOT NULL DEFAULT '',
	price           INTEGER NOT NULL CHECK (price >= 0),
	-- The CHECKs are the last line of defence against overselling: a bug that slips
	-- past the conditional UPDATE in Checkout fails the transaction instead.
	stock           INTEGER NOT NULL CHECK (stock >= 0),
	received        INTEGER NOT NULL CHECK (received >= stock),
	discontinued    INTEGER NOT NULL DEFAULT 0 CHECK (discontinued IN (0, 1)),
	created_at      INTEGER NOT NULL -- unix nanoseconds, UTC
);

-- Returning customers. name_key is the name under the same Unicode case folding as
-- products.name_key, so that "Ada" and "ADA" cannot both sign up. The password is
-- stored only as a slow salted hash made by the caller.
CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	name          TEXT    NOT NULL,
	name_key      TEXT    NOT NULL UNIQUE,
	password_hash BLOB    NOT NULL CHECK (length(password_hash) > 0),
	created_at    INTEGER NOT NULL -- unix nanoseconds, UTC
);

-- AUTOINCREMENT so that an order number is never handed out twice, even after the
-- newest order's row were ever removed: customers quote these numbers.
-- account_id is NULL for a guest's order.
CREATE TABLE orders (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	customer   TEXT    NOT NULL,
	account_id INTEGER REFERENCES accounts (id),
	total      INTEGER NOT NULL CHECK (total >= 0),
	status     TEXT    NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'shipped', 'cancelled')),
	placed_at  INTEGER NOT NULL -- unix nanoseconds, UTC
);

-- Orders are listed newest first, often by status.
CREATE INDEX orders_status ON orders (status, id);

-- A customer lists their own orders, newest first, and the manager counts them per account.
CREATE INDEX orders_account ON orders (account_id, id);

-- A line keeps the name and unit price at the time of purchase, so that later price
-- changes leave placed orders as the customer saw them.
CREATE TABLE order_lines (
	order_id   INTEGER NOT NULL REFERENCES orders (id),
	line       INTEGER NOT NULL CHECK (line >= 1),
	product_id INTEGER NOT NULL REFERENCES products (id),
	name       TEXT    NOT NULL,
	qty        INTEGER NOT NULL CHECK (qty > 0),
	unit_price INTEGER NOT NULL CHECK (unit_price >= 0),
	PRIMARY KEY (order_id, line)
) WITHOUT ROWID;

-- The sales report groups lines by product.
CREATE INDEX order_lines_product ON order_lines (product_id);

-- An account's cart, kept between visits. position keeps the order in which products
-- were first added, as the cart in a session does.
CREATE TABLE saved_cart_items (
	account_id INTEGER NOT NULL REFERENCES accounts (id),
	product_id INTEGER NOT NULL REFERENCES products (id),
	qty        INTEGER NOT NULL CHECK (qty BETWEEN 1 AND 10000), -- storify.MaxQty
	position   INTEGER NOT NULL,
	PRIMARY KEY (account_id, product_id)
) WITHOUT ROWID;
