"""Legacy ids: where each imported record came from in the Express/JSON store.

`comptoir import-json` derives stable UUIDs from the legacy ids (so re-runs and references
line up) and keeps the legacy id itself, so that support can find "order 1234" from an old
email. Events are looked up by their new id, so their legacy id has no index: millions of
imported events should not pay for one.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = ("users", "products", "orders", "leads")


def upgrade() -> None:
    run_sql(
        "\n".join(
            f"""
            ALTER TABLE {table} ADD COLUMN legacy_id text;
            CREATE INDEX {table}_legacy_id_idx ON {table} (legacy_id)
                WHERE legacy_id IS NOT NULL;
            """
            for table in TABLES
        )
        + "ALTER TABLE analytics_events ADD COLUMN legacy_id text;"
    )


def downgrade() -> None:
    run_sql(
        "\n".join(f"ALTER TABLE {table} DROP COLUMN legacy_id;" for table in TABLES)
        + "ALTER TABLE analytics_events DROP COLUMN legacy_id;"
    )
