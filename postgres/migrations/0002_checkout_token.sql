-- A checkout's token, fixed before its transaction began, so that an order whose
-- COMMIT was cut off can be looked up, and a checkout sent again is placed at most
-- once. NULL for orders placed before tokens existed; UNIQUE allows any number of
-- NULLs.
ALTER TABLE orders ADD COLUMN token text UNIQUE CHECK (length(token) BETWEEN 1 AND 64);
