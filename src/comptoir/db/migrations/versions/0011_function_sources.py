"""The checksums of the function files applied: SQL functions get a source tree.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25

From this revision on, functions and trigger functions live one per file in
`comptoir/db/functions/` and are re-applied when their file changes
(`comptoir/db/repeatable.py`); this table remembers what was applied. Versioned revisions,
this one included, are append-only: never edited once released (CONTRIBUTING.md).
"""

from comptoir.db.migrations.sql import run_sql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
    CREATE TABLE schema_functions (
        name       text PRIMARY KEY,
        checksum   text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
    );
    """)


def downgrade() -> None:
    run_sql("DROP TABLE schema_functions;")
