"""A storefront can run on it: sessions with rotating refresh tokens, one-time links by
mail (password reset, email verification and change), and the outbox of mails.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25

A session is a family of refresh tokens (RFC 9700, the OAuth 2.0 security best current
practice, 4.14.2): each refresh spends its token and issues the next one in the family;
presenting a spent token again means it leaked, so the whole family is revoked. Access
tokens name their session (`sid`), so revoking a session ends its access tokens at once.

Like `users` and `revoked_tokens`, these tables are read before the caller is known (that
is what they decide), so they have no row-level security policies: the app's role reaches
them through the authentication queries only. So are `account_links`.

The outbox is written by whatever causes a mail, in the same transaction (a rolled-back
registration sends nothing; a committed one is sent even if the process dies right after),
and read by the background sender. It holds personal data, so with row-level security on
anyone may add a mail but only the back office's role (the sender serves as it) reads one.
"""

from comptoir.db.migrations.sql import run_sql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_sql(r"""
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

    ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

    -- One-time links sent by mail; only the SHA-256 of the token is kept. `new_email` is the
    -- address an email change moves to, verified by the link sent there.
    CREATE TABLE account_links (
        token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
        user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
        purpose    text NOT NULL CHECK (purpose IN ('reset', 'verify', 'email_change')),
        new_email  citext CHECK (new_email ~ '^[^@\s]+@[^@\s]+$' AND length(new_email) <= 320),
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        used_at    timestamptz,
        CHECK ((purpose = 'email_change') = (new_email IS NOT NULL))
    );
    CREATE INDEX account_links_user_id_idx ON account_links (user_id);

    CREATE TABLE outbox_emails (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind            text NOT NULL,
        recipient       text NOT NULL,
        payload         jsonb NOT NULL DEFAULT '{}',
        created_at      timestamptz NOT NULL DEFAULT now(),
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error      text
    );
    -- The sender's scan: due mails, oldest first. A sent mail is deleted (its link's token
    -- leaves the database with it).
    CREATE INDEX outbox_emails_next_attempt_at_idx ON outbox_emails (next_attempt_at);

    ALTER TABLE outbox_emails ENABLE ROW LEVEL SECURITY;
    CREATE POLICY outbox_emails_insert ON outbox_emails FOR INSERT WITH CHECK (true);
    CREATE POLICY outbox_emails_of_staff ON outbox_emails TO comptoir_staff USING (true);

    SELECT grant_app_privileges();
    """)


def downgrade() -> None:
    run_sql("""
    DROP TABLE outbox_emails;
    DROP TABLE account_links;
    ALTER TABLE users DROP COLUMN email_verified_at;
    DROP TABLE refresh_tokens;
    DROP TABLE sessions;
    """)
