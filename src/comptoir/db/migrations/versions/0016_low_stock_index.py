"""The back office: an index for the products lowest on stock, and the statistics its
Operations page reads.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-25

`GET /v1/admin/dashboard` shows the on-sale products with the least stock left. Without an
index that is a scan and a sort of the whole catalog on every dashboard load; with this one
(partial: deleted and inactive products never show there) it reads the first few entries.

`GET /v1/admin/db/stats` (the Operations page) runs as `comptoir_staff` with RLS on, which
may read neither pg_stat_statements' texts nor `shared_preload_libraries`: it is granted
PostgreSQL's read-only monitoring roles, when the migrating role may grant them (a
superuser, as on the embedded server); otherwise a notice says what a DBA runs, and the page
shows the hint instead of those sections. Downgrade keeps the grant: roles are the
cluster's, shared by its databases, as the roles themselves are kept.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
    CREATE INDEX products_low_stock_idx ON products (stock, id)
        WHERE deleted_at IS NULL AND active;
    DO $$
    BEGIN
        IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'comptoir_staff') THEN
            GRANT pg_read_all_stats, pg_read_all_settings TO comptoir_staff;
        END IF;
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'the Operations page needs: GRANT pg_read_all_stats, pg_read_all_settings'
                     ' TO comptoir_staff;';
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("DROP INDEX products_low_stock_idx;")
