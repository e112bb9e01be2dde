-- 0030 (catalog branch; numbered apart from the migrations other work adds in
-- parallel): a product's category. category_key is the name under storify.FoldKey,
-- as name_key is, so that "Mugs" and "mugs" are one category; '' is none.
ALTER TABLE products ADD COLUMN category     TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN category_key TEXT NOT NULL DEFAULT '';
CREATE INDEX products_category ON products (category_key);
