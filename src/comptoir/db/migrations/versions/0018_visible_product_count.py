"""The catalog's count of its whole visible range, kept by a trigger.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-25

`GET /v1/products` answers with a count, exact up to 1,000 (revision 0013). Counting
meant reading up to 1,001 index entries on every page, which halved what the catalog's
first page could serve (pgbench on the page's SQL: about 4,300 statements/s with the count,
6,500 to 8,900 without). The page without filters is the one a shop serves most, and its
range is every product on sale: `catalog_counts` keeps that number, moved by triggers on
`products`, so the page reads one row. Filtered pages still count their matches.

The triggers: statement-level on INSERT and DELETE (an import's COPY moves the count
once, with its transition table), row-level on UPDATE OF active, deleted_at (a
statement-level trigger with transition tables cannot name columns, and would then fire on
every checkout's stock update), and TRUNCATE. The one row is locked by a transaction that
changes what is on sale until it commits: two such transactions take turns (an import holds
it for its whole transaction); checkouts never take it.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
    CREATE TABLE catalog_counts (
        only_row         boolean PRIMARY KEY DEFAULT true CHECK (only_row),
        visible_products bigint NOT NULL CHECK (visible_products >= 0)
    );
    INSERT INTO catalog_counts (visible_products)
    SELECT count(*) FROM products WHERE active AND deleted_at IS NULL;
    CREATE OR REPLACE FUNCTION public.count_visible_products()
     RETURNS trigger
     LANGUAGE plpgsql
    AS $$
    DECLARE
        delta bigint := 0;
    BEGIN
        IF TG_OP = 'TRUNCATE' THEN
            UPDATE catalog_counts SET visible_products = 0;
            RETURN NULL;
        END IF;
        IF TG_LEVEL = 'ROW' THEN
            delta := (NEW.active AND NEW.deleted_at IS NULL)::int
                     - (OLD.active AND OLD.deleted_at IS NULL)::int;
        ELSIF TG_OP = 'INSERT' THEN
            SELECT count(*) INTO delta FROM new_rows WHERE active AND deleted_at IS NULL;
        ELSE
            SELECT -count(*) INTO delta FROM old_rows WHERE active AND deleted_at IS NULL;
        END IF;
        IF delta <> 0 THEN
            UPDATE catalog_counts SET visible_products = visible_products + delta;
        END IF;
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER products_count_visible_on_insert AFTER INSERT ON products
        REFERENCING NEW TABLE AS new_rows
        FOR EACH STATEMENT EXECUTE FUNCTION count_visible_products();
    CREATE TRIGGER products_count_visible_on_delete AFTER DELETE ON products
        REFERENCING OLD TABLE AS old_rows
        FOR EACH STATEMENT EXECUTE FUNCTION count_visible_products();
    CREATE TRIGGER products_count_visible_on_update AFTER UPDATE OF active, deleted_at
        ON products FOR EACH ROW
        WHEN (OLD.active IS DISTINCT FROM NEW.active
              OR (OLD.deleted_at IS NULL) <> (NEW.deleted_at IS NULL))
        EXECUTE FUNCTION count_visible_products();
    CREATE TRIGGER products_count_visible_on_truncate AFTER TRUNCATE ON products
        FOR EACH STATEMENT EXECUTE FUNCTION count_visible_products();
    DO $$
    BEGIN
        IF to_regprocedure('grant_app_privileges()') IS NOT NULL
           AND (SELECT count(*) FROM pg_roles
                WHERE rolname IN ('comptoir_app', 'comptoir_staff')) = 2 THEN
            PERFORM grant_app_privileges();
        END IF;
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("""
    DROP TRIGGER products_count_visible_on_truncate ON products;
    DROP TRIGGER products_count_visible_on_update ON products;
    DROP TRIGGER products_count_visible_on_delete ON products;
    DROP TRIGGER products_count_visible_on_insert ON products;
    DROP FUNCTION count_visible_products();
    DROP TABLE catalog_counts;
    """)
