"""SQL of accounts and tokens."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from comptoir.auth.schemas import User
from comptoir.errors import Conflict, Unprocessable

USER_COLUMNS = (
    "id, email::text AS email, role::text AS role, name, created_at,"
    " email_verified_at IS NOT NULL AS email_verified"
)


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with this email already exists.")


@dataclass(frozen=True)
class Credentials:
    id: UUID
    password_hash: str | None
    token_generation: int
    role: str


async def insert_user(
    conn: asyncpg.Connection,
    *,
    email: str,
    password_hash: str,
    name: str | None,
    role: str = "customer",
) -> User:
    try:
        row = await conn.fetchrow(
            "INSERT INTO users (email, password_hash, name, role) VALUES ($1, $2, $3, $4)"
            f" RETURNING {USER_COLUMNS}",
            email,
            password_hash,
            name,
            role,
        )
    except asyncpg.UniqueViolationError:
        raise EmailTaken() from None
    except asyncpg.CheckViolationError:
        raise Unprocessable("This email address cannot be used.") from None
    assert row is not None  # INSERT ... RETURNING of one row
    return User.model_validate(dict(row))


async def fetch_credentials(conn: asyncpg.Connection, *, email: str) -> Credentials | None:
    row = await conn.fetchrow(
        "SELECT id, password_hash, token_generation, role FROM users WHERE email = $1", email
    )
    return Credentials(**row) if row else None


async def fetch_password_hash(conn: asyncpg.Connection, *, user_id: UUID) -> str | None:
    value: str | None = await conn.fetchval(
        "SELECT password_hash FROM users WHERE id = $1", user_id
    )
    return value


async def update_password_hash(
    conn: asyncpg.Connection, *, user_id: UUID, password_hash: str, revoke_tokens: bool
) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2,"
        " token_generation = token_generation + $3::int WHERE id = $1",
        user_id,
        password_hash,
        1 if revoke_tokens else 0,
    )


async def fetch_token_user(
    conn: asyncpg.Connection,
    *,
    user_id: UUID,
    generation: int,
    jti: UUID,
    session_id: UUID | None = None,
) -> User | None:
    """The token's user, if the token is still good: not logged out, and its session not
    revoked (a token of a session) or its generation current (a token without one, minted
    before sessions existed)."""
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM users"
        " WHERE id = $1 AND CASE WHEN $4::uuid IS NULL THEN token_generation = $2"
        " ELSE EXISTS (SELECT 1 FROM sessions AS s"
        " WHERE s.id = $4 AND s.user_id = $1 AND s.revoked_at IS NULL) END"
        " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $3)",
        user_id,
        generation,
        jti,
        session_id,
    )
    return User.model_validate(dict(row)) if row else None


async def insert_revoked_token(
    conn: asyncpg.Connection, *, jti: UUID, user_id: UUID, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO revoked_tokens (jti, user_id, expires_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (jti) DO NOTHING",
        jti,
        user_id,
        expires_at,
    )


# Sessions and refresh tokens (migration 0012). A session is a family of refresh tokens; an
# access token names its session, so revoking the session ends its access tokens too.


@dataclass(frozen=True)
class RefreshTokenRow:
    session_id: UUID
    user_id: UUID
    spent: bool
    expired: bool
    revoked: bool


async def insert_session(conn: asyncpg.Connection, *, user_id: UUID) -> UUID:
    session_id: UUID = await conn.fetchval(
        "INSERT INTO sessions (user_id) VALUES ($1) RETURNING id", user_id
    )
    return session_id


async def insert_refresh_token(
    conn: asyncpg.Connection, *, token_hash: bytes, session_id: UUID, expires_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        token_hash,
        session_id,
        expires_at,
    )


async def lock_refresh_token(
    conn: asyncpg.Connection, *, token_hash: bytes
) -> RefreshTokenRow | None:
    """The token and its session, locked: two refreshes with one token take turns, and the
    second finds it spent."""
    row = await conn.fetchrow(
        "SELECT r.session_id, s.user_id, r.spent_at IS NOT NULL AS spent,"
        " r.expires_at <= now() AS expired, s.revoked_at IS NOT NULL AS revoked"
        " FROM refresh_tokens AS r JOIN sessions AS s ON s.id = r.session_id"
        " WHERE r.token_hash = $1 FOR UPDATE OF r",
        token_hash,
    )
    if row is None:
        return None
    return RefreshTokenRow(
        session_id=row["session_id"],
        user_id=row["user_id"],
        spent=row["spent"],
        expired=row["expired"],
        revoked=row["revoked"],
    )


async def update_refresh_token_spent(conn: asyncpg.Connection, *, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1", token_hash
    )


async def update_session_revoked(conn: asyncpg.Connection, *, session_id: UUID) -> None:
    await conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        session_id,
    )


async def update_other_sessions_revoked(
    conn: asyncpg.Connection, *, user_id: UUID, keep: UUID | None
) -> None:
    """Every session of the user but `keep` (None: every one)."""
    await conn.execute(
        "UPDATE sessions SET revoked_at = now()"
        " WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2",
        user_id,
        keep,
    )
