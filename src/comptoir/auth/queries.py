"""SQL of accounts and tokens."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from comptoir.auth.schemas import User
from comptoir.errors import Conflict, Unprocessable

USER_COLUMNS = "id, email::text AS email, role::text AS role, name, created_at"


class EmailTaken(Conflict):
    def __init__(self) -> None:
        super().__init__("An account with this email already exists.")


@dataclass(frozen=True)
class Credentials:
    id: UUID
    password_hash: str | None
    token_generation: int


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
        "SELECT id, password_hash, token_generation FROM users WHERE email = $1", email
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
    conn: asyncpg.Connection, *, user_id: UUID, generation: int, jti: UUID
) -> User | None:
    """The token's user, if the token is still good: same generation, not logged out."""
    row = await conn.fetchrow(
        f"SELECT {USER_COLUMNS} FROM users"
        " WHERE id = $1 AND token_generation = $2"
        " AND NOT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $3)",
        user_id,
        generation,
        jti,
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
