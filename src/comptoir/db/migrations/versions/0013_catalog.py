"""A catalog a storefront can be built on: images, SKU, compare-at price; browse indexes;
search on folded words of the name, the brand and the categories.

- `images` (ordered URLs), `sku` (unique across all products, deleted ones too, whatever
  the case: a restored product never collides, and "ab-1" and "AB-1" are one SKU) and
  `compare_at_price` (the "was" price) are columns: the API validates them, the importer
  fills them from the legacy fields it recognises, `attributes` keeps the rest.
- Each sort of the public listing has its own partial index over the visible products, in
  the order its keyset cursor walks them (price, name; newest already has one), so that a
  page reads about `limit` index entries whatever the filters. Attribute filters are
  containment (`attributes @> ...`), served by a GIN index (jsonb_path_ops: containment
  only, about a third of jsonb_ops' size).
- `search_doc` is the search's document, a stored generated column: the folded name
  (weight A) and the folded brand and categories (weight B), as `simple` lexemes, under a
  GIN index. `product_tags()` says which attributes count; like `fold()` its results are
  stored, so it lives in a revision (changing it means a revision that rebuilds the
  column). The search vocabulary (`product_words`) learns the brand and category words too,
  so that a misspelled brand finds its products; the rename trigger now fires on
  attribute changes as well, and a "C"-ordered index serves the search's prefix lookups
  in it.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25
"""

from comptoir.db.migrations.sql import run_sql

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
    ALTER TABLE products
        ADD COLUMN images text[] NOT NULL DEFAULT '{}'
            CONSTRAINT products_images_check CHECK (cardinality(images) <= 50),
        ADD COLUMN sku text
            CONSTRAINT products_sku_check CHECK (length(sku) BETWEEN 1 AND 100),
        ADD COLUMN compare_at_price numeric(12,2)
            CONSTRAINT products_compare_at_price_check CHECK (compare_at_price >= 0);
    CREATE UNIQUE INDEX products_sku_key ON products (lower(sku)) WHERE sku IS NOT NULL;

    -- The words of the attributes a shopper searches by, as one text.
    CREATE FUNCTION product_tags(attributes jsonb) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        RETURN concat_ws(' ', attributes ->> 'brand', attributes ->> 'category',
                         attributes ->> 'categories', attributes ->> 'collection');

    ALTER TABLE products ADD COLUMN search_doc tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple'::regconfig, fold(name)), 'A')
        || setweight(to_tsvector('simple'::regconfig, fold(product_tags(attributes))), 'B')
    ) STORED;
    CREATE INDEX products_search_doc_idx ON products USING gin (search_doc)
        WHERE active AND deleted_at IS NULL;

    CREATE INDEX products_visible_price_idx ON products (price, id)
        WHERE active AND deleted_at IS NULL;
    CREATE INDEX products_visible_name_idx ON products (name, id)
        WHERE active AND deleted_at IS NULL;
    CREATE INDEX products_visible_attributes_idx ON products USING gin (attributes jsonb_path_ops)
        WHERE active AND deleted_at IS NULL;

    -- The search's prefix lookups: a range on the words in byte order, whatever the
    -- database's collation.
    CREATE INDEX product_words_word_c_idx ON product_words (word COLLATE "C");

    INSERT INTO product_words (spelling, word)
    SELECT DISTINCT s, fold(s)
    FROM products AS p, name_spellings(product_tags(p.attributes)) AS s
    ON CONFLICT (spelling) DO NOTHING;

    DROP TRIGGER products_record_words_on_rename ON products;
    CREATE TRIGGER products_record_words_on_rename AFTER UPDATE OF name, attributes ON products
        FOR EACH ROW
        WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.attributes IS DISTINCT FROM NEW.attributes)
        EXECUTE FUNCTION record_renamed_product_words();
    """)


def downgrade() -> None:
    run_sql(r"""
    DROP TRIGGER products_record_words_on_rename ON products;
    CREATE TRIGGER products_record_words_on_rename AFTER UPDATE OF name ON products
        FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
        EXECUTE FUNCTION record_renamed_product_words();
    DROP INDEX product_words_word_c_idx, products_visible_attributes_idx, products_visible_name_idx,
               products_visible_price_idx, products_search_doc_idx, products_sku_key;
    ALTER TABLE products DROP COLUMN search_doc, DROP COLUMN compare_at_price,
                         DROP COLUMN sku, DROP COLUMN images;
    DROP FUNCTION product_tags(jsonb);
    """)
