"""What an import must not lose: product attributes, and every legacy record's source form.

Legacy shops kept fields that have no column here (brand, categories, images, original
price, sku, rating, ...). Products get an `attributes` object that the API returns (and
that catalog filters will be built on); it must be an object, so that `attributes ->
'brand'` always means the same thing.

`import_sources` keeps, for every record `comptoir import-json` read, its source form
(secrets masked) and the fingerprint of that form at the last import, keyed by the legacy
collection and id: support finds "order 1234" as the old shop had it, and a cutover import
tells unchanged records from records changed in the legacy store. `row_fingerprint` is the
fingerprint of the Comptoir row the import wrote, which tells a record changed here since.

Support reads it, customers never: RLS on, a staff-only policy, and the app's grants given
by `grant_app_privileges()` (0006), run again for the new table.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25
"""

from comptoir.db.migrations.sql import run_sql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
    ALTER TABLE products ADD COLUMN attributes jsonb NOT NULL DEFAULT '{}'
        CONSTRAINT products_attributes_check CHECK (jsonb_typeof(attributes) = 'object');

    CREATE TABLE import_sources (
        collection text NOT NULL,
        legacy_id text NOT NULL,
        source jsonb NOT NULL,
        fingerprint text NOT NULL,
        row_id uuid,
        row_fingerprint text,
        imported_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (collection, legacy_id)
    );
    CREATE INDEX import_sources_row_id ON import_sources (row_id);

    ALTER TABLE import_sources ENABLE ROW LEVEL SECURITY;
    CREATE POLICY import_sources_of_staff ON import_sources TO comptoir_staff
        USING (true);
    DO $$
    BEGIN
        IF to_regprocedure('grant_app_privileges()') IS NOT NULL THEN
            PERFORM grant_app_privileges();
        END IF;
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("""
    DROP TABLE import_sources;
    ALTER TABLE products DROP COLUMN attributes;
    """)
