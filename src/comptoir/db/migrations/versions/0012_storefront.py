"""A storefront can run on it: sessions with rotating refresh tokens.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

A session is a family of refresh tokens (RFC 9700, the OAuth 2.0 security best current
practice, 4.14.2): each refresh spends its token and issues the next one in the family;
presenting a spent token again means it leaked, so the whole family is revoked. Access
tokens name their session (`sid`), so revoking a session ends its access tokens at once.

Like `users` and `revoked_tokens`, these tables are read before the caller is known (that
is what they decide), so they have no row-level security policies: the app's role reaches
them through the authentication queries only.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql("""
    CREATE TABLE sessions (
        id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
    );
    CREATE INDEX sessions_user_id_idx ON sessions (user_id);

    -- Only the SHA-256 of a refresh token is kept: a copy of the table refreshes nothing.
    CREATE TABLE refresh_tokens (
        token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
        session_id uuid NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        spent_at   timestamptz
    );
    CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);
    CREATE INDEX refresh_tokens_expires_at_idx ON refresh_tokens (expires_at);

    SELECT grant_app_privileges();
    """)


def downgrade() -> None:
    run_sql("""
    DROP TABLE refresh_tokens;
    DROP TABLE sessions;
    """)
