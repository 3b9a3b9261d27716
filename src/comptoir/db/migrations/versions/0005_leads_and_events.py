"""Leads and analytics events: rollups and partition upkeep.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from comptoir.db.migrations.sql import run_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("SELECT 1")


def downgrade() -> None:
    run_sql("SELECT 1")
