-- The schema of a storify store on PostgreSQL. Tables are created unqualified, in the
-- first schema of search_path, so that one database can hold several stores (and the
-- tests a fresh store per test) side by side.

-- The catalog. name_key and description_key hold the name and description under Unicode
-- simple case folding, computed in Go exactly as the SQLite backend computes them: lower()
-- and ILIKE depend on the database's collation, and the store promises the same
-- case-insensitive names and search on every backend.
CREATE TABLE products (
	id              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name            text    NOT NULL,
	name_key        text    NOT NULL,
	description     text    NOT NULL DEFAULT '',
	description_key text    NOT NULL DEFAULT '',
	price           bigint  NOT NULL CHECK (price >= 0), -- cents
	-- The CHECKs are the last line of defence against overselling: a bug that slips
	-- past the conditional UPDATE in Checkout fails the transaction instead.
	stock           bigint  NOT NULL CHECK (stock >= 0),
	received        bigint  NOT NULL CHECK (received >= stock),
	discontinued    boolean NOT NULL DEFAULT false,
	created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
	CONSTRAINT products_name_key UNIQUE (name_key)
);

-- Returning customers. name_key is the name under the same case folding as
-- products.name_key, so that "Ada" and "ADA" cannot both sign up. The password is
-- stored only as a slow salted hash made by the caller.
CREATE TABLE accounts (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          text   NOT NULL,
	name_key      text   NOT NULL,
	password_hash bytea  NOT NULL CHECK (length(password_hash) > 0),
	created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
	CONSTRAINT accounts_name_key UNIQUE (name_key)
);

-- An identity never hands out a number twice, even after a rollback: customers quote
-- order numbers. account_id is NULL for a guest's order.
CREATE TABLE orders (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	customer   text   NOT NULL,
	account_id bigint REFERENCES accounts (id),
	total      bigint NOT NULL CHECK (total >= 0), -- cents
	status     text   NOT NULL DEFAULT 'placed' CHECK (status IN ('placed', 'shipped', 'cancelled')),
	placed_at  timestamptz NOT NULL
);

-- Orders are listed newest first, often by status.
CREATE INDEX orders_status ON orders (status, id);

-- A customer lists their own orders, newest first, and the manager counts them per account.
CREATE INDEX orders_account ON orders (account_id, id);

-- A line keeps the name and unit price at the time of purchase, so that later price
-- changes leave placed orders as the customer saw them.
CREATE TABLE order_lines (
	order_id   bigint  NOT NULL REFERENCES orders (id),
	line       integer NOT NULL CHECK (line >= 1),
	product_id bigint  NOT NULL REFERENCES products (id),
	name       text    NOT NULL,
	qty        integer NOT NULL CHECK (qty > 0),
	unit_price bigint  NOT NULL CHECK (unit_price >= 0), -- cents
	PRIMARY KEY (order_id, line)
);

-- The sales report groups lines by product.
CREATE INDEX order_lines_product ON order_lines (product_id);

-- An account's cart, kept between visits. position keeps the order in which products
-- were first added, as the cart in a session does.
CREATE TABLE saved_cart_items (
	account_id bigint  NOT NULL REFERENCES accounts (id),
	product_id bigint  NOT NULL REFERENCES products (id),
	qty        integer NOT NULL CHECK (qty BETWEEN 1 AND 10000), -- storify.MaxQty
	position   integer NOT NULL,
	PRIMARY KEY (account_id, product_id)
);
