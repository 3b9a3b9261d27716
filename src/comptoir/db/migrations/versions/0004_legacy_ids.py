"""Legacy ids: where each imported record came from in the Express/JSON store.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("SELECT 1")


def downgrade() -> None:
    run_sql("SELECT 1")
