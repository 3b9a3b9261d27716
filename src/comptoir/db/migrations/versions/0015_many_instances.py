"""Past one machine: secrets every instance shares, and the code revisions a schema serves.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25

`app_secrets` holds the signing secrets (JWT, webhooks) an operator did not set: each
instance's data folder used to make its own, so a token from one instance was refused by
the next. The first instance to start writes it (INSERT ... ON CONFLICT DO NOTHING), the
others read that one. The app's role reads and adds, never changes one.

`schema_serves` lists the code revisions that still work on this schema (this revision and
those before it reached by revisions that only add, `serves_previous = True`): /readyz of
an instance on older code reads it, so a rolling deploy keeps old instances in rotation
while the migration that expands the schema lands (docs/deployment.md). This revision only
adds tables: it serves the previous code.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None
serves_previous = True


def upgrade() -> None:
    run_sql("""
    CREATE TABLE app_secrets (
        name       text PRIMARY KEY,
        value      text NOT NULL CHECK (length(value) >= 32),
        created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE schema_serves (
        revision text PRIMARY KEY
    );
    DO $$
    BEGIN
        IF to_regprocedure('grant_app_privileges()') IS NOT NULL
           AND (SELECT count(*) FROM pg_roles
                WHERE rolname IN ('comptoir_app', 'comptoir_staff')) = 2 THEN
            PERFORM grant_app_privileges();
            REVOKE UPDATE, DELETE ON app_secrets FROM comptoir_app, comptoir_staff;
            REVOKE INSERT, UPDATE, DELETE ON schema_serves FROM comptoir_app, comptoir_staff;
        END IF;
    END
    $$;
    """)


def downgrade() -> None:
    run_sql("""
    DROP TABLE schema_serves;
    DROP TABLE app_secrets;
    """)
