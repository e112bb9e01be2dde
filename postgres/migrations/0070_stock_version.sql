-- stock_version numbers the changes of a product's stock: every statement that
-- changes stock adds one to it. A checkout tells the other instances the stock it
-- left, with this number, so that they update their copy of the catalog without
-- reading the row again, and a notice that arrives late never undoes a later one.
ALTER TABLE products ADD COLUMN stock_version bigint NOT NULL DEFAULT 0;
