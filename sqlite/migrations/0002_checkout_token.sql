-- A checkout's token, fixed before its transaction began, so that an order whose
-- commit failed can be looked up, and a checkout sent again is placed at most once.
-- NULL for orders placed before tokens existed; a UNIQUE index allows any number of
-- NULLs. (ALTER TABLE cannot add a UNIQUE column in SQLite.)
ALTER TABLE orders ADD COLUMN token TEXT CHECK (length(token) BETWEEN 1 AND 64);
CREATE UNIQUE INDEX orders_token ON orders (token);
